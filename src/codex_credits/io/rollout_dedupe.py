"""Requests de-duplicated across rollout files, and the usage log they make.

:class:`Deduplicator` takes each file's :class:`~codex_credits.io.rollout_records.FileResult`
in file order and counts each request once (the rules are stated in
:mod:`codex_credits.io.rollout`). A counted request is kept as the candidate
tuple itself (:data:`~codex_credits.io.rollout_records.Packed`), one list
append; the log's columns are made at the end from that list turned into
columns in one step (NumPy arrays, labels coded through one dictionary), not
one builder call per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain, islice
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from codex_credits.core.usage import DIMENSIONS, LogSummary, UsageLog
from codex_credits.io.bounds import MAX_INT64
from codex_credits.io.rollout_records import (
    CACHE_WRITE,
    FAST,
    KEY_FULL,
    KEY_TOTALS,
    LINE,
    MODEL,
    PAIRED,
    PATH,
    PROJECT,
    RESPONSE_ID,
    SESSION,
    SUSPECT,
    TOOLS,
    TS_US,
    USAGE,
    FileResult,
    Packed,
    WindowObservation,
)

__all__ = ["COUNTS", "MAX_INT64", "Coded", "Deduplicator"]

PROBLEM_LIMIT = 1000

COUNTS = (
    "lines",
    "bad_lines",
    "bad_rate_limits",
    "unreadable",
    "token_count_events",
    "repeated_totals",
    "total_resets",
    "usage_records",
    "copied_requests",
    "requests",
    "before_since",
    "unknown_records",
    "unattributed_tool_calls",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "cache_write_input_tokens",
    "tool_calls",
)
"""The counters of a reading, in the order of ``RolloutSummary``'s fields."""


