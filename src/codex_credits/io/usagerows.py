"""Reading usage rows one at a time: the reference reader.

Every row of a CSV or JSON Lines usage file is checked field by field, in a
fixed order (timestamp, ``ccu``, the whole-number meters, ``sandbox_minutes``,
cached within input, an amount or a meter, then the labels and ``fast``), and
the first bad field is named with the file and line (see docs/usage-files.md).
Files are UTF-8; a leading byte order mark is ignored. Bytes that are not
UTF-8 are decoded as lone surrogates (``surrogateescape``), so the row that
holds them is refused with its field named, like any other bad value.

This reader is the definition of what a usage file means. The columnar reader
(:mod:`codex_credits.io.usagecolumns`) reads large files much faster and hands
every row it cannot prove good back to :func:`row_values`, so both give equal
logs and equal errors; property tests hold them to it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from codex_credits.core.units import ZERO, to_micro
from codex_credits.core.usage import DIMENSIONS, UsageLog
from codex_credits.core.usagebuilder import UsageLogBuilder
from codex_credits.errors import UsageDataError
from codex_credits.io.bounds import MAX_INT64, in_range_us, surrogate_free

__all__ = [
    "BOM",
    "FALSE_WORDS",
    "INT_FIELDS",
    "TRUE_WORDS",
    "RowError",
    "RowValues",
    "check_header",
    "csv_records",
    "csv_rows",
    "jsonl_row",
    "jsonl_rows",
    "read_rows_reference",
    "row_error",
    "row_values",
    "text_value",
]

INT_FIELDS = (
    "reasoning_tokens",
    "tool_calls",
    "output_tokens",
    "input_tokens",
    "cached_input_tokens",
)
BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark some programs write first; it is not part of the text."""
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f", ""})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_INT64 = MAX_INT64  # columns hold 64-bit integers (amounts in micro-units)
_MAX_AMOUNT = "9223372036854.775807"
_MICRO = Decimal("0.000001")

RowValues = tuple[int, int | None, tuple[int, ...], int, str | None, bool, dict[str, str | None]]
"""One good row: (µs since the epoch, ccu in micro-units or None, the whole-number
meters in ``INT_FIELDS`` order, sandbox micro-minutes, sandbox class, fast, labels)."""


class RowError(Exception):
    """A bad field of one row (``field`` is ``"(row)"`` for the row as a whole)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def row_error(path: Path, line: int, exc: RowError) -> tuple[str, UsageDataError]:
    """The problem message of a bad row and the error raised for it in strict mode."""
    message = f"{path}:{line}: field {exc.field!r}: {exc}"
    return message, UsageDataError(message, path=str(path), line=line, field=exc.field)


def read_rows_reference(
    path: Path, fmt: Literal["csv", "jsonl"], *, strict: bool = True
) -> UsageLog:
    """Read ``path`` row by row (the reference reader; see the module docs).

    Raises:
        UsageDataError: a bad row (with ``strict``).
        OSError, UnicodeDecodeError: left to the caller to report.
    """
    builder = UsageLogBuilder()
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        rows = csv_rows(handle, path) if fmt == "csv" else jsonl_rows(handle)
        for line, row in rows:
            if row is None:
                continue
            builder.summary_rows += 1
            try:
                values = row_values(row)
            except RowError as exc:
                message, error = row_error(path, line, exc)
                if strict:
                    raise error from None
                builder.skip(message)
                continue
            ts_us, ccu_micro, ints, minutes_micro, sandbox_class, fast, dims = values
            builder.add(
                ts_us,
                ccu_micro=ccu_micro,
                sandbox_micro_minutes=minutes_micro,
                sandbox_class=sandbox_class,
                fast=fast,
                reasoning_tokens=ints[0],
                tool_calls=ints[1],
                output_tokens=ints[2],
                input_tokens=ints[3],
                cached_input_tokens=ints[4],
                **dims,
            )
    return builder.build()


def check_header(header: list[str], path: Path) -> list[str]:
    """The stripped header; raises when it has no ``timestamp`` column."""
    header = [h.strip() for h in header]
    if "timestamp" not in header:
        raise UsageDataError(
            f"{path}:1: the header has no 'timestamp' column (columns: {', '.join(header)})",
            path=str(path),
            line=1,
            field="timestamp",
        )
    return header


def csv_rows(handle: Iterable[str], path: Path) -> Iterator[tuple[int, Mapping[str, Any] | None]]:
    """``(line, row)`` for every record after the header; ``None`` for a blank one."""
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = check_header(header, path)
    width = len(header)
    for values in csv_records(reader):
        line = reader.line_num
        if isinstance(values, str):
            yield line, {"__error__": values}
            continue
        if not values or (len(values) == 1 and not values[0].strip()):
            yield line, None
            continue
        if len(values) != width:
            yield line, {"__error__": f"expected {width} columns, found {len(values)}"}
            continue
        yield line, dict(zip(header, values, strict=True))


def csv_records(reader: Any) -> Iterator[list[str] | str]:
    """The records of ``reader``; a record ``csv`` refuses (a field over the
    field size limit, say) is its message, and reading goes on."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f"not a CSV record ({exc})"


