"""Building a :class:`~codex_credits.core.usage.UsageLog` column by column.

Readers append one event at a time as plain values (no pydantic model per row):
labels are interned into integer codes as they come, duplicate event ids are
counted and skipped, and :meth:`UsageLogBuilder.build` makes the columns once
and sorts the log by time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from codex_credits.core.timeutil import epoch_us
from codex_credits.core.units import to_micro
from codex_credits.core.usage import UsageLog
from codex_credits.core.usageevent import DIMENSIONS, INT_METERS, LogSummary, UsageEvent

__all__ = ["UsageLogBuilder"]


class _Labels:
    """Interned string column: integer codes plus a label table (code 0 is None)."""

    __slots__ = ("codes", "index", "labels")

    def __init__(self) -> None:
        self.labels: list[str | None] = [None]
        self.index: dict[str | None, int] = {None: 0}
        self.codes: list[int] = []

    def append(self, value: str | None) -> None:
        code = self.index.get(value)
        if code is None:
            code = len(self.labels)
            self.index[value] = code
            self.labels.append(value)
        self.codes.append(code)


@dataclass
class UsageLogBuilder:
    """Append events column by column, then :meth:`build` a :class:`UsageLog`.

    Readers use it to avoid building a pydantic model per row. Values must be
    valid already (readers check them and name file, line and field).
    """

    ts_us: list[int] = field(default_factory=list)
    ccu_micro: list[int] = field(default_factory=list)
    has_ccu: list[bool] = field(default_factory=list)
    meters: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in INT_METERS})
    sandbox_micro_minutes: list[int] = field(default_factory=list)
    fast: list[bool] = field(default_factory=list)
    labels: dict[str, _Labels] = field(
        default_factory=lambda: {k: _Labels() for k in (*DIMENSIONS, "sandbox_class")}
    )
    seen_ids: set[str] = field(default_factory=set)
    summary_rows: int = 0
    summary_skipped: int = 0
    summary_duplicates: int = 0
    problems: list[str] = field(default_factory=list)

    def add(
        self,
        ts_us: int,
        *,
        ccu_micro: int | None = None,
        reasoning_tokens: int = 0,
        tool_calls: int = 0,
        output_tokens: int = 0,
        input_tokens: int = 0,
        cached_input_tokens: int = 0,
        sandbox_micro_minutes: int = 0,
        sandbox_class: str | None = None,
        fast: bool = False,
        **dims: str | None,
    ) -> bool:
        """Append one event; returns False (and counts it) for a duplicate event_id."""
        event_id = dims.get("event_id")
        if event_id is not None:
            if event_id in self.seen_ids:
                self.summary_duplicates += 1
                return False
            self.seen_ids.add(event_id)
        self.ts_us.append(ts_us)
        self.has_ccu.append(ccu_micro is not None)
        self.ccu_micro.append(ccu_micro or 0)
        meters = self.meters
        meters["reasoning_tokens"].append(reasoning_tokens)
        meters["tool_calls"].append(tool_calls)
        meters["output_tokens"].append(output_tokens)
        meters["input_tokens"].append(input_tokens)
        meters["cached_input_tokens"].append(cached_input_tokens)
        self.sandbox_micro_minutes.append(sandbox_micro_minutes)
        self.fast.append(fast)
        self.labels["sandbox_class"].append(sandbox_class)
        for name in DIMENSIONS:
            self.labels[name].append(dims.get(name))
        return True

    def add_event(self, event: UsageEvent) -> bool:
        """Append a validated :class:`UsageEvent`."""
        return self.add(
            epoch_us(event.timestamp),
            ccu_micro=None if event.ccu is None else to_micro(event.ccu),
            reasoning_tokens=event.reasoning_tokens,
            tool_calls=event.tool_calls,
            output_tokens=event.output_tokens,
            input_tokens=event.input_tokens,
            cached_input_tokens=event.cached_input_tokens,
            sandbox_micro_minutes=to_micro(event.sandbox_minutes),
            sandbox_class=event.sandbox_class,
            fast=event.fast,
            **{name: getattr(event, name) for name in DIMENSIONS},
        )

    def skip(self, problem: str) -> None:
        """Count a row that could not be read, keeping its message."""
        self.summary_skipped += 1
        if len(self.problems) < 1000:
            self.problems.append(problem)

    def build(self) -> UsageLog:
        """The finished log, sorted by time (stable: ties keep their file order)."""
        n = len(self.ts_us)
        summary = LogSummary(
            rows=self.summary_rows,
            events=n,
            skipped=self.summary_skipped,
            duplicates=self.summary_duplicates,
            problems=tuple(self.problems),
        )
        columns: dict[str, npt.NDArray[Any]] = {
            "ts_us": np.array(self.ts_us, dtype=np.int64),
            "ccu_micro": np.array(self.ccu_micro, dtype=np.int64),
            "has_ccu": np.array(self.has_ccu, dtype=np.bool_),
            "sandbox_micro_minutes": np.array(self.sandbox_micro_minutes, dtype=np.int64),
            "fast": np.array(self.fast, dtype=np.bool_),
        }
        for name, values in self.meters.items():
            columns[name] = np.array(values, dtype=np.int64)
        labels: dict[str, tuple[str | None, ...]] = {}
        for name, column in self.labels.items():
            columns[name] = np.array(column.codes, dtype=np.int32)
            labels[name] = tuple(column.labels)
        log = UsageLog(columns, labels, summary)
        return log.sorted()
