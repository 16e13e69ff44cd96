"""Reading usage files column by column: the fast reader.

The reference reader (:mod:`codex_credits.io.usagerows`) checks one row at a
time. This reader reads the whole file first (the ``csv`` module for CSV;
``orjson`` for JSON Lines), then converts each column at once with NumPy:

- timestamps of the common shapes (``YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]`` then
  ``Z`` or ``±HH:MM``) are checked character by character, calendar included,
  and turned into µs since the epoch with integer arithmetic;
- decimal text (digits, at most one point, at most six places) becomes integer
  micro-units exactly, digit by digit; whole numbers likewise;
- labels are interned once per distinct text.

Any value outside those shapes (an exponent, a sign, spaces, a seventh place,
another timestamp form, a JSON number with a fraction...) is not guessed at:
its whole row goes to the reference :func:`~codex_credits.io.usagerows.row_values`,
which either converts it or names the bad field. So both readers give equal logs,
summaries and errors (docs/usage-files.md); property tests hold them to it.

JSON numbers with a fraction are never read as binary floats: a line whose
``orjson`` parse holds a float is parsed again with ``json`` and ``Decimal``.
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from codex_credits.core.usage import DIMENSIONS, LogSummary, UsageLog
from codex_credits.io.usagerows import (
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

    _loads: Callable[[str], Any] | None = orjson.loads
    _LoadError: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - exercised only without orjson installed
    _loads = None
    _LoadError = ValueError

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_TEXT_FIELDS = (*DIMENSIONS, "sandbox_class")
_KNOWN = frozenset(("timestamp", "ccu", *INT_FIELDS, "sandbox_minutes", "fast", *_TEXT_FIELDS))
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})
_JSON_PLAIN = (str, int, bool, type(None))
_POW10 = np.array([10**k for k in range(19)], dtype=np.int64)
# Timestamp shapes by length: (digits of the fraction, offset given as ±HH:MM).
_TS_SHAPES = {20: (0, False), 24: (3, False), 27: (6, False), 25: (0, True)}
_TS_SHAPES |= {29: (3, True), 32: (6, True)}
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


class _Table:
    """Records of one file: columns by name, and each row for the reference reader."""

    def __init__(
        self,
        n: int,
        columns: Mapping[str, Sequence[Any]],
        row: Callable[[int], Mapping[str, Any]],
        line: Callable[[int], int],
        flagged: BoolArray,
    ) -> None:
        self.n = n
        self.columns = columns
        self.row = row
        self.line = line
        self.flagged = flagged


def read_columns(
    path: Path, fmt: Literal["csv", "jsonl"], *, strict: bool = True
) -> UsageLog | None:
    """Read ``path`` column by column; None when only the reference reader may answer.

    None is returned for an empty file, and for text the ``csv`` module or UTF-8
    decoding refuses (the reference reader reports those in file order).
    """
    with _gc_paused():
        try:
            table = _csv_table(path) if fmt == "csv" else _jsonl_table(path)
        except (UnicodeDecodeError, csv.Error):
            return None
        if table is None:
            return None
        return _convert(table, path, strict)


@contextmanager
def _gc_paused() -> Iterator[None]:
    # A million small lists would otherwise trigger many needless collections.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _csv_table(path: Path) -> _Table | None:
    data = path.read_bytes()
    end = data.find(b"\n")
    if end >= 0 and b'"' not in data and b"\r" not in data and b"\x00" not in data:
        # No quotes and only line feeds: the first line is the header record.
        header = check_header(data[:end].decode("utf-8").split(","), path)
        fields = _plain_fields(data[end + 1 :], len(header))
        if fields is not None:
            return _plain_table(header, fields)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        first = next(reader, None)
        if first is None:
            return None
        header = check_header(first, path)
        records = list(reader)
    width = len(header)
    wrong: dict[int, str] = {}
    if width == 1 or set(map(len, records)) != {width}:
        kept: list[list[str]] = []
        for values in records:
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if len(values) != width:
                wrong[len(kept)] = f"expected {width} columns, found {len(values)}"
                values = [""] * width
            kept.append(values)
        records = kept
    if not records:
        return None
    flagged = np.zeros(len(records), dtype=np.bool_)
    flagged[list(wrong)] = True
    position = {name: i for i, name in enumerate(header)}  # a repeated name: the last wins
    every = list(zip(*records, strict=True))
    columns = {name: every[i] for name, i in position.items() if name in _KNOWN}
    lines: list[int] = []

    def row(i: int) -> Mapping[str, Any]:
        if i in wrong:
            return {"__error__": wrong[i]}
        return dict(zip(header, records[i], strict=True))

    def line(i: int) -> int:
        if not lines:
            lines.extend(_csv_lines(path))
        return lines[i]

    return _Table(len(records), columns, row, line, flagged)


def _plain_fields(body: bytes, width: int) -> list[str] | None:
    """Every field of ``body`` in file order when it is a plain grid, else None.

    Plain: no quote, carriage return or NUL, and exactly ``width`` fields on every
    line. ``csv.reader`` splits such text at commas and line feeds only, so a
    split of the whole text gives the same fields without a list per record.
    """
    if not body:
        return None
    if not body.endswith(b"\n"):
        body += b"\n"
    raw = np.frombuffer(body, dtype=np.uint8)
    separators = raw[np.flatnonzero((raw == ord(",")) | (raw == ord("\n")))]
    if separators.size % width:
        return None
    grid = separators.reshape(-1, width) == ord("\n")
    if not grid[:, -1].all() or grid[:, :-1].any():
        return None
    fields = body.decode("utf-8").replace("\n", ",").split(",")
    fields.pop()
    return fields


def _plain_table(header: list[str], fields: list[str]) -> _Table:
    width = len(header)
    n = len(fields) // width
    position = {name: i for i, name in enumerate(header)}  # a repeated name: the last wins
    columns = {name: fields[i::width] for name, i in position.items() if name in _KNOWN}

    def row(i: int) -> Mapping[str, Any]:
        return dict(zip(header, fields[i * width : (i + 1) * width], strict=True))

    return _Table(n, columns, row, lambda i: i + 2, np.zeros(n, dtype=np.bool_))


def _csv_lines(path: Path) -> list[int]:
    """The line of every record that is not blank (read again: only errors need them)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        return [
            reader.line_num
            for values in reader
            if values and not (len(values) == 1 and not values[0].strip())
        ]


