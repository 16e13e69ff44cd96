"""Defer and batch: the seed's queue, replayed on a log.

Theory of operation (docs/levers/batch.md). Selected tasks are grouped by
``key`` (default: repository, that is ``project_id``, and ``task_type``). In
each group, in time order, a batch opens with its first task and a timer of
``max_wait``; later tasks join while the batch has fewer than ``size`` tasks
and arrive before the timer fires. A full batch is dispatched when its last
task arrives; any other batch when the timer fires (first task + max_wait).
Every task of a batch moves to its dispatch time.

The batch builds its shared context once: every task but the first loses
``round(context x shared_share)`` context tokens (half-even, whole tokens),
taken from its input tokens (uncached first, then cached) or from its
reasoning tokens (CCU tasks whose context is not priced as input). ``shared_share`` is a
parameter; left out, it is estimated from the log where cached and uncached
input can be told apart (:func:`estimate_shared_share`), else the prior
:data:`SHARED_SHARE_PRIOR` (0.30, the midpoint of the seed's 20-40%).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import final

import numpy as np
import numpy.typing as npt

from codex_credits.core.logpricing import CACHED_CONTEXT
from codex_credits.core.units import quantize_ccu
from codex_credits.core.usage import UsageLog
from codex_credits.errors import ConfigError
from codex_credits.whatif.base import (
    Applied,
    Scope,
    Where,
    context_on_input,
    describe_where,
    dimension,
    finish,
    fraction_of,
    replace_columns,
    round_share,
    select,
)

__all__ = ["SHARED_SHARE_PRIOR", "Batch", "batch_members", "estimate_shared_share"]

SHARED_SHARE_PRIOR = Decimal("0.30")
"""The share of a batched task's context taken as shared when the log cannot tell."""

Int64Array = npt.NDArray[np.int64]


def estimate_shared_share(log: UsageLog) -> Decimal | None:
    """Cached input over input, over metered tasks with input tokens; None without any.

    Tokens a provider served from its cache were context seen before: the
    team's own measure of how much context repeats across its tasks.
    """
    metered = ~np.asarray(log.column("has_ccu"))
    inputs = np.asarray(log.column("input_tokens"), dtype=np.int64)[metered]
    total = int(inputs.sum())
    if total == 0:
        return None
    cached = int(np.asarray(log.column("cached_input_tokens"), dtype=np.int64)[metered].sum())
    return quantize_ccu(Decimal(cached) / Decimal(total))


def _heads(nxt: list[int], starts: list[int], ends: list[int], n: int) -> bytearray:
    """Mark the first task of every batch: follow each group's chain of batch starts.

    One step per batch (not per task), on plain lists: the chain is sequential by
    nature, and list steps are far cheaper than array calls of one element.
    """
    marks = bytearray(n)
    for i, end in zip(starts, ends, strict=True):
        while i < end:
            marks[i] = 1
            i = nxt[i]
    return marks


