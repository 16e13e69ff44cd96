"""The tier's concurrent-task limit: a hand-computed trace and the rule's invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from codex_credits.core.usage import UsageEvent
from codex_credits.tasks.concurrency import hold_concurrency, schedule_tasks, simulate_tasks

T9 = datetime(2026, 1, 5, 9, tzinfo=UTC)
MIN = 60_000_000


def test_golden_trace_on_go_three_slots() -> None:
    # five 30-minute tasks at 09:00 and a 10-minute one at 09:10, three slots:
    # 1-3 run at once; 4 and 5 take the slots freed at 09:30; 6 takes the third at 09:30.
    starts = [0, 0, 0, 0, 0, 10 * MIN]
    durations = [30 * MIN] * 5 + [10 * MIN]
    waited = schedule_tasks(starts, durations, limit=3)
    assert [w // MIN for w in waited.waits] == [0, 0, 0, 30, 30, 20]
    assert [s // MIN for s in waited.starts] == [0, 0, 0, 30, 30, 30]
    refused = schedule_tasks(starts, durations, limit=3, on_full="refuse")
    assert refused.refused == (False, False, False, True, True, True)
    assert refused.waits == (0,) * 6


def test_a_slot_frees_at_the_instant_a_task_ends() -> None:
    assert schedule_tasks([0, 30], [30, 5], limit=1).waits == (0, 0)


def test_without_durations_or_limit_nothing_changes() -> None:
    starts = [5, 1, 3]
    assert schedule_tasks(starts, [None, None, 0], limit=1).starts == (5, 1, 3)
    assert schedule_tasks(starts, [9, 9, 9], limit=None).starts == (5, 1, 3)


TRACES = st.lists(st.tuples(st.integers(0, 100), st.integers(1, 40)), min_size=1, max_size=30)


@given(TRACES, st.integers(1, 4), st.sampled_from(["wait", "refuse"]))
def test_never_more_than_the_limit_at_once(
    trace: list[tuple[int, int]], limit: int, on_full: str
) -> None:
    starts = [s for s, _ in trace]
    durations = [d for _, d in trace]
    plan = schedule_tasks(starts, durations, limit, on_full)  # type: ignore[arg-type]
    runs = [
        (plan.starts[i], plan.starts[i] + durations[i])
        for i in range(len(trace))
        if not plan.refused[i]
    ]
    for at in {s for s, _ in runs}:
        assert sum(1 for s, e in runs if s <= at < e) <= limit
    assert all(w >= 0 for w in plan.waits)
    if on_full == "refuse":
        assert all(w == 0 for w in plan.waits)
    else:
        assert not any(plan.refused)
        # first come, first served: a task asking earlier never starts later
        order = sorted(range(len(trace)), key=lambda i: (starts[i], i))
        real = [plan.starts[i] for i in order]
        assert real == sorted(real)


@given(TRACES)
def test_a_task_waits_only_when_every_slot_is_busy(trace: list[tuple[int, int]]) -> None:
    starts = [s for s, _ in trace]
    durations = [d for _, d in trace]
    plan = schedule_tasks(starts, durations, 2)
    for i, wait in enumerate(plan.waits):
        if wait:
            busy = sum(
                1
                for j in range(len(trace))
                if j != i and plan.starts[j] <= starts[i] < plan.starts[j] + durations[j]
            )
            assert busy >= 2


def _five_tasks() -> list[UsageEvent]:
    return [UsageEvent(timestamp=T9, ccu=Decimal(1), event_id=f"t{i}") for i in range(5)]


def test_simulate_holds_go_to_three_tasks_and_reports_the_waits() -> None:
    minutes = [Decimal(30)] * 5
    run = simulate_tasks(_five_tasks(), minutes, "go", start=datetime(2026, 1, 1, tzinfo=UTC))
    period = run.to_dict()["periods"][0]
    assert period["concurrency_waits"] == 2
    assert period["concurrency_wait_minutes"] == Decimal(60)
    assert period["consumed"] == Decimal(5)
    assert run.hold.log.start == T9 and run.hold.log.end == T9 + timedelta(minutes=30)


def test_refused_tasks_cost_nothing() -> None:
    durations = {f"t{i}": timedelta(minutes=30) for i in range(5)}
    run = simulate_tasks(
        _five_tasks(), durations, "go", start=datetime(2026, 1, 1, tzinfo=UTC), on_full="refuse"
    )
    period = run.to_dict()["periods"][0]
    assert (period["concurrency_refused"], period["concurrency_refused_ccu"]) == (2, Decimal(2))
    assert period["consumed"] == Decimal(3)
    assert run.hold.refused_indices() == [3, 4]


def test_pro_is_unlimited_and_events_without_durations_are_untouched() -> None:
    held = hold_concurrency(_five_tasks(), [Decimal(30)] * 5, None)
    assert held.schedule.waited == 0
    held = hold_concurrency(_five_tasks(), [None] * 5, 1)
    assert list(held.log.timestamps_us) == list(
        hold_concurrency(_five_tasks(), [None] * 5, None).log.timestamps_us
    )


def test_durations_follow_the_events_given_and_may_be_end_instants() -> None:
    # given out of order: the 10-minute task asked at 09:10 is listed first
    events = [UsageEvent(timestamp=T9 + timedelta(minutes=10), ccu=Decimal(1))] + [
        UsageEvent(timestamp=T9, ccu=Decimal(1)) for _ in range(5)
    ]
    ends = [T9 + timedelta(minutes=20)] + [T9 + timedelta(minutes=30)] * 5
    held = hold_concurrency(events, ends, 3)
    assert [w // MIN for w in held.schedule.waits] == [0, 0, 0, 30, 30, 20]