def _jsonl_table(path: Path) -> _Table | None:
    rows: list[Mapping[str, Any]] = []
    lines: list[int] = []
    flagged: list[int] = []
    keys: set[str] = set()
    reparse = _loads is None
    with path.open(encoding="utf-8", newline="") as handle:
        for number, text in enumerate(handle, start=1):
            row: Any = None
            if not reparse and _loads is not None:
                try:
                    row = _loads(text)
                except _LoadError:
                    row = None
                if type(row) is not dict or not all(type(v) in _JSON_PLAIN for v in row.values()):
                    row = None
            if row is None:
                row = jsonl_row(text)
                if row is None:
                    continue  # a blank line
                reparse = any(type(v) is Decimal for v in row.values())
                if "__error__" in row or not all(
                    type(row.get(k)) in _JSON_PLAIN or type(row.get(k)) is Decimal for k in _KNOWN
                ):
                    flagged.append(len(rows))
            lines.append(number)
            rows.append(row)
            keys.update(row)
    if not rows:
        return None
    mask = np.zeros(len(rows), dtype=np.bool_)
    mask[flagged] = True
    source = rows
    if flagged:
        source = list(rows)
        for i in flagged:
            source[i] = {}
    columns = {name: [r.get(name) for r in source] for name in keys & _KNOWN}
    return _Table(len(rows), columns, rows.__getitem__, lines.__getitem__, mask)


def _convert(table: _Table, path: Path, strict: bool) -> UsageLog:
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
    fast, b = _bools(column("fast"), n)
    bad |= b
    texts: dict[str, Sequence[str | None]] = {}
    for name in _TEXT_FIELDS:
        texts[name], b = _texts(column(name), n)
        bad |= b
    bad |= ints[4] > ints[3]  # cached input beyond input: the reference names it
    # A row with no amount and no meter is bad unless a meter cell or the model is given.
    model = column("model")
    idle = ~has_ccu & ~present & (minutes == 0) & ~bad
    for name_values in ints:
        idle &= name_values == 0
    for i in np.flatnonzero(idle).tolist():
        if model is None or model[i] is None or model[i] == "":
            bad[i] = True

    # Every row not proven good is read by the reference, in file order.
    errors: list[int] = []
    problems: list[str] = []
    patches: list[tuple[int, RowValues]] = []
    for i in np.flatnonzero(bad).tolist():
        try:
            patches.append((i, row_values(table.row(i))))
        except RowError as exc:
            if strict or len(problems) < 1000:
                message, error = row_error(path, table.line(i), exc)
                if strict:
                    raise error from None
                problems.append(message)
            errors.append(i)
    if patches:
        texts = {
            name: values if isinstance(values, _Absent) else list(values)
            for name, values in texts.items()
        }
        for i, (t, c, meters, m, sandbox_class, f, dims) in patches:
            ts_us[i] = t
            has_ccu[i] = c is not None
            ccu[i] = 0 if c is None else c
            for values, value in zip(ints, meters, strict=True):
                values[i] = value
            minutes[i] = m
            fast[i] = f
            texts["sandbox_class"][i] = sandbox_class  # type: ignore[index]
            for name, label in dims.items():
                texts[name][i] = label  # type: ignore[index]

    keep = np.ones(n, dtype=np.bool_)
    keep[errors] = False
    kept = np.flatnonzero(keep)
    # Duplicates: the first row with an event_id wins (labels are stripped first).
    ids, id_labels = _intern(_subset(texts["event_id"], kept, n))
    first = np.zeros(len(ids), dtype=np.bool_)
    first[np.unique(ids, return_index=True)[1]] = True
    first |= ids == 0
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
            codes, labels[name] = _intern(_subset(texts[name], chosen, n))
        columns[name] = codes.astype(np.int32)
    summary = LogSummary(
        rows=n,
        events=len(chosen),
        skipped=len(errors),
        duplicates=int(len(ids) - len(chosen)),
        problems=tuple(problems),
    )
    return UsageLog(columns, labels, summary).sorted()


