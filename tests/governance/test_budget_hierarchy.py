"""Hierarchical and periodic budgets in the state machine: golden, hand-computed scenarios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from codex_credits import (
    Budget,
    BudgetWindow,
    Control,
    Override,
    RateCard,
    Reason,
    Request,
    UsageEvent,
    UsageLog,
    apply,
    apply_override,
    budget_statement,
    node_spend,
    open_account,
    simulate,
)
from codex_credits.errors import ConfigError

D = Decimal
START = datetime(2026, 1, 1, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


def tree() -> list[Budget]:
    """Leaf first: on a tie (request mode, every refusing budget lets 0 through) the
    first listed names the refusal, so the narrowest node is named."""
    hard = Control.HARD_STOP
    nodes = [
        Budget(name="org", scope="organisation", value="acme", amount=D(100), control=hard),
        Budget(
            name="team:web",
            scope="team",
            value="web",
            members=("alice", "bob"),
            amount=D(60),
            control=hard,
            parent="org",
        ),
        Budget(
            name="user:alice",
            scope="user",
            value="alice",
            amount=D(40),
            control=hard,
            parent="team:web",
        ),
        Budget(
            name="pool:o1",
            scope="pool",
            value="o1",
            amount=D(25),
            control=hard,
            parent="user:alice",
        ),
    ]
    return nodes[::-1]


# (hour, user, session, parent session, amount, served, refusing budget)
HIERARCHY = [
    (9, "alice", "o1", None, "10", "10", None),
    (10, "alice", "s1", "o1", "10", "10", None),
    (11, "alice", "s2", "o1", "10", "0", "pool:o1"),
    (11, "alice", "s2", "o1", "5", "5", None),
    (12, "alice", "x", None, "15", "15", None),
    (13, "bob", None, None, "25", "0", "team:web"),
    (13, "bob", None, None, "20", "20", None),
    (14, "carol", None, None, "50", "0", "org"),
    (14, "carol", None, None, "40", "40", None),
    (15, "alice", "o1", None, "1", "0", "pool:o1"),
]


def test_hierarchy_counts_spend_at_every_level_and_the_tightest_node_refuses() -> None:
    state = open_account(RateCard.resolve(None), "pro", 1, START, budgets=tree())
    for hour, user, session, parent, amount, served, refusing in HIERARCHY:
        request = Request(
            amount=D(amount), user_id=user, session_id=session, parent_session_id=parent
        )
        before = state
        transition = apply(state, request, at(2, hour))
        outcome = transition.outcome
        assert outcome.served == D(served), (hour, user, amount)
        assert outcome.budget == refusing
        if refusing:
            assert outcome.reason is Reason.BUDGET_HARD_STOP
            assert outcome.blocked == D(amount)
            assert transition.state.budgets == before.budgets
        state = transition.state
    spend = {s.budget.name: s.spend for s in state.budgets}
    # hand-computed: org 10+10+5+15+20+40, team (alice+bob) 60, alice 40, pool 25
    assert spend == {"org": D(100), "team:web": D(60), "user:alice": D(40), "pool:o1": D(25)}


def test_sub_agents_stop_when_the_shared_pool_is_spent_in_a_simulation() -> None:
    pool = Budget(name="pool", scope="pool", value="orc", amount=D(30), control=Control.HARD_STOP)
    events = [
        UsageEvent(timestamp=at(2, 9), ccu=D(8), session_id="orc"),
        UsageEvent(timestamp=at(2, 10), ccu=D(10), session_id="sub1", parent_session_id="orc"),
        UsageEvent(timestamp=at(2, 11), ccu=D(10), session_id="sub2", parent_session_id="orc"),
        UsageEvent(timestamp=at(2, 12), ccu=D(10), session_id="sub1", parent_session_id="orc"),
        UsageEvent(timestamp=at(2, 13), ccu=D(2), session_id="sub2", parent_session_id="orc"),
        UsageEvent(timestamp=at(2, 14), ccu=D(7), session_id="other"),
    ]
    result = simulate(events, "pro", start=START, budgets=[pool])
    served = [o for o in result.outcomes.served.tolist()]
    blocked = result.outcomes.blocked.tolist()
    # 8 + 10 + 10 = 28; the fourth (10) would pass 30 and is blocked; the fifth (2) fits
    assert served == [8_000_000, 10_000_000, 10_000_000, 0, 2_000_000, 7_000_000]
    assert blocked == [0, 0, 0, 10_000_000, 0, 0]
    reference = simulate(events, "pro", start=START, budgets=[pool], engine="reference")
    assert reference.outcomes.served.tolist() == served


def test_a_day_window_resets_at_midnight_and_alerts_name_the_window() -> None:
    daily = Budget(
        name="key:k1",
        scope="key",
        value="k1",
        amount=D(10),
        control=Control.HARD_STOP,
        window=BudgetWindow(every="day"),
        alert_at=(D("0.5"),),
    )
    state = open_account(RateCard.resolve(None), "pro", 1, START, budgets=[daily])
    steps = [
        (at(2, 9), "6", "6"),
        (at(2, 10), "5", "0"),
        (at(2, 11), "4", "4"),
        (at(2, 23), "1", "0"),
        (at(3, 0), "10", "10"),
    ]
    alerts = []
    for when, amount, served in steps:
        transition = apply(state, Request(amount=D(amount), key_id="k1"), when)
        assert transition.outcome.served == D(served), when
        alerts.extend(transition.outcome.alerts)
        state = transition.state
    assert [(a.period_start, a.spend) for a in alerts] == [(at(2, 0), D(6)), (at(3, 0), D(10))]
    (budget,) = state.budgets
    assert budget.spend == D(10)
    assert budget.window == (at(3, 0) - datetime(1970, 1, 1, tzinfo=UTC)).days


def test_a_sprint_window_and_a_month_window() -> None:
    sprint = BudgetWindow(every="sprint", days=14, start=datetime(2026, 1, 5, tzinfo=UTC))
    assert sprint.index(datetime(2026, 1, 18, 23, tzinfo=UTC)) == 0
    assert sprint.index(datetime(2026, 1, 19, tzinfo=UTC)) == 1
    assert sprint.index(datetime(2026, 1, 4, 23, tzinfo=UTC)) == -1
    month = BudgetWindow(every="month", start=datetime(2026, 1, 31, tzinfo=UTC))
    assert month.bounds(1) == (
        datetime(2026, 2, 28, tzinfo=UTC),
        datetime(2026, 3, 31, tzinfo=UTC),
    )
    week = BudgetWindow(every="week")
    monday = datetime(2026, 1, 5, tzinfo=UTC)
    assert (
        week.index(monday)
        == week.index(monday + timedelta(days=6, hours=23))
        == (week.index(monday - timedelta(hours=1)) + 1)
    )
    feature = Budget(
        name="sprint:search",
        scope="feature",
        value="search",
        amount=D(20),
        control=Control.HARD_STOP,
        window=sprint,
    )
    state = open_account(RateCard.resolve(None), "pro", 1, START, budgets=[feature])
    for when, amount, served in [
        (datetime(2026, 1, 10, tzinfo=UTC), "15", "15"),
        (datetime(2026, 1, 18, 23, tzinfo=UTC), "6", "0"),
        (datetime(2026, 1, 19, tzinfo=UTC), "20", "20"),
    ]:
        transition = apply(state, Request(amount=D(amount), feature="search"), when)
        assert transition.outcome.served == D(served)
        state = transition.state


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        (
            [Budget(name="a", scope="user", value="u", amount=D(1), parent="nobody")],
            "parent 'nobody' is not a budget",
        ),
        (
            [
                Budget(name="a", scope="user", value="u", amount=D(1), parent="b"),
                Budget(name="b", scope="user", value="v", amount=D(1), parent="a"),
            ],
            "cycle",
        ),
        (
            [
                Budget(name="a", scope="user", value="u", amount=D(1)),
                Budget(name="a", scope="user", value="v", amount=D(1)),
            ],
            "repeated: 'a'",
        ),
    ],
)
def test_a_hierarchy_that_refers_to_nothing_is_an_error(
    budgets: list[Budget], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        open_account(RateCard.resolve(None), "pro", 1, START, budgets=budgets)


def test_window_and_scope_validation_name_the_field() -> None:
    with pytest.raises(ValueError, match="sprint window needs days and start"):
        BudgetWindow(every="sprint")
    with pytest.raises(ValueError, match="must fall on a whole UTC hour"):
        BudgetWindow(every="day", start=datetime(2026, 1, 1, 0, 30, tzinfo=UTC))
    with pytest.raises(ValueError, match="members apply only to team and pool"):
        Budget(name="x", scope="user", value="u", amount=D(1), members=("a",))


def test_a_queue_budget_with_its_own_window_is_refused_by_simulate() -> None:
    budget = Budget(
        name="q",
        scope="user",
        value="u",
        amount=D(1),
        control=Control.QUEUE,
        window=BudgetWindow(every="day"),
    )
    with pytest.raises(ConfigError, match="queued work"):
        simulate([], "pro", start=START, budgets=[budget])


def test_statements_report_spend_per_node() -> None:
    state = open_account(RateCard.resolve(None), "pro", 1, START, budgets=tree())
    for hour, user, session, parent, amount, _, _ in HIERARCHY:
        request = Request(
            amount=D(amount), user_id=user, session_id=session, parent_session_id=parent
        )
        state = apply(state, request, at(2, hour)).state
    rows = {r.name: r for r in budget_statement(state)}
    assert {name: (r.spend, r.room, r.parent) for name, r in rows.items()} == {
        "pool:o1": (D(25), D(0), "user:alice"),
        "user:alice": (D(40), D(0), "team:web"),
        "team:web": (D(60), D(0), "org"),
        "org": (D(100), D(0), None),
    }
    assert rows["org"].window_start == START


def test_node_spend_of_a_simulation_per_window() -> None:
    daily = Budget(
        name="alice-daily",
        scope="user",
        value="alice",
        amount=D(10),
        control=Control.HARD_STOP,
        window=BudgetWindow(every="day"),
    )
    team = Budget(name="team", scope="team", value="web", members=("alice", "bob"), amount=D(1000))
    events = [
        UsageEvent(timestamp=at(2, 9), ccu=D(6), user_id="alice"),
        UsageEvent(timestamp=at(2, 10), ccu=D(6), user_id="alice"),  # refused: 12 > 10
        UsageEvent(timestamp=at(2, 11), ccu=D(3), user_id="bob"),
        UsageEvent(timestamp=at(3, 9), ccu=D(6), user_id="alice"),  # a new day
    ]
    result = simulate(events, "pro", start=START, budgets=[daily, team])
    log = UsageLog.from_events(events)
    spend = node_spend(log, result.outcomes.served, [daily, team], START)
    first_day = (at(2, 0) - datetime(1970, 1, 1, tzinfo=UTC)).days
    assert spend == {
        "alice-daily": {first_day: D(6), first_day + 1: D(6)},
        "team": {0: D(15)},
    }


def test_an_override_raises_a_windowed_budget_until_its_window_ends() -> None:
    daily = Budget(
        name="d",
        scope="user",
        value="u",
        amount=D(10),
        control=Control.HARD_STOP,
        window=BudgetWindow(every="day"),
    )
    state = open_account(RateCard.resolve(None), "pro", 1, START, budgets=[daily])
    state = apply(state, Request(amount=D(10), user_id="u"), at(2, 9)).state
    assert apply(state, Request(amount=D(5), user_id="u"), at(2, 10)).outcome.served == 0
    state, _ = apply_override(state, Override(budget="d", at=at(2, 10), amount=D(5)))
    transition = apply(state, Request(amount=D(5), user_id="u"), at(2, 10))
    assert transition.outcome.served == D(5)
    (budget,) = transition.state.budgets
    assert (budget.spend, budget.limit) == (D(15), D(15))
    # the next day the raise is gone with the spend: 10 again
    transition = apply(transition.state, Request(amount=D(11), user_id="u"), at(3, 9))
    assert transition.outcome.served == 0
    (budget,) = transition.state.budgets
    assert (budget.spend, budget.limit) == (D(0), D(10))
