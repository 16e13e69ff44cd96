"""Hand-computed cases for the budget rules (core/budgets.py), each boundary on both
sides, written to kill the mutants that survived (tools/mutation.py)."""

from __future__ import annotations

import doctest
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from codex_credits import RateCard, advance, open_account
from codex_credits.core import budgets as budgets_module
from codex_credits.core.budgets import (
    Budget,
    BudgetState,
    BudgetVerdict,
    Control,
    Override,
    check_budgets,
    check_hierarchy,
    evaluate_budget,
    raise_budget,
    record_spend,
    reset_budgets,
    roll_budgets,
)
from codex_credits.core.budgetwindow import BudgetWindow
from codex_credits.core.events import BudgetAlert, Mode, Request
from codex_credits.errors import ConfigError

AT = datetime(2026, 6, 3, 10, tzinfo=UTC)
START = datetime(2026, 6, 1, tzinfo=UTC)


def budget(control: Control, amount: int = 10, **fields: object) -> Budget:
    values: dict[str, object] = {"name": "web", "scope": "project", "value": "web"}
    values.update(fields)
    return Budget(amount=D(amount), control=control, **values)  # type: ignore[arg-type]


def web(amount: str, sandbox: str = "0", **labels: str) -> Request:
    labels.setdefault("project_id", "web")
    return Request(amount=D(amount), sandbox_ccu=D(sandbox), **labels)


def test_scopes_and_their_spellings() -> None:
    for spelling, label in [
        ("project", "project_id"),
        ("project_id", "project_id"),
        ("user", "user_id"),
        ("user_id", "user_id"),
        ("task_type", "task_type"),
        ("feature", "feature"),
        ("session", "session_id"),
        ("session_id", "session_id"),
        ("key", "key_id"),
        ("key_id", "key_id"),
        ("team", "team"),
        ("organisation", "organisation"),
        ("organization", "organisation"),
        ("org", "organisation"),
        ("pool", "pool"),
    ]:
        assert budget(Control.QUEUE, scope=spelling).scope == label
    with pytest.raises(ValidationError, match="scope must be one of"):
        budget(Control.QUEUE, scope="moon")
    with pytest.raises(ValidationError, match="scope must be one of"):
        budget(Control.QUEUE, scope=5)


def test_alert_fractions_are_positive_sorted_and_unique() -> None:
    assert budget(Control.SOFT_LIMIT).alert_at == (D(1),)
    made = budget(Control.SOFT_LIMIT, alert_at=(D("0.9"), D("0.5"), D("0.9")))
    assert made.alert_at == (D("0.5"), D("0.9"))
    # a set of these iterates 0.5, 0.75, 0.25, 1, 0.9: sorting is not an accident
    many = budget(Control.SOFT_LIMIT, alert_at=(D("0.9"), D("0.5"), D("0.75"), D("0.25"), D(1)))
    assert many.alert_at == (D("0.25"), D("0.5"), D("0.75"), D("0.9"), D(1))
    # one request crossing every fraction (10 of 10) raises the alerts lowest first
    _, alerts = record_spend(
        (BudgetState(budget=many),), web("10"), D(10), at=AT, period_start=START
    )
    assert [a.threshold for a in alerts] == list(many.alert_at)
    with pytest.raises(ValidationError, match="must be > 0, got 0"):
        budget(Control.SOFT_LIMIT, alert_at=(D(0),))
    assert budget(Control.SOFT_LIMIT, alert_at=(D("0.000001"),)).alert_at == (D("0.000001"),)
    assert budget(Control.SOFT_LIMIT).control is Control.SOFT_LIMIT
    assert Budget(name="b", scope="user", value="x", amount=D(1)).control is Control.SOFT_LIMIT


def test_matches_reads_the_scope_label() -> None:
    b = budget(Control.QUEUE, scope="user", value="ann")
    assert b.matches(web("1", user_id="ann"))
    assert not b.matches(web("1", user_id="bo"))
    assert not b.matches(Request(amount=D(1)))


def test_limit_and_room() -> None:
    state = BudgetState(budget=budget(Control.HARD_STOP), spend=D(4), extra=D(3))
    assert state.limit == D(13)
    assert state.room == D(9)
    assert BudgetState(budget=budget(Control.HARD_STOP), spend=D(15)).room == 0


