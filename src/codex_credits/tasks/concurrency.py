"""The tier's concurrent-task limit, held: a task beyond it waits for a slot or is refused.

Theory of operation (docs/tasks/concurrency.md): a tier allows at most
``concurrency`` tasks at once (card data: free 1, go 3, plus 5, pro
unlimited). When usage events carry a duration, one pure rule decides when
each task really starts, *before* the credit rules see it:

* tasks are taken in order of their requested start (ties in input order);
* a task whose start finds a free slot starts then; slots free at the
  instant a task ends (an end equal to a start frees the slot in time);
* when every slot is busy, the task either **waits** for the earliest slot to
  free (first come, first served) or is **refused** (the caller chooses); a
  refused task takes no slot and costs nothing.

Events without a duration (None or 0) are not held: without durations
nothing changes. :func:`schedule_tasks` is the rule on integer microseconds;
:func:`hold_concurrency` applies it to a usage log as a pre-pass (the held log
goes to :func:`~codex_credits.core.simulate.simulate` unchanged in form), and
:func:`simulate_tasks` does both and reports waits and refusals per period.

>>> schedule_tasks([0, 0, 0], [10, 10, 10], limit=2).starts
(0, 0, 10)
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import numpy as np

from codex_credits.core.ratecard import RateCard
from codex_credits.core.statement import SimulationResult
from codex_credits.core.timeutil import epoch_us
from codex_credits.core.units import from_micro
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.display import Displayed

__all__ = [
    "ConcurrencyHold",
    "ConcurrencySchedule",
    "TaskSimulation",
    "hold_concurrency",
    "next_slot",
    "schedule_tasks",
    "simulate_tasks",
    "tier_concurrency",
]

OnFull = Literal["wait", "refuse"]
_US_PER_MINUTE = 60_000_000


def next_slot(busy_until: list[int], at: int, limit: int | None) -> int | None:
    """When a task asking at ``at`` can start, given the end times of running tasks.

    ``busy_until`` is a heap of end times (microseconds); ends at or before
    ``at`` are removed from it. Returns ``at`` when a slot is free, else the
    earliest end (the task would wait until then); None means unlimited.
    """
    while busy_until and busy_until[0] <= at:
        heapq.heappop(busy_until)
    if limit is None or len(busy_until) < limit:
        return at
    return busy_until[0]


@dataclass(frozen=True, repr=False)
class ConcurrencySchedule(Displayed):
    """Where :func:`schedule_tasks` put each task, in input order."""

    starts: tuple[int, ...]
    waits: tuple[int, ...]
    refused: tuple[bool, ...]

    @property
    def waited(self) -> int:
        """How many tasks waited for a slot."""
        return sum(1 for w in self.waits if w > 0)

    @property
    def refused_count(self) -> int:
        """How many tasks were refused."""
        return sum(self.refused)


def schedule_tasks(
    starts: Sequence[int],
    durations: Sequence[int | None],
    limit: int | None,
    on_full: OnFull = "wait",
) -> ConcurrencySchedule:
    """Hold ``limit`` concurrent tasks: the start of every task, its wait, its refusal.

    Args:
        starts: requested starts (any integer time unit), in any order.
        durations: each task's duration in the same unit; None or 0: not held.
        limit: the concurrent-task limit (None: unlimited, nothing changes).
        on_full: ``"wait"`` for the earliest slot, or ``"refuse"`` the task.
    """
    if len(starts) != len(durations):
        raise ValueError(f"{len(starts)} starts but {len(durations)} durations")
    if on_full not in ("wait", "refuse"):
        raise ValueError(f"on_full must be 'wait' or 'refuse', got {on_full!r}")
    new = list(starts)
    refused = [False] * len(starts)
    if limit is not None:
        busy: list[int] = []
        for i in sorted(range(len(starts)), key=starts.__getitem__):
            duration = durations[i]
            if not duration:
                continue
            at = next_slot(busy, starts[i], limit)
            assert at is not None
            if at > starts[i]:
                if on_full == "refuse":
                    refused[i] = True
                    continue
                heapq.heappop(busy)
            new[i] = at
            heapq.heappush(busy, at + duration)
    waits = tuple(n - s for n, s in zip(new, starts, strict=True))
    return ConcurrencySchedule(starts=tuple(new), waits=waits, refused=tuple(refused))


def tier_concurrency(card: RateCard, tier: str) -> int | None:
    """The tier's concurrent-task limit on ``card`` (None: unlimited)."""
    return card.tier(tier).concurrency


@dataclass(frozen=True, repr=False)
class ConcurrencyHold(Displayed):
    """A usage log after the concurrency rule: what moved, waited and was refused.

    ``log`` holds the events that run, at their real starts, sorted by time;
    ``source[i]`` is the index in the input log of ``log``'s event ``i``.
    """

    log: UsageLog
    source: np.ndarray[Any, np.dtype[np.int64]]
    schedule: ConcurrencySchedule
    limit: int | None

    @property
    def total_wait(self) -> timedelta:
        """The sum of every task's wait."""
        return timedelta(microseconds=sum(self.schedule.waits))

    def refused_indices(self) -> list[int]:
        """Indices (in the input log) of the refused tasks."""
        return [i for i, r in enumerate(self.schedule.refused) if r]


Durations = (
    Sequence[timedelta | datetime | Decimal | int | None] | Mapping[str, timedelta | datetime]
)
"""Per event: a ``timedelta``, minutes, or the task's end (a ``datetime``); or by ``event_id``."""