def jsonl_rows(handle: Iterable[str]) -> Iterator[tuple[int, Mapping[str, Any] | None]]:
    """``(line, row)`` for every line; ``None`` for a blank line."""
    for line, text in enumerate(handle, start=1):
        yield line, jsonl_row(text)


def jsonl_row(text: str) -> Mapping[str, Any] | None:
    """One JSON Lines line as a row (numbers with a fraction as exact Decimals)."""
    if not text.strip():
        return None
    try:
        row = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        return {"__error__": f"not valid JSON ({exc.msg} at column {exc.colno})"}
    except RecursionError:
        return {"__error__": "not valid JSON (nested too deeply)"}
    except ValueError as exc:  # an integer of more than 4,300 digits
        return {"__error__": f"not valid JSON ({exc})"}
    if not isinstance(row, dict):
        return {"__error__": f"expected a JSON object, found {type(row).__name__}"}
    return row


def row_values(row: Mapping[str, Any]) -> RowValues:
    """The values of one row, checked field by field; raises :class:`RowError`."""
    if "__error__" in row:
        raise RowError("(row)", str(row["__error__"]))
    ts_us = _timestamp(row.get("timestamp"))
    ccu = _decimal(row, "ccu")
    ints = {name: _int(row, name) for name in INT_FIELDS}
    minutes = _decimal(row, "sandbox_minutes")
    if ints["cached_input_tokens"] > ints["input_tokens"]:
        raise RowError(
            "cached_input_tokens",
            f"{ints['cached_input_tokens']} cached tokens exceed input_tokens "
            f"({ints['input_tokens']}), which include them",
        )
    has_meter = (
        any(ints.values()) or (minutes is not None and minutes > 0) or _present(row, "model")
    )
    if ccu is None and not has_meter and not any(_present(row, n) for n in INT_FIELDS):
        raise RowError("ccu", "a row needs 'ccu' or at least one meter (tokens, tool_calls, ...)")
    dims = {name: _label(row, name) for name in DIMENSIONS}
    return (
        ts_us,
        None if ccu is None else to_micro(ccu),
        tuple(ints.values()),
        0 if minutes is None else to_micro(minutes),
        _label(row, "sandbox_class"),
        _bool(row, "fast"),
        dims,
    )


def _present(row: Mapping[str, Any], name: str) -> bool:
    value = row.get(name)
    return value is not None and value != ""


def _timestamp(value: Any) -> int:
    if value is None or value == "":
        raise RowError("timestamp", "missing timestamp")
    if not isinstance(value, str):
        raise RowError("timestamp", f"expected ISO 8601 text, found {value!r}")
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RowError(
            "timestamp", f"{value!r} is not an ISO 8601 instant (e.g. 2026-06-01T09:00:00Z)"
        ) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise RowError(
            "timestamp", f"{value!r} has no timezone offset; add one, e.g. {value.strip()}Z"
        )
    delta = at - _EPOCH
    us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not in_range_us(us):
        raise RowError("timestamp", f"{value!r} is outside the UTC years 1 to 9999")
    return us


def _decimal(row: Mapping[str, Any], name: str) -> Decimal | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError(name, f"expected a number, found {_shown(value)}")
    try:
        result = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise RowError(name, f"{_shown(value)} is not a decimal number") from None
    if not result.is_finite():
        raise RowError(name, f"{_shown(value)} is not a finite number")
    if result < ZERO:
        raise RowError(name, f"must be >= 0, found {_shown(value)}")
    if result.adjusted() >= 13 or to_micro(result) > _MAX_INT64:
        raise RowError(name, f"{_shown(value)} is too large (at most {_MAX_AMOUNT})")
    if result != result.quantize(_MICRO, rounding=ROUND_DOWN):
        raise RowError(
            name,
            f"{_shown(value)} is finer than a millionth (6 decimal places); amounts are never "
            "rounded on reading: round them in the source",
        )
    return result


def _shown(value: Any) -> str:
    """A cell as a message shows it: text quoted, a JSON number as written."""
    return str(value) if isinstance(value, Decimal) else repr(value)


def _int(row: Mapping[str, Any], name: str) -> int:
    value = row.get(name)
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise RowError(name, f"expected a whole number, found {value!r}")
    if isinstance(value, int):
        result = value
    else:
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except (InvalidOperation, TypeError, ValueError):
            raise RowError(name, f"{value!r} is not a whole number") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise RowError(name, f"{value!r} is not a whole number")
        if number.adjusted() >= 19:  # never build a huge integer (1e999999999)
            raise RowError(name, f"{value!r} is too large (at most {_MAX_INT64})")
        result = int(number)
    if result < 0:
        raise RowError(name, f"must be >= 0, found {value!r}")
    if result > _MAX_INT64:
        raise RowError(name, f"{value!r} is too large (at most {_MAX_INT64})")
    return result


def _label(row: Mapping[str, Any], name: str) -> str | None:
    label = text_value(row.get(name))
    if label is not None and not surrogate_free(label):
        raise RowError(name, f"{label!r} is not valid UTF-8 text")
    return label


def text_value(value: Any) -> str | None:
    """A label: the text stripped, or None when empty or absent."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bool(row: Mapping[str, Any], name: str) -> bool:
    value = row.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise RowError(name, f"expected true/false, found {value!r}")
