"""Reading usage files column by column: the fast reader.

The reference reader (:mod:`codex_credits.io.usagerows`) checks one row at a
time. This reader splits a file, one chunk at a time, into columns
(:mod:`codex_credits.io.usagetables`) and converts each column with the exact
vectorised parsers of :mod:`codex_credits.io.columnparse`
(docs/usage-files.md, "How files are read"). Each chunk's good rows are
merged into the result (:mod:`codex_credits.io.usagemerge`) before the next
chunk is read, so memory grows with the result, not with the file.

Every row whose values the parsers cannot prove good goes, in file order, to
the reference :func:`~codex_credits.io.usagerows.row_values`, which converts it
or names the bad field. Both readers therefore give equal logs, summaries and
errors; property tests hold them to it. When a file is something only the
reference can report in order (text that is not UTF-8, no records, a number
beyond 64 bits), :func:`read_columns` returns None and the reference reads it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np

from codex_credits.core.usage import UsageLog
from codex_credits.io.columnparse import (
    BoolArray,
    IntArray,
    intern_labels,
    parse_bools,
    parse_decimals,
    parse_timestamps,
    text_column,
)
from codex_credits.io.usagemerge import Chunk, Merger
from codex_credits.io.usagerows import (
    INT_FIELDS,
    RowError,
    RowValues,
    row_error,
    row_values,
)
from codex_credits.io.usagetables import TEXT_FIELDS, Table, csv_tables, jsonl_tables

__all__ = ["convert_table", "gc_paused", "read_chunks", "read_columns"]

_TEXT_FIELDS = TEXT_FIELDS


def read_columns(
    path: Path, fmt: Literal["csv", "jsonl"], *, strict: bool = True
) -> UsageLog | None:
    """Read ``path`` column by column; None when only the reference reader may answer.

    Raises:
        UsageDataError: a bad header or (with ``strict``) a bad row.
        OSError: the file cannot be read.
    """
    merger = Merger(keep_event_ids=True)
    with gc_paused():
        for chunk in read_chunks(path, fmt, strict=strict):
            if chunk is None:
                return None
            merger.add(chunk)
    if not merger.rows:
        return None
    return merger.log()


def read_chunks(
    path: Path, fmt: Literal["csv", "jsonl"], *, strict: bool = True
) -> Iterator[Chunk | None]:
    """The checked rows of ``path``, one chunk at a time; None means "ask the reference".

    A None ends the chunks: the caller drops what it has and reads the file
    with the reference reader.
    """
    problems = 0
    tables = csv_tables(path) if fmt == "csv" else jsonl_tables(path)
    for table in tables:
        if table is None or not table.n:
            if table is None:
                yield None
                return
            continue
        chunk = _convert(table, path, strict, room=1000 - problems)
        if chunk is None:
            yield None
            return
        problems += len(chunk.problems)
        yield chunk


def convert_table(table: Table, path: Path, strict: bool, room: int) -> Chunk | None:
    """The checked rows of one table (None: a value beyond 64 bits; see :func:`read_chunks`)."""
    return _convert(table, path, strict, room)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while reading.

    Reading creates hundreds of thousands of small objects that live until the
    end and form no reference cycles; each collection would walk them all again.
    Memory is freed by reference counting as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- columns to a chunk ---------------------------------------------------------------------


def _convert(table: Table, path: Path, strict: bool, room: int) -> Chunk | None:
    n = table.n
    bad = table.flagged.copy()
    column = table.columns.get
    ts_us, b = _timestamps(column("timestamp"), n)
    bad |= b
    ccu, has_ccu, b = _numbers(column("ccu"), n, places=6)
    bad |= b
    ints: list[IntArray] = []
    present = np.zeros(n, dtype=np.bool_)
    for name in INT_FIELDS:
        values, given, b = _numbers(column(name), n, places=0)
        ints.append(values)
        present |= given
        bad |= b
    minutes, _, b = _numbers(column("sandbox_minutes"), n, places=6)
    bad |= b
    fast_values = column("fast")
    if fast_values is None:
        fast = np.zeros(n, dtype=np.bool_)
    else:
        fast, b = parse_bools(fast_values)
        bad |= b
    texts: dict[str, Sequence[str | None] | None] = {}
    for name in _TEXT_FIELDS:
        values_or_none = column(name)
        if values_or_none is None:
            texts[name] = None
            continue
        texts[name], b = text_column(values_or_none)
        bad |= b
    bad |= ints[4] > ints[3]  # cached input beyond input: the reference names it
    # A row with no amount and no meter is bad unless a meter cell or the model is given.
    idle = ~has_ccu & ~present & (minutes == 0) & ~bad
    model = column("model")
    for i in np.flatnonzero(idle).tolist():
        if model is None or model[i] is None or model[i] == "":
            bad[i] = True

    # Every row not proven good is read by the reference, in file order.
    errors: list[int] = []
    problems: list[str] = []
    patches: list[tuple[int, RowValues]] = []
    for i in np.flatnonzero(bad).tolist():
        try:
            checked = row_values(table.row(i))
        except RowError as exc:
            if strict or len(problems) < room:
                message, error = row_error(path, table.line(i), exc)
                if strict:
                    raise error from None
                problems.append(message)
            errors.append(i)
            continue
        if not _fits(checked):
            return None  # beyond 64 bits: only the reference can say whether that matters
        patches.append((i, checked))
    if patches:
        labels_of: dict[str, list[str | None]] = {}
        for name in _TEXT_FIELDS:
            current = texts[name]
            labels_of[name] = [None] * n if current is None else list(current)
        for i, (t, c, meters, m, sandbox_class, f, dims) in patches:
            ts_us[i] = t
            has_ccu[i] = c is not None
            ccu[i] = 0 if c is None else c
            for values, value in zip(ints, meters, strict=True):
                values[i] = value
            minutes[i] = m
            fast[i] = f
            labels_of["sandbox_class"][i] = sandbox_class
            for name, label in dims.items():
                labels_of[name][i] = label
        texts = dict(labels_of)
    return _chunk(table.n, errors, problems, ts_us, ccu, has_ccu, ints, minutes, fast, texts)


def _fits(values: RowValues) -> bool:
    """Whether every number of a row fits a 64-bit column."""
    ts_us, ccu_micro, meters, minutes_micro = values[:4]
    numbers = (ts_us, ccu_micro or 0, minutes_micro, *meters)
    return all(-(2**63) <= number < 2**63 for number in numbers)


def _chunk(
    n: int,
    errors: list[int],
    problems: list[str],
    ts_us: IntArray,
    ccu: IntArray,
    has_ccu: BoolArray,
    ints: list[IntArray],
    minutes: IntArray,
    fast: BoolArray,
    texts: dict[str, Sequence[str | None] | None],
) -> Chunk:
    """The good rows of a chunk; the first row with an event_id wins, later ones are counted."""
    keep = np.ones(n, dtype=np.bool_)
    keep[errors] = False
    kept = np.flatnonzero(keep)
    ids, id_labels = _labels(texts["event_id"], kept, n)
    first = np.zeros(len(ids), dtype=np.bool_)
    if len(id_labels) > 1:
        first[np.unique(ids, return_index=True)[1]] = True
        first |= ids == 0
    else:
        first[:] = True
    chosen = kept[first]
    columns: dict[str, Any] = {
        "ts_us": ts_us[chosen],
        "ccu_micro": ccu[chosen],
        "has_ccu": has_ccu[chosen],
        "sandbox_micro_minutes": minutes[chosen],
        "fast": fast[chosen],
    }
    for name, values in zip(INT_FIELDS, ints, strict=True):
        columns[name] = values[chosen]
    labels: dict[str, tuple[IntArray, tuple[str | None, ...]]] = {}
    for name in _TEXT_FIELDS:
        if name == "event_id":
            labels[name] = ids[first], id_labels
        else:
            labels[name] = _labels(texts[name], chosen, n)
    return Chunk(
        rows=n,
        skipped=len(errors),
        duplicates=int(len(ids) - len(chosen)),
        problems=problems,
        columns=columns,
        labels=labels,
    )


def _labels(
    values: Sequence[str | None] | None, index: IntArray, n: int
) -> tuple[IntArray, tuple[str | None, ...]]:
    """The interned labels of the rows at ``index`` (all None for an absent column)."""
    if values is None:
        return np.zeros(len(index), dtype=np.int64), (None,)
    if len(index) != n:
        values = [values[i] for i in index.tolist()]
    return intern_labels(values)


def _timestamps(values: Sequence[Any] | None, n: int) -> tuple[IntArray, BoolArray]:
    """(µs since the epoch, bad); anything but good text is the reference's to judge."""
    if values is None:
        return np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.bool_)
    if not set(map(type, values)) <= {str}:
        values = [v if type(v) is str else "" for v in values]
    us, good = parse_timestamps(values)
    return us, ~good


def _numbers(
    values: Sequence[Any] | None, n: int, *, places: int
) -> tuple[IntArray, BoolArray, BoolArray]:
    """(value in units of ``10**-places``, given, bad) of a column (absent: zeros)."""
    if values is None:
        zeros = np.zeros(n, dtype=np.bool_)
        return np.zeros(n, dtype=np.int64), zeros, zeros.copy()
    return parse_decimals(values, places)
