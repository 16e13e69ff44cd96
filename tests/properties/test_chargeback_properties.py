"""Chargeback rows add up to the engine's bill to the cent; shares to exactly 100%."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from codex_credits import (
    Control,
    RateCard,
    UsageEvent,
    UsageLog,
    chargeback,
    period_usage_report,
    simulate,
)
from codex_credits.core.reports import group_keys
from codex_credits.core.units import CENT, ZERO, from_micro
from tests.properties.strategies import PROJECTS, START, TIERS, budget_sets, traces

BY = ("project", "user", "feature", "model", "day", "week", "month")


@st.composite
def busy_traces(draw: st.DrawFn) -> list[UsageEvent]:
    """Steady requests of 5-6.9 CCU, one an hour at most: on the go tier (a pool of
    500 CCU and about 6.94 CCU an hour) they fit the rate limit and run into overage.

    The events come from one seeded generator, so a failure shrinks fast.
    """
    rnd = draw(st.randoms(use_true_random=False))
    n = draw(st.integers(110, 160))  # at least 550 CCU: past the 500 CCU pool
    step = draw(st.integers(1, 3))  # 480 hours at most: all in the first (28-day) period
    features = (None, "lint", "review")
    return [
        UsageEvent(
            timestamp=START + timedelta(hours=i * step, minutes=rnd.randrange(60)),
            ccu=Decimal(rnd.randrange(5_000_000, 6_900_000)).scaleb(-6),
            project_id=rnd.choice(PROJECTS),
            user_id=rnd.choice(("u1", "u2")),
            feature=rnd.choice(features),
        )
        for i in range(n)
    ]


@st.composite
def plans(draw: st.DrawFn, tiers: tuple[str, ...] = TIERS) -> dict[str, Any]:
    tier = draw(st.sampled_from(tiers))
    seats = 1 if tier in ("free", "go") else draw(st.integers(1, 3))
    return {
        "tier": tier,
        "seats": seats,
        "months": draw(st.integers(1, 3)),  # traces span 40 days: some events may fall outside
        "mode": draw(st.sampled_from(["request", "fluid"])),
        "on_rate_limit": draw(st.sampled_from(["defer", "drop"])),
        "budgets": draw(st.one_of(st.just([]), budget_sets())),
        "rollover_balance": draw(st.sampled_from([None, Decimal("0.5"), Decimal(30)])),
    }


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[UsageEvent], dict[str, Any]]:
    """Any trace on any tier, or a steady one on the go tier (overage certain)."""
    if draw(st.booleans()):
        return draw(traces()), draw(plans())
    return draw(busy_traces()), draw(plans(("go",)))


def _window(log: UsageLog, result: Any) -> range:
    """Indexes of the events inside the simulated periods."""
    start, end = result.periods[0].start, result.periods[-1].end
    return range(len(log))[
        sum(1 for e in log if e.timestamp < start) : sum(1 for e in log if e.timestamp < end)
    ]


@given(case=cases(), by=st.sampled_from(BY))
def test_rows_add_up_to_the_engines_totals(
    case: tuple[list[UsageEvent], dict[str, Any]], by: str
) -> None:
    events, plan = case
    log = UsageLog.from_events(events)
    tier = plan.pop("tier")
    result = simulate(log, tier, start=START, **plan)
    report = chargeback(log, result, by=by)
    totals = result.totals
    rows = report.rows

    # money: the rows, and each of their parts, add up to the engine's bill to the cent
    assert sum((r.allocated_usd or ZERO for r in rows), ZERO) == totals.total_cost
    assert sum((r.subscription_usd or ZERO for r in rows), ZERO) == totals.subscription_cost
    assert sum((r.overage_usd or ZERO for r in rows), ZERO) == totals.overage_cost
    assert report.allocated_usd == totals.total_cost
    for r in rows:
        assert r.allocated_usd == (r.subscription_usd or ZERO) + (r.overage_usd or ZERO)
        assert r.allocated_usd is not None and r.allocated_usd == r.allocated_usd.quantize(CENT)
        assert r.allocated_usd >= 0

    # CCU: rows sum to what the engine served and to the demand of the simulated window
    window = _window(log, result)
    card = RateCard.default()
    demand = from_micro(sum(int(log.amounts_micro(card)[i]) for i in window))
    assert sum((r.total for r in rows), ZERO) == totals.consumed == report.total
    assert sum((r.requested or ZERO for r in rows), ZERO) == demand
    assert sum(r.events for r in rows) == len(window) or (not window and rows[0].events == 0)

    # shares: exactly 100.00 as printed and exactly 1 as fractions
    if report.total > 0:
        assert sum((r.share_pct for r in rows), ZERO) == Decimal(100)
        assert sum((r.share for r in rows), ZERO) == 1

    # each row recomputed event by event from the engine's outcomes
    served: dict[str, int] = defaultdict(int)
    overage: dict[str, int] = defaultdict(int)
    keys = group_keys(log, by)
    for i in window:
        served[keys[i]] += int(result.outcomes.served[i])
        overage[keys[i]] += int(result.outcomes.from_overage[i])
    rate = result.plan.overage_usd_per_ccu or ZERO
    # largest remainders move a row by less than a cent; the bill is rounded per period
    slack = CENT + CENT / 2 * len(result.periods)
    for r in rows:
        assert r.total == from_micro(served[r.key])
        assert abs((r.overage_usd or ZERO) - from_micro(overage[r.key]) * rate) < slack
        if overage[r.key] == 0:
            assert r.overage_usd == ZERO  # a scope that drew no overage pays none


@given(events=busy_traces(), by=st.sampled_from(BY))
def test_busy_go_accounts_pay_overage_by_their_own_events(
    events: list[UsageEvent], by: str
) -> None:
    log = UsageLog.from_events(events)
    result = simulate(log, "go", start=START, months=2)
    demand = sum((e.ccu or ZERO for e in events), ZERO)
    assert result.totals.consumed == demand  # all served: each fits its hour
    assert result.totals.overage_ccu == demand - 500  # one grant of 500 CCU, then overage
    report = chargeback(log, result, by=by)
    assert sum((r.overage_usd or ZERO for r in report.rows), ZERO) == result.totals.overage_cost
    assert sum((r.share_pct for r in report.rows), ZERO) == Decimal(100)
    drew: dict[str, int] = defaultdict(int)
    for key, micro in zip(group_keys(log, by), result.outcomes.from_overage, strict=True):
        drew[key] += int(micro)
    for r in report.rows:
        own = from_micro(drew[r.key]) * Decimal("0.025")
        assert abs((r.overage_usd or ZERO) - own) < CENT + CENT / 2 * 2
        if drew[r.key] == 0:
            assert r.overage_usd == ZERO


@given(case=cases())
def test_usage_report_is_the_engines_statement(
    case: tuple[list[UsageEvent], dict[str, Any]],
) -> None:
    events, plan = case
    log = UsageLog.from_events(events)
    tier = plan.pop("tier")
    result = simulate(log, tier, start=START, **plan)
    for k, statement in enumerate(result.periods):
        report = period_usage_report(log, result, period=k, dimensions=("project", "user"))
        assert report.consumed == statement.consumed
        assert report.overage == statement.overage_ccu
        assert report.overage_usd == statement.overage_cost
        assert report.rate_limit_events == statement.rate_limited_events
        assert report.reserve_used == statement.reserve_drawn
        assert report.rollover_consumed == statement.consumed_from_rollover
        assert report.allocation == statement.granted
        assert report.rollover == statement.rollover_in
        queue = any(b.control is Control.QUEUE for b in plan["budgets"])
        for dim in report.by_dimension:
            assert sum((r.total for r in dim.rows), ZERO) == dim.total
            if plan["on_rate_limit"] == "drop" and not queue:
                # nothing crosses a period boundary: the dimensions add up to the statement
                assert dim.total == statement.consumed
