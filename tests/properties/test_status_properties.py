"""Properties of the bridge between the usage API's account status and the engine.

* Started from the bridged state with no events, a simulation opens with the
  status's rollover balance and reserve.
* The bridged state at the status's instant holds exactly the status's
  balances, and the ledger identity.
* Round trip: an account run by the engine reports a status; the bridge gives
  back its balances, and replaying the same usage from the bridged opening
  state reproduces the status.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from hypothesis import given
from hypothesis import strategies as st

from codex_credits import (
    Account,
    AccountStatus,
    BlockKind,
    RateCard,
    UsageEvent,
    opening_state,
    path_start_from_state,
    period_anchor,
    period_spending,
    simulate,
    split_status,
    state_from_status,
    status_from_state,
)
from codex_credits.core.periods import period_at
from codex_credits.core.units import to_micro

CARD = RateCard.default()
ANCHOR = datetime(2026, 1, 31, 5, tzinfo=UTC)  # periods clamp: 28 Feb, 31 Mar ...


def micro(top: Decimal) -> st.SearchStrategy[Decimal]:
    return st.integers(0, to_micro(top)).map(lambda n: Decimal(n).scaleb(-6))


@st.composite
def plans(draw: st.DrawFn) -> tuple[str, int, int]:
    """``(tier, seats, period index)``."""
    tier = draw(st.sampled_from(sorted(CARD.tiers)))
    most = CARD.tiers[tier].max_seats or 8
    return tier, draw(st.integers(1, min(most, 8))), draw(st.integers(0, 13))


@st.composite
def opening_statuses(draw: st.DrawFn) -> AccountStatus:
    """A status read at the very start of a period: nothing consumed yet."""
    tier, seats, index = draw(plans())
    plan = Account(tier, seats, ANCHOR, CARD).state.plan
    period = period_at(ANCHOR, index)
    return AccountStatus(
        tier=tier,
        seats=seats,
        period_start=period.start,
        period_end=period.end,
        consumed_ccu=Decimal(0),
        remaining_ccu=plan.pool,
        rollover_ccu=draw(micro(plan.rollover_cap)),
        reserve_ccu=draw(micro(plan.limits.reserve_cap)),
    )


@given(opening_statuses(), st.sampled_from(["batch", "reference"]))
def test_simulation_from_the_bridged_state_opens_with_the_status_balances(
    status: AccountStatus, engine: Literal["batch", "reference"]
) -> None:
    state = opening_state(status, CARD)
    assert state.reserve.level == status.reserve_ccu
    result = simulate([], state, engine=engine)
    first = result.periods[0]
    assert first.start == status.period_start
    assert first.rollover_in == status.rollover_ccu
    assert first.granted == status.remaining_ccu
    # the first hour starts from the status's reserve: it ends where an account
    # starting empty ends, shifted by the status's level, up to the cap
    fresh = simulate([], status.tier, seats=status.seats or 1, start=state.plan.anchor)
    idle = Decimal(int(fresh.timeline.reserve[0])).scaleb(-6)
    cap = state.plan.limits.reserve_cap
    assert Decimal(int(result.timeline.reserve[0])).scaleb(-6) == min(
        cap, status.reserve_ccu + idle
    )


@st.composite
def engine_runs(draw: st.DrawFn) -> tuple[Account, list[UsageEvent], datetime]:
    """An account run by the engine part way into a period, with the usage it served.

    Each hour holds at most the hour's allowance, so nothing is rate limited and
    the reserve never decides an outcome.
    """
    tier, seats, _ = draw(plans())
    account = Account(tier, seats, ANCHOR, CARD)
    plan = account.state.plan
    rollover = draw(micro(plan.rollover_cap)) if plan.rollover_periods else Decimal(0)
    account = Account(
        tier,
        seats,
        ANCHOR,
        CARD,
        rollover_balance=rollover,
        reserve=draw(micro(plan.limits.reserve_cap)),
    )
    period = account.state.period
    at = period.start + timedelta(hours=draw(st.integers(1, period.hours - 1)), minutes=17)
    limit = plan.limits.limit
    elapsed = int((at - period.start).total_seconds()) // 3600
    hours = draw(st.lists(st.integers(0, elapsed - 1), unique=True, max_size=40))
    full = set(draw(st.lists(st.sampled_from(hours), max_size=30))) if hours else set()
    events = []
    for hour in sorted(hours):
        # full hours (at the allowance) reach overage or the free tier's stop
        amount = limit if hour in full else draw(micro(limit))
        when = period.start + timedelta(hours=hour, minutes=draw(st.integers(0, 59)))
        outcome = account.apply(amount, at=when)
        if outcome.served:
            events.append(UsageEvent(timestamp=when, ccu=outcome.served))
    account.advance(at)
    return account, events, at


@given(engine_runs())
def test_bridge_gives_back_the_engine_balances(
    run: tuple[Account, list[UsageEvent], datetime],
) -> None:
    account, _, at = run
    truth = account.state
    status = status_from_state(truth)
    spent = period_spending(truth)
    state = state_from_status(status, CARD, at=at, rollover_consumed=spent.from_rollover)
    ledger = state.ledger
    assert ledger.rollover_balance == status.rollover_ccu == truth.ledger.rollover_balance
    grant_left = sum((b.remaining for b in ledger.blocks if b.kind is BlockKind.GRANT), Decimal(0))
    assert grant_left == status.remaining_ccu
    assert ledger.balance == truth.ledger.balance
    assert state.reserve.level == status.reserve_ccu == truth.reserve.level
    assert ledger.granted == ledger.spent + ledger.expired + ledger.balance
    assert period_spending(state) == spent
    start, real = path_start_from_state(state), path_start_from_state(truth)
    assert (start.consumed, start.overage, start.grant_left, start.reserve) == (
        real.consumed,
        real.overage,
        real.grant_left,
        real.reserve,
    )
    assert start.credits_left == real.credits_left
    split = split_status(status, CARD, rollover_consumed=spent.from_rollover)
    assert split.from_rollover + split.from_grant + split.overage == status.consumed_ccu


@given(engine_runs())
def test_replaying_from_the_opening_state_reproduces_the_status(
    run: tuple[Account, list[UsageEvent], datetime],
) -> None:
    account, events, _ = run
    status = status_from_state(account.state)
    spent = period_spending(account.state)
    opening = opening_state(status, CARD, rollover_consumed=spent.from_rollover)
    result = simulate(events, opening)
    period = result.periods[0]
    assert period.rollover_in == status.rollover_ccu + spent.from_rollover
    assert period.consumed == status.consumed_ccu
    assert period.consumed_from_rollover == spent.from_rollover
    assert period.consumed_from_grant == opening.plan.pool - status.remaining_ccu
    assert period.overage_ccu == spent.overage
    assert period.rate_limited_ccu == period.blocked_ccu == 0


@given(
    st.integers(2024, 2030),
    st.integers(1, 12),
    st.integers(1, 31),
    st.integers(0, 23),
    st.integers(0, 30),
)
def test_period_anchor_finds_an_anchor_with_the_same_periods(
    year: int, month: int, day: int, hour: int, index: int
) -> None:
    day = min(day, monthrange(year, month)[1])
    anchor = datetime(year, month, day, hour, tzinfo=UTC)
    period = period_at(anchor, index)
    found, same = period_anchor(period.start, period.end)
    assert (same.start, same.end) == (period.start, period.end)
    # the anchor found gives the same calendar from there on
    for k in range(1, 4):
        ours, theirs = period_at(found, same.index + k), period_at(anchor, index + k)
        assert (ours.start, ours.end) == (theirs.start, theirs.end)
