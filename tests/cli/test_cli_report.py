"""``codex-credits report`` with a plan: the engine's bill allocated to the rows."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from codex_credits.cli import ExitCode, main
from tests.golden.test_chargeback_golden import tiny_card

TINY_USAGE = (
    "timestamp,ccu,project_id,user_id\n"
    "2026-06-01T10:00:00Z,40,api,alice\n"
    "2026-06-01T11:00:00Z,30,web,bob\n"
    "2026-06-02T09:00:00Z,50,api,bob\n"
    "2026-06-03T09:00:00Z,10,web,alice\n"
    "2026-06-04T09:00:00Z,2000,web,bob\n"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[str, ...]:
    """Arguments for the tiny card's log (hand-computed in tests/golden)."""
    card = tmp_path / "tiny.toml"
    tiny_card().dump(card)
    usage = tmp_path / "tiny.csv"
    usage.write_text(TINY_USAGE, encoding="utf-8")
    return ("report", "--usage", str(usage), "--card", str(card), "--tier", "small",
            "--anchor", "2026-06-01")  # fmt: skip


def test_two_projects_on_pro_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """15,000 + 10,000 CCU on one pro seat with 8,000 rolled over, in fluid mode.

    The hour's limit is 10 x 10,000 / 720 = 138.9 CCU, so both requests are
    served over many hours, api's first (deferred work goes before new work).
    api takes 8,000 of rollover and 7,000 of the grant; web the last 3,000 of
    the grant and 7,000 of overage: 7,000 x 0.012 = 84.00, all web's. The 200.00
    subscription splits 60:40.
    """
    usage = tmp_path / "u.csv"
    usage.write_text(
        "timestamp,ccu,project_id\n"
        "2026-06-02T10:00:00Z,15000,api\n"
        "2026-06-03T10:00:00Z,10000,web\n",
        encoding="utf-8",
    )
    argv = ["report", "--usage", str(usage), "--tier", "pro", "--anchor", "2026-06-01"]
    code, out, err = run(capsys, *argv, "--rollover", "8000", "--mode", "fluid", "--format", "json")
    assert code == ExitCode.OK and err == ""
    data = json.loads(out)
    assert [
        (r["key"], r["total"], r["share"], r["subscription_usd"], r["overage_usd"], r["allocated_usd"])
        for r in data["rows"]
    ] == [
        ("api", "15000.000000", "0.6", "120.00", "0.00", "120.00"),
        ("web", "10000.000000", "0.4", "80.00", "84.00", "164.00"),
    ]  # fmt: skip
    assert (data["unit"], data["total"], data["allocated_usd"]) == ("CCU", "25000.000000", "284.00")
    assert data["totals"]["total_cost"] == "284.00"
    usage_report = data["usage_report"]
    assert usage_report["consumed"] == "25000.000000"
    assert usage_report["period_budget"] == "18000.000000"  # (10,000 + 8,000) x 30 / 30
    assert usage_report["estimated_overage_usd"] == usage_report["overage_usd"] == "84.00"
    assert usage_report["rollover_consumed"] == "8000.000000"
    assert usage_report["by_dimension"]["project"]["total"] == "25000.000000"


def test_request_mode_blocks_what_no_hour_holds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    usage = tmp_path / "u.csv"
    usage.write_text("timestamp,ccu,project_id\n2026-06-02T10:00:00Z,15000,api\n", encoding="utf-8")
    argv = ["report", "--usage", str(usage), "--tier", "pro", "--anchor", "2026-06-01"]
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code == ExitCode.OK
    assert "did not serve 15000" in err
    row = json.loads(out)["rows"][0]
    assert (row["total"], row["requested"], row["allocated_usd"]) == (
        "0.000000",
        "15000.000000",
        "200.00",
    )


def test_tiny_card_csv_by_user(capsys: pytest.CaptureFixture[str], tiny: tuple[str, ...]) -> None:
    code, out, _ = run(capsys, *tiny, "--by", "user", "--format", "csv")
    assert code == ExitCode.OK
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == [
        "user",
        "CCU",
        "share %",
        "events",
        "requested CCU",
        "subscription USD",
        "overage USD",
        "allocated USD",
    ]
    assert [(r[0], r[2], r[5], r[6], r[7]) for r in rows[1:]] == [
        ("bob", "61.54", "6.15", "1.00", "7.15"),
        ("alice", "38.46", "3.85", "0.50", "4.35"),
        ("total", "100.00", "10.00", "1.50", "11.50"),
    ]


