"""Invariants of hierarchical and periodic budgets (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import (
    Budget,
    BudgetWindow,
    Control,
    RateCard,
    Request,
    UsageEvent,
    UsageLog,
    advance,
    apply,
    budget_mask,
    budget_windows,
    open_account,
)
from codex_credits.core.timeutil import epoch_us

START = datetime(2026, 1, 31, tzinfo=UTC)
USERS = ("alice", "bob", "carol", None)
SESSIONS = ("o1", "o2", "s1", "s2", None)
WINDOWS = (
    BudgetWindow(),
    BudgetWindow(every="day"),
    BudgetWindow(every="week"),
    BudgetWindow(every="sprint", days=3, start=datetime(2026, 2, 1, 5, tzinfo=UTC)),
    BudgetWindow(every="month", start=datetime(2026, 1, 31, tzinfo=UTC)),
)


@st.composite
def budgets(draw: st.DrawFn) -> list[Budget]:
    specs = [
        ("organisation", "acme", ()),
        ("team", "web", ("alice", "bob")),
        ("user", "alice", ()),
        ("pool", "o1", ("s1",)),
        ("session", "s2", ()),
        ("key", "k1", ()),
    ]
    chosen = draw(st.lists(st.sampled_from(specs), min_size=1, max_size=6, unique=True))
    return [
        Budget(
            name=f"{scope}:{value}",
            scope=scope,
            value=value,
            members=members,
            amount=Decimal(draw(st.integers(0, 80))),
            control=draw(st.sampled_from([Control.HARD_STOP, Control.SOFT_LIMIT])),
            window=draw(st.sampled_from(WINDOWS)),
        )
        for scope, value, members in chosen
    ]


@st.composite
def requests(draw: st.DrawFn) -> list[tuple[datetime, Request]]:
    hours = sorted(draw(st.lists(st.integers(0, 24 * 40), min_size=1, max_size=25)))
    out = []
    for hour in hours:
        session = draw(st.sampled_from(SESSIONS))
        out.append(
            (
                START + timedelta(hours=hour, minutes=draw(st.integers(0, 59))),
                Request(
                    amount=Decimal(draw(st.integers(0, 30_000_000))).scaleb(-6),
                    user_id=draw(st.sampled_from(USERS)),
                    session_id=session,
                    parent_session_id=draw(st.sampled_from(SESSIONS)) if session else None,
                    key_id=draw(st.sampled_from(("k1", "k2", None))),
                ),
            )
        )
    return sorted(out, key=lambda pair: pair[0])


@given(budgets(), requests())
def test_spend_is_counted_at_every_level_per_window_and_hard_stops_hold(
    tree: list[Budget], trace: list[tuple[datetime, Request]]
) -> None:
    state = open_account(RateCard.resolve(None), "pro", 2, START, budgets=tree)
    served: list[tuple[datetime, Request, Decimal]] = []
    for when, request in trace:
        transition = apply(state, request, when)
        if transition.outcome.served == 0:
            # a refused request changes nothing but the passing of time
            assert transition.state == advance(state, when)[0]
        served.append((when, request, transition.outcome.served))
        state = transition.state
        for budget_state in state.budgets:
            if budget_state.budget.control is Control.HARD_STOP:
                assert budget_state.spend <= budget_state.limit
    for budget_state in state.budgets:
        budget = budget_state.budget
        expected = sum(
            (
                amount
                for when, request, amount in served
                if budget.matches(request) and _same_window(budget, when, state)
            ),
            Decimal(0),
        )
        assert budget_state.spend == expected, budget.name


def _same_window(budget: Budget, when: datetime, state: object) -> bool:
    from codex_credits import AccountState

    assert isinstance(state, AccountState)
    if budget.window.billing:
        return when >= state.period.start
    return budget.window.index(when) == budget.window.index(state.hour)


@given(budgets(), requests())
def test_the_array_form_agrees_with_the_state_machine(
    tree: list[Budget], trace: list[tuple[datetime, Request]]
) -> None:
    events = [
        UsageEvent(
            timestamp=when,
            ccu=request.amount,
            user_id=request.user_id,
            session_id=request.session_id,
            parent_session_id=request.parent_session_id,
        )
        for when, request in trace
    ]
    log = UsageLog.from_events(events)
    ts = log.timestamps_us
    for budget in tree:
        mask = budget_mask(log, budget)
        windows = budget_windows(budget, ts, START)
        for i, event in enumerate(log):
            request = Request(
                amount=Decimal(0),
                user_id=event.user_id,
                session_id=event.session_id,
                parent_session_id=event.parent_session_id,
            )
            assert bool(mask[i]) == budget.matches(request)
            if budget.window.billing:
                from codex_credits.core.periods import period_containing

                assert windows[i] == period_containing(START, event.timestamp).index
            else:
                assert windows[i] == budget.window.index(event.timestamp)
        assert np.array_equal(ts, [epoch_us(e.timestamp) for e in log])
