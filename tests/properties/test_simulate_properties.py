"""The batch engine equals the reference state machine; statements keep their identities."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import AccountState, SimulationResult, UsageLog, simulate
from tests.properties.strategies import START, TIERS, budget_sets, override_sets, traces


def _state_without_log(state: AccountState) -> dict[str, Any]:
    data = state.model_dump()
    data["ledger"].pop("log")
    return data


def _assert_equal(a: SimulationResult, b: SimulationResult) -> None:
    for k, (p, q) in enumerate(zip(a.periods, b.periods, strict=True)):
        assert p == q, f"period {k}: {p} != {q}"
    assert a.totals == b.totals
    assert a.outcomes == b.outcomes, a.outcomes.mismatches(b.outcomes)
    assert a.timeline == b.timeline
    assert a.alerts == b.alerts
    assert _state_without_log(a.final_state) == _state_without_log(b.final_state)


@st.composite
def scenarios(draw: st.DrawFn, with_budgets: bool) -> dict[str, Any]:
    tier = draw(st.sampled_from(TIERS))
    seats = 1 if tier in ("free", "go") else draw(st.integers(1, 3))
    budgets = draw(budget_sets()) if with_budgets else []
    kwargs: dict[str, Any] = {
        "seats": seats,
        "start": START,
        "months": draw(st.integers(1, 2)),
        "mode": draw(st.sampled_from(["request", "fluid"])),
        "on_rate_limit": draw(st.sampled_from(["defer", "drop"])),
        "budgets": budgets,
        "overrides": draw(override_sets(budgets)),
        "rollover_balance": draw(st.sampled_from([None, Decimal("0.5"), Decimal(30)])),
    }
    if tier in ("plus", "pro"):
        kwargs["reserve"] = draw(st.sampled_from([None, Decimal(0), Decimal("1.25")]))
    return {"tier": tier, "kwargs": kwargs}


@given(events=traces(), scenario=scenarios(with_budgets=False))
def test_batch_equals_reference(events: list[Any], scenario: dict[str, Any]) -> None:
    log = UsageLog.from_events(events)
    fast = simulate(log, scenario["tier"], **scenario["kwargs"])
    ref = simulate(log, scenario["tier"], engine="reference", **scenario["kwargs"])
    _assert_equal(fast, ref)


@given(events=traces(), scenario=scenarios(with_budgets=True))
def test_batch_equals_reference_with_budgets(events: list[Any], scenario: dict[str, Any]) -> None:
    log = UsageLog.from_events(events)
    fast = simulate(log, scenario["tier"], **scenario["kwargs"])
    ref = simulate(log, scenario["tier"], engine="reference", **scenario["kwargs"])
    _assert_equal(fast, ref)


@given(events=traces(metered=True), scenario=scenarios(with_budgets=True))
def test_batch_equals_reference_on_metered_events(
    events: list[Any], scenario: dict[str, Any]
) -> None:
    """Degraded budgets strip the sandbox part of metered requests the same way in both."""
    log = UsageLog.from_events(events)
    fast = simulate(log, scenario["tier"], **scenario["kwargs"])
    ref = simulate(log, scenario["tier"], engine="reference", **scenario["kwargs"])
    _assert_equal(fast, ref)


@given(events=traces(), scenario=scenarios(with_budgets=True))
def test_statement_identities(events: list[Any], scenario: dict[str, Any]) -> None:
    result = simulate(events, scenario["tier"], **scenario["kwargs"])
    for p in result.periods:
        assert p.consumed == p.consumed_from_rollover + p.consumed_from_grant + p.overage_ccu
        assert (
            p.rollover_in + p.granted - p.consumed_from_rollover - p.consumed_from_grant - p.expired
            == p.rollover_out
        )
        assert p.total_cost == p.subscription_cost + p.overage_cost
        assert min(p.consumed, p.expired, p.rollover_out, p.blocked_ccu, p.unserved_ccu) >= 0
        assert p.rollover_out <= result.plan.rollover_cap or p.rollover_out == 0
    for prev, nxt in zip(result.periods, result.periods[1:], strict=False):
        assert prev.rollover_out == nxt.rollover_in
        assert prev.end == nxt.start
    o = result.outcomes
    inside = o.status != 3
    assert np.array_equal(
        (o.served + o.waived + o.blocked + o.unserved)[inside], o.requested[inside]
    )
    assert np.array_equal(o.served, o.from_rollover + o.from_grant + o.from_overage)
    assert int(o.served.sum()) * 1 == sum(int(p.consumed.scaleb(6)) for p in result.periods)
    assert int(o.rate_limited.sum()) == int(result.totals.rate_limited_ccu.scaleb(6))
    tl = result.timeline
    cap = int(result.plan.limits.reserve_cap.scaleb(6))
    assert bool(np.all((tl.reserve >= 0) & (tl.reserve <= cap)))
    ledger = result.final_state.ledger
    assert ledger.granted == ledger.spent + ledger.expired + ledger.balance


@given(events=traces(days=60), tier=st.sampled_from(TIERS))
def test_continuing_from_final_state_equals_one_long_run(events: list[Any], tier: str) -> None:
    log = UsageLog.from_events(events)
    whole = simulate(log, tier, start=START, months=2)
    first = simulate(log, tier, start=START, months=1)
    second = simulate(log, first.final_state, months=1)
    assert whole.periods == first.periods + second.periods
