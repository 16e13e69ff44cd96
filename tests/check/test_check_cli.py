from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_credits.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_failing_rule_exits_1_with_json(
    capsys: pytest.CaptureFixture[str], policy_file: Path, usage_file: Path
) -> None:
    code, out, _ = run(
        capsys, "check", "--policy", str(policy_file), "--usage", str(usage_file),
        "--at", "2026-06-10T00:00:00Z", "--format", "json",
    )  # fmt: skip
    assert code == 1
    data = json.loads(out)
    assert data["passed"] is False
    assert [r["status"] for r in data["rules"]] == ["fail", "warn", "pass"]


def test_warnings_alone_pass(
    capsys: pytest.CaptureFixture[str], policy_file: Path, usage_file: Path
) -> None:
    code, out, _ = run(
        capsys, "check", "--policy", str(policy_file), "--usage", str(usage_file),
        "--at", "2026-06-01T12:00:00Z",
    )  # fmt: skip
    assert code == 0
    assert "PASSED" in out


def test_malformed_policy_exits_2_naming_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, usage_file: Path
) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text('[account]\ntier = "pro"\nanchor = "2026-06-01T00:00:00Z"\nseats = "many"\n')
    code, out, err = run(capsys, "check", "--policy", str(bad), "--usage", str(usage_file))
    assert code == 2
    assert "account.seats" in err
    assert "Traceback" not in out + err


def test_unknown_tier_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, usage_file: Path
) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text('[account]\ntier = "platinum"\nanchor = "2026-06-01T00:00:00Z"\n')
    code, _, err = run(capsys, "check", "--policy", str(bad), "--usage", str(usage_file))
    assert code == 2
    assert "platinum" in err


def test_unreadable_usage_exits_3(
    capsys: pytest.CaptureFixture[str], policy_file: Path, tmp_path: Path
) -> None:
    code, _, err = run(
        capsys, "check", "--policy", str(policy_file), "--usage", str(tmp_path / "none.csv")
    )
    assert code == 3
    assert "none.csv" in err


def test_markdown_github_and_quiet(
    capsys: pytest.CaptureFixture[str], policy_file: Path, usage_file: Path
) -> None:
    base = [
        "check",
        "--policy",
        str(policy_file),
        "--usage",
        str(usage_file),
        "--at",
        "2026-06-10T00:00:00Z",
    ]
    code, out, _ = run(capsys, *base, "--format", "markdown")
    assert code == 1
    assert "| ❌ | `budget:api-hard` |" in out
    code, out, _ = run(capsys, *base, "--format", "github")
    assert "::error title=codex-credits budget%3Aapi-hard::" in out
    assert "::warning title=codex-credits budget%3Aweb-soft::" in out
    code, out, _ = run(capsys, *base, "--quiet")
    assert (code, out) == (1, "")


def test_baseline_diff(
    capsys: pytest.CaptureFixture[str], policy_file: Path, usage_file: Path, tmp_path: Path
) -> None:
    early = ["check", "--policy", str(policy_file), "--usage", str(usage_file), "--format", "json"]
    _, out, _ = run(capsys, *early, "--at", "2026-06-02T00:00:00Z")
    baseline = tmp_path / "base.json"
    baseline.write_text(out)
    code, out, _ = run(
        capsys, "check", "--policy", str(policy_file), "--usage", str(usage_file),
        "--at", "2026-06-10T00:00:00Z", "--baseline", str(baseline),
    )  # fmt: skip
    assert code == 1
    assert "Changes since the baseline" in out
    assert "budget:api-hard: status pass -> fail" in out
    assert "spent 60.000000 -> 100.000000 (+40.000000)" in out
