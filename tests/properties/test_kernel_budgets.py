"""The kernel equals the state machine with budget hierarchies and windows of their own.

Random budgets on every scope (project, user, team, organisation, pool, session,
key), chained by ``parent``, counting per billing period or per day, week, sprint or
month (with random origins), every control and alert fractions, with overrides; on
bursty and on saturated traces, in request and fluid mode, deferring and dropping.
``simulate`` (the kernel) must equal ``simulate(engine="reference")`` (the state
machine): statements, timeline, per-event outcomes, alerts and the final state,
including the budget states carried into the next period.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits import (
    Budget,
    BudgetState,
    BudgetWindow,
    Control,
    PeriodStatement,
    RateCard,
    UsageEvent,
    UsageLog,
    simulate,
    simulate_many,
)
from codex_credits.core.account import open_account
from codex_credits.core.compare import compare_prepared, tier_candidates
from codex_credits.core.kernel.budgets import budget_windows
from codex_credits.core.periods import period_containing
from codex_credits.core.simulate import prepare
from codex_credits.core.statement import EPOCH
from tests.properties.strategies import PROJECTS, START, TIERS, amounts, meter_sets, override_sets
from tests.properties.test_simulate_properties import _assert_equal

USERS = ("u1", "u2", "u3")
SESSIONS = ("s1", "s2", "s3", None)


@st.composite
def windows(draw: st.DrawFn) -> BudgetWindow:
    """The billing period, or a day, week, sprint or month with a random origin."""
    every = draw(st.sampled_from(["billing", "day", "week", "sprint", "month"]))
    if every == "billing":
        return BudgetWindow()
    offset = START + timedelta(hours=draw(st.integers(-24 * 40, 24 * 40)))
    if every == "sprint":
        return BudgetWindow(every="sprint", days=draw(st.integers(1, 15)), start=offset)
    if draw(st.booleans()):
        return BudgetWindow(every=every)
    return BudgetWindow(every=every, start=offset)


@st.composite
def scoped(draw: st.DrawFn) -> dict[str, Any]:
    """A scope, value and members for one budget."""
    scope = draw(st.sampled_from(["project", "user", "team", "organisation", "pool", "session"]))
    scope = draw(st.sampled_from([scope, scope, "key"]))  # keys scope nothing in a log
    if scope == "team":
        members = draw(st.lists(st.sampled_from(USERS), min_size=1, max_size=2, unique=True))
        return {"scope": scope, "value": "t", "members": tuple(members)}
    if scope == "pool":
        others = draw(st.lists(st.sampled_from(SESSIONS[1:3]), max_size=2, unique=True))
        return {"scope": scope, "value": "s1", "members": tuple(others)}
    values = {"project": PROJECTS, "user": USERS, "session": SESSIONS[:3], "key": ("k1",)}
    return {"scope": scope, "value": draw(st.sampled_from(values.get(scope, ("org",))))}


@st.composite
def extended_budgets(draw: st.DrawFn, top: int = 200) -> list[Budget]:
    """One to four budgets, each maybe the child of an earlier one."""
    budgets: list[Budget] = []
    for i in range(draw(st.integers(1, 4))):
        window = draw(windows())
        control = draw(st.sampled_from(list(Control)))
        if control is Control.QUEUE and not window.billing:
            window = BudgetWindow()  # a simulation holds queued work per billing period
        parent = draw(st.sampled_from([None, *(b.name for b in budgets)]))
        budgets.append(
            Budget(
                name=f"b{i}",
                amount=draw(amounts(top=top)),
                control=control,
                alert_at=tuple(
                    draw(st.lists(st.sampled_from(["0.5", "0.8", "1", "1.5"]), max_size=2))
                ),
                parent=parent,
                window=window,
                **draw(scoped()),
            )
        )
    return budgets


@st.composite
def labelled(
    draw: st.DrawFn, hours: list[int], n: int, top: int, metered: bool
) -> list[UsageEvent]:
    events = []
    for _ in range(n):
        session = draw(st.sampled_from(SESSIONS))
        labels: dict[str, Any] = {
            "timestamp": START
            + timedelta(hours=draw(st.sampled_from(hours)), seconds=draw(st.integers(0, 3599))),
            "project_id": draw(st.sampled_from(PROJECTS)),
            "user_id": draw(st.sampled_from(USERS)),
            "session_id": session,
            "parent_session_id": draw(st.sampled_from(SESSIONS)) if session else None,
        }
        if metered and draw(st.booleans()):
            events.append(UsageEvent(**labels, **draw(meter_sets())))
        else:
            events.append(UsageEvent(**labels, ccu=draw(amounts(top=top))))
    return events


@st.composite
def bursty(draw: st.DrawFn, days: int = 60) -> list[UsageEvent]:
    """Events in up to eight hours over ``days`` days (windows roll between them)."""
    hours = draw(st.lists(st.integers(0, days * 24 - 1), min_size=1, max_size=8))
    return draw(labelled(hours, draw(st.integers(0, 60)), 60, draw(st.booleans())))


@st.composite
def saturated(draw: st.DrawFn) -> list[UsageEvent]:
    """Up to 150 requests packed in a few hours, some across a day or period end."""
    choice = [0, 1, 23, 24, 25, 24 * 7, 24 * 28 - 1, 24 * 29 - 1, 24 * 29, 24 * 30, 24 * 45]
    hours = draw(st.lists(st.sampled_from(choice), min_size=1, max_size=4))
    top = draw(st.sampled_from([1, 5, 30, 150]))
    return draw(labelled(hours, draw(st.integers(0, 150)), top, True))


@st.composite
def steady(draw: st.DrawFn) -> list[UsageEvent]:
    """Small requests in many hours over a week: quiet stretches that span window starts."""
    hours = draw(st.lists(st.integers(0, 24 * 8), min_size=5, max_size=40, unique=True))
    return draw(labelled(hours, draw(st.integers(10, 80)), 5, False))


@st.composite
def scenarios(draw: st.DrawFn, top: int = 200) -> dict[str, Any]:
    tier = draw(st.sampled_from(TIERS))
    budgets = draw(extended_budgets(top=top))
    kwargs: dict[str, Any] = {
        "seats": 1 if tier in ("free", "go") else draw(st.integers(1, 3)),
        "start": START,
        "months": draw(st.integers(1, 2)),
        "mode": draw(st.sampled_from(["request", "fluid"])),
        "on_rate_limit": draw(st.sampled_from(["defer", "drop"])),
        "budgets": budgets,
        "overrides": draw(override_sets(budgets, days=60)),
        "rollover_balance": draw(st.sampled_from([None, Decimal(30)])),
    }
    return {"tier": tier, "kwargs": kwargs}


def _both(events: list[UsageEvent], scenario: dict[str, Any]) -> None:
    log = UsageLog.from_events(events)
    fast = simulate(log, scenario["tier"], **scenario["kwargs"])
    ref = simulate(log, scenario["tier"], engine="reference", **scenario["kwargs"])
    _assert_equal(fast, ref)


@settings(max_examples=60)
@given(events=bursty(), scenario=scenarios())
def test_kernel_equals_reference_with_extended_budgets(
    events: list[UsageEvent], scenario: dict[str, Any]
) -> None:
    _both(events, scenario)


@settings(max_examples=60)
@given(events=saturated(), scenario=scenarios(top=40))
def test_kernel_equals_reference_with_extended_budgets_when_saturated(
    events: list[UsageEvent], scenario: dict[str, Any]
) -> None:
    """Small limits on packed hours: budgets bind, queue, alert, and windows roll."""
    _both(events, scenario)


@settings(max_examples=60)
@given(events=steady(), scenario=scenarios(top=20))
def test_kernel_equals_reference_when_windows_start_inside_quiet_stretches(
    events: list[UsageEvent], scenario: dict[str, Any]
) -> None:
    """Day and week windows restart between quiet hours: spend, alerts and refusals follow."""
    _both(events, scenario)


@settings(max_examples=30)
@given(
    events=bursty(), budgets=extended_budgets(top=40), mode=st.sampled_from(["request", "fluid"])
)
def test_continuing_carries_own_windows_across_periods(
    events: list[UsageEvent], budgets: list[Budget], mode: str
) -> None:
    """A week's spend crosses the period end: the final state carries it, both engines."""
    log = UsageLog.from_events(events)
    kwargs: dict[str, Any] = {"months": 1, "mode": mode}
    first = simulate(log, "plus", start=START, budgets=budgets, **kwargs)
    ref_first = simulate(log, "plus", start=START, budgets=budgets, engine="reference", **kwargs)
    _assert_equal(first, ref_first)
    second = simulate(log, first.final_state, **kwargs)
    ref_second = simulate(log, first.final_state, engine="reference", **kwargs)
    _assert_equal(second, ref_second)
    if first.totals.unserved_ccu == 0:  # nothing waiting at the cut: one run equals two
        whole = simulate(log, "plus", start=START, budgets=budgets, months=2, mode=mode)
        assert whole.periods == first.periods + second.periods
        assert whole.alerts == first.alerts + second.alerts


