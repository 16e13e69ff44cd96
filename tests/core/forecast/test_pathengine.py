"""The vectorised path engine: hand-computed hours, and equal to the one-path reference."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits.core.forecast.pathengine import (
    HourlyRules,
    PathStart,
    close_period,
    run_path,
    run_paths,
)
from codex_credits.core.ratecard import RateCard
from codex_credits.core.units import from_micro, to_micro

CARD = RateCard.default()


def fresh(rules: HourlyRules, **changes: int) -> PathStart:
    values = {
        "period_index": 0,
        "consumed": 0,
        "rollover": (),
        "grant_left": rules.pool,
        "overage": 0,
        "reserve": 0,
        "backlog": 0,
    }
    values.update(changes)
    return PathStart(**values)  # type: ignore[arg-type]


def test_plus_figures_are_derived_from_the_card() -> None:
    rules = HourlyRules.for_account(CARD, "plus", 1)
    # H = 2000 / 720 = 2.777778; L = 10 H; T = 0.7 H; cap = 2 H (each quantized).
    assert from_micro(rules.allowance) == Decimal("27.777780")
    assert from_micro(rules.threshold) == Decimal("1.944445")
    assert from_micro(rules.reserve_cap) == Decimal("5.555556")
    assert from_micro(rules.rollover_cap) == Decimal("2000.000000")


def test_idle_hour_fills_reserve_then_a_burst_draws_it_and_defers_the_rest() -> None:
    rules = HourlyRules.for_account(CARD, "plus", 1)
    demand = np.array([[0, to_micro(Decimal(30)), 0]], dtype=np.int64)
    out = run_paths(rules, fresh(rules), demand, record=True)
    assert out.served_by_hour is not None
    served = [from_micro(int(v)) for v in out.served_by_hour[0]]
    # Hour 0: idle, reserve += 0.6 x 1.944445 = 1.166667.
    # Hour 1: 27.777780 from the allowance + 1.166667 from the reserve; 1.055553 deferred.
    # Hour 2: the deferred 1.055553 is served; reserve += 0.6 x (1.944445 - 1.055553) = 0.533335.
    assert served == [Decimal("0.000000"), Decimal("28.944447"), Decimal("1.055553")]
    assert from_micro(int(out.rate_limited[0])) == Decimal("1.055553")
    assert from_micro(int(out.reserve[0])) == Decimal("0.533335")
    assert from_micro(int(out.consumed[0])) == Decimal("30.000000")


def test_free_tier_blocks_what_its_credits_cannot_pay() -> None:
    rules = HourlyRules.for_account(CARD, "free", 1)
    # L = 10 x 50 / 720 = 0.694440 an hour, so 0.5 an hour is never rate limited.
    demand = np.full((1, 10), to_micro(Decimal("0.5")), dtype=np.int64)
    start = fresh(rules, grant_left=to_micro(Decimal(4)), consumed=to_micro(Decimal(46)))
    out = run_paths(rules, start, demand)
    assert from_micro(int(out.consumed[0])) == Decimal("50.000000")
    assert from_micro(int(out.blocked[0])) == Decimal("1.000000")
    assert int(out.overage[0]) == 0 and int(out.credits_left[0]) == 0
    assert int(out.rate_limited[0]) == 0
    assert int(out.exhausted_hour[0]) == 7


def test_period_close_rolls_over_up_to_the_cap_and_expires_the_rest() -> None:
    rules = HourlyRules.for_account(CARD, "plus", 1)
    start = fresh(rules, rollover=((to_micro(Decimal(800)), 0),))
    # 300 spent: all from the rollover block (soonest expiry first), which then expires 500.
    left = np.array([start.credits_left - to_micro(Decimal(300))], dtype=np.int64)
    new, expired, surviving = close_period(rules, start, left)
    assert from_micro(int(new[0])) == Decimal("2000.000000")
    assert from_micro(int(expired[0])) == Decimal("500.000000")
    assert len(surviving) == 1


tiers = st.sampled_from(["free", "go", "plus", "pro"])
hours = st.lists(st.integers(0, 60_000_000), min_size=1, max_size=30)


@given(
    tier=tiers,
    paths=st.lists(hours, min_size=1, max_size=4),
    reserve=st.integers(0, 60_000_000),
    backlog=st.integers(0, 30_000_000),
    spent=st.integers(0, 3_000_000_000),
    rollover=st.integers(0, 5_000_000_000),
    drop=st.booleans(),
)
def test_vectorised_engine_equals_the_one_path_reference(
    tier: str,
    paths: list[list[int]],
    reserve: int,
    backlog: int,
    spent: int,
    rollover: int,
    drop: bool,
) -> None:
    rules = HourlyRules.for_account(CARD, tier, 1, on_rate_limit="drop" if drop else "defer")
    width = max(len(p) for p in paths)
    demand = np.array([p + [0] * (width - len(p)) for p in paths], dtype=np.int64)
    grant_left = max(0, rules.pool - spent)
    start = fresh(
        rules,
        reserve=min(reserve, rules.reserve_cap),
        backlog=backlog,
        grant_left=grant_left,
        consumed=rules.pool - grant_left,
        rollover=((rollover, 1),) if rules.rollover_periods else (),
    )
    together = run_paths(rules, start, demand, record=True)
    assert together.served_by_hour is not None
    for i, row in enumerate(demand.tolist()):
        alone = run_path(rules, start, row)
        for name in ("consumed", "overage", "credits_left", "reserve", "backlog"):
            assert int(getattr(together, name)[i]) == int(getattr(alone, name)[0]), name
        for name in ("rate_limited", "blocked", "unserved", "exhausted_hour"):
            assert int(getattr(together, name)[i]) == int(getattr(alone, name)[0]), name
        assert alone.served_by_hour is not None
        assert together.served_by_hour[i].tolist() == alone.served_by_hour[0].tolist()


@given(tier=tiers, row=hours, drop=st.booleans())
def test_rules_invariants_hold_on_every_path(tier: str, row: list[int], drop: bool) -> None:
    rules = HourlyRules.for_account(CARD, tier, 1, on_rate_limit="drop" if drop else "defer")
    start = fresh(rules)
    out = run_path(rules, start, row)
    served = out.served_by_hour
    assert served is not None
    # Served work is consumption; credits pay first and overage only when they are gone.
    assert int(out.consumed[0]) == int(served.sum())
    assert 0 <= int(out.reserve[0]) <= max(rules.reserve_cap, 0)
    assert int(out.credits_left[0]) >= 0
    paid = start.credits_left - int(out.credits_left[0])
    assert paid + int(out.overage[0]) == int(out.consumed[0])
    if rules.overage_rate is None:
        assert int(out.overage[0]) == 0
    # Nothing is lost: demand is served, blocked, dropped or still waiting.
    total = sum(row)
    waiting = int(out.backlog[0])
    assert int(out.consumed[0]) + int(out.blocked[0]) + int(out.unserved[0]) + waiting == total
    # No hour serves more than the allowance plus the reserve cap.
    assert int(served.max()) <= rules.allowance + max(rules.reserve_cap, 0)


def test_unknown_window_rule_is_refused() -> None:
    data = CARD.to_data()
    data["options"]["reserve_window_hours"] = 24
    data["options"]["reserve_window_cap_hours"] = 8
    card = RateCard.from_data(data)
    with pytest.raises(Exception, match="trailing-window"):
        HourlyRules.for_account(card, "pro", 1)


def test_free_tier_checks_each_deferred_piece_against_the_balance() -> None:
    # Free, one seat: pool 50, H = 0.069444, L = 0.694440, no reserve.
    # Hour 0: 30 can be paid; 0.694440 served, 29.305560 deferred (credits 49.305560).
    # Hour 1: 0.694440 of it served (28.611120 waits, credits 48.611120); the hour's
    #   30 can be paid but there is no room: a second piece of 30 waits.
    # Hour 2: 0.694440 more served (27.916680 waits, credits 47.916680); the piece of
    #   30 is checked alone against 47.916680, so it still waits: nothing blocked,
    #   57.916680 waiting, more than the credits left.
    rules = HourlyRules.for_account(CARD, "free", 1)
    start = fresh(rules)
    demand = [to_micro(Decimal(30)), to_micro(Decimal(30)), 0]
    for out in (run_paths(rules, start, np.array([demand])), run_path(rules, start, demand)):
        assert int(out.blocked[0]) == 0
        assert from_micro(int(out.backlog[0])) == Decimal("57.916680")
        assert out.pieces is not None
        assert [from_micro(int(v)) for v in out.pieces[0] if v] == [
            Decimal("27.916680"),
            Decimal("30.000000"),
        ]
        assert from_micro(int(out.consumed[0])) == Decimal("2.083320")
        assert from_micro(int(out.rate_limited[0])) == Decimal("59.305560")
