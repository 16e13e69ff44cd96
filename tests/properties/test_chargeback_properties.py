"""Chargeback rows add up to the engine's bill to the cent; shares to exactly 100%."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from codex_credits import RateCard, UsageEvent, UsageLog, chargeback, simulate
from codex_credits.core.reports import group_keys
from codex_credits.core.units import CENT, ZERO, from_micro
from tests.properties.strategies import PROJECTS, START, TIERS, budget_sets, traces

BY = ("project", "user", "day", "week", "month")


@st.composite
def busy_traces(draw: st.DrawFn) -> list[UsageEvent]:
    """Steady requests below the go tier's hourly limit: with it, they run into overage."""
    n = draw(st.integers(110, 160))
    step = draw(st.integers(1, 5))
    return [
        UsageEvent(
            timestamp=START + timedelta(hours=i * step, minutes=draw(st.integers(0, 59))),
            ccu=Decimal(draw(st.integers(5_000_000, 6_900_000))).scaleb(-6),
            project_id=draw(st.sampled_from(PROJECTS)),
            user_id=draw(st.sampled_from(("u1", "u2"))),
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
        "months": 2,  # the traces span 40 days from the anchor: two periods hold them all
        "mode": draw(st.sampled_from(["request", "fluid"])),
        "on_rate_limit": draw(st.sampled_from(["defer", "drop"])),
        "budgets": draw(st.one_of(st.just([]), budget_sets())),
        "rollover_balance": draw(st.sampled_from([None, Decimal("0.5"), Decimal(30)])),
    }


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[UsageEvent], dict[str, Any]]:
    """Any trace on any tier, or a steady one on the go tier (overage likely)."""
    if draw(st.booleans()):
        return draw(traces()), draw(plans())
    return draw(busy_traces()), draw(plans(("go",)))


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

    # money: every row's parts, and the rows, add up to the engine's bill
    assert sum((r.cost_usd or ZERO for r in rows), ZERO) == totals.total_cost
    assert sum((r.subscription_usd or ZERO for r in rows), ZERO) == totals.subscription_cost
    assert sum((r.overage_usd or ZERO for r in rows), ZERO) == totals.overage_cost
    assert report.cost_usd == totals.total_cost
    for r in rows:
        assert r.cost_usd == (r.subscription_usd or ZERO) + (r.overage_usd or ZERO)
        assert r.cost_usd is not None and r.cost_usd == r.cost_usd.quantize(CENT)

    # CCU: rows sum to what the engine served and to what the log asked for
    log_total = from_micro(int(log.amounts_micro(RateCard.default()).sum()))
    assert sum((r.total for r in rows), ZERO) == totals.consumed == report.total
    assert sum((r.requested or ZERO for r in rows), ZERO) == log_total
    if totals.blocked_ccu == totals.unserved_ccu == ZERO and not result.outcomes.waived.any():
        assert totals.consumed == log_total

    # shares: exactly 100.00 as printed and exactly 1 as fractions
    if report.total > 0:
        assert sum((r.share_pct for r in rows), ZERO) == Decimal(100)
        assert sum((r.share for r in rows), ZERO) == 1

    # each row's figures, recomputed event by event from the outcomes
    served: dict[str, int] = defaultdict(int)
    overage: dict[str, int] = defaultdict(int)
    keys = group_keys(log, by)
    for i, key in enumerate(keys):
        served[key] += int(result.outcomes.served[i])
        overage[key] += int(result.outcomes.from_overage[i])
    rate = result.plan.overage_usd_per_ccu or ZERO
    slack = CENT * (len(result.periods) + 1)  # the bill is rounded once per period
    for r in rows:
        assert r.total == from_micro(served[r.key])
        assert abs((r.overage_usd or ZERO) - from_micro(overage[r.key]) * rate) <= slack
        if overage[r.key] == 0 and sum(overage.values()) > 0:
            assert r.overage_usd == ZERO