def _durations_us(log: UsageLog, durations: Durations) -> list[int | None]:
    starts = log.timestamps_us.tolist()

    def us(value: timedelta | datetime | Decimal | int | None, start: int) -> int | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return max(epoch_us(value) - start, 0)
        if isinstance(value, timedelta):
            return value // timedelta(microseconds=1)
        return int(Decimal(value) * _US_PER_MINUTE)  # minutes

    if isinstance(durations, Mapping):
        ids = log.dimension_values("event_id")
        return [
            us(durations.get(i), s) if i is not None else None
            for i, s in zip(ids, starts, strict=True)
        ]
    if len(durations) != len(log):
        raise ValueError(f"{len(durations)} durations for a log of {len(log)} events")
    return [us(d, s) for d, s in zip(durations, starts, strict=True)]


def hold_concurrency(
    events: UsageLog | Iterable[UsageEvent],
    durations: Durations,
    limit: int | None,
    on_full: OnFull = "wait",
) -> ConcurrencyHold:
    """The pre-pass: move each task to its real start, drop the refused ones.

    Args:
        events: the usage, one event per task.
        durations: per event (in the order of ``events``; for a
            :class:`UsageLog`, its time order), a ``timedelta``,
            minutes, or the task's end instant; or a mapping of ``event_id`` to
            either.
        limit: concurrent tasks allowed (see :func:`tier_concurrency`).
        on_full: ``"wait"`` or ``"refuse"``.
    """
    log, durations = _aligned(events, durations)
    ts = log.timestamps_us.tolist()
    schedule = schedule_tasks(ts, _durations_us(log, durations), limit, on_full)
    keep = np.array([not r for r in schedule.refused], dtype=np.bool_)
    new_ts = np.array(schedule.starts, dtype=np.int64)
    kept = np.nonzero(keep)[0]
    order = kept[np.argsort(new_ts[kept], kind="stable")]
    columns = {name: np.ascontiguousarray(log.column(name)[order]) for name in _columns(log)}
    columns["ts_us"] = np.ascontiguousarray(new_ts[order])
    labels = {name: log.labels(name) for name in _label_names(log)}
    held = UsageLog(columns, labels)
    return ConcurrencyHold(log=held, source=order.astype(np.int64), schedule=schedule, limit=limit)


def _aligned(
    events: UsageLog | Iterable[UsageEvent], durations: Durations
) -> tuple[UsageLog, Durations]:
    """The log, and durations in its (time) order: a list given with events follows them."""
    if isinstance(events, UsageLog):
        return events, durations
    items = list(events)
    order = sorted(range(len(items)), key=lambda i: items[i].timestamp)
    if not isinstance(durations, Mapping):
        if len(durations) != len(items):
            raise ValueError(f"{len(durations)} durations for {len(items)} events")
        durations = [durations[i] for i in order]
    return UsageLog.from_events(items[i] for i in order), durations


def _columns(log: UsageLog) -> list[str]:
    return list(log._columns)


def _label_names(log: UsageLog) -> list[str]:
    return list(log._labels)


@dataclass(frozen=True, repr=False)
class TaskSimulation(Displayed):
    """A simulation run after the concurrency rule, with waits and refusals per period."""

    result: SimulationResult
    hold: ConcurrencyHold
    periods: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """The simulation's statements, each with its concurrency figures."""
        data = self.result.to_dict()
        for statement, extra in zip(data["periods"], self.periods, strict=True):
            statement.update(extra)
        data["totals"].update(
            {
                k: sum((p[k] for p in self.periods), type(self.periods[0][k])(0))
                for k in self.periods[0]
            }
            if self.periods
            else {}
        )
        return data


def simulate_tasks(
    events: UsageLog | Iterable[UsageEvent],
    durations: Durations,
    account: str = "pro",
    *,
    card: RateCard | str | None = None,
    on_full: OnFull = "wait",
    limit: int | None = None,
    **simulate_args: Any,
) -> TaskSimulation:
    """:func:`~codex_credits.core.simulate.simulate` with the tier's concurrency held first.

    ``limit`` defaults to the tier's ``concurrency`` on the card. Other
    keyword arguments go to ``simulate``. Each period reports
    ``concurrency_waits`` (tasks that waited), ``concurrency_wait_minutes``,
    ``concurrency_refused`` and ``concurrency_refused_ccu``, counted in the
    period of the task's requested start.
    """
    from codex_credits.core.simulate import simulate

    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    log, durations = _aligned(events, durations)
    if limit is None:
        limit = tier_concurrency(rate_card, account)
    hold = hold_concurrency(log, durations, limit, on_full)
    result = simulate(hold.log, account, card=rate_card, **simulate_args)
    amounts = log.amounts_micro(rate_card)
    ts = log.timestamps_us
    waits = np.array(hold.schedule.waits, dtype=np.int64)
    refused = np.array(hold.schedule.refused, dtype=np.bool_)
    tallies = []
    for statement in result.periods:
        lo, hi = np.searchsorted(ts, [epoch_us(statement.start), epoch_us(statement.end)])
        w, r = waits[lo:hi][~refused[lo:hi]], refused[lo:hi]
        tallies.append(
            {
                "concurrency_waits": int(np.count_nonzero(w)),
                "concurrency_wait_minutes": Decimal(int(w.sum())) / _US_PER_MINUTE,
                "concurrency_refused": int(np.count_nonzero(r)),
                "concurrency_refused_ccu": from_micro(int(amounts[lo:hi][r].sum())),
            }
        )
    return TaskSimulation(result=result, hold=hold, periods=tuple(tallies))
