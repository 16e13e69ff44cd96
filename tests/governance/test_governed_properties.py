"""A denied task costs zero and changes no state (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from codex_credits import Account
from codex_credits.check.policy import load_policy
from codex_credits.governance import AccessRequest, Organisation, Permission, governed_apply
from tests.governance.conftest import POLICY, SECRETS

ORG = load_policy(POLICY).organisation
assert ORG is not None
START = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def access_requests(draw: st.DrawFn) -> tuple[timedelta, AccessRequest, Decimal]:
    secret = draw(st.sampled_from([*SECRETS.values(), "cck_forged_ssssssssssssssssssss", None]))
    session = draw(st.sampled_from([None, "o1", "s1"]))
    request = AccessRequest(
        secret=None if secret is None else SecretStr(secret),
        action=draw(st.sampled_from(list(Permission))),
        repositories=tuple(
            draw(st.lists(st.sampled_from(["acme/web", "acme/docs", "acme-prod/db"]), max_size=2))
        ),
        apis=tuple(draw(st.lists(st.sampled_from(["github", "jira"]), max_size=1))),
        tools=tuple(draw(st.lists(st.sampled_from(["shell", "tests", "git", "curl"]), max_size=2))),
        model=draw(st.sampled_from([None, "gpt-5.4", "gpt-5.4-mini", "gpt-5.5"])),
        done_when=draw(st.sampled_from([None, "", "tests pass"])),
        thread_id=draw(st.sampled_from([None, "th-1", "th-2"])),
        task_id=draw(st.sampled_from([None, "t-1", "t-2"])),
        session_id=session,
        parent_session_id="o1" if session == "s1" else None,
    )
    step = timedelta(hours=draw(st.integers(0, 60)))
    amount = Decimal(draw(st.integers(0, 40_000_000))).scaleb(-6)
    return step, request, amount


@given(st.lists(access_requests(), max_size=25))
def test_a_denied_task_costs_zero_and_changes_nothing(
    stream: list[tuple[timedelta, AccessRequest, Decimal]],
) -> None:
    org: Organisation = ORG
    budgets = (*org.budgets(), org.pool("o1", "bot-web"))
    state = Account("pro", 1, START, budgets=budgets).state
    at = datetime(2026, 1, 10, tzinfo=UTC)
    threads = {"th-1": "t-1"}
    for step, request, amount in stream:
        at += step
        result = governed_apply(request, org, state, amount, at, threads=threads)
        if result.decision.allowed:
            assert result.outcome is not None
            assert result.outcome.requested == amount
        else:
            assert result.decision.reasons
            assert result.outcome is None
            assert result.state is state
            assert result.state.ledger.balance == state.ledger.balance
        state = result.state
