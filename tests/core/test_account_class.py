"""The live Account: evaluate changes nothing, apply commits, idle hours accrue reserve.

Figures for one pro seat (10,000 CCU a month): H = 10,000 / 720 = 13.888889,
L = 10 x H = 138.888890, T = 0.70 x H = 9.722222, an idle hour adds
0.60 x T = 5.833333 to the reserve, capped at 4 x H = 55.555556.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import Account, Budget, Override, Reason, Request, UsageEvent
from codex_credits.clock import FixedClock, ManualClock
from codex_credits.errors import NaiveDatetimeError

ANCHOR = datetime(2026, 3, 1, tzinfo=UTC)


def pro() -> Account:
    return Account("pro", 1, ANCHOR, clock=FixedClock(ANCHOR))


def test_idle_hours_fill_the_reserve_up_to_its_cap() -> None:
    account = pro()
    account.advance(ANCHOR + timedelta(hours=1))
    assert account.state.reserve.level == Decimal("5.833333")
    account.advance(ANCHOR + timedelta(hours=9))
    assert account.state.reserve.level == Decimal("52.499997")
    account.advance(ANCHOR + timedelta(hours=10))
    assert account.state.reserve.level == Decimal("55.555556")


@given(hours=st.integers(0, 80), spent=st.integers(0, 30))
def test_one_jump_equals_closing_every_hour(hours: int, spent: int) -> None:
    jump, steps = pro(), pro()
    for account in (jump, steps):
        account.apply(Decimal(spent), at=ANCHOR + timedelta(minutes=30))
    jump.advance(ANCHOR + timedelta(hours=hours, minutes=45))
    for h in range(1, hours + 1):
        steps.advance(ANCHOR + timedelta(hours=h))
    steps.advance(ANCHOR + timedelta(hours=hours, minutes=45))
    assert jump.state == steps.state


def test_evaluate_changes_nothing_and_apply_commits() -> None:
    account = pro()
    account.advance(ANCHOR + timedelta(hours=10))
    before, logged = account.state, len(account.events)
    at = ANCHOR + timedelta(hours=10, minutes=5)
    seen = account.evaluate("150", at=at)
    assert account.state == before
    assert len(account.events) == logged
    assert (seen.served, seen.from_grant, seen.from_reserve) == (
        Decimal(150),
        Decimal(150),
        Decimal("11.111110"),
    )
    done = account.apply("150", at=at)
    assert done == seen
    assert account.state.ledger.balance == Decimal(9850)
    assert account.state.reserve.level == Decimal("55.555556") - Decimal("11.111110")


def test_a_request_too_big_for_the_hour_is_refused_as_a_value() -> None:
    account = pro()
    outcome = account.apply("139", at=ANCHOR + timedelta(minutes=1))  # L = 138.888890
    assert outcome.served == 0
    assert outcome.rate_limited == Decimal(139)
    assert outcome.reason is Reason.RATE_LIMITED
    assert account.state.ledger.balance == Decimal(10000)


def test_a_usage_event_is_priced_on_the_card_and_served_at_its_own_time() -> None:
    account = pro()
    event = UsageEvent(
        timestamp=ANCHOR + timedelta(minutes=20),
        reasoning_tokens=12_000,
        tool_calls=20,
        sandbox_minutes=10,
        sandbox_class="large",
        output_tokens=2_000,
    )
    outcome = account.apply(event)
    assert outcome.served == Decimal("25.9")
    assert account.state.as_of == event.timestamp


def test_the_clock_gives_the_default_instant() -> None:
    clock = ManualClock(ANCHOR)
    account = Account("plus", 2, clock=clock)
    assert account.state.period.start == ANCHOR
    clock.advance(timedelta(hours=3))
    closed = account.advance()
    assert account.state.as_of == ANCHOR + timedelta(hours=3)
    assert len([e for e in closed if type(e).__name__ == "HourClosed"]) == 3
    assert "plus x2" in repr(account)


def test_an_override_raises_a_hard_stop_budget() -> None:
    budget = Budget(name="web", scope="project", value="web", amount="10", control="hard_stop")
    account = Account("pro", 1, ANCHOR, budgets=[budget], clock=FixedClock(ANCHOR))
    request = Request(amount=Decimal(8), project_id="web")
    assert account.apply(request, at=ANCHOR + timedelta(minutes=1)).served == 8
    refused = account.apply(request, at=ANCHOR + timedelta(minutes=2))
    assert refused.reason is Reason.BUDGET_HARD_STOP
    assert refused.budget == "web"
    account.override(Override(budget="web", at=ANCHOR + timedelta(minutes=3), amount="10"))
    assert account.apply(request, at=ANCHOR + timedelta(minutes=4)).served == 8


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        pro().apply("1", at=datetime(2026, 3, 1, 1))