@pytest.mark.parametrize("control", [Control.HARD_STOP, Control.QUEUE])
def test_evaluate_a_binding_budget(control: Control) -> None:
    state = BudgetState(budget=budget(control), spend=D(6))
    assert evaluate_budget(state, web("4"), Mode.REQUEST) == D(4)  # exactly the room
    assert evaluate_budget(state, web("4.000001"), Mode.REQUEST) == 0
    assert evaluate_budget(state, web("5"), Mode.FLUID) == D(4)
    assert evaluate_budget(state, web("5", project_id="api"), Mode.REQUEST) is None


@pytest.mark.parametrize("control", [Control.SOFT_LIMIT, Control.DEGRADED])
def test_soft_and_degraded_budgets_never_bind(control: Control) -> None:
    state = BudgetState(budget=budget(control), spend=D(100))
    assert evaluate_budget(state, web("5"), Mode.REQUEST) is None


def test_check_picks_the_budget_with_least_room_first_listed_on_a_tie() -> None:
    a = BudgetState(budget=budget(Control.HARD_STOP, 10, name="a"), spend=D(7))
    b = BudgetState(budget=budget(Control.QUEUE, 10, name="b"), spend=D(8))
    c = BudgetState(budget=budget(Control.QUEUE, 10, name="c"), spend=D(8))
    verdict = check_budgets((a, b, c), web("5"), Mode.FLUID)
    assert verdict == BudgetVerdict(amount=D(5), fit=D(2), budget="b", control=Control.QUEUE)
    verdict = check_budgets((a, b, c), web("2"), Mode.REQUEST)
    assert verdict == BudgetVerdict(amount=D(2), fit=D(2))  # fits everywhere: nothing binds
    verdict = check_budgets((a, b), web("3"), Mode.REQUEST)
    assert verdict == BudgetVerdict(amount=D(3), fit=D(0), budget="b", control=Control.QUEUE)


def test_a_degraded_budget_waives_the_sandbox_part_once() -> None:
    d1 = BudgetState(budget=budget(Control.DEGRADED, 10, name="d1"), spend=D(8))
    d2 = BudgetState(budget=budget(Control.DEGRADED, 10, name="d2"), spend=D(9))
    hard = BudgetState(budget=budget(Control.HARD_STOP, 20, name="h"), spend=D(17))
    verdict = check_budgets((d1, d2, hard), web("5", sandbox="2", user_id="u"), Mode.REQUEST)
    assert verdict == BudgetVerdict(amount=D(3), waived=D(2), fit=D(3), degraded_by="d1")
    verdict = check_budgets((d1, hard), web("6", sandbox="2"), Mode.REQUEST)
    assert verdict == BudgetVerdict(
        amount=D(4), waived=D(2), fit=D(0), budget="h", control=Control.HARD_STOP, degraded_by="d1"
    )


def test_a_degraded_budget_acts_only_past_its_limit_and_in_scope() -> None:
    d = BudgetState(budget=budget(Control.DEGRADED, 10), spend=D(8))
    assert check_budgets((d,), web("2", sandbox="1"), Mode.REQUEST).waived == 0  # 8 + 2 == 10
    assert check_budgets((d,), web("2.000001", sandbox="1"), Mode.REQUEST).waived == D(1)
    other = web("5", sandbox="1", project_id="api")
    assert check_budgets((d,), other, Mode.REQUEST) == BudgetVerdict(amount=D(5), fit=D(5))
    soft = BudgetState(budget=budget(Control.SOFT_LIMIT, 1), spend=D(8))
    assert check_budgets((soft,), web("5", sandbox="1"), Mode.REQUEST).waived == 0


def test_the_waived_request_keeps_its_labels() -> None:
    d = BudgetState(budget=budget(Control.DEGRADED, 1, name="d"), spend=D(1))
    user = BudgetState(
        budget=budget(Control.HARD_STOP, 3, name="u", scope="user", value="ann"), spend=D(0)
    )
    task = BudgetState(
        budget=budget(Control.HARD_STOP, 3, name="t", scope="task_type", value="docs")
    )
    feat = BudgetState(budget=budget(Control.HARD_STOP, 3, name="f", scope="feature", value="x"))
    request = Request(
        amount=D(6),
        sandbox_ccu=D(2),
        project_id="web",
        user_id="ann",
        task_type="docs",
        feature="x",
    )
    for binding in (user, task, feat):
        verdict = check_budgets((d, binding), request, Mode.FLUID)
        assert (verdict.amount, verdict.fit, verdict.budget) == (D(4), D(3), binding.budget.name)


