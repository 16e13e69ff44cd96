"""The kernel equals the state machine on saturated and overloaded traces.

The traces here pack many requests into a few hours, so the rate limit refuses
most of them, the deferred backlog lives for many hours (across a period end),
queue budgets hold work that comes back at the next period or an override, and
small pieces later in the backlog are served past larger refused ones. Every
tier, mode, policy and budget control; the result must equal the reference
state machine's event for event, hour for hour and period for period.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits import Budget, Control, UsageEvent, UsageLog, simulate
from tests.properties.strategies import PROJECTS, START, amounts, meter_sets
from tests.properties.test_simulate_properties import _assert_equal, scenarios


@st.composite
def overloaded(draw: st.DrawFn, metered: bool = False) -> list[UsageEvent]:
    """Up to 150 requests in one to four hours, some near a period end."""
    hours = draw(
        st.lists(
            st.sampled_from(
                [0, 1, 2, 9, 10, 24 * 28 - 1, 24 * 30 - 2, 24 * 31 - 1, 24 * 31, 24 * 45]
            ),
            min_size=1,
            max_size=4,
        )
    )
    top = draw(st.sampled_from([1, 5, 30, 150]))
    events = []
    for _ in range(draw(st.integers(0, 150))):
        labels: dict[str, Any] = {
            "timestamp": START
            + timedelta(hours=draw(st.sampled_from(hours)), seconds=draw(st.integers(0, 3599))),
            "project_id": draw(st.sampled_from(PROJECTS)),
            "user_id": draw(st.sampled_from(("u1", "u2"))),
        }
        if metered and draw(st.booleans()):
            events.append(UsageEvent(**labels, **draw(meter_sets())))
        else:
            events.append(UsageEvent(**labels, ccu=draw(amounts(top=top))))
    return events


@settings(max_examples=40)
@given(events=overloaded(), scenario=scenarios(with_budgets=False))
def test_kernel_equals_reference_when_overloaded(
    events: list[UsageEvent], scenario: dict[str, Any]
) -> None:
    log = UsageLog.from_events(events)
    fast = simulate(log, scenario["tier"], **scenario["kwargs"])
    ref = simulate(log, scenario["tier"], engine="reference", **scenario["kwargs"])
    _assert_equal(fast, ref)


@settings(max_examples=40)
@given(events=overloaded(metered=True), scenario=scenarios(with_budgets=True))
def test_kernel_equals_reference_when_overloaded_with_budgets(
    events: list[UsageEvent], scenario: dict[str, Any]
) -> None:
    log = UsageLog.from_events(events)
    fast = simulate(log, scenario["tier"], **scenario["kwargs"])
    ref = simulate(log, scenario["tier"], engine="reference", **scenario["kwargs"])
    _assert_equal(fast, ref)


def test_a_small_piece_is_served_past_a_larger_refused_one() -> None:
    """Request mode: after 100 is refused, a later 30 still fits (hand-computed)."""
    at = START + timedelta(hours=5)
    events = [
        UsageEvent(timestamp=at + timedelta(minutes=m), ccu=Decimal(c))
        for m, c in ((1, 120), (2, 100), (3, 30))
    ]
    result = simulate(events, "pro", start=START, months=1)
    # L + reserve after five idle hours = 138.888890 + 29.166665 = 168.055555
    assert result.timeline.row(5)["served"] == Decimal(150)  # 120 and 30; 100 deferred
    assert [int(v) for v in result.outcomes.rate_limited] == [0, 100_000_000, 0]
    assert result.periods[0].rate_limited_ccu == Decimal(100)
    assert result.timeline.row(6)["served"] == Decimal(100)  # served in the next hour


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("mode", ["request", "fluid"])
@pytest.mark.parametrize("with_budgets", [False, True])
def test_a_backlog_of_thousands_of_pieces(seed: int, mode: str, with_budgets: bool) -> None:
    """Past the backlog's blocks of 256: served front, holes, appends, regrowth."""
    rng = np.random.default_rng(seed)
    n = 1600
    hours = rng.choice([3, 4, 30], n, p=[0.45, 0.45, 0.1])
    micro = (rng.lognormal(-0.3, 0.9, n) * 1_000_000).astype(np.int64)
    events = [
        UsageEvent(
            timestamp=START + timedelta(hours=int(h), seconds=int(s)),
            ccu=Decimal(int(m)).scaleb(-6),
            project_id=PROJECTS[int(p)],
        )
        for h, s, m, p in zip(
            hours, rng.integers(0, 3600, n), micro, rng.integers(0, 3, n), strict=True
        )
    ]
    budgets = (
        [
            Budget(
                name="a",
                scope="project",
                value="a",
                amount=Decimal(300),
                control=Control.SOFT_LIMIT,
                alert_at=(Decimal("0.5"),),
            ),
            Budget(
                name="b", scope="project", value="b", amount=Decimal(400), control=Control.HARD_STOP
            ),
        ]
        if with_budgets
        else []
    )
    log = UsageLog.from_events(events)
    kwargs: dict[str, Any] = {"start": START, "months": 1, "mode": mode, "budgets": budgets}
    fast = simulate(log, "pro", **kwargs)
    ref = simulate(log, "pro", engine="reference", **kwargs)
    _assert_equal(fast, ref)
    assert int(fast.timeline.waiting.max()) > 500 * 10**6