class _Absent(list[None]):
    """A column no record has: all None."""

    def __init__(self, n: int) -> None:
        super().__init__([None] * n)


def _subset(values: Sequence[Any], index: IntArray, n: int) -> Sequence[Any]:
    if isinstance(values, _Absent):
        return _Absent(len(index))
    if len(index) == n:
        return values
    return [values[i] for i in index.tolist()]


def _intern(values: Sequence[str | None]) -> tuple[IntArray, tuple[str | None, ...]]:
    """Codes (0 is None) and labels in order of first appearance, labels stripped."""
    if isinstance(values, _Absent):
        return np.zeros(len(values), dtype=np.int64), (None,)
    table: list[str | None] = [None]
    index: dict[str | None, int] = {None: 0}
    codes: dict[str | None, int] = dict.fromkeys(values, 0)
    for raw in codes:
        label = None if raw is None else (raw.strip() or None)
        code = index.get(label)
        if code is None:
            code = index[label] = len(table)
            table.append(label)
        codes[raw] = code
    return np.fromiter(map(codes.__getitem__, values), np.int64, len(values)), tuple(table)


def _texts(values: Sequence[Any] | None, n: int) -> tuple[Sequence[str | None], BoolArray]:
    bad = np.zeros(n, dtype=np.bool_)
    if values is None:
        return _Absent(n), bad
    if set(map(type, values)) <= {str, type(None)}:
        return values, bad
    out = list(values)
    for i, value in enumerate(values):
        if value is not None and type(value) is not str:
            bad[i] = True
            out[i] = None
    return out, bad


def _bools(values: Sequence[Any] | None, n: int) -> tuple[BoolArray, BoolArray]:
    if values is None:
        return np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_)
    # 1 true, 0 false, 2 for a value the reference must judge.
    if set(map(type, values)) <= {str, type(None)}:
        meaning = dict.fromkeys(values, 2)
        for value in meaning:
            meaning[value] = 0 if value is None else _bool_code(value)
        codes = np.fromiter(map(meaning.__getitem__, values), np.int8, n)
    else:
        codes = np.fromiter(
            (
                (1 if v else 0)
                if v is None or type(v) is bool
                else _bool_code(v)
                if type(v) is str
                else 2
                for v in values
            ),
            np.int8,
            n,
        )
    return codes == 1, codes == 2


def _bool_code(text: str) -> int:
    word = text.strip().lower()
    return 1 if word in _TRUE else 0 if word in _FALSE else 2