def test_record_spend_fires_each_alert_once_per_period() -> None:
    b = budget(Control.SOFT_LIMIT, 10, alert_at=(D("0.5"), D(1)))
    other = BudgetState(budget=budget(Control.SOFT_LIMIT, 10, name="api", value="api"))
    states = (BudgetState(budget=b, extra=D(2)), other)
    states, alerts = record_spend(states, web("5"), D("5.999999"), at=AT, period_start=START)
    assert alerts == ()  # 0.5 x 12 = 6
    assert states[0].spend == D("5.999999")
    assert states[1] is other
    states, alerts = record_spend(states, web("1"), D("0.000001"), at=AT, period_start=START)
    assert alerts == (
        BudgetAlert(
            budget="web", threshold=D("0.5"), at=AT, spend=D(6), amount=D(12), period_start=START
        ),
    )
    assert states[0].fired == (D("0.5"),)
    assert states[0].extra == D(2)
    states, alerts = record_spend(states, web("1"), D(1), at=AT, period_start=START)
    assert alerts == ()
    states, alerts = record_spend(states, web("9"), D(9), at=AT, period_start=START)
    assert [a.threshold for a in alerts] == [D(1)]
    assert states[0].fired == (D("0.5"), D(1))
    assert states[0].budget is b


def test_alert_thresholds_are_quantized() -> None:
    b = budget(Control.SOFT_LIMIT, 1, alert_at=(D("0.3333333"),))
    states = (BudgetState(budget=b),)
    _, alerts = record_spend(states, web("1"), D("0.333333"), at=AT, period_start=START)
    assert [a.threshold for a in alerts] == [D("0.3333333")]  # 0.3333333 -> 0.333333


def test_overrides_raise_only_the_named_budget() -> None:
    a = BudgetState(budget=budget(Control.QUEUE, 10, name="a"), spend=D(3), fired=(D(1),))
    b = BudgetState(budget=budget(Control.QUEUE, 10, name="b"))
    raised = raise_budget((a, b), Override(budget="a", at=AT, amount=D(5)))
    assert raised[0] == BudgetState(budget=a.budget, spend=D(3), extra=D(5), fired=(D(1),))
    assert raised[1] is b
    twice = raise_budget(raised, Override(budget="a", at=AT, amount=D(1)))
    assert twice[0].extra == D(6)
    assert raise_budget((a,), Override(budget="zzz", at=AT, amount=D(5))) == (a,)


def test_reset_forgets_spend_raises_and_alerts() -> None:
    a = BudgetState(budget=budget(Control.QUEUE), spend=D(3), extra=D(2), fired=(D(1),))
    assert reset_budgets((a,)) == (BudgetState(budget=a.budget),)


def test_record_spend_reaches_a_matching_budget_after_one_that_does_not_match() -> None:
    other = BudgetState(budget=budget(Control.SOFT_LIMIT, 10, name="api", value="api"))
    mine = BudgetState(budget=budget(Control.SOFT_LIMIT, 10))
    states, alerts = record_spend((other, mine), web("12"), D(12), at=AT, period_start=START)
    assert states == (other, BudgetState(budget=mine.budget, spend=D(12), fired=(D(1),)))
    assert [a.budget for a in alerts] == ["web"]


# Windows of their own. Day windows count from 1970-01-01: 2026-01-01 is day
# 56 x 365 + 14 leap days = 20454, so 2026-01-02 is day 20455.
DAY_2 = 20455
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def daily(name: str = "d", amount: int = 10, **fields: object) -> Budget:
    return budget(Control.HARD_STOP, amount, name=name, window=BudgetWindow(every="day"), **fields)


def test_the_module_example_holds() -> None:
    assert doctest.testmod(budgets_module).failed == 0


