"""Golden statements: hand-computed figures (tests/golden/scenarios.json), compared exactly.

Each scenario runs through the batch engine, the reference engine and the
CLI's JSON; all three must give the hand-computed figures.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from codex_credits import UsageEvent, UsageLog, simulate
from codex_credits.cli import main
from codex_credits.core.timeutil import parse_instant
from codex_credits.core.units import from_micro

DATA = json.loads((Path(__file__).parent / "scenarios.json").read_text(), parse_float=Decimal)
SCENARIOS = DATA["scenarios"]
MONEY = {"overage_cost", "subscription_cost", "total_cost"}


def _events(s: dict[str, Any]) -> list[UsageEvent]:
    events = [UsageEvent(timestamp=t, ccu=Decimal(c)) for t, c in s.get("events", [])]
    for series in s.get("series", []):
        first = parse_instant(series["from"])
        events += [
            UsageEvent(timestamp=first + timedelta(hours=i), ccu=Decimal(series["ccu"]))
            for i in range(series["count"])
        ]
    return events


def _check(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    for name, want in expected.items():
        got = actual[name]
        if name in MONEY:
            assert str(got) == want, f"{where} {name}: {got} != {want}"
        elif name in ("start", "end"):
            assert got == parse_instant(want) or got == want, f"{where} {name}"
        elif name == "rate_limited_events":
            assert int(got) == want, f"{where} {name}"
        else:
            assert Decimal(str(got)) == Decimal(want), f"{where} {name}: {got} != {want}"


def _run(s: dict[str, Any], engine: str) -> Any:
    return simulate(
        _events(s),
        s["tier"],
        seats=s["seats"],
        start=parse_instant(s["start"]),
        months=s["months"],
        mode=s.get("mode", "request"),
        on_rate_limit=s.get("on_rate_limit", "defer"),
        rollover_balance=s.get("rollover_balance"),
        engine=engine,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("engine", ["batch", "reference"])
@pytest.mark.parametrize("s", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_golden_statement(s: dict[str, Any], engine: str) -> None:
    result = _run(s, engine)
    assert len(result.periods) == len(s["periods"])
    for k, expected in enumerate(s["periods"]):
        _check(result.periods[k].to_dict(), expected, f"period {k}")
    for hour, columns in s.get("timeline", {}).items():
        row = result.timeline.row(int(hour))
        for name, want in columns.items():
            assert row[name] == Decimal(want), f"hour {hour} {name}: {row[name]} != {want}"


@pytest.mark.parametrize("s", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_golden_statement_through_cli_json(s: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    lines = ["timestamp,ccu"] + [f"{e.timestamp.isoformat()},{e.ccu}" for e in _events(s)]
    path.write_text("\n".join(lines) + "\n")
    argv = [
        "simulate",
        "--usage",
        str(path),
        "--tier",
        s["tier"],
        "--seats",
        str(s["seats"]),
        "--anchor",
        s["start"],
        "--months",
        str(s["months"]),
        "--mode",
        s.get("mode", "request"),
        "--on-rate-limit",
        s.get("on_rate_limit", "defer"),
        "--format",
        "json",
    ]
    if "rollover_balance" in s:
        argv += ["--rollover-balance", s["rollover_balance"]]
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, stdout=out, stderr=err) == 0, err.getvalue()
    data = json.loads(out.getvalue())
    assert set(data) == {"periods", "totals"}
    for k, expected in enumerate(s["periods"]):
        period = data["periods"][k]
        for name, value in period.items():
            if name not in ("start", "end", "rate_limited_events"):
                assert isinstance(value, str), name
        _check(period, expected, f"period {k}")


def test_totals_sum_the_periods() -> None:
    s = next(x for x in SCENARIOS if x["id"].startswith("anchor-31st"))
    result = _run(s, "batch")
    assert result.totals.granted == Decimal(50000)
    assert result.totals.expired == Decimal(20000)
    assert result.totals.total_cost == Decimal("1000.00")
    assert result.totals.start == result.periods[0].start
    assert result.totals.end == result.periods[-1].end


def test_worked_figure_plus_versus_pro_saves_30() -> None:
    plus = _run(SCENARIOS[0], "batch").periods[0].overage_cost
    pro = _run(SCENARIOS[1], "batch").periods[0].overage_cost
    assert plus - pro == Decimal("30.00")
    assert (plus - pro) / Decimal(200) == Decimal("0.15")


def test_outcomes_show_where_each_request_was_paid_from() -> None:
    s = next(x for x in SCENARIOS if x["id"] == "pro-25000-with-8000-rolled-over-84")
    out = _run(s, "batch").outcomes
    # requests 0..79 spend the 8,000 rolled over, 80..179 the grant, 180.. overage
    assert from_micro(int(out.from_rollover[79])) == Decimal(100)
    assert from_micro(int(out.from_grant[80])) == Decimal(100)
    assert from_micro(int(out.from_grant[179])) == Decimal(100)
    assert from_micro(int(out.from_overage[180])) == Decimal(100)
    assert int(out.from_rollover.sum()) == 8000 * 10**6


def test_explicit_rollover_block_truncated_at_the_cap() -> None:
    from codex_credits import OpeningBlock
    from codex_credits.core.timeutil import parse_instant as p

    block = OpeningBlock(amount=Decimal(25000), expires=p("2026-12-31T00:00:00Z"))
    result = simulate(
        UsageLog.empty(), "pro", start=p("2026-01-01T00:00:00Z"), rollover_balance=[block]
    )
    period = result.periods[0]
    # 25,000 live + 10,000 leftover > cap 30,000: 5,000 roll over, 5,000 expire
    assert period.rollover_in == Decimal(25000)
    assert period.rollover_out == Decimal(30000)
    assert period.expired == Decimal(5000)


def test_anchor_day_31_periods() -> None:
    s = next(x for x in SCENARIOS if x["id"].startswith("anchor-31st"))
    starts = [p.start for p in _run(s, "batch").periods]
    assert [d.day for d in starts] == [31, 28, 31, 30, 31]
    assert all(isinstance(d, datetime) for d in starts)
