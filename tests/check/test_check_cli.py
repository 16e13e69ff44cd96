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
    words = " ".join(out.split())  # the table wraps long lines to the terminal
    assert "Changes since the baseline" in words
    assert "budget:api-hard: status pass -> fail" in words
    assert "spent 60.000000 -> 100.000000 (+40.000000)" in words


def test_from_api_equals_the_same_usage_from_a_file(
    monkeypatch: pytest.MonkeyPatch,
    policy_file: Path,
    usage_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from codex_credits import read_usage
    from codex_credits.testing import FakeServer, FakeUsageApi

    key = "sk-check-test-0123456789"
    api = FakeUsageApi(events=list(read_usage(usage_file)), api_key=key)
    argv = [
        "check",
        "--policy",
        str(policy_file),
        "--at",
        "2026-06-10T00:00:00Z",
        "--format",
        "json",
    ]
    with FakeServer(api) as server:
        monkeypatch.setenv("OPENAI_ADMIN_KEY", key)
        monkeypatch.setenv("CODEX_CREDITS_BASE_URL", server.url)
        code, out, err = run(
            capsys, *argv, "--from-api", "--start", "2026-05-01", "--end", "2026-06-10"
        )
    assert code == 1, err
    from_api = json.loads(out)
    code, out, _ = run(capsys, *argv, "--usage", str(usage_file))
    from_file = json.loads(out)
    assert [r["status"] for r in from_api["rules"]] == [r["status"] for r in from_file["rules"]]
    assert [r["figures"]["spent"] for r in from_api["rules"]] == [
        r["figures"]["spent"] for r in from_file["rules"]
    ]
    assert key not in out + err


def test_unreachable_api_exits_3_in_one_line_without_the_key(policy_file: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    key = "sk-never-print-me-42"
    env = {
        **os.environ,
        "PYTHONPATH": str(root / "src"),
        "OPENAI_ADMIN_KEY": key,
        "CODEX_CREDITS_BASE_URL": "http://127.0.0.1:9",  # nothing listens on the discard port
    }
    result = subprocess.run(
        [sys.executable, "-m", "codex_credits.cli", "check", "--policy", str(policy_file),
         "--from-api", "--start", "2026-06-01", "--end", "2026-06-10"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert key not in result.stderr