def test_a_new_billing_period_leaves_budgets_with_windows_of_their_own_alone() -> None:
    billing = BudgetState(budget=budget(Control.QUEUE), spend=D(3), extra=D(2))
    windowed = BudgetState(budget=daily(), spend=D(3), extra=D(2), fired=(D(1),), window=DAY_2)
    reset = reset_budgets((billing, windowed))
    assert reset == (BudgetState(budget=billing.budget), windowed)
    assert reset[1] is windowed


def test_rolling_within_a_window_returns_the_very_same_states() -> None:
    # advance() keeps the account state itself when nothing changed, so a roll
    # that changes nothing must hand back the same tuple, not an equal copy
    windowed = BudgetState(budget=daily(), spend=D(4), window=DAY_2)
    billing = BudgetState(budget=budget(Control.QUEUE), spend=D(1))
    states = (billing, windowed)
    assert roll_budgets(states, datetime(2026, 1, 2, 23, tzinfo=UTC)) is states
    assert roll_budgets((billing,), datetime(2026, 1, 9, tzinfo=UTC)) == (billing,)
    rolled = roll_budgets(states, datetime(2026, 1, 3, tzinfo=UTC))
    assert rolled == (billing, BudgetState(budget=windowed.budget, window=DAY_2 + 1))
    assert rolled[0] is billing
    state = open_account(RateCard.resolve(None), "pro", 1, JAN_1, budgets=[daily()])
    assert advance(state, state.as_of) == (state, ())
    assert advance(state, state.as_of)[0] is state


def test_an_alert_before_the_first_roll_names_the_billing_period() -> None:
    # a windowed budget not yet rolled (window None) has no window start of its
    # own: its alert carries the billing period's start; once rolled, the day's
    b = daily(alert_at=(D("0.5"),))
    _, alerts = record_spend((BudgetState(budget=b),), web("5"), D(5), at=AT, period_start=START)
    assert [(a.threshold, a.period_start) for a in alerts] == [(D("0.5"), START)]
    _, alerts = record_spend(
        (BudgetState(budget=b, window=DAY_2),), web("5"), D(5), at=AT, period_start=START
    )
    assert [a.period_start for a in alerts] == [datetime(2026, 1, 2, tzinfo=UTC)]


def _raised_within(seconds: float, call: Callable[[], None]) -> ConfigError:
    """The ConfigError ``call`` raises, failing (not hanging) if it never returns."""
    caught: list[ConfigError] = []

    def target() -> None:
        try:
            call()
        except ConfigError as exc:
            caught.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "check_hierarchy never left a cycle"
    assert len(caught) == 1
    return caught[0]


def test_a_chain_that_runs_into_a_cycle_is_reported_once_per_budget() -> None:
    # x -> nobody (unknown); a -> b -> c -> b: a enters the cycle b, c without
    # being on it; each budget's walk stops at the first name seen twice:
    # a: a, b, c, b (through b); b: b, c, b (through b); c: c, b, c (through c)
    nodes = [
        Budget(name="x", scope="user", value="x", amount=D(1), parent="nobody"),
        Budget(name="a", scope="user", value="a", amount=D(1), parent="b"),
        Budget(name="b", scope="user", value="b", amount=D(1), parent="c"),
        Budget(name="c", scope="user", value="c", amount=D(1), parent="b"),
    ]
    error = _raised_within(5.0, lambda: check_hierarchy(nodes))
    problems = (
        "budget 'x': parent 'nobody' is not a budget",
        "budget 'a': its parents form a cycle through 'b'",
        "budget 'b': its parents form a cycle through 'b'",
        "budget 'c': its parents form a cycle through 'c'",
    )
    assert error.problems == problems
    assert str(error) == "; ".join(problems)
    check_hierarchy([nodes[1], Budget(name="b", scope="user", value="b", amount=D(1))])


def test_members_and_parents_are_checked_when_a_budget_is_built() -> None:
    assert budget(Control.QUEUE, scope="team", members=("ann",)).members == ("ann",)
    assert budget(Control.QUEUE, scope="pool", members=("s1",)).members == ("s1",)
    with pytest.raises(
        ValidationError, match="members apply only to team and pool budgets, not session_id"
    ):
        budget(Control.QUEUE, scope="session", members=("s1",))
    with pytest.raises(ValidationError, match="'web' cannot be its own parent"):
        budget(Control.QUEUE, parent="web")
    assert budget(Control.QUEUE, parent="org").parent == "org"