@settings(max_examples=40)
@given(budgets=extended_budgets(), hours=st.sampled_from([1, 24, 24 * 60]))
def test_kernel_windows_are_the_window_of_each_hour(budgets: list[Budget], hours: int) -> None:
    """Hour ``h``'s window is ``BudgetWindow.index`` of its start (billing budgets: the
    billing period's number), the state machine's reading."""
    start_us = (START - EPOCH) // timedelta(microseconds=1)
    for budget in budgets:
        windows = budget_windows(budget, start_us, hours, START)
        assert len(windows) == hours
        for h in sorted({0, 1, 23, 24, 24 * 7 + 5, 24 * 31, hours - 1} & set(range(hours))):
            at = START + timedelta(hours=h)
            want = (
                period_containing(START, at).index
                if budget.window.billing
                else budget.window.index(at)
            )
            assert int(windows[h]) == want


@settings(max_examples=15)
@given(
    events=bursty(), budgets=extended_budgets(top=60), mode=st.sampled_from(["request", "fluid"])
)
def test_every_compared_option_equals_the_state_machine(
    events: list[UsageEvent], budgets: list[Budget], mode: str
) -> None:
    """``compare_tiers`` runs extended budgets on the kernel too, option by option."""
    log = UsageLog.from_events(events)
    setup = prepare(log, "go", start=START, months=2, mode=mode, budgets=budgets)
    candidates = tier_candidates(setup.card, 2, None)
    keep: dict[tuple[str, int], tuple[PeriodStatement, ...]] = {}
    compare_prepared(setup, candidates, Decimal(0), keep)
    for _, tier, seats in candidates:
        ref = simulate(
            log,
            tier,
            seats=seats,
            start=START,
            months=2,
            mode=mode,
            budgets=budgets,
            engine="reference",
        )
        assert keep[(tier, seats)] == ref.periods, (tier, seats)


