"""Hand-computed cases for budget windows, their array form and the statement per node
(core/budgetwindow.py, core/budgetmask.py, core/budgetreport.py), written to kill the
mutants that survived (tools/mutation.py).

Day windows count from 1970-01-01: 2026-01-01 is day 56 x 365 + 14 leap days = 20454.
"""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest

from codex_credits import (
    Budget,
    BudgetWindow,
    Control,
    RateCard,
    Request,
    UsageEvent,
    UsageLog,
    apply,
    budget_mask,
    budget_statement,
    budget_windows,
    node_spend,
    open_account,
)
from codex_credits.core import budgetwindow
from codex_credits.core.budgets import BudgetState
from codex_credits.core.timeutil import epoch_us

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
DAY_1 = 20454  # 2026-01-01


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_the_module_example_holds() -> None:
    assert doctest.testmod(budgetwindow).failed == 0


def test_fixed_windows_have_their_origin_length_and_bounds() -> None:
    day = BudgetWindow(every="day")
    assert (day.billing, day.origin, day.length) == (False, EPOCH, timedelta(days=1))
    assert day.index(at(1, 2, 9)) == DAY_1 + 1
    assert day.bounds(DAY_1 + 1) == (at(1, 2), at(1, 3))
    # weeks from Monday 1970-01-05: 2026-01-05 (a Monday) is 20454 days later = 2922 weeks
    week = BudgetWindow(every="week")
    assert (week.origin, week.length) == (datetime(1970, 1, 5, tzinfo=UTC), timedelta(days=7))
    assert week.index(at(1, 5)) == 2922
    assert week.index(at(1, 4, 23)) == 2921
    assert week.bounds(2922) == (at(1, 5), at(1, 12))
    sprint = BudgetWindow(every="sprint", days=14, start=at(1, 5))
    assert (sprint.origin, sprint.length) == (at(1, 5), timedelta(days=14))
    assert sprint.bounds(-1) == (datetime(2025, 12, 22, tzinfo=UTC), at(1, 5))


def test_month_and_billing_windows() -> None:
    # months from 1970-01: March 2026 is 56 x 12 + 2 = 674 months later
    month = BudgetWindow(every="month")
    assert (month.origin, month.length) == (EPOCH, None)
    assert month.index(at(3, 15, 7)) == 674
    assert month.bounds(674) == (at(3, 1), at(4, 1))
    billing = BudgetWindow()
    assert (billing.billing, billing.length) == (True, None)
    with pytest.raises(ValueError, match="no origin of its own"):
        _ = billing.origin
    with pytest.raises(ValueError, match="sprint window needs days and start"):
        BudgetWindow(every="sprint", days=14)
    with pytest.raises(ValueError, match="sprint window needs days and start"):
        BudgetWindow(every="sprint", start=at(1, 5))
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        BudgetWindow(every="sprint", days=0, start=at(1, 5))
    with pytest.raises(ValueError, match="days applies only to sprint windows, not week"):
        BudgetWindow(every="week", days=7)
    with pytest.raises(ValueError, match="days applies only to sprint"):
        BudgetWindow(every="day", days=3)
    with pytest.raises(ValueError, match="drop start"):
        BudgetWindow(start=at(1, 1))


# e0 alice in session o1; e1 bob in sub-agent s1 of o1; e2 carol alone, the next day
EVENTS = [
    UsageEvent(timestamp=at(1, 2, 9), ccu=D(6), user_id="alice", session_id="o1"),
    UsageEvent(
        timestamp=at(1, 2, 10), ccu=D(2), user_id="bob", session_id="s1", parent_session_id="o1"
    ),
    UsageEvent(timestamp=at(1, 3, 9), ccu=D(3), user_id="carol", session_id="x"),
]