def _strings(
    values: Sequence[Any], numbers: bool
) -> tuple[list[str], IntArray | None, list[tuple[int, int]]]:
    """The text values and where they are (None: everywhere); for numbers, the ints too."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return list(values), None, []
    texts: list[str] = []
    where: list[int] = []
    whole: list[tuple[int, int]] = []
    for i, value in enumerate(values):
        kind = type(value)
        if kind is str:
            texts.append(value)
            where.append(i)
        elif numbers and kind is Decimal:
            texts.append(str(value))  # its exact text; an exponent goes to the reference
            where.append(i)
        elif numbers and kind is int:
            whole.append((i, value))
    return texts, np.array(where, dtype=np.int64), whole


def _chars(texts: Sequence[str], width: int) -> npt.NDArray[Any]:
    """Texts as a (rows, width) matrix of character codes, 0 past the end."""
    try:
        return np.array(texts, dtype=f"S{width}").view(np.uint8).reshape(-1, width)
    except UnicodeEncodeError:  # not ASCII: the rows go to the reference anyway
        return np.array(texts, dtype=f"U{width}").view(np.uint32).reshape(-1, width)


def _timestamps(values: Sequence[Any] | None, n: int) -> tuple[IntArray, BoolArray]:
    us = np.zeros(n, dtype=np.int64)
    bad = np.ones(n, dtype=np.bool_)
    if values is None:
        return us, bad
    texts, where, _ = _strings(values, numbers=False)
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    for length, (places, offset) in _TS_SHAPES.items():
        rows = np.flatnonzero(lengths == length)
        if not rows.size:
            continue
        chosen = texts if rows.size == len(texts) else [texts[i] for i in rows.tolist()]
        good, value = _parse_timestamps(_chars(chosen, length), places, offset)
        target = rows if where is None else where[rows]
        us[target] = value
        bad[target] = ~good
    return us, bad


def _parse_timestamps(codes: IntArray, places: int, offset: bool) -> tuple[BoolArray, IntArray]:
    good = np.ones(len(codes), dtype=np.bool_)

    def number(start: int, stop: int) -> IntArray:
        nonlocal good
        total = np.zeros(len(codes), dtype=np.int64)
        for j in range(start, stop):
            digit = codes[:, j].astype(np.int64) - 48
            good &= (digit >= 0) & (digit <= 9)
            total = total * 10 + digit
        return total

    for j, char in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")):
        good &= codes[:, j] == ord(char)
    year, month, day = number(0, 4), number(5, 7), number(8, 10)
    hour, minute, second = number(11, 13), number(14, 16), number(17, 19)
    micro = np.zeros(len(codes), dtype=np.int64)
    at = 19
    if places:
        good &= codes[:, 19] == ord(".")
        micro = number(20, 20 + places) * 10 ** (6 - places)
        at = 20 + places
    shift = np.zeros(len(codes), dtype=np.int64)
    if offset:
        sign = codes[:, at]
        good &= ((sign == ord("+")) | (sign == ord("-"))) & (codes[:, at + 3] == ord(":"))
        hours, minutes = number(at + 1, at + 3), number(at + 4, at + 6)
        good &= (hours <= 23) & (minutes <= 59)
        shift = np.where(sign == ord("-"), -1, 1) * (hours * 3600 + minutes * 60)
    else:
        good &= codes[:, at] == ord("Z")
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_index = np.clip(month, 1, 12) - 1
    last_day = _DAYS_IN_MONTH[month_index] + ((month == 2) & leap)
    good &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= last_day)
    good &= (hour <= 23) & (minute <= 59) & (second <= 59)
    # Days since 1970-01-01 of a proleptic Gregorian date (integer arithmetic only).
    y = year - (month <= 2)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * ((month_index + 10) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146_097 + day_of_era - 719_468
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second - shift
    return good, seconds * 1_000_000 + micro


def _numbers(
    values: Sequence[Any] | None, n: int, *, places: int
) -> tuple[IntArray, BoolArray, BoolArray]:
    """(value in units of 10**-places, given, bad) for decimal or whole-number cells.

    Given means neither absent nor empty text. Bad rows go to the reference.
    """
    result = np.zeros(n, dtype=np.int64)
    given = np.zeros(n, dtype=np.bool_)
    bad = np.zeros(n, dtype=np.bool_)
    if values is None:
        return result, given, bad
    texts, where, whole = _strings(values, numbers=True)
    if where is not None:
        # Anything neither text nor a whole number (bool, other) is the reference's to judge.
        given[:] = [v is not None for v in values]
        bad[:] = given
        bad[where] = False
        limit = 10 ** (18 - places)
        for i, value in whole:
            if 0 <= value < limit:
                result[i] = value * 10**places
            else:
                bad[i] = True
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    digits = 18 - places  # whole digits that fit in int64 with the places
    widest = digits + 1 + places if places else digits
    too_long = lengths > widest
    if too_long.any():
        texts = ["" if long else t for t, long in zip(texts, too_long.tolist(), strict=True)]
    width = int(min(lengths.max(initial=1), widest)) or 1
    codes = _chars(texts, width)
    good = ~too_long
    point: IntArray = lengths.copy()
    points = np.zeros(len(texts), dtype=np.int64)
    for j in range(width):
        char = codes[:, j].astype(np.int64)
        inside = j < lengths
        is_digit = (char >= 48) & (char <= 57)
        is_point = char == 46
        good &= np.where(inside, is_digit | (is_point if places else False), char == 0)
        point = np.where(is_point & (points == 0) & inside, j, point)
        points += is_point & inside
    fraction = np.where(points == 1, lengths - point - 1, 0)
    good &= (points <= 1) & (point >= 1) & (point <= digits)
    good &= (points == 0) | ((fraction >= 1) & (fraction <= places))
    total = np.zeros(len(texts), dtype=np.int64)
    for j in range(width):
        char = codes[:, j].astype(np.int64)
        use = (j < lengths) & (char >= 48) & (char <= 57) & good
        exponent = np.where(j < point, point - 1 - j + places, places - (j - point))
        total += np.where(use, (char - 48) * _POW10[np.clip(exponent, 0, 18)], 0)
    empty = lengths == 0
    target = slice(None) if where is None else where
    result[target] = np.where(good, total, 0)
    given[target] = ~empty
    bad[target] = ~(good | empty)
    return result, given, bad