class Deduplicator:
    """Cross-file de-duplication; :meth:`finish` gives the log and the counters."""

    def __init__(self, since_us: int | None) -> None:
        self.since_us = since_us
        self.problems: list[str] = []
        self.skipped = 0
        # the counted requests, in the order counted; a row is an index here
        self.rows: list[Packed] = []
        # row -> more tool calls than its tuple says (a later copy held more)
        self.tools: dict[int, int] = {}
        # key -> row of the counted event (-1: counted, but before ``since``)
        self.seen_full: dict[int, int] = {}
        self.seen_totals: dict[int, int] = {}
        self.seen_responses: dict[int, int] = {}
        self.deferred: list[Packed] = []
        self.windows: dict[tuple[str, int], WindowObservation] = {}
        self.counts = dict.fromkeys(COUNTS, 0)
        # running token totals of the counted requests (no total may pass MAX_INT64)
        self.inp = self.out = self.reasoning = self.cache_write = 0

    def unreadable(self, problems: list[str]) -> None:
        """Count folders that could not be read."""
        self.counts["unreadable"] += len(problems)
        self._note(problems)

    def _note(self, problems: Iterable[str]) -> None:
        kept = self.problems
        kept.extend(islice(problems, max(0, PROBLEM_LIMIT - len(kept))))

    def add_file(self, result: FileResult) -> None:
        """Count one file's requests (files must come in file order)."""
        c = self.counts
        c["lines"] += result.lines
        c["bad_lines"] += result.bad_lines
        c["bad_rate_limits"] += result.bad_rate_limits
        c["unreadable"] += result.unreadable
        c["token_count_events"] += result.token_counts
        c["repeated_totals"] += result.repeats
        c["total_resets"] += result.resets
        c["usage_records"] += result.records
        c["copied_requests"] += result.duplicate_records
        c["unknown_records"] += result.unknown
        c["unattributed_tool_calls"] += result.unattributed_tools
        self.skipped += result.bad_lines
        if result.problems:
            self._note(result.problems)
        for key, seen in result.windows.items():
            mine = self.windows.get(key)
            if mine is None or mine.observed_us <= seen.observed_us:
                self.windows[key] = seen
        self._count(result.candidates)

    def _count(self, candidates: Sequence[Packed]) -> None:
        """Count each of one file's candidates once, or hold it back (copied history)."""
        seen_full = self.seen_full
        seen_totals = self.seen_totals
        for candidate in candidates:
            if candidate[RESPONSE_ID] is not None:
                self._record(candidate)
            elif candidate[SUSPECT]:
                self.deferred.append(candidate)
            else:  # the usual request: counted unless its triple was
                key = candidate[KEY_FULL]
                row = seen_full.get(key)
                if row is not None:
                    self._copied(row, candidate)
                    continue
                row = self._emit(candidate)
                seen_full[key] = row
                seen_totals[candidate[KEY_TOTALS]] = row

    def _once(self, candidate: Packed) -> None:
        """Count a copied-history ``candidate`` unless its triple or its pair was counted."""
        row = self.seen_full.get(candidate[KEY_FULL])
        if row is None:
            row = self.seen_totals.get(candidate[KEY_TOTALS])
        if row is not None:
            self._copied(row, candidate)
            return
        row = self._emit(candidate)
        self.seen_full[candidate[KEY_FULL]] = row
        self.seen_totals[candidate[KEY_TOTALS]] = row

    def _record(self, record: Packed) -> None:
        """A per-response record: once per response id, and once with its token_count."""
        key = record[KEY_FULL]
        row = self.seen_responses.get(key)
        paired = record[PAIRED]
        if row is None and paired is not None:
            # a copy of the token_count alone may have been counted already
            row = self.seen_full.get(paired[0])
        if row is not None:
            self.seen_responses[key] = row
            self._copied(row, record)
            return
        row = self._emit(record)
        self.seen_responses[key] = row
        if paired is not None:
            self.seen_full[paired[0]] = row
            self.seen_totals[paired[1]] = row

    def _copied(self, row: int, candidate: Packed) -> None:
        """A second sighting of a counted request: count it, keep the fuller tool count.

        A copy made mid-request holds only the tool calls written before the
        copy; the original (or a later copy) may hold more.
        """
        self.counts["copied_requests"] += 1
        if row >= 0:
            tools = candidate[TOOLS]
            if tools > self.tools.get(row, self.rows[row][TOOLS]):
                self.tools[row] = tools

    def _emit(self, candidate: Packed) -> int:
        """Count ``candidate`` as an event; returns its row (-1 when before ``since``)."""
        if self.since_us is not None and candidate[TS_US] < self.since_us:
            self.counts["before_since"] += 1
            return -1
        inp, _, out, reasoning, _ = candidate[USAGE]
        inp += self.inp
        out += self.out
        reasoning += self.reasoning
        cache_write = self.cache_write + candidate[CACHE_WRITE]
        if inp > MAX_INT64 or out > MAX_INT64 or reasoning > MAX_INT64 or cache_write > MAX_INT64:
            self.counts["bad_lines"] += 1
            self.skipped += 1
            self._note(
                [
                    f"{candidate[PATH]}:{candidate[LINE]}: the request would carry the token "
                    f"totals past {MAX_INT64}; it is skipped"
                ]
            )
            return -1
        self.inp, self.out, self.reasoning, self.cache_write = inp, out, reasoning, cache_write
        rows = self.rows
        rows.append(candidate)
        return len(rows) - 1

    def finish(self) -> tuple[UsageLog, dict[str, int], int]:
        """The log (sorted by time), the counters and the number of sessions."""
        numbers, labelled = self._columns()
        c = self.counts
        n = len(numbers["ts_us"])
        c["requests"] = n
        c["input_tokens"] = self.inp
        c["output_tokens"] = self.out
        c["reasoning_output_tokens"] = self.reasoning
        c["cache_write_input_tokens"] = self.cache_write
        c["cached_input_tokens"] = int(numbers["cached_input_tokens"].sum())
        c["tool_calls"] = int(numbers["tool_calls"].sum())
        zeros = np.zeros(n, dtype=np.int64)
        columns: dict[str, npt.NDArray[Any]] = {
            "ccu_micro": zeros,
            "has_ccu": np.zeros(n, dtype=np.bool_),
            "sandbox_micro_minutes": zeros.copy(),
            **numbers,
        }
        labels: dict[str, tuple[str | None, ...]] = {}
        for name in (*DIMENSIONS, "sandbox_class"):
            columns[name], labels[name] = labelled.get(name) or _coded([], n)
        summary = LogSummary(rows=n, events=n, skipped=self.skipped, problems=tuple(self.problems))
        log = UsageLog(columns, labels, summary).sorted()
        sessions = len(np.unique(columns["session_id"]))
        return log, c, sessions

    def _columns(self) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Coded]]:
        """Count the held-back copied history, earliest first; the counted rows as columns."""
        self.deferred.sort(key=itemgetter(TS_US))
        for candidate in self.deferred:
            self._once(candidate)
        self.deferred = []
        n = len(self.rows)
        fields = list(zip(*self.rows, strict=True)) if n else [()] * (USAGE + 1)
        self.rows = []
        meters = np.fromiter(chain.from_iterable(fields[USAGE]), dtype=np.int64, count=5 * n)
        meters = meters.reshape(n, 5)
        tool_calls = np.fromiter(fields[TOOLS], dtype=np.int64, count=n)
        for row, tools in self.tools.items():
            tool_calls[row] = tools
        numbers = {
            "ts_us": np.fromiter(fields[TS_US], dtype=np.int64, count=n),
            "fast": np.fromiter(fields[FAST], dtype=np.bool_, count=n),
            "reasoning_tokens": meters[:, 3].copy(),
            "tool_calls": tool_calls,
            "output_tokens": meters[:, 2].copy(),
            "input_tokens": meters[:, 0].copy(),
            "cached_input_tokens": meters[:, 1].copy(),
        }
        labelled = {
            "model": _coded(list(fields[MODEL]), n),
            "session_id": _coded(list(fields[SESSION]), n),
            "project_id": _coded(list(fields[PROJECT]), n),
        }
        return numbers, labelled


Coded = tuple[npt.NDArray[Any], tuple[str | None, ...]]
"""A label column: codes (0 is None) and the labels they stand for."""


def _coded(values: list[str | None], n: int) -> Coded:
    """A label column as codes (in order of first appearance, 0 is None) and its labels."""
    if not values:
        return np.zeros(n, dtype=np.int32), (None,)
    index = {value: code for code, value in enumerate(dict.fromkeys((None, *values)))}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=n)
    return codes, tuple(index)
