"""authorize: every allow and deny of a request stream, hand-computed, with every reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from codex_credits import Account, RateCard
from codex_credits.governance import (
    AccessReason,
    AccessRequest,
    Organisation,
    Permission,
    access_gate,
    authorize,
    governed_apply,
)
from tests.governance.conftest import SECRETS, T

R = AccessReason
GOOD: dict[str, Any] = {
    "repositories": ("acme/web",),
    "tools": ("tests",),
    "model": "gpt-5.4",
    "done_when": "the web tests pass",
}
BOT: dict[str, Any] = {
    "repositories": ("acme/docs",),
    "apis": ("github",),
    "tools": ("git",),
    "model": "gpt-5.4-mini",
    "done_when": "docs build",
}


def day(d: int, h: int = 10) -> datetime:
    return datetime(2026, 1 if d < 40 else 3, d if d < 40 else d - 59, h, tzinfo=UTC)


# (case, key, request fields, instant, expected reasons)
STREAM: list[tuple[str, str | None, dict[str, Any], datetime, tuple[AccessReason, ...]]] = [
    ("alice fixes web tests", "k-alice", GOOD, T, ()),
    (
        "outside the key's scopes and the org's models, no done-when",
        "k-alice",
        {"repositories": ("acme/docs",), "tools": ("git",), "model": "gpt-5.5"},
        T,
        (R.REPOSITORY_NOT_ALLOWED, R.TOOL_NOT_ALLOWED, R.MODEL_NOT_ALLOWED, R.NO_DONE_WHEN),
    ),
    ("an unknown secret", "cck_unknown_ssssssssssssssssssss", GOOD, T, (R.UNKNOWN_KEY,)),
    (
        "no key at all, no done-when",
        None,
        {**GOOD, "done_when": "  "},
        T,
        (R.UNKNOWN_KEY, R.NO_DONE_WHEN),
    ),
    ("a revoked key", "k-old", {**GOOD, "tools": ("shell",)}, T, (R.REVOKED_KEY,)),
    (
        "a revoked key of a user who left",
        "k-old",
        {**GOOD, "tools": ("shell",)},
        day(21),
        (R.REVOKED_KEY, R.OWNER_LEFT),
    ),
    (
        "a viewer with a wildcard key outside the org allowlist",
        "k-ops",
        {**GOOD, "repositories": ("acme-prod/db",)},
        T,
        (R.ROLE_LACKS_PERMISSION, R.REPOSITORY_NOT_ALLOWED),
    ),
    ("the agent within its scopes", "k-bot", BOT, T, ()),
    ("the agent's key expired", "k-bot", BOT, day(61), (R.EXPIRED_KEY,)),
    (
        "a lead approves an override (no done-when needed)",
        "k-alice",
        {"action": Permission.APPROVE_OVERRIDE},
        T,
        (),
    ),
    (
        "an agent cannot approve overrides",
        "k-bot",
        {"action": Permission.APPROVE_OVERRIDE},
        T,
        (R.ROLE_LACKS_PERMISSION,),
    ),
    (
        "the thread belongs to another task",
        "k-bot",
        {**BOT, "thread_id": "th-1", "task_id": "t-2"},
        T,
        (R.THREAD_IN_USE,),
    ),
    (
        "the thread's own task continues",
        "k-bot",
        {**BOT, "thread_id": "th-1", "task_id": "t-1"},
        T,
        (),
    ),
]


@pytest.mark.parametrize(
    ("key", "fields", "when", "expected"),
    [case[1:] for case in STREAM],
    ids=[case[0] for case in STREAM],
)
def test_request_stream(
    org: Organisation,
    key: str | None,
    fields: dict[str, Any],
    when: datetime,
    expected: tuple[AccessReason, ...],
) -> None:
    secret = SECRETS.get(key or "", key)
    request = AccessRequest(secret=None if secret is None else SecretStr(secret), **fields)
    decision = authorize(request, org, when, threads={"th-1": "t-1"})
    assert decision.codes == expected
    assert decision.allowed == (expected == ())
    for denial in decision.reasons:
        assert denial.detail


def test_the_reasons_name_each_item_and_its_source(org: Organisation) -> None:
    request = AccessRequest(
        secret=SecretStr(SECRETS["k-alice"]),
        repositories=("acme/web", "acme/docs", "other/x"),
        model="gpt-5.5",
        done_when="x",
    )
    decision = authorize(request, org, T)
    details = {d.reason: d.detail for d in decision.reasons}
    assert details[R.REPOSITORY_NOT_ALLOWED] == (
        "repository acme/docs is not in key k-alice's scopes; "
        "repository other/x is not on the organisation's allowlist; "
        "repository other/x is not in key k-alice's scopes"
    )
    assert "organisation's allowlist" in details[R.MODEL_NOT_ALLOWED]


def test_agents_stop_when_their_owner_leaves(org: Organisation) -> None:
    left = Organisation(
        **{
            **{name: getattr(org, name) for name in Organisation.model_fields},
            "users": tuple(
                type(u)(**{**dict(u), "left_at": datetime(2026, 1, 15, tzinfo=UTC)})
                if u.id == "alice"
                else u
                for u in org.users
            ),
        }
    )
    request = AccessRequest(secret=SecretStr(SECRETS["k-bot"]), **BOT)
    assert authorize(request, left, T).allowed
    late = authorize(request, left, datetime(2026, 1, 16, tzinfo=UTC))
    assert late.codes == (R.OWNER_LEFT,)
    assert late.owner == "alice"


def test_budgets_deny_at_every_level_and_reset_with_their_windows(org: Organisation) -> None:
    """Hand-computed: key 50/day, alice 100/week (weeks from Monday 12 Jan), team web
    300/sprint, bot sessions pool 30, org 1000 per billing month."""
    budgets = (*org.budgets(), org.pool("o1", "bot-web"))
    account = Account("pro", 1, datetime(2026, 1, 1, tzinfo=UTC), budgets=budgets)
    alice = AccessRequest(secret=SecretStr(SECRETS["k-alice"]), **GOOD)
    state = account.state

    def run(request: AccessRequest, amount: str, when: datetime) -> tuple[AccessReason, ...]:
        nonlocal state
        result = governed_apply(request, org, state, Decimal(amount), when)
        if not result.decision.allowed:
            assert result.state is state
        state = result.state
        return result.decision.codes

    assert run(alice, "30", day(12, 9)) == ()
    assert run(alice, "20", day(12, 10)) == ()
    assert run(alice, "1", day(12, 11)) == (R.KEY_BUDGET_EXHAUSTED,)
    assert run(alice, "50", day(13, 9)) == ()  # a new day: the key has 50 again
    assert run(alice, "1", day(14, 9)) == (R.USER_BUDGET_EXHAUSTED,)  # 100 this week
    assert run(alice, "1", day(19, 9)) == ()  # a new week
    spend = {s.budget.name: s.spend for s in state.budgets}
    # the sprint of 5-18 January ended: 19 January opens a new one for the team
    assert spend["team:web"] == Decimal(1)
    assert spend["org:acme"] == Decimal(101)
    bot = {"secret": SecretStr(SECRETS["k-bot"]), **BOT}
    orchestrator = AccessRequest(**bot, session_id="o1")
    sub = AccessRequest(**bot, session_id="s1", parent_session_id="o1")
    assert run(orchestrator, "10", day(19, 10)) == ()
    assert run(sub, "10", day(19, 11)) == ()
    assert run(sub, "10", day(19, 12)) == ()
    # the shared pool of 30 is spent: the sub-agent stops
    assert run(sub, "1", day(19, 13)) == (R.POOL_BUDGET_EXHAUSTED,)
    estimate = AccessRequest(**{**bot, "estimate_ccu": Decimal(300)})
    # 300 estimated against the team's 300 - 31 left
    assert run(estimate, "1", day(19, 14)) == (R.TEAM_BUDGET_EXHAUSTED,)
    spend = {s.budget.name: s.spend for s in state.budgets}
    assert spend["pool:o1"] == Decimal(30)
    assert spend["team:web"] == Decimal(31)
    assert spend["org:acme"] == Decimal(131)


class Spec:
    """A task specification as a dispatcher holds it."""

    def __init__(self, **labels: str | None) -> None:
        self.repository: str | None = "acme/web"
        self.tools: tuple[str, ...] = ("tests",)
        self.model: str | None = "gpt-5.4"
        self.done_when: str | None = labels.pop("done_when", "tests pass")
        self.labels = labels


def test_the_gate_adapter_returns_reasons_and_reports_decisions(org: Organisation) -> None:
    seen = []
    gate = access_gate(org, secret=SECRETS["k-alice"], on_decision=lambda r, d: seen.append(d))
    assert gate(Spec(), T) == ()
    reasons = gate(Spec(done_when=None), T)
    assert reasons == ("no_done_when: the task has no 'done when' criterion",)
    by_id = access_gate(
        org, state=lambda: Account("pro", 1, datetime(2026, 1, 1, tzinfo=UTC)).state
    )
    assert by_id(Spec(key_id="k-ops"), T)[0].startswith("role_lacks_permission")
    assert [d.allowed for d in seen] == [True, False]
    assert RateCard.resolve(None) is not None
