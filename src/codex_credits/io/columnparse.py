"""Parsing whole columns of usage text at once, exactly, with NumPy.

The columnar usage reader (:mod:`codex_credits.io.usagecolumns`) hands each
column of a file to these functions. Each one converts the values it can prove
good and marks every other value *bad*; it never guesses. A bad mark only means
"let the reference reader judge this row" (:mod:`codex_credits.io.usagerows`),
which either converts the value itself or names the bad field. So the rule for
every function here is one-sided: whatever it accepts, the reference accepts
with the same value (docs/usage-files.md, "How files are read").

- :func:`parse_timestamps`: ``YYYY-MM-DDTHH:MM:SS`` with no fraction, or three
  or six places, then ``Z`` or ``±HH:MM``; the calendar is checked (month
  lengths, leap years) and the instant becomes µs since the epoch by integer
  arithmetic (days from civil dates, as in the proleptic Gregorian calendar).
- :func:`parse_decimals`: digits with at most one point and at most ``places``
  digits after it become integers in units of ``10**-places``, digit by digit:
  no float and no Decimal is ever made. Signs, exponents, spaces and extra
  places are left to the reference (which rounds half-even; this never rounds).
- :func:`parse_bools`, :func:`intern_labels`: one dictionary look-up per
  distinct text, not per row.

Values are grouped by shape (length, and where the point is), so that inside
a group every character has a fixed place and a whole group is checked and
converted with a handful of array operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from codex_credits.io.bounds import MAX_US, MIN_US
from codex_credits.io.usagerows import FALSE_WORDS, TRUE_WORDS

__all__ = [
    "BoolArray",
    "IntArray",
    "intern_labels",
    "parse_bools",
    "parse_decimals",
    "parse_timestamps",
    "text_column",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_POW10 = [10**k for k in range(19)]
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
# Timestamp shapes by length: (digits of the fraction, offset written as ±HH:MM).
_TS_SHAPES = {20: (0, False), 24: (3, False), 27: (6, False)}
_TS_SHAPES |= {25: (0, True), 29: (3, True), 32: (6, True)}


def _chars(texts: Sequence[str], width: int) -> npt.NDArray[np.uint8]:
    """Texts as a (rows, width) matrix of bytes, 0 past the end; non-ASCII as 255.

    A text with any non-ASCII character is never good here, so its row is
    filled with 255, which no check accepts.
    """
    try:
        return np.array(texts, dtype=f"S{width}").view(np.uint8).reshape(-1, width)
    except UnicodeEncodeError:
        wide = np.array(texts, dtype=f"U{width}").view(np.uint32).reshape(-1, width)
        return np.where(wide > 127, 255, wide).astype(np.uint8)


def _digits(
    codes: npt.NDArray[np.uint8], columns: Sequence[int]
) -> tuple[npt.NDArray[np.uint8], BoolArray]:
    """The digit values at ``columns`` and whether all of them are digits."""
    values: npt.NDArray[np.uint8] = codes[:, list(columns)] - np.uint8(48)  # '/' wraps to 255
    return values, np.asarray((values <= 9).all(axis=1), dtype=np.bool_)


def _number(digits: npt.NDArray[np.uint8], start: int, stop: int) -> IntArray:
    """The whole number written by digit columns ``start`` to ``stop``."""
    total = digits[:, start].astype(np.int64)
    for j in range(start + 1, stop):
        total = total * 10 + digits[:, j]
    return total


def _shapes(key: IntArray) -> list[tuple[int, IntArray]]:
    """The rows of each distinct ``key`` (a small non-negative int), in row order."""
    if not key.size:
        return []
    counts = np.bincount(key)
    present = np.flatnonzero(counts)
    if present.size == 1:
        return [(int(present[0]), np.arange(key.size))]
    if present.size <= 16:  # a few shapes: one pass each beats a sort
        return [(int(k), np.flatnonzero(key == k)) for k in present.tolist()]
    order = np.argsort(key, kind="stable")
    cuts = np.cumsum(counts[present])[:-1]
    return list(zip(present.tolist(), np.split(order, cuts), strict=True))


def parse_timestamps(texts: Sequence[str]) -> tuple[IntArray, BoolArray]:
    """(µs since the epoch, good) for ISO 8601 text of the shapes in the module docs."""
    n = len(texts)
    us = np.zeros(n, dtype=np.int64)
    good = np.zeros(n, dtype=np.bool_)
    lengths = np.fromiter(map(len, texts), np.int64, n)
    for length, rows in _shapes(lengths):
        if length not in _TS_SHAPES:
            continue
        chosen = texts if rows.size == n else [texts[i] for i in rows.tolist()]
        ok, value = _fixed_timestamps(_chars(chosen, length), *_TS_SHAPES[length])
        us[rows] = value
        good[rows] = ok
    return us, good


def _month_tables() -> tuple[IntArray, npt.NDArray[np.uint8]]:
    """For each (year - 1) * 12 + month - 1 of years 1 to 9999: the days from
    1970-01-01 to the month's first day, and the month's length (proleptic
    Gregorian calendar, integer arithmetic only)."""
    year = np.repeat(np.arange(1, 10_000, dtype=np.int64), 12)
    month = np.tile(np.arange(1, 13, dtype=np.int64), 9999)
    y = year - (month <= 2)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    first = era * 146_097 + day_of_era - 719_468
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    length = _DAYS_IN_MONTH[month - 1] + ((month == 2) & leap)
    return first, length.astype(np.uint8)


_MONTH_FIRST_DAY, _MONTH_LENGTH = _month_tables()


def _fixed_timestamps(
    codes: npt.NDArray[np.uint8], places: int, offset: bool
) -> tuple[BoolArray, IntArray]:
    """(good, µs) for timestamps of one shape: every character at a known place."""
    width = codes.shape[1]
    marks = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":"}
    if places:
        marks[19] = "."
    end = 20 + places if places else 19  # where the zone starts
    if offset:
        marks[end + 3] = ":"
    else:
        marks[end] = "Z"
    digit_columns = [j for j in range(width) if j not in marks and not (offset and j == end)]
    digits, good = _digits(codes, digit_columns)
    if places == 3:  # three places read as six (".123" is ".123000"): the pairs line up
        digits = np.insert(digits, [17, 17, 17], np.uint8(0), axis=1)
    for j, char in marks.items():
        good &= codes[:, j] == ord(char)
    # Two digits at a time (at most 99: fits in a byte): YY YY MM DD hh mm ss [ff ff ff] [HH MM]
    pairs = digits[:, 0::2] * np.uint8(10) + digits[:, 1::2]
    month, day = pairs[:, 2], pairs[:, 3]
    hour, minute, second = pairs[:, 4], pairs[:, 5], pairs[:, 6]
    good &= (hour <= 23) & (minute <= 59) & (second <= 59) & (month >= 1) & (month <= 12)
    year = pairs[:, 0].astype(np.int64) * 100 + pairs[:, 1]
    good &= year >= 1
    month_at = np.where(good, (year - 1) * 12 + month - 1, 0)
    good &= (day >= 1) & (day <= _MONTH_LENGTH[month_at])
    days = _MONTH_FIRST_DAY[month_at] + day - 1
    seconds = hour.astype(np.int32) * 3600 + minute.astype(np.int32) * 60 + second
    micro: IntArray | int = 0
    if places:
        micro = (pairs[:, 7].astype(np.int64) * 100 + pairs[:, 8]) * 100 + pairs[:, 9]
    if offset:
        sign = codes[:, end]
        good &= (sign == ord("+")) | (sign == ord("-"))
        off_hours, off_minutes = pairs[:, -2], pairs[:, -1]
        good &= (off_hours <= 23) & (off_minutes <= 59)
        shift = off_hours.astype(np.int32) * 3600 + off_minutes.astype(np.int32) * 60
        seconds = seconds - np.where(sign == ord("-"), -shift, shift)
    total = np.asarray((days * 86_400 + seconds) * 1_000_000 + micro, dtype=np.int64)
    good &= (total >= MIN_US) & (total <= MAX_US)  # an offset may leave the years 1..9999
    return good, total


def parse_decimals(values: Sequence[Any], places: int) -> tuple[IntArray, BoolArray, BoolArray]:
    """(value in units of ``10**-places``, given, bad) for a column of cells.

    A cell is text, a JSON whole number, an exact ``Decimal`` (a JSON number with
    a fraction), None (absent) or anything else (bad).
    Given means neither None nor empty text. Whole numbers must stay below
    ``10**18`` units so every sum of a few fits in int64.
    """
    n = len(values)
    result = np.zeros(n, dtype=np.int64)
    kinds = set(map(type, values))
    if kinds <= {str}:
        texts: Sequence[str] = values
        where: IntArray | None = None
        given = np.ones(n, dtype=np.bool_)
        bad = np.zeros(n, dtype=np.bool_)
    else:
        given = np.fromiter((v is not None for v in values), np.bool_, n)
        bad = given.copy()
        texts_at: list[int] = []
        text_list: list[str] = []
        limit = 10 ** (18 - places)
        for i, value in enumerate(values):
            kind = type(value)
            if kind is str:
                text_list.append(value)
                texts_at.append(i)
            elif kind is Decimal:  # a JSON number with a fraction, read exactly
                text_list.append(str(value))  # its exact text; an exponent stays bad
                texts_at.append(i)
            elif kind is int and 0 <= value < limit:
                result[i] = value * _POW10[places]
                bad[i] = False
        texts, where = text_list, np.array(texts_at, dtype=np.int64)
    value, good, empty = _decimal_texts(texts, places)
    if where is None:
        result[:] = value
        given &= ~empty
        bad |= ~(good | empty)
    else:
        result[where] = value
        given[where] = ~empty
        bad[where] = ~(good | empty)
    return result, given, bad


def _decimal_texts(texts: Sequence[str], places: int) -> tuple[IntArray, BoolArray, BoolArray]:
    """(value, good, empty) for decimal text (see :func:`parse_decimals`)."""
    m = len(texts)
    value = np.zeros(m, dtype=np.int64)
    good = np.zeros(m, dtype=np.bool_)
    lengths = np.fromiter(map(len, texts), np.int64, m)
    empty = lengths == 0
    whole_digits = 18 - places  # with ``places`` more, the value stays below 10**18
    widest = whole_digits + 1 + places if places else whole_digits
    fits = (lengths > 0) & (lengths <= widest)
    if not fits.any():
        return value, good, empty
    rows = np.flatnonzero(fits)
    chosen = texts if rows.size == m else [texts[i] for i in rows.tolist()]
    width = int(lengths[rows].max())
    codes = _chars(chosen, width)
    length = lengths[rows]
    if places:
        is_point = codes == ord(".")
        point = np.where(is_point.any(axis=1), is_point.argmax(axis=1), length)
    else:
        point = length
    for key, group in _shapes(length * 64 + point):
        size, at = divmod(key, 64)
        fraction = size - at - 1 if at < size else 0
        if not 1 <= at <= whole_digits or (at < size and not 1 <= fraction <= places):
            continue  # ".5", "5.", too many digits: the reference judges
        columns = [j for j in range(size) if j != at]
        weights = [_POW10[places + at - 1 - j] for j in range(at)]
        weights += [_POW10[places - k] for k in range(1, fraction + 1)]
        digits, ok = _digits(codes[group], columns)
        total = digits.astype(np.int64) @ np.array(weights, dtype=np.int64)
        target = rows[group]
        value[target] = np.where(ok, total, 0)
        good[target] = ok
    return value, good, empty


def parse_bools(values: Sequence[Any]) -> tuple[BoolArray, BoolArray]:
    """(value, bad) for ``fast``: true/false words, JSON booleans, or absent."""
    n = len(values)
    if set(map(type, values)) <= {str, bool, type(None)}:
        # One look-up per distinct value (True and False are their own keys here).
        meaning = dict.fromkeys(values, 0)
        for value in meaning:
            meaning[value] = _bool_code(value) if type(value) is str else int(bool(value))
        codes = np.fromiter(map(meaning.__getitem__, values), np.int8, n)
    else:
        codes = np.fromiter(
            (
                _bool_code(v)
                if type(v) is str
                else int(bool(v))
                if v is None or type(v) is bool
                else 2
                for v in values
            ),
            np.int8,
            n,
        )
    return codes == 1, codes == 2


def _bool_code(text: str) -> int:
    """1 true, 0 false, 2 for a word the reference must judge."""
    word = text.strip().lower()
    return 1 if word in TRUE_WORDS else 0 if word in FALSE_WORDS else 2


def text_column(values: Sequence[Any]) -> tuple[Sequence[str | None], BoolArray]:
    """(texts, bad): a label column; a value neither text nor None is bad (and None here)."""
    n = len(values)
    if set(map(type, values)) <= {str, type(None)}:
        return values, np.zeros(n, dtype=np.bool_)
    bad = np.fromiter((v is not None and type(v) is not str for v in values), np.bool_, n)
    return [None if b else v for v, b in zip(values, bad.tolist(), strict=True)], bad


def intern_labels(values: Sequence[str | None]) -> tuple[IntArray, tuple[str | None, ...]]:
    """Codes (0 is None) and labels in order of first appearance; labels are stripped.

    Stripping follows the reference (``str.strip``; empty becomes None), so two
    texts that differ only by surrounding spaces share one label.
    """
    codes: dict[str | None, int] = dict.fromkeys(values, 0)
    codes.pop(None, None)
    distinct = cast("list[str]", list(codes))
    if "" not in codes and [text.strip() for text in distinct] == distinct:
        # Every text is a label already (the usual case): number them in order.
        codes = dict(zip(distinct, range(1, len(distinct) + 1), strict=True))
        table: list[str | None] = [None, *distinct]
    else:
        table = [None]
        index: dict[str | None, int] = {None: 0}
        for raw in distinct:
            label = raw.strip() or None
            code = index.get(label)
            if code is None:
                code = index[label] = len(table)
                table.append(label)
            codes[raw] = code
    codes[None] = 0
    return np.fromiter(map(codes.__getitem__, values), np.int64, len(values)), tuple(table)
