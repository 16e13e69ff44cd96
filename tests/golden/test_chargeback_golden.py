"""Chargeback of a tiny log, every figure computed by hand.

The card is the default one with a single small tier: 10.00 USD a seat for
100 CCU a month, overage at 0.05 USD per CCU, no reserve, no rollover, and a
rate limit of 7200 x H = 7200 x 100 / 720 = 1000 CCU an hour.

One seat, anchor 2026-06-01, one period (June, 30 days). The events:

| when (UTC)       | project | user  | CCU  | what the engine does                   |
|------------------|---------|-------|------|----------------------------------------|
| 06-01 10:00      | api     | alice | 40   | grant (60 left)                        |
| 06-01 11:00      | web     | bob   | 30   | grant (30 left)                        |
| 06-02 09:00      | api     | bob   | 50   | 30 from the grant, 20 overage          |
| 06-03 09:00      | web     | alice | 10   | 10 overage                             |
| 06-04 09:00      | web     | bob   | 2000 | blocked: more than any hour can hold   |

Served 130 CCU; overage 30 CCU x 0.05 = 1.50; subscription 10.00; bill 11.50.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from codex_credits import (
    ConfigError,
    RateCard,
    UsageEvent,
    UsageLog,
    chargeback,
    period_usage_report,
    simulate,
)
from codex_credits.core.chargeback import NO_USAGE_KEY
from codex_credits.core.ratecard import TierSpec
from codex_credits.core.statement import SimulationResult

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)


def tiny_card() -> RateCard:
    small = TierSpec(
        price_per_seat_usd=Decimal(10),
        monthly_ccu_per_seat=Decimal(100),
        overage_usd_per_ccu=Decimal("0.05"),
        rate_limit_multiple=Decimal(7200),
    )
    return RateCard.default().model_copy(update={"name": "tiny", "tiers": {"small": small}})


def ev(day: int, hour: int, ccu: int, project: str, user: str) -> UsageEvent:
    return UsageEvent(
        timestamp=datetime(2026, 6, day, hour, tzinfo=UTC),
        ccu=Decimal(ccu),
        project_id=project,
        user_id=user,
    )


LOG = UsageLog.from_events(
    [
        ev(1, 10, 40, "api", "alice"),
        ev(1, 11, 30, "web", "bob"),
        ev(2, 9, 50, "api", "bob"),
        ev(3, 9, 10, "web", "alice"),
        ev(4, 9, 2000, "web", "bob"),
    ]
)


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(LOG, "small", card=tiny_card(), start=ANCHOR)


def D(text: str) -> Decimal:
    return Decimal(text)


def test_the_engine_bills_what_the_table_says(result: SimulationResult) -> None:
    t = result.totals
    assert (t.consumed, t.overage_ccu, t.blocked_ccu) == (D("130"), D("30"), D("2000"))
    assert (t.subscription_cost, t.overage_cost, t.total_cost) == (D("10"), D("1.5"), D("11.5"))


def test_by_project(result: SimulationResult) -> None:
    report = chargeback(LOG, result, by="project", card=tiny_card())
    # api served 90 of 130: 69.2307..% -> 69.23; web 40: 30.7692..% -> 30.77 (larger remainder)
    # subscription 1000 cents: 692.3 -> 692, 307.7 -> 308; overage 150 cents by 20:10 -> 100, 50
    rows = [
        (r.key, r.total, r.requested, r.share_pct, r.subscription_usd, r.overage_usd)
        for r in report.rows
    ]
    assert rows == [
        ("api", D("90"), D("90"), D("69.23"), D("6.92"), D("1.00")),
        ("web", D("40"), D("2040"), D("30.77"), D("3.08"), D("0.50")),
    ]
    assert [r.allocated_usd for r in report.rows] == [D("7.92"), D("3.58")]
    assert (report.total, report.requested, report.allocated_usd) == (D(130), D(2130), D("11.50"))


def test_by_user(result: SimulationResult) -> None:
    report = chargeback(LOG, result, by="user", card=tiny_card())
    # bob 80: 61.538..% -> 61.54; alice 50: 38.461..% -> 38.46
    # subscription: 615.38 -> 615, 384.62 -> 385 (alice has the larger remainder)
    # overage: bob's 50 CCU request drew 20, alice's 10 CCU request drew 10
    got = [(r.key, r.share_pct, r.subscription_usd, r.overage_usd) for r in report.rows]
    assert got == [
        ("bob", D("61.54"), D("6.15"), D("1.00")),
        ("alice", D("38.46"), D("3.85"), D("0.50")),
    ]
    assert [r.allocated_usd for r in report.rows] == [D("7.15"), D("4.35")]


def test_by_day_a_day_without_overage_pays_none(result: SimulationResult) -> None:
    report = chargeback(LOG, result, by="day", card=tiny_card())
    # served 70, 50, 10, 0 (the blocked day); percent units 5384.6, 3846.2, 769.2, 0:
    # floors 9999, the one left goes to 06-01 (remainder .615)
    # cents 538.46, 384.62, 76.92, 0: floors 998, the two left go to 06-03 (.92) and 06-02 (.62)
    got = [(r.key, r.share_pct, r.subscription_usd, r.overage_usd) for r in report.rows]
    assert got == [
        ("2026-06-01", D("53.85"), D("5.38"), D("0.00")),
        ("2026-06-02", D("38.46"), D("3.85"), D("1.00")),
        ("2026-06-03", D("7.69"), D("0.77"), D("0.50")),
        ("2026-06-04", D("0.00"), D("0.00"), D("0.00")),
    ]


def test_usage_report_comes_from_the_statement(result: SimulationResult) -> None:
    report = period_usage_report(LOG, result, card=tiny_card())
    assert (report.start, report.period_days) == (ANCHOR, D(30))
    # consumed is what the engine served, not the 2130 asked for
    assert (report.consumed, report.events) == (D("130"), 5)
    # budget (100 + 0) x 30 / 30 = 100; estimate max(0, 130 - 100) x 0.05 = 1.50
    assert (report.period_budget, report.estimated_overage) == (D("100"), D("30"))
    assert report.estimated_overage_usd == D("1.50")
    assert (report.overage, report.overage_usd) == (D("30"), D("1.50"))
    assert (report.rate_limit_events, report.reserve_used, report.rollover_consumed) == (0, 0, 0)
    by_project = {r.by: r for r in report.by_dimension}["project"]
    assert [(r.key, r.total) for r in by_project.rows] == [("api", D(90)), ("web", D(40))]


def test_nothing_served_the_subscription_goes_by_demand() -> None:
    log = UsageLog.from_events([ev(4, 9, 3000, "api", "a"), ev(4, 10, 1000 + 1, "web", "b")])
    result = simulate(log, "small", card=tiny_card(), start=ANCHOR)
    assert result.totals.consumed == 0
    report = chargeback(log, result, by="project", card=tiny_card())
    # both requests exceed what any hour can hold (1000.0008): blocked, nothing served.
    # demand 3000 : 1001 of 1000 cents -> 749.81 : 250.19; floors 999, the cent left to api
    assert [(r.key, r.total, r.allocated_usd) for r in report.rows] == [
        ("api", D(0), D("7.50")),
        ("web", D(0), D("2.50")),
    ]
    assert report.allocated_usd == result.totals.total_cost == D("10.00")


def test_no_events_in_the_periods_one_row_carries_the_bill() -> None:
    log = UsageLog.from_events([ev(1, 10, 5, "api", "a")])
    result = simulate(log, "small", card=tiny_card(), start=datetime(2026, 7, 1, tzinfo=UTC))
    report = chargeback(log, result, by="project", card=tiny_card())
    assert [(r.key, r.allocated_usd) for r in report.rows] == [(NO_USAGE_KEY, D("10.00"))]


def test_a_different_log_is_refused(result: SimulationResult) -> None:
    with pytest.raises(ConfigError, match="pass the log that was simulated"):
        chargeback(UsageLog.from_events([ev(1, 10, 5, "api", "a")]), result)
    with pytest.raises(ConfigError, match="card"):
        chargeback(LOG, result, card=RateCard.default())
