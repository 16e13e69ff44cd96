"""Merging the checked chunks of a usage file into one log (or one running summary).

Each chunk interns its labels on its own; :class:`Merger` maps them onto one
label table per dimension, drops a row whose ``event_id`` an earlier chunk
already holds (the first row with an id wins, in file order, as in the
reference reader) and counts rows, skipped rows, duplicates and problems.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from codex_credits.core.usage import LogSummary, UsageLog, compact_column, join_columns
from codex_credits.io.columnparse import IntArray
from codex_credits.io.usagetables import TEXT_FIELDS

__all__ = ["Chunk", "Merger"]

_PROBLEM_LIMIT = 1000


@dataclass
class Chunk:
    """The good rows of one chunk: value columns and (local codes, label table) per label."""

    rows: int
    skipped: int
    duplicates: int
    problems: list[str]
    columns: dict[str, npt.NDArray[Any]]
    labels: dict[str, tuple[IntArray, tuple[str | None, ...]]]


class Merger:
    """One label table per dimension across chunks, and the counts of the whole file."""

    def __init__(self, *, keep_event_ids: bool = True) -> None:
        self.index: dict[str, dict[str | None, int]] = {name: {None: 0} for name in TEXT_FIELDS}
        self.keep_event_ids = keep_event_ids
        self.rows = 0
        self.skipped = 0
        self.duplicates = 0
        self.problems: list[str] = []
        self.parts: dict[str, list[npt.NDArray[Any]]] = {}

    def add(self, chunk: Chunk, *, keep: bool = True) -> dict[str, npt.NDArray[Any]]:
        """The chunk's new events as columns with the merged label codes.

        With ``keep`` (the default) they are also kept for :meth:`log`.
        """
        self.rows += chunk.rows
        self.skipped += chunk.skipped
        self.duplicates += chunk.duplicates
        room = _PROBLEM_LIMIT - len(self.problems)
        self.problems.extend(chunk.problems[: max(0, room)])
        ids, id_table = chunk.labels["event_id"]
        known = self.index["event_id"]
        seen = np.fromiter((label in known for label in id_table), np.bool_, len(id_table))
        seen[0] = False
        select: npt.NDArray[Any] | None = None
        if seen.any():
            repeated = seen[ids]
            self.duplicates += int(repeated.sum())
            select = np.flatnonzero(~repeated)
        columns = {
            name: values if select is None else values[select]
            for name, values in chunk.columns.items()
        }
        for name, (codes, table) in chunk.labels.items():
            index = self.index[name]
            if name == "event_id" and not self.keep_event_ids:
                index.update(dict.fromkeys(table, 0))  # only which ids were seen matters
                merged = np.zeros(len(codes), dtype=np.int32)
            else:
                remap = np.fromiter(
                    (index.setdefault(label, len(index)) for label in table), np.int32, len(table)
                )
                merged = remap[codes]
            columns[name] = merged if select is None else merged[select]
        if keep:
            for name, values in columns.items():
                self.parts.setdefault(name, []).append(compact_column(values))
        return columns

    def tables(self, names: Iterable[str] = TEXT_FIELDS) -> dict[str, tuple[str | None, ...]]:
        """The merged label table of each dimension (code ``i`` is ``table[i]``)."""
        return {
            name: (None,)
            if name == "event_id" and not self.keep_event_ids
            else tuple(self.index[name])
            for name in names
        }

    def summary(self) -> LogSummary:
        """The counts of everything added so far."""
        events = self.rows - self.skipped - self.duplicates
        return LogSummary(
            rows=self.rows,
            events=events,
            skipped=self.skipped,
            duplicates=self.duplicates,
            problems=tuple(self.problems),
        )

    def log(self) -> UsageLog:
        """The log of every kept event, sorted (docs/usage-files.md, "Order")."""
        columns: dict[str, npt.NDArray[Any]] = {}
        for name in list(self.parts):
            pieces = self.parts.pop(name)
            columns[name] = join_columns(pieces)
            del pieces
        return UsageLog(columns, self.tables(), self.summary()).sorted()
