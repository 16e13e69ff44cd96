"""Reading usage files column by column: the fast reader.

The reference reader (:mod:`codex_credits.io.usagerows`) checks one row at a
time. This reader reads the whole file at once, splits it into columns and
converts each column with the exact vectorised parsers of
:mod:`codex_credits.io.columnparse` (docs/usage-files.md, "How files are read"):

- **CSV.** A file with no quote character, no NUL and no lone carriage return
  (``\\r\\n`` line ends are fine) is a plain grid: ``csv.reader`` would split it
  at commas and line ends only, so the text is split the same way in one pass,
  without a list per record. Blank lines and records of the wrong width are
  found with NumPy and handled as the ``csv`` module would. Any other file goes
  through ``csv.reader`` and is then converted column by column all the same.
- **JSON Lines.** All lines are parsed in one ``orjson`` call (as one JSON
  array) when the file allows it, else line by line. A line holding a number
  with a fraction (which ``orjson`` reads as a binary float) is parsed again
  with ``json`` and ``Decimal``, so no amount is ever a float.

Every row whose values the parsers cannot prove good goes, in file order, to
the reference :func:`~codex_credits.io.usagerows.row_values`, which converts it
or names the bad field. Both readers therefore give equal logs, summaries and
errors; property tests hold them to it. When a file is something only the
reference can report in order (text that is not UTF-8, a ``csv`` error, no
records), :func:`read_columns` returns None and the reference reads it.
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from codex_credits.core.usage import DIMENSIONS, LogSummary, UsageLog
from codex_credits.io.columnparse import (
    BoolArray,
    IntArray,
    intern_labels,
    parse_bools,
    parse_decimals,
    parse_timestamps,
    text_column,
)
from codex_credits.io.usagerows import (
    BOM,
    INT_FIELDS,
    RowError,
    RowValues,
    check_header,
    jsonl_row,
    row_error,
    row_values,
)

__all__ = ["read_columns"]

try:  # orjson is the field's standard fast JSON parser; json is the fallback.
    import orjson

    _loads: Callable[[bytes | bytearray | str], Any] | None = orjson.loads
    _LoadError: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - exercised only without orjson installed
    _loads = None
    _LoadError = ValueError

_TEXT_FIELDS = (*DIMENSIONS, "sandbox_class")
_KNOWN = frozenset(("timestamp", "ccu", *INT_FIELDS, "sandbox_minutes", "fast", *_TEXT_FIELDS))
_EMPTY: Mapping[str, Any] = {}


class _Table:
    """The records of one file: columns by name, and any one row for the reference."""

    def __init__(
        self,
        columns: dict[str, list[Any]],
        row: Callable[[int], Mapping[str, Any]],
        line: Callable[[int], int],
        flagged: BoolArray,
    ) -> None:
        self.n = len(flagged)
        self.columns = columns
        self.row = row
        self.line = line
        self.flagged = flagged


def read_columns(
    path: Path, fmt: Literal["csv", "jsonl"], *, strict: bool = True
) -> UsageLog | None:
    """Read ``path`` column by column; None when only the reference reader may answer.

    Raises:
        UsageDataError: a bad header or (with ``strict``) a bad row.
        OSError: the file cannot be read.
    """
    with _gc_paused():
        try:
            table = _csv_table(path) if fmt == "csv" else _jsonl_table(path)
        except (UnicodeDecodeError, csv.Error):
            return None
        if table is None or not table.n:
            return None
        log = _convert(table, path, strict)
        del table  # free every record before the collector runs again
    return log


@contextmanager
def _gc_paused() -> Iterator[None]:
    # A million small objects would otherwise set off many needless collections.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- CSV ------------------------------------------------------------------------------------


def _csv_table(path: Path) -> _Table | None:
    data = path.read_bytes()
    if data.startswith(BOM):
        data = data[len(BOM) :]
    plain = _plain_csv_table(data, path)
    return plain if plain is not None else _csv_module_table(path)


def _plain_csv_table(data: bytes, path: Path) -> _Table | None:
    """The table of a plain grid (see the module docs), else None."""
    if b'"' in data or b"\x00" in data:
        return None
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
        if b"\r" in data:
            return None  # a lone carriage return ends a record for csv.reader
    end = data.find(b"\n")
    if not 0 <= end <= csv.field_size_limit():
        return None
    header = check_header(data[:end].decode("utf-8").split(","), path)
    width = len(header)
    body = data[end + 1 :]
    if width == 1 or not body:
        return None
    if not body.endswith(b"\n"):
        body += b"\n"
    raw = np.frombuffer(body, dtype=np.uint8)
    newline = raw == ord("\n")
    separators = np.flatnonzero(newline | (raw == ord(",")))
    if int(np.diff(separators, prepend=-1).max()) - 1 > csv.field_size_limit():
        return None  # csv.reader refuses such a field; the reference reports it
    ends = newline[separators]
    text = body.decode("utf-8")
    wrong: dict[int, str] = {}
    if separators.size % width == 0 and _is_grid(ends.reshape(-1, width)):
        fields = text.replace("\n", ",").split(",")
        fields.pop()  # after the last line feed
        lines = None
    else:
        line_of = np.cumsum(ends) - ends
        commas = np.bincount(line_of[~ends], minlength=int(ends.sum()))
        records = text.split("\n")
        records.pop()  # after the last line feed
        numbers: list[int] = []
        kept: list[str] = []
        odd = set(np.flatnonzero(commas != width - 1).tolist())
        for i, record in enumerate(records):
            if i in odd:
                if not record.strip():
                    continue  # a blank line
                wrong[len(kept)] = f"expected {width} columns, found {int(commas[i]) + 1}"
                record = "," * (width - 1)
            numbers.append(i + 2)
            kept.append(record)
        fields = ",".join(kept).split(",") if kept else []
        lines = numbers
    n = len(fields) // width
    position = {name: i for i, name in enumerate(header)}  # a repeated name: the last wins
    columns = {name: fields[i::width] for name, i in position.items() if name in _KNOWN}

    def row(i: int) -> Mapping[str, Any]:
        if i in wrong:
            return {"__error__": wrong[i]}
        return dict(zip(header, fields[i * width : (i + 1) * width], strict=True))

    flagged = np.zeros(n, dtype=np.bool_)
    flagged[list(wrong)] = True
    line = (lambda i: i + 2) if lines is None else lines.__getitem__
    return _Table(columns, row, line, flagged)


def _is_grid(ends: npt.NDArray[np.bool_]) -> bool:
    """Whether every line has exactly the header's width (the last separator ends it)."""
    return bool(ends[:, -1].all()) and not bool(ends[:, :-1].any())


