"""decide agrees with the engine, request for request; a refused task changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits.core.account import AccountState, apply, evaluate, open_account
from codex_credits.core.budgets import Budget, Control
from codex_credits.core.events import Mode, Reason, Request, Status
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import parse_instant
from codex_credits.tasks.decide import DispatchPolicy, decide
from codex_credits.tasks.spec import TaskSpec
from tests.tasks.conftest import BOUNDED

GOLDEN = json.loads(
    (Path(__file__).parents[1] / "golden" / "scenarios.json").read_text(), parse_float=Decimal
)["scenarios"]
CARD = RateCard.default()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
TASK = TaskSpec.model_validate(BOUNDED)


def _requests(s: dict[str, Any]) -> list[tuple[datetime, Decimal]]:
    out = [(parse_instant(t), Decimal(c)) for t, c in s.get("events", [])]
    for series in s.get("series", []):
        first = parse_instant(series["from"])
        out += [
            (first + timedelta(hours=i), Decimal(series["ccu"])) for i in range(series["count"])
        ]
    return sorted(out, key=lambda r: r[0])


@pytest.mark.parametrize("s", GOLDEN, ids=[s["id"] for s in GOLDEN])
def test_decide_agrees_with_the_engine_on_every_golden_request(s: dict[str, Any]) -> None:
    mode = Mode(s.get("mode", "request"))
    state = open_account(
        CARD,
        s["tier"],
        s["seats"],
        parse_instant(s["start"]),
        rollover_balance=s.get("rollover_balance"),
    )
    policy = DispatchPolicy(refuse_at=None, mode=mode)
    refusals = 0
    for at, amount in _requests(s):
        outcome = evaluate(state, Request(amount=amount), at, mode)
        decision = decide(TASK, state, at, policy, amount=amount)
        served = outcome.status is Status.SERVED
        assert decision.allowed == served, (at, amount, outcome)
        assert decision.outcome == outcome
        if not served:
            refusals += 1
            assert decision.engine_reason == outcome.reason
            assert outcome.reason is not None
            assert outcome.reason.value in {r.code for r in decision.reasons}
            assert decision.verdict == ("refuse" if outcome.reason.blocks else decision.verdict)
            assert decision.state_after is state and decision.cost == 0
        else:
            assert decision.state_after == apply(state, Request(amount=amount), at, mode).state
        state = apply(state, Request(amount=amount), at, mode).state
    if s["id"].startswith(("free-tier", "reserve-burst", "pro-request-larger")):
        assert refusals > 0


AMOUNTS = st.decimals(min_value=0, max_value=400, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def accounts(draw: st.DrawFn) -> tuple[AccountState, datetime]:
    tier = draw(st.sampled_from(["free", "go", "plus", "pro"]))
    budgets = []
    if draw(st.booleans()):
        control = draw(st.sampled_from([Control.HARD_STOP, Control.QUEUE]))
        amount = draw(st.decimals(min_value=0, max_value=50, places=1))
        budgets.append(
            Budget(name="api", scope="project", value="api", amount=amount, control=control)
        )
    state = open_account(CARD, tier, 1, T0, budgets=budgets)
    at = T0
    for spend in draw(st.lists(AMOUNTS, max_size=6)):
        at += timedelta(minutes=draw(st.integers(0, 90)))
        state = apply(state, Request(amount=spend, project_id="api"), at).state
    return state, at + timedelta(minutes=draw(st.integers(0, 30)))


@settings(max_examples=60, deadline=None)
@given(accounts(), AMOUNTS, st.sampled_from(["error", "warning", None]), st.booleans())
def test_a_task_not_allowed_costs_zero_and_leaves_the_state_unchanged(
    account: tuple[AccountState, datetime], amount: Decimal, refuse_at: str | None, wide: bool
) -> None:
    state, at = account
    spec = (
        TaskSpec(instruction="fix it", project="api")
        if wide
        else TASK.model_validate({**BOUNDED, "project": "api"})
    )
    before = state.model_dump()
    decision = decide(spec, state, at, DispatchPolicy(refuse_at=refuse_at), amount=amount)
    assert state.model_dump() == before  # decide never changes its input
    if decision.allowed:
        assert decision.cost == amount
        assert (
            decision.state_after == apply(state, Request(amount=amount, project_id="api"), at).state
        )
    else:
        assert decision.cost == 0 and decision.state_after is state
        assert decision.reasons
    if decision.verdict == "defer":
        assert decision.fits_at is not None and decision.fits_at > at
        later = evaluate(state, Request(amount=amount, project_id="api"), decision.fits_at)
        assert later.status is Status.SERVED or decision.reasons[-1].source == "concurrency"


def test_gates_run_first_and_refuse_for_free() -> None:
    state = open_account(CARD, "pro", 1, T0)
    seen: list[str] = []

    def unauthorized(spec: TaskSpec, at: datetime) -> list[str]:
        seen.append(spec.label)
        return ["key k1 may not dispatch to project api"]

    decision = decide(TASK, state, T0, gates=[unauthorized])
    assert decision.verdict == "refuse" and decision.cost == 0 and decision.state_after is state
    assert decision.reasons[0].source == "gate" and seen
    assert decide(TASK, state, T0, gates=[lambda s, a: []]).allowed


def test_lint_at_the_policy_severity_refuses(bad: TaskSpec) -> None:
    state = open_account(CARD, "pro", 1, T0)
    refused = decide(bad, state, T0)
    assert refused.verdict == "refuse"
    assert {r.code for r in refused.reasons if r.source == "lint"} == {
        "input.whole_repository",
        "input.no_file_scope",
        "execution.full_test_suite",
    }
    assert decide(bad, state, T0, DispatchPolicy(refuse_at=None)).allowed
    assert decide(bad, state, T0).amount == Decimal(25)  # P90 of the poorly scoped prior


def test_rate_limited_task_is_deferred_to_the_hour_it_fits() -> None:
    state = open_account(CARD, "go", 1, T0)  # L = 6.944440, no reserve
    state = apply(state, Request(amount=Decimal(6)), T0 + timedelta(minutes=5)).state
    decision = decide(TASK, state, T0 + timedelta(minutes=10))  # 3 CCU at P90
    assert decision.verdict == "defer" and decision.engine_reason is Reason.RATE_LIMITED
    assert decision.fits_at == T0 + timedelta(hours=1)


def test_queue_budget_defers_to_the_next_period_hard_stop_refuses() -> None:
    for control, verdict in ((Control.QUEUE, "defer"), (Control.HARD_STOP, "refuse")):
        budget = Budget(name="b", scope="project", value="api", amount=Decimal(4), control=control)
        state = open_account(CARD, "pro", 1, T0, budgets=[budget])
        state = apply(state, Request(amount=Decimal(2), project_id="api"), T0).state
        spec = TaskSpec.model_validate({**BOUNDED, "project": "api"})
        decision = decide(spec, state, T0)
        assert decision.verdict == verdict
        if verdict == "defer":  # 2 + 3 > 4 now; the budget resets with the next period
            assert decision.fits_at == datetime(2026, 2, 1, tzinfo=UTC)
    budget = Budget(
        name="b", scope="project", value="api", amount=Decimal(1), control=Control.QUEUE
    )
    state = open_account(CARD, "pro", 1, T0, budgets=[budget])
    never = decide(TaskSpec.model_validate({**BOUNDED, "project": "api"}), state, T0)
    assert never.verdict == "refuse"  # 3 CCU never fits a 1 CCU budget


def test_concurrency_waits_or_refuses() -> None:
    state = open_account(CARD, "go", 1, T0)
    ends = [T0 + timedelta(minutes=m) for m in (20, 10, 30)]
    waiting = decide(TASK, state, T0, running=ends)
    assert waiting.verdict == "defer" and waiting.fits_at == T0 + timedelta(minutes=10)
    refused = decide(TASK, state, T0, DispatchPolicy(on_full="refuse"), running=ends)
    assert refused.verdict == "refuse" and refused.reasons[0].source == "concurrency"
    assert decide(TASK, state, T0, running=ends[:2]).allowed
    assert decide(TASK, open_account(CARD, "pro", 1, T0), T0, running=ends * 10).allowed


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 72 * 60), st.decimals(min_value=0, max_value=5, places=2)),
        max_size=25,
    ),
    st.integers(0, 72 * 60),
    st.sampled_from(["free", "go", "pro"]),
)
def test_account_state_at_is_the_engine_walked_event_by_event(
    trace: list[tuple[int, Decimal]], minute: int, tier: str
) -> None:
    from codex_credits.core.usage import UsageEvent
    from codex_credits.tasks.state import account_state_at

    events = sorted(
        (
            UsageEvent(timestamp=T0 + timedelta(minutes=m), ccu=c, project_id="api")
            for m, c in trace
        ),
        key=lambda e: e.timestamp,
    )
    at = T0 + timedelta(minutes=minute, seconds=30)
    budget = Budget(name="api", scope="project", value="api", amount=Decimal(500))
    state = open_account(CARD, tier, 1, T0, budgets=[budget])
    for event in events:
        if event.timestamp < at:
            outcome = evaluate(
                state, Request(amount=event.ccu or 0, project_id="api"), event.timestamp
            )
            if outcome.status is not Status.SERVED:
                return  # a deferral: the replay retries it later, the walk does not
            state = apply(
                state, Request(amount=event.ccu or 0, project_id="api"), event.timestamp
            ).state
    walked = apply(state, Request(amount=Decimal(0)), at).state
    replayed = account_state_at(events, tier, T0, at, budgets=[budget])
    assert replayed.ledger.balance == walked.ledger.balance
    assert replayed.ledger.rollover_balance == walked.ledger.rollover_balance
    assert replayed.served_in_hour == walked.served_in_hour
    assert replayed.reserve.level == walked.reserve.level
    assert replayed.budgets[0].spend == walked.budgets[0].spend
    assert (replayed.hour, replayed.as_of) == (walked.hour, walked.as_of)