def test_tiny_card_markdown_by_day(
    capsys: pytest.CaptureFixture[str], tiny: tuple[str, ...]
) -> None:
    code, out, _ = run(capsys, *tiny, "--by", "day", "--format", "markdown")
    assert code == ExitCode.OK
    lines = [line for line in out.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    by_day = {c[0]: c for c in cells if c[0].startswith("2026-") or c[0] == "total"}
    assert [by_day[d][2] for d in ("2026-06-01", "2026-06-02", "2026-06-03")] == [
        "53.85",
        "38.46",
        "7.69",
    ]
    assert by_day["2026-06-01"][-2:] == ["0.00", "5.38"]  # no overage that day
    assert by_day["total"][-1] == "11.50"
    usage = {c[0]: c[1] for c in cells if len(c) == 2}
    assert usage["estimated overage USD"] == usage["overage USD (engine)"] == "1.50"
    assert usage["consumed (CCU)"] == "130.000000"


@pytest.mark.parametrize("by", ["project", "user", "day", "week", "month", "feature", "model"])
def test_sample_json_sums_to_the_engine(capsys: pytest.CaptureFixture[str], by: str) -> None:
    from codex_credits.data import sample_usage_path

    argv = ["report", "--usage", str(sample_usage_path()), "--tier", "go", "--anchor", "2026-06-01"]
    code, out, _ = run(capsys, *argv, "--by", by, "--format", "json")
    assert code == ExitCode.OK
    data = json.loads(out)
    rows = data["rows"]
    assert sum(Decimal(r["allocated_usd"]) for r in rows) == Decimal(data["totals"]["total_cost"])
    assert sum(Decimal(r["overage_usd"]) for r in rows) == Decimal(data["totals"]["overage_cost"])
    assert sum(Decimal(r["total"]) for r in rows) == Decimal(data["totals"]["consumed"])
    assert sum(Decimal(r["share_pct"]) for r in rows) == 100
    assert sum(Decimal(r["share"]) for r in rows) == 1


def test_plan_mistakes(capsys: pytest.CaptureFixture[str], tiny: tuple[str, ...]) -> None:
    code, _, err = run(capsys, *tiny[:5], "--tier", "small")
    assert code == ExitCode.USAGE_ERROR and "--anchor" in err
    code, _, err = run(capsys, *tiny[:5], "--tier", "huge", "--anchor", "2026-06-01")
    assert code == ExitCode.USAGE_ERROR and "huge" in err
    code, _, err = run(capsys, *tiny, "--anchor", "2026-06-01T00:30:00Z")
    assert code == ExitCode.USAGE_ERROR and err.count("\n") == 1


def test_months_and_events_outside_the_periods(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    usage = tmp_path / "u.csv"
    usage.write_text(
        "timestamp,ccu,project_id\n"
        "2026-05-31T10:00:00Z,5,early\n"
        "2026-06-02T10:00:00Z,5,api\n"
        "2026-07-02T10:00:00Z,6,web\n",
        encoding="utf-8",
    )
    argv = ["report", "--usage", str(usage), "--tier", "go", "--anchor", "2026-06-01"]
    code, out, err = run(capsys, *argv, "--months", "1", "--format", "json")
    assert code == ExitCode.OK
    assert "2 event(s) outside the simulated periods were ignored" in err
    data = json.loads(out)
    # one go period: 9.00, all of it api's (5 CCU fits go's 6.94 CCU an hour)
    assert [(r["key"], r["allocated_usd"]) for r in data["rows"]] == [("api", "9.00")]
    code, out, err = run(capsys, *argv, "--format", "json")  # months up to the last event: 2
    data = json.loads(out)
    assert "1 event(s)" in err
    # 18.00 split 6:5 by consumption: 981.8 and 818.2 cents, the cent left to web
    assert [(r["key"], r["allocated_usd"]) for r in data["rows"]] == [
        ("web", "9.82"),
        ("api", "8.18"),
    ]