def _csv_module_table(path: Path) -> _Table | None:
    """The table of any CSV file, split by ``csv.reader`` (quotes, odd line ends...)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        first = next(reader, None)
        if first is None:
            return None
        header = check_header(first, path)
        width = len(header)
        wrong: dict[int, str] = {}
        records: list[list[str]] = []
        lines: list[int] = []
        for values in reader:
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if len(values) != width:
                wrong[len(records)] = f"expected {width} columns, found {len(values)}"
                values = [""] * width
            records.append(values)
            lines.append(reader.line_num)
    flagged = np.zeros(len(records), dtype=np.bool_)
    flagged[list(wrong)] = True
    position = {name: i for i, name in enumerate(header)}  # a repeated name: the last wins
    every = list(zip(*records, strict=True)) if records else []
    columns = {name: list(every[i]) for name, i in position.items() if name in _KNOWN and every}

    def row(i: int) -> Mapping[str, Any]:
        if i in wrong:
            return {"__error__": wrong[i]}
        return dict(zip(header, records[i], strict=True))

    return _Table(columns, row, lines.__getitem__, flagged)


# -- JSON Lines -----------------------------------------------------------------------------


def _jsonl_table(path: Path) -> _Table | None:
    data = path.read_bytes()
    if data.startswith(BOM):
        data = data[len(BOM) :]
    texts: list[str] = []

    def text(number: int) -> str:
        """Line ``number`` as the reference reads it (line ends as ``newline=""`` keeps them)."""
        if not texts:
            texts.extend(io.StringIO(data.decode("utf-8"), newline="").readlines())
        return texts[number - 1]

    found = _jsonl_whole(data)
    if found is None:
        found = _jsonl_by_line(data)
    rows, lines, failed = found
    n = len(rows)
    flagged = np.zeros(n, dtype=np.bool_)
    flagged[failed] = True
    if set(map(type, rows)) != {dict}:
        flagged |= np.fromiter((type(r) is not dict for r in rows), np.bool_, n)
        rows = [r if type(r) is dict else _EMPTY for r in rows]
    columns = _dict_columns(rows)
    # A number with a fraction (or beyond 64 bits) came back as a float: parse again, exactly.
    again = sorted(
        {
            i
            for values in columns.values()
            if float in set(map(type, values))
            for i, value in enumerate(values)
            if type(value) is float
        }
    )
    for i in again:
        exact = jsonl_row(text(lines(i)))
        if exact is None or "__error__" in exact:
            flagged[i] = True
            continue
        for name, values in columns.items():
            values[i] = exact.get(name)

    def row(i: int) -> Mapping[str, Any]:
        found = jsonl_row(text(lines(i)))
        return _EMPTY if found is None else found  # (a blank line has no row)

    return _Table(columns, row, lines, flagged)


def _dict_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The known keys of ``rows`` as columns (``None`` where a row lacks a key).

    Rows written by one program share one key order; then the columns are one
    transposition of the rows' values, done in C.
    """
    if not rows:
        return {}
    shapes = set(map(tuple, rows))
    if len(shapes) == 1:
        (shape,) = shapes
        every = list(zip(*map(dict.values, rows), strict=True))
        return {name: list(every[i]) for i, name in enumerate(shape) if name in _KNOWN}
    keys = set().union(*shapes) & _KNOWN
    return {name: [r.get(name) for r in rows] for name in keys}