@settings(max_examples=15)
@given(
    events=bursty(),
    accounts=st.lists(st.sampled_from(["acme", "bolt"]), min_size=60, max_size=60),
    budgets=extended_budgets(top=60),
)
def test_a_sweep_with_extended_budgets_equals_the_state_machine_per_account(
    events: list[UsageEvent], accounts: list[str], budgets: list[Budget]
) -> None:
    labelled = [
        e.model_copy(update={"account_id": a}) for e, a in zip(events, accounts, strict=False)
    ]
    sweep = simulate_many(labelled, {"acme": "plus", "bolt": "pro"}, start=START, budgets=budgets)
    for account, tier in (("acme", "plus"), ("bolt", "pro")):
        mine = [e for e in labelled if e.account_id == account]
        ref = simulate(mine, tier, start=START, budgets=budgets, engine="reference")
        got = tuple(s.statement for s in sweep.statements if s.account_id == account)
        assert got == ref.periods, account


def test_the_first_listed_refusing_budget_decides_in_a_quiet_hour() -> None:
    """Hand-computed: the user hard stop has no room from the start, but by the second
    request the project queue listed before it has 0.5 left, so the queue refuses first
    and holds the request (unserved at the end) rather than the hard stop blocking it."""
    at = START + timedelta(hours=5)
    budgets = [
        Budget(name="q", scope="project", value="a", amount=Decimal(10), control=Control.QUEUE),
        Budget(name="h", scope="user", value="u1", amount=Decimal(0), control=Control.HARD_STOP),
    ]
    events = [
        UsageEvent(timestamp=at, ccu=Decimal("9.5"), project_id="a", user_id="u2"),
        UsageEvent(
            timestamp=at + timedelta(minutes=1), ccu=Decimal(1), project_id="a", user_id="u1"
        ),
    ]
    for engine in ("batch", "reference"):
        result = simulate(events, "pro", start=START, budgets=budgets, engine=engine)  # type: ignore[arg-type]
        assert result.outcomes.blocked.tolist() == [0, 0]
        assert result.outcomes.unserved.tolist() == [0, 1_000_000]
        assert result.periods[0].blocked_ccu == 0


def test_a_hand_made_state_whose_alerts_skip_a_fraction() -> None:
    """Alerts fire in order in every state the engine makes; a state given by hand with
    only the larger fraction fired is still decided exactly (by the state machine)."""
    budget = Budget(
        name="b",
        scope="project",
        value="a",
        amount=Decimal(100),
        alert_at=(Decimal("0.5"), Decimal("0.8")),
        window=BudgetWindow(every="week"),
    )
    opened = open_account(RateCard.resolve(None), "pro", 1, START, budgets=[budget])
    state = opened.with_budgets(
        (
            BudgetState(
                budget=budget,
                spend=Decimal(10),
                fired=(Decimal("0.8"),),
                window=opened.budgets[0].window,
            ),
        )
    )
    events = [UsageEvent(timestamp=START + timedelta(hours=2), ccu=Decimal(45), project_id="a")]
    fast = simulate(events, state)
    _assert_equal(fast, simulate(events, state, engine="reference"))
    assert [(a.threshold, a.spend) for a in fast.alerts] == [(Decimal("0.5"), Decimal(55))]
