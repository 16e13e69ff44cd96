"""Properties of the account state machine and of the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from codex_credits import (
    AccountState,
    Budget,
    Ledger,
    Mode,
    Refusal,
    Request,
    Status,
    advance,
    apply,
    close_period,
    evaluate,
    grant,
    open_account,
    spend,
)
from codex_credits.core.ratecard import RateCard
from tests.properties.strategies import START, TIERS, amounts

CARD = RateCard.default()


@st.composite
def requests(draw: st.DrawFn) -> list[tuple[timedelta, Request]]:
    """Requests at increasing offsets (minutes) over up to ~50 days."""
    n = draw(st.integers(1, 25))
    steps = draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n))
    out = []
    offset = 0
    for step in steps:
        offset += step
        out.append(
            (
                timedelta(minutes=offset),
                Request(amount=draw(amounts(top=150)), project_id=draw(st.sampled_from("ab"))),
            )
        )
    return out


@st.composite
def accounts(draw: st.DrawFn) -> AccountState:
    tier = draw(st.sampled_from(TIERS))
    seats = 1 if tier in ("free", "go") else draw(st.integers(1, 2))
    budgets = []
    if draw(st.booleans()):
        budgets.append(
            Budget(
                name="a",
                scope="project",
                value="a",
                amount=draw(amounts(top=300)),
                control=draw(st.sampled_from(["hard_stop", "queue", "soft_limit", "degraded"])),
            )
        )
    return open_account(
        CARD,
        tier,
        seats,
        START,
        rollover_balance=draw(st.sampled_from([None, "20"])),
        budgets=budgets,
    )


def _check_invariants(state: AccountState) -> None:
    ledger = state.ledger
    assert ledger.granted == ledger.spent + ledger.expired + ledger.balance
    assert ledger.balance >= 0
    assert all(b.remaining >= 0 for b in ledger.blocks)
    assert 0 <= state.reserve.level <= state.plan.limits.reserve_cap
    # the rollover cap holds once the opening balance (20) has expired with period 0
    if state.period.index > 0:
        assert ledger.rollover_balance <= state.plan.rollover_cap


@given(state=accounts(), trace=requests(), mode=st.sampled_from(list(Mode)))
def test_invariants_hold_at_every_step(
    state: AccountState, trace: list[tuple[timedelta, Request]], mode: Mode
) -> None:
    for offset, request in trace:
        transition = apply(state, request, START + offset, mode)
        state = transition.state
        _check_invariants(state)
        o = transition.outcome
        assert o.requested == o.served + o.waived + o.rate_limited + o.blocked + o.queued
        assert o.served == o.from_rollover + o.from_grant + o.from_overage
        assert 0 <= o.from_reserve <= o.served


@given(state=accounts(), trace=requests(), mode=st.sampled_from(list(Mode)))
def test_refused_request_changes_nothing_and_evaluate_never_mutates(
    state: AccountState, trace: list[tuple[timedelta, Request]], mode: Mode
) -> None:
    for offset, request in trace:
        at = START + offset
        before = state.model_dump()
        predicted = evaluate(state, request, at, mode)
        assert state.model_dump() == before  # evaluate never mutates
        transition = apply(state, request, at, mode)
        assert transition.outcome == predicted
        if transition.outcome.status is Status.REFUSED:
            assert transition.state == advance(state, at)[0]
        state = transition.state


@given(state=accounts(), trace=requests())
def test_one_call_equals_hour_by_hour(
    state: AccountState, trace: list[tuple[timedelta, Request]]
) -> None:
    stepped = state
    for offset, request in trace:
        at = START + offset
        hour = at.replace(minute=0, second=0, microsecond=0)
        while stepped.hour < hour:  # close hour by hour
            stepped, events = advance(stepped, stepped.hour + timedelta(hours=1))
            assert len([e for e in events if type(e).__name__ == "HourClosed"]) == 1
        stepped = apply(stepped, request, at).state
        state = apply(state, request, at).state  # advances in one call
        assert stepped == state
    end = state.hour + timedelta(days=3)  # an idle tail, closed in one call or hour by hour
    one, _ = advance(state, end)
    while stepped.hour < end:
        stepped, _ = advance(stepped, stepped.hour + timedelta(hours=1))
    assert one == stepped


def test_out_of_order_event_is_an_error() -> None:
    import pytest

    from codex_credits import OutOfOrderEventError

    state = apply(open_account(CARD, "pro", 1, START), Request(amount=Decimal(1)), START).state
    state, _ = advance(state, START + timedelta(hours=2))
    with pytest.raises(OutOfOrderEventError):
        apply(state, Request(amount=Decimal(1)), START + timedelta(hours=1))


T0 = datetime(2026, 1, 1, tzinfo=UTC)


class LedgerMachine(RuleBasedStateMachine):
    """Grants, spends and period closes in any order keep the ledger's books balanced."""

    @initialize(cap=amounts(top=300), periods=st.integers(0, 3))
    def start(self, cap: Decimal, periods: int) -> None:
        self.ledger = Ledger()
        self.period = 0
        self.cap = cap
        self.rollover_periods = periods

    def _end(self, k: int) -> datetime:
        return T0 + timedelta(days=30 * (k + 1))

    @rule(amount=amounts(top=200))
    def grant_pool(self, amount: Decimal) -> None:
        self.ledger = grant(
            self.ledger, amount, at=self._end(self.period - 1), expires=self._end(self.period)
        )

    @rule(amount=amounts(top=200), overage=st.booleans())
    def spend_some(self, amount: Decimal, overage: bool) -> None:
        before = self.ledger
        result = spend(before, amount, at=self._end(self.period - 1), allow_overage=overage)
        if isinstance(result, Refusal):
            assert not overage
            assert amount > before.balance
            return
        self.ledger, split = result
        assert split.from_rollover + split.from_grant + split.overage == amount
        if split.overage:
            assert self.ledger.balance == 0
        # rollover is spent before any grant
        if split.from_grant:
            assert self.ledger.rollover_balance == 0

    @precondition(lambda self: hasattr(self, "ledger"))
    @rule()
    def close(self) -> None:
        expiry = self._end(self.period + self.rollover_periods) if self.rollover_periods else None
        self.ledger, closing = close_period(
            self.ledger, at=self._end(self.period), rollover_expires=expiry, rollover_cap=self.cap
        )
        assert closing.expired >= 0
        assert self.ledger.rollover_balance <= max(self.cap, Decimal(0)) or closing.rolled_over == 0
        self.period += 1

    @invariant()
    def books_balance(self) -> None:
        if hasattr(self, "ledger"):
            ledger = self.ledger
            assert ledger.granted == ledger.spent + ledger.expired + ledger.balance
            assert ledger.balance >= 0
            assert len(ledger.entries()) >= len(ledger.blocks)


TestLedgerMachine = LedgerMachine.TestCase


def test_entry_log_is_exportable() -> None:
    ledger = grant(Ledger(), Decimal(10), at=T0, expires=T0 + timedelta(days=30))
    ledger, _ = spend(ledger, Decimal(4), at=T0, allow_overage=False)  # type: ignore[misc]
    kinds = [e.kind.value for e in ledger.entries()]
    assert kinds == ["grant", "spend"]
    assert [e.model_dump(mode="json")["amount"] for e in ledger.entries()] == ["10", "4"]