def _jsonl_whole(data: bytes) -> tuple[list[Any], Callable[[int], int], list[int]] | None:
    """Every line parsed in one call, as the elements of one JSON array; else None.

    A JSON text holds no raw line feed, so turning each into a comma makes the
    file an array of exactly one element per line, unless a line is blank,
    bad, or holds more than one value: then the parse fails or the count is
    off, and the file is read line by line instead.
    """
    if _loads is None or not data:
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone carriage return ends a line for the reference
    expected = data.count(b"\n") + (not data.endswith(b"\n"))
    body = data[:-1] if data.endswith(b"\n") else data
    buffer = b"".join((b"[", body.replace(b"\n", b","), b"]"))
    try:
        rows = _loads(buffer)
    except _LoadError:
        return None
    if type(rows) is not list or len(rows) != expected:
        return None
    return rows, lambda i: i + 1, []


def _jsonl_by_line(data: bytes) -> tuple[list[Any], Callable[[int], int], list[int]]:
    """Each non-blank line parsed alone; a line ``orjson`` refuses is left to the reference."""
    rows: list[Any] = []
    lines: list[int] = []
    failed: list[int] = []
    for number, text in enumerate(io.StringIO(data.decode("utf-8"), newline=""), start=1):
        if not text.strip():
            continue
        row: Any = _EMPTY
        try:
            if _loads is None:
                raise _LoadError
            row = _loads(text)
        except _LoadError:
            failed.append(len(rows))
        rows.append(row)
        lines.append(number)
    return rows, lines.__getitem__, failed


# -- columns to a log -----------------------------------------------------------------------


def _convert(table: _Table, path: Path, strict: bool) -> UsageLog | None:
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
            if strict or len(problems) < 1000:
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
    return _build(table.n, errors, problems, ts_us, ccu, has_ccu, ints, minutes, fast, texts)


def _fits(values: RowValues) -> bool:
    """Whether every number of a row fits a 64-bit column."""
    ts_us, ccu_micro, meters, minutes_micro = values[:4]
    numbers = (ts_us, ccu_micro or 0, minutes_micro, *meters)
    return all(-(2**63) <= number < 2**63 for number in numbers)


def _build(
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
) -> UsageLog:
    """The log of the good rows; the first row with an event_id wins, later ones are counted."""
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
    columns: dict[str, npt.NDArray[Any]] = {
        "ts_us": ts_us[chosen],
        "ccu_micro": ccu[chosen],
        "has_ccu": has_ccu[chosen],
        "sandbox_micro_minutes": minutes[chosen],
        "fast": fast[chosen],
    }
    for name, values in zip(INT_FIELDS, ints, strict=True):
        columns[name] = values[chosen]
    labels: dict[str, tuple[str | None, ...]] = {}
    for name in _TEXT_FIELDS:
        if name == "event_id":
            codes, labels[name] = ids[first], id_labels
        else:
            codes, labels[name] = _labels(texts[name], chosen, n)
        columns[name] = codes.astype(np.int32)
    summary = LogSummary(
        rows=n,
        events=len(chosen),
        skipped=len(errors),
        duplicates=int(len(ids) - len(chosen)),
        problems=tuple(problems),
    )
    return UsageLog(columns, labels, summary).sorted()


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
