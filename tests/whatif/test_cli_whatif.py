"""``codex-credits what-if`` and ``codex-credits roi``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_credits.cli import main
from codex_credits.data import sample_usage_path

SAMPLE = str(sample_usage_path())


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_what_if_json_matches_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(
        capsys,
        "what-if",
        "--usage",
        SAMPLE,
        "--tier",
        "plus",
        "--cache-hit",
        "0.6",
        "--batch",
        "--batch-where",
        "task_type=tests,docs",
        "--batch-wait",
        "1h",
        "--off-peak",
        "America/New_York 2-7 sandbox 0.4",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert len(data["savings"]) == 3
    total = data["totals"]
    assert total["change"]["total_cost"] == str(
        __import__("decimal").Decimal(total["after"]["total_cost"])
        - __import__("decimal").Decimal(total["before"]["total_cost"])
    )
    assert {row["key"] for row in data["by_project"]} == {"api", "web", "infra", "mobile"}


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_what_if_formats(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out = _run(capsys, "what-if", "--usage", SAMPLE, "--cache-hit", "0.5", "--format", fmt)
    assert code == 0
    assert "cached_context" in out
    if fmt == "csv":
        assert out.splitlines()[0] == "section,key,field,before,after,change"


def test_what_if_without_changes_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "what-if", "--usage", SAMPLE, "--format", "json")
    assert code == 0
    changes = json.loads(out)["totals"]["change"]
    assert all(float(v) == 0 for v in changes.values())


def test_what_if_route_and_throttle(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    card = tmp_path / "card.toml"
    code, text = _run(capsys, "card", "show", "--format", "toml")
    assert code == 0
    card.write_text(text + '\n[model_tiers.codex-mini]\nmultiplier = "0.25"\n', encoding="utf-8")
    code, out = _run(
        capsys,
        "what-if",
        "--usage",
        SAMPLE,
        "--card",
        str(card),
        "--route",
        "docs=codex-mini",
        "--throttle-before",
        "2026-07",
        "--throttle-cap",
        "1000",
        "--throttle-months",
        "1",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert len(data["periods"]) == 2
    assert data["savings"][0]["events"] == 365  # every docs task of the sample
    assert float(data["savings"][1]["displaced"]) > 0


@pytest.mark.parametrize(
    "argv",
    [
        ["--off-peak", "Mars/Base 2-7 sandbox 0.4"],
        ["--off-peak", "a b c"],
        ["--batch-wait", "soon", "--batch"],
        ["--route", "docs"],
        ["--cache-hit", "1.5"],
    ],
)
def test_what_if_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code = main(["what-if", "--usage", SAMPLE, *argv])
    capsys.readouterr()
    assert code == 2


def test_roi_plan_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "roi", "--tier", "pro", "--format", "json")
    assert code == 0
    assert json.loads(out)["break_even_hours_per_1000_ccu"] == "0.235294"
    code, out = _run(
        capsys,
        "roi",
        "--usage",
        SAMPLE,
        "--seats",
        "2",
        "--hours-saved",
        "10",
        "--format",
        "markdown",
    )
    assert code == 0
    assert "Cost per feature" in out and "payback weeks" in out


def test_demo_has_a_savings_section(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "demo")
    assert code == 0
    section = out[out.index("Savings: each lever alone") :]
    assert {"route", "cache", "off-peak", "batch"} <= set(section.split())
