from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from codex_credits import __version__
from codex_credits.cli import ExitCode, main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and __version__ in out


def test_estimate_json_issue_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "estimate",
        "--reasoning-tokens", "12000",
        "--tool-calls", "20",
        "--sandbox-minutes", "10",
        "--sandbox-class", "large",
        "--output-tokens", "2000",
        "--format", "json",
    )  # fmt: skip
    assert code == ExitCode.OK
    data = json.loads(out)
    assert data["card"] == "codex-ccu-2026-06"
    assert data["unit"] == "CCU"
    assert Decimal(data["total"]) == Decimal("25.9")
    assert sum(Decimal(v) for v in data["breakdown"].values()) == Decimal(data["total"])
    assert all(isinstance(v, str) for v in data["breakdown"].values())


def test_estimate_token_card_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "estimate",
        "--card", "codex-tokens-2026-04",
        "--model", "gpt-5.3-codex",
        "--input-tokens", "1000000",
        "--cached-input-tokens", "400000",
        "--output-tokens", "10000",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["unit"] == "credits"
    assert Decimal(data["total"]) == Decimal("31.5")
    assert Decimal(data["usd"]) == Decimal("1.26")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (
            [
                "estimate",
                "--card",
                "codex-tokens-2026-04",
                "--model",
                "gpt-4",
                "--output-tokens",
                "1",
            ],
            "known models",
        ),
        (["estimate", "--tool-calls", "-3"], "must be >= 0"),
        (["estimate", "--card", "nope.toml"], "cannot read rate card"),
        (["estimate", "--input-tokens", "1", "--cached-input-tokens", "5"], "cannot exceed"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_user_mistakes_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == ExitCode.USAGE_ERROR
    assert fragment in err
    assert "Traceback" not in err + out


def test_card_show_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "card", "show", "--format", "json")
    assert code == 0 and json.loads(out)["name"] == "codex-ccu-2026-06"
    code, out, _ = run(capsys, "card", "show", "--card", "codex-tokens-2026-04")
    assert code == 0 and "gpt-5.1-codex-max" in out
    path = tmp_path / "c.toml"
    code, out, _ = run(capsys, "card", "show", "--format", "toml")
    path.write_text(out, encoding="utf-8")
    code, out, _ = run(capsys, "card", "show", "--card", str(path), "--format", "markdown")
    assert code == 0 and "| pro |" in out


def test_bad_usage_file_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from codex_credits.cli.commands import COMMANDS

    assert any(c.NAME == "demo" for c in COMMANDS)


def test_demo_runs_on_the_bundled_sample(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert "25.900000" in out and "31.500000" in out
    assert "Sample usage" in out
