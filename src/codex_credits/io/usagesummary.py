"""Summarising a usage file of any size in bounded memory.

:func:`summarize_usage` reads a usage file chunk by chunk (as
:func:`~codex_credits.read_usage` does), prices each chunk on a card and adds
it to per-group totals, then drops it. Memory grows with the number of groups
(and of distinct ``event_id`` values, which de-duplication must remember), not
with the number of rows: a file without event ids is summarised in constant
memory, whatever its length. Rows, skipped rows, duplicates and problems are
counted exactly as :func:`~codex_credits.read_usage` counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import from_epoch_us
from codex_credits.core.usage import DIMENSIONS, LogSummary, UsageLog
from codex_credits.display import Displayed
from codex_credits.io.usagecolumns import read_chunks
from codex_credits.io.usagefile import guess_format, read_usage
from codex_credits.io.usagemerge import Merger

__all__ = ["GroupTotals", "UsageSummary", "summarize_usage"]

_US_PER = {"day": 86_400_000_000, "hour": 3_600_000_000}
_SUMS = (
    "ccu_micro",
    "reasoning_tokens",
    "tool_calls",
    "output_tokens",
    "input_tokens",
    "cached_input_tokens",
    "sandbox_micro_minutes",
)


@dataclass(repr=False)
class GroupTotals(Displayed):
    """Exact totals of one group: amounts in micro-units of the card's unit, counts."""

    tasks: int = 0
    ccu_micro: int = 0
    reasoning_tokens: int = 0
    tool_calls: int = 0
    output_tokens: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    sandbox_micro_minutes: int = 0


@dataclass(repr=False)
class UsageSummary(Displayed):
    """Totals by group (``groups[key]``) and what reading the file found (``summary``)."""

    by: str
    groups: dict[str | None, GroupTotals] = field(default_factory=dict)
    summary: LogSummary = field(default_factory=LogSummary)

    def add(self, log: UsageLog, card: RateCard) -> None:
        """Add every event of ``log``, priced on ``card``, to its group."""
        if not len(log):
            return
        keys, names = _keys(log, self.by)
        unique, inverse = np.unique(keys, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        starts = np.searchsorted(inverse[order], np.arange(len(unique)))
        counts = np.diff(np.append(starts, len(order)))
        sums: dict[str, list[int]] = {}
        for name in _SUMS:
            values = log.amounts_micro(card) if name == "ccu_micro" else log.column(name)
            sums[name] = _group_sums(np.asarray(values)[order], starts)
        for g, key in enumerate(unique.tolist()):
            totals = self.groups.setdefault(names(key), GroupTotals())
            totals.tasks += int(counts[g])
            for name in _SUMS:
                setattr(totals, name, getattr(totals, name) + sums[name][g])


def summarize_usage(
    path: str | Path,
    card: RateCard,
    *,
    by: str = "day",
    strict: bool = True,
    format: Literal["csv", "jsonl"] | None = None,
) -> UsageSummary:
    """Totals of a usage file by ``by``, in memory that does not grow with its rows.

    Args:
        path: a CSV or JSON Lines usage file (docs/usage-files.md).
        card: the rate card that prices events without ``ccu``.
        by: ``"day"`` or ``"hour"`` (UTC), ``"total"``, or a label in ``DIMENSIONS``.
        strict: raise on the first bad row (default), or skip and count bad rows.
        format: override the format guessed from the file name.

    Raises:
        UsageDataError: a bad row (with ``strict``), or a file that cannot be read.
    """
    if by not in ("day", "hour", "total", *DIMENSIONS):
        raise ValueError(f"by must be day, hour, total or one of {', '.join(DIMENSIONS)}")
    path = Path(path)
    fmt = format or guess_format(path)
    result = UsageSummary(by)
    merger = Merger(keep_event_ids=False)
    try:
        for chunk in read_chunks(path, fmt, strict=strict):
            if chunk is None:
                break
            columns = merger.add(chunk, keep=False)
            result.add(UsageLog(columns, merger.tables(), None), card)
        else:
            if merger.rows:
                result.summary = merger.summary()
                return result
    except (OSError, UnicodeDecodeError):
        pass  # read_usage reports it, with the file named
    # Only the reference reader can read this file: read it whole, then sum.
    log = read_usage(path, strict=strict, format=fmt)
    result = UsageSummary(by, summary=log.summary)
    result.add(log, card)
    return result


def _keys(log: UsageLog, by: str) -> tuple[npt.NDArray[Any], Any]:
    """Each event's group key, and a function from a key to its group's name."""
    if by in _US_PER:
        step = _US_PER[by]
        keys = np.asarray(log.timestamps_us) // step

        def instant(key: int) -> str:
            at = from_epoch_us(0) + timedelta(microseconds=key * step)
            return at.date().isoformat() if by == "day" else at.strftime("%Y-%m-%dT%H:00Z")

        return keys, instant
    if by == "total":
        return np.zeros(len(log), dtype=np.int64), lambda _: "total"
    table = log.labels(by)
    return np.asarray(log.column(by)), lambda code: table[code]


def _group_sums(values: npt.NDArray[Any], starts: npt.NDArray[Any]) -> list[int]:
    """Exact sums of consecutive runs of ``values`` starting at ``starts``."""
    if values.size and int(np.abs(values).max()) * values.size >= 2**63:
        bounds = [*starts.tolist(), values.size]
        every = values.tolist()
        return [sum(every[a:b]) for a, b in pairwise(bounds)]
    sums: list[int] = np.add.reduceat(values.astype(np.int64), starts).tolist()
    return sums
