"""Invariants of the levers: no work is created or lost except what is reported."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import UsageEvent, UsageLog
from codex_credits.whatif import (
    Batch,
    CacheContext,
    RouteModels,
    Scope,
    ShiftOffPeak,
    ThrottleBefore,
    what_if,
)
from codex_credits.whatif.base import Change
from tests.whatif.helpers import lever_card

START = datetime(2026, 3, 1, tzinfo=UTC)
CARD = lever_card()
TASKS = ("docs", "tests", "bugfix")


@st.composite
def logs(draw: st.DrawFn) -> UsageLog:
    n = draw(st.integers(0, 40))
    events = []
    for i in range(n):
        at = START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 70)))
        if draw(st.integers(0, 5)) == 0:
            events.append(UsageEvent(timestamp=at, ccu=draw(st.integers(0, 30)), event_id=f"e{i}"))
            continue
        events.append(
            UsageEvent(
                timestamp=at,
                event_id=f"e{i}",
                reasoning_tokens=draw(st.integers(0, 20_000)),
                tool_calls=draw(st.integers(0, 10)),
                sandbox_minutes=draw(st.integers(0, 300)) / 10,
                sandbox_class=draw(st.sampled_from(["small", "medium", "large"])),
                output_tokens=draw(st.integers(0, 5000)),
                fast=draw(st.booleans()),
                project_id=draw(st.sampled_from(["api", "web"])),
                task_type=draw(st.sampled_from(TASKS)),
                model=draw(st.sampled_from([None, "codex"])),
            )
        )
    return UsageLog.from_events(events)


changes = st.one_of(
    st.builds(
        Batch,
        size=st.integers(1, 6),
        max_wait=st.sampled_from([timedelta(0), timedelta(minutes=30), timedelta(hours=6)]),
        shared_share=st.sampled_from(["0", "0.3", "1"]),
        where=st.sampled_from([None, {"task_type": ("docs", "tests")}]),
    ),
    st.builds(CacheContext, hit_rate=st.sampled_from(["0", "0.25", "0.6", "1"])),
    st.builds(
        ShiftOffPeak,
        max_delay=st.sampled_from([timedelta(0), timedelta(hours=6), timedelta(days=1)]),
        where=st.sampled_from([None, {"task_type": "docs"}]),
    ),
    st.builds(RouteModels, policy=st.just({"docs": "codex-mini", "tests": "codex"})),
)


def _ids(log: UsageLog) -> Counter[str | None]:
    return Counter(log.dimension_values("event_id"))


@given(log=logs(), change=changes)
def test_a_lever_conserves_work_except_its_reported_saving(log: UsageLog, change: Change) -> None:
    scope = Scope(card=CARD, anchor=START)
    applied = change.apply(log, scope)
    after = applied.log
    assert _ids(after) == _ids(log)  # no task created, none lost
    before_sum = int(scope.prices(log).total.sum())
    after_sum = int(scope.prices(after).total.sum())
    assert after_sum == before_sum - int(applied.saving.saved * 1_000_000)
    if not isinstance(change, ShiftOffPeak | Batch):
        assert np.array_equal(after.timestamps_us, log.timestamps_us)
    if not isinstance(change, Batch):  # a batch may move a task out of a cheap window
        assert applied.saving.saved >= 0


@given(log=logs(), change=changes)
def test_tasks_only_move_later_and_within_bounds(log: UsageLog, change: Change) -> None:
    applied = change.apply(log, Scope(card=CARD, anchor=START))
    by_id_before = dict(
        zip(log.dimension_values("event_id"), log.timestamps_us.tolist(), strict=True)
    )
    after = applied.log
    for event_id, ts in zip(
        after.dimension_values("event_id"), after.timestamps_us.tolist(), strict=True
    ):
        delay = ts - by_id_before[event_id]
        assert delay >= 0
        if isinstance(change, ShiftOffPeak):
            assert delay <= change.max_delay / timedelta(microseconds=1)
        if isinstance(change, Batch):
            assert delay <= change.max_wait / timedelta(microseconds=1)


@given(log=logs(), cap=st.integers(0, 200))
def test_throttle_displaces_only_what_it_reports(log: UsageLog, cap: int) -> None:
    scope = Scope(card=CARD, anchor=START)
    applied = ThrottleBefore("2026-05", cap, months_before=2).apply(log, scope)
    kept, removed = _ids(applied.log), _ids(log) - _ids(applied.log)
    assert kept + removed == _ids(log)
    assert sum(removed.values()) == applied.saving.displaced_events
    before_sum = int(scope.prices(log).total.sum())
    after_sum = int(scope.prices(applied.log).total.sum())
    assert before_sum - after_sum == int(applied.saving.displaced * 1_000_000)
    assert applied.saving.saved == 0


@given(log=logs(), chosen=st.lists(changes, max_size=3))
def test_what_if_replays_the_changed_demand(log: UsageLog, chosen: list[Change]) -> None:
    result = what_if(log, "plus", chosen, card=CARD, start=START, months=3)
    saved = sum((s.saved for s in result.savings), start=0)
    demand_before = sum(d.before for d in result.by_meter)
    demand_after = sum(d.after for d in result.by_meter)
    assert demand_before - demand_after == saved
    if not chosen:
        assert result.before.periods == result.after.periods