def batch_members(
    ts: Int64Array, group: Int64Array, size: int, max_wait_us: int
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """Form batches; returns ``(order, rank in batch, dispatch time)`` over ``order``.

    ``order`` sorts the tasks by (group, time); ``rank`` is 0 for the first
    task of its batch; ``dispatch`` is the batch's dispatch time.
    """
    n = ts.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if bool(np.all(ts[1:] >= ts[:-1])):  # a log is in time order: a stable sort by group will do
        order = np.argsort(group, kind="stable")
    else:
        order = np.lexsort((np.arange(n), ts, group))
    ts_s = ts[order]
    g_s = group[order]
    new_group = np.ones(n, dtype=np.bool_)
    new_group[1:] = g_s[1:] != g_s[:-1]
    starts = np.nonzero(new_group)[0]
    ends = np.append(starts[1:], n)
    gid = np.cumsum(new_group) - 1
    g_end = ends[gid]
    # Lay the groups end to end with a gap wider than max_wait, so one searchsorted finds,
    # for every task, the first task of its group that arrives once its timer has fired.
    span = ts_s[ends - 1] - ts_s[starts] + max_wait_us + 1
    offset = np.concatenate(([0], np.cumsum(span)[:-1]))
    line = ts_s - ts_s[starts][gid] + offset[gid]
    timer = np.searchsorted(line, line + max_wait_us, side="left")
    nxt = np.minimum(np.minimum(np.arange(n) + size, timer), g_end)
    nxt = np.maximum(nxt, np.arange(n) + 1)  # a batch holds at least its first task
    first = np.frombuffer(_heads(nxt.tolist(), starts.tolist(), ends.tolist(), n), dtype=np.bool_)
    batch = np.cumsum(first) - 1
    heads = np.nonzero(first)[0]
    counts = np.bincount(batch)
    last = heads + counts - 1
    dispatch_of = np.where(counts == size, ts_s[last], ts_s[heads] + max_wait_us)
    rank = np.arange(n) - heads[batch]
    return order, rank.astype(np.int64), dispatch_of[batch].astype(np.int64)


@final
@dataclass(frozen=True)
class Batch:
    """Group latency-tolerant tasks, dispatch them together, build their context once."""

    key: tuple[str, ...] = ("repository", "task_type")
    size: int = 5
    max_wait: timedelta = field(default=timedelta(seconds=30))
    where: Where = None
    shared_share: Decimal | int | str | None = None

    def describe(self) -> str:
        """One line for reports."""
        return (
            f"batch by {', '.join(self.key)}, {self.size} per batch, wait at most "
            f"{self.max_wait} ({describe_where(self.where)})"
        )

    def share(self, log: UsageLog) -> tuple[Decimal, str]:
        """The shared share used and where it came from."""
        if self.shared_share is not None:
            fraction_of(self.shared_share, "shared_share")
            return Decimal(str(self.shared_share)), "given"
        estimate = estimate_shared_share(log)
        if estimate is not None:
            return estimate, "estimated from the log's cached input"
        return SHARED_SHARE_PRIOR, "prior (seed: 20-40%)"

    def apply(self, log: UsageLog, scope: Scope) -> Applied:
        """Batch the selected tasks; see the module docs."""
        if self.size < 1:
            raise ConfigError(f"size must be at least 1, got {self.size}")
        if self.max_wait < timedelta(0):
            raise ConfigError(f"max_wait must be >= 0, got {self.max_wait}")
        share_value, source = self.share(log)
        names = [dimension(k) for k in self.key]
        chosen = np.nonzero(select(log, self.where))[0]
        group = np.zeros(chosen.size, dtype=np.int64)
        for name in names:
            width = len(log.labels(name))
            group = group * width + np.asarray(log.column(name), dtype=np.int64)[chosen]
        ts = np.asarray(log.timestamps_us, dtype=np.int64)
        wait_us = int(self.max_wait / timedelta(microseconds=1))
        order, rank, dispatch = batch_members(ts[chosen], group, self.size, wait_us)
        members = chosen[order]
        new_ts = ts.copy()
        new_ts[members] = dispatch
        later = np.zeros(len(log), dtype=np.bool_)
        later[members[rank > 0]] = True
        later &= ~np.asarray(log.column("has_ccu"))
        columns = self._amortise(log, scope, later)
        columns["ts_us"] = new_ts
        after = replace_columns(log, columns)
        batches = int((rank == 0).sum())
        note = f"{batches} batches; shared share {share_value} ({source})"
        return finish(
            self.describe(),
            log,
            after,
            scope,
            events=int(chosen.size),
            moved=int((new_ts != ts).sum()),
            note=note,
        )

    def _amortise(
        self, log: UsageLog, scope: Scope, later: npt.NDArray[np.bool_]
    ) -> dict[str, Int64Array]:
        share = fraction_of(self.share(log)[0], "shared_share")
        on_input = context_on_input(log, scope.card)
        inputs = np.asarray(log.column("input_tokens"), dtype=np.int64)
        cached = np.asarray(log.column("cached_input_tokens"), dtype=np.int64)
        reasoning = np.asarray(log.column("reasoning_tokens"), dtype=np.int64)
        by_input = later & on_input
        by_reasoning = later & ~on_input
        new_inputs = np.where(by_input, inputs - round_share(inputs, share), inputs)
        new_reasoning = np.where(by_reasoning, reasoning - round_share(reasoning, share), reasoning)
        columns: dict[str, Int64Array] = {
            "input_tokens": new_inputs,
            "cached_input_tokens": np.minimum(cached, new_inputs),
            "reasoning_tokens": new_reasoning,
        }
        try:
            old = np.asarray(log.column(CACHED_CONTEXT), dtype=np.int64)
            columns[CACHED_CONTEXT] = np.minimum(old, new_reasoning)
        except KeyError:
            pass
        return columns