def node(name: str, scope: str, value: str = "v", **fields: object) -> Budget:
    return Budget(name=name, scope=scope, value=value, amount=D(10), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (node("org", "organisation"), [True, True, True]),
        (node("key", "key", "k1"), [False, False, False]),
        (node("team", "team", members=("alice", "bob")), [True, True, False]),
        (node("nobody", "team", members=("zed",)), [False, False, False]),
        (node("pool", "pool", "o1"), [True, True, False]),
        (node("pool2", "pool", "zz", members=("x",)), [False, False, True]),
        (node("alice", "user", "alice"), [True, False, False]),
        (node("ghost", "user", "ghost"), [False, False, False]),
    ],
)
def test_masks_are_boolean_per_event(budget: Budget, expected: list[bool]) -> None:
    mask = budget_mask(UsageLog.from_events(EVENTS), budget)
    assert mask.dtype == np.bool_
    assert mask.tolist() == expected


def test_window_indexes_are_integers_from_the_budgets_own_origin() -> None:
    stamps = [at(1, 10), at(1, 20), at(2, 14, 23), at(2, 15)]
    ts = np.asarray([epoch_us(t) for t in stamps], dtype=np.int64)
    daily = node("d", "user", window=BudgetWindow(every="day"))
    days = budget_windows(daily, ts, JAN_1)
    assert days.dtype == np.int64
    assert days.tolist() == [DAY_1 + 9, DAY_1 + 19, DAY_1 + 44, DAY_1 + 45]
    # months from the 15th: Jan 10 is in window -1, Jan 20 and Feb 14 23:00 in 0, Feb 15 in 1;
    # billing periods from the anchor (Jan 1): 0, 0, 1, 1
    monthly = node("m", "user", window=BudgetWindow(every="month", start=at(1, 15)))
    months = budget_windows(monthly, ts, JAN_1)
    assert months.dtype == np.int64
    assert months.tolist() == [-1, 0, 0, 1]
    assert budget_windows(node("b", "user"), ts, JAN_1).tolist() == [0, 0, 1, 1]
    empty = budget_windows(monthly, np.asarray([], dtype=np.int64), JAN_1)
    assert (empty.dtype, empty.tolist()) == (np.int64, [])


def test_node_spend_counts_only_what_was_served() -> None:
    # served per event (micro-CCU): alice 6 CCU, bob refused (0), carol 1 micro-CCU.
    # org per day: day 2 = 6, day 3 = 0.000001; bob's only window served nothing: no entry
    served = np.asarray([6_000_000, 0, 1], dtype=np.int64)
    org = node("org", "organisation", window=BudgetWindow(every="day"))
    bob = node("bob", "user", "bob", window=BudgetWindow(every="day"))
    spend = node_spend(UsageLog.from_events(EVENTS), served, [org, bob], JAN_1)
    assert spend == {"org": {DAY_1 + 1: D(6), DAY_1 + 2: D("0.000001")}, "bob": {}}


def test_statements_name_each_nodes_own_window() -> None:
    # 4 CCU by u on Jan 2 09:00: the day budget's window is Jan 2, the billing one January
    day = Budget(
        name="d",
        scope="user",
        value="u",
        amount=D(10),
        control=Control.HARD_STOP,
        window=BudgetWindow(every="day"),
    )
    month = Budget(name="m", scope="user", value="u", amount=D(50))
    state = open_account(RateCard.resolve(None), "pro", 1, JAN_1, budgets=[day, month])
    state = apply(state, Request(amount=D(4), user_id="u"), at(1, 2, 9)).state
    rows = budget_statement(state)
    assert [(r.name, r.window_start, r.window_end, r.spend, r.limit, r.room) for r in rows] == [
        ("d", at(1, 2), at(1, 3), D(4), D(10), D(6)),
        ("m", JAN_1, at(2, 1), D(4), D(50), D(46)),
    ]
    # a windowed budget not yet rolled (window None) reports the billing period
    fresh = state.with_budgets((BudgetState(budget=day), BudgetState(budget=month)))
    assert [(r.window_start, r.window_end, r.spend) for r in budget_statement(fresh)] == [
        (JAN_1, at(2, 1), D(0)),
        (JAN_1, at(2, 1), D(0)),
    ]
