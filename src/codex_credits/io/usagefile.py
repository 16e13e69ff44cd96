"""Read and write usage files: CSV and JSON Lines.

Columns (CSV header) or keys (JSONL objects), all optional but ``timestamp``:

``timestamp``       ISO 8601 with an offset (``Z`` allowed); naive times are refused
``ccu``             amount in the card's unit (exact decimal text)
``reasoning_tokens`` ``tool_calls`` ``output_tokens`` ``input_tokens`` ``cached_input_tokens``
                    whole numbers >= 0 (``input_tokens`` includes cached input)
``sandbox_minutes`` decimal >= 0; ``sandbox_class`` a class of the card
``model`` ``fast``  the model priced on a token card; ``fast`` true/false/1/0
``event_id`` ``user_id`` ``project_id`` ``task_type`` ``feature`` ``session_id``

A row must carry ``ccu`` or at least one meter. A bad row raises
:class:`~codex_credits.errors.UsageDataError` naming file, line and field; with
``strict=False`` it is skipped and counted in ``log.summary``. A repeated
``event_id`` is dropped and counted, never billed twice. Unknown columns are
ignored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from codex_credits.core.units import ZERO, to_micro
from codex_credits.core.usage import DIMENSIONS, UsageEvent, UsageLog, UsageLogBuilder
from codex_credits.errors import UsageDataError

__all__ = ["USAGE_COLUMNS", "read_usage", "write_usage"]

_INT_FIELDS = (
    "reasoning_tokens",
    "tool_calls",
    "output_tokens",
    "input_tokens",
    "cached_input_tokens",
)
USAGE_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "ccu",
    *_INT_FIELDS,
    "sandbox_minutes",
    "sandbox_class",
    "fast",
    *DIMENSIONS,
)
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _RowError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def read_usage(
    path: str | Path,
    *,
    strict: bool = True,
    format: Literal["csv", "jsonl"] | None = None,
) -> UsageLog:
    """Read a CSV or JSONL usage file into a :class:`UsageLog` sorted by time.

    Args:
        path: the file; ``.csv`` is CSV, ``.jsonl``/``.ndjson``/``.json`` is JSON Lines.
        strict: raise on the first bad row (default), or skip and count bad rows.
        format: override the format guessed from the file name.

    Raises:
        UsageDataError: a bad row (with ``strict``), or a file that cannot be read.
    """
    path = Path(path)
    fmt = format or _guess_format(path)
    builder = UsageLogBuilder()
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = _csv_rows(handle, path) if fmt == "csv" else _jsonl_rows(handle, path)
            for line, row in rows:
                if row is None:
                    continue
                builder.summary_rows += 1
                try:
                    _add_row(builder, row)
                except _RowError as exc:
                    message = f"{path}:{line}: field {exc.field!r}: {exc}"
                    if strict:
                        raise UsageDataError(
                            message, path=str(path), line=line, field=exc.field
                        ) from None
                    builder.skip(message)
    except OSError as exc:
        raise UsageDataError(
            f"{path}: cannot read usage file: {exc.strerror}", path=str(path)
        ) from None
    except UnicodeDecodeError as exc:
        raise UsageDataError(f"{path}: not UTF-8 text ({exc.reason})", path=str(path)) from None
    return builder.build()


def write_usage(events: Iterable[UsageEvent], path: str | Path) -> int:
    """Write events as CSV (``.csv``) or JSON Lines; returns the number written.

    ``read_usage`` reads the file back to equal events.
    """
    path = Path(path)
    fmt = _guess_format(path)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(USAGE_COLUMNS)
            for event in events:
                writer.writerow(_cell(v) for v in _event_values(event).values())
                count += 1
        else:
            for event in events:
                values = {
                    k: v
                    for k, v in _event_values(event).items()
                    if v is not None and v is not False
                }
                values["timestamp"] = event.timestamp.isoformat().replace("+00:00", "Z")
                handle.write(json.dumps({k: _jsonable(v) for k, v in values.items()}) + "\n")
                count += 1
    return count


def _event_values(event: UsageEvent) -> dict[str, Any]:
    values: dict[str, Any] = {
        "timestamp": event.timestamp.isoformat().replace("+00:00", "Z"),
        "ccu": event.ccu,
    }
    for name in _INT_FIELDS:
        values[name] = getattr(event, name)
    values["sandbox_minutes"] = event.sandbox_minutes
    values["sandbox_class"] = event.sandbox_class
    values["fast"] = event.fast
    for name in DIMENSIONS:
        values[name] = getattr(event, name)
    return values


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _guess_format(path: Path) -> Literal["csv", "jsonl"]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise UsageDataError(
        f"{path}: cannot tell the format from the name; use .csv or .jsonl "
        "(or pass format='csv'|'jsonl')",
        path=str(path),
    )


def _csv_rows(handle: Iterable[str], path: Path) -> Iterator[tuple[int, Mapping[str, Any] | None]]:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip() for h in header]
    if "timestamp" not in header:
        raise UsageDataError(
            f"{path}:1: the header has no 'timestamp' column (columns: {', '.join(header)})",
            path=str(path),
            line=1,
            field="timestamp",
        )
    width = len(header)
    for values in reader:
        line = reader.line_num
        if not values or (len(values) == 1 and not values[0].strip()):
            yield line, None
            continue
        if len(values) != width:
            yield line, {"__error__": f"expected {width} columns, found {len(values)}"}
            continue
        yield line, dict(zip(header, values, strict=True))


def _jsonl_rows(
    handle: Iterable[str], path: Path
) -> Iterator[tuple[int, Mapping[str, Any] | None]]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            yield line, None
            continue
        try:
            row = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            yield line, {"__error__": f"not valid JSON ({exc.msg} at column {exc.colno})"}
            continue
        if not isinstance(row, dict):
            yield line, {"__error__": f"expected a JSON object, found {type(row).__name__}"}
            continue
        yield line, row


def _add_row(builder: UsageLogBuilder, row: Mapping[str, Any]) -> None:
    if "__error__" in row:
        raise _RowError("(row)", str(row["__error__"]))
    ts_us = _timestamp(row.get("timestamp"))
    ccu = _decimal(row, "ccu")
    ints = {name: _int(row, name) for name in _INT_FIELDS}
    minutes = _decimal(row, "sandbox_minutes")
    if ints["cached_input_tokens"] > ints["input_tokens"]:
        raise _RowError(
            "cached_input_tokens",
            f"{ints['cached_input_tokens']} cached tokens exceed input_tokens "
            f"({ints['input_tokens']}), which include them",
        )
    has_meter = (
        any(ints.values()) or (minutes is not None and minutes > 0) or _present(row, "model")
    )
    if ccu is None and not has_meter and not any(_present(row, n) for n in _INT_FIELDS):
        raise _RowError("ccu", "a row needs 'ccu' or at least one meter (tokens, tool_calls, ...)")
    dims = {name: _text(row, name) for name in DIMENSIONS}
    builder.add(
        ts_us,
        ccu_micro=None if ccu is None else to_micro(ccu),
        sandbox_micro_minutes=0 if minutes is None else to_micro(minutes),
        sandbox_class=_text(row, "sandbox_class"),
        fast=_bool(row, "fast"),
        reasoning_tokens=ints["reasoning_tokens"],
        tool_calls=ints["tool_calls"],
        output_tokens=ints["output_tokens"],
        input_tokens=ints["input_tokens"],
        cached_input_tokens=ints["cached_input_tokens"],
        **dims,
    )


def _present(row: Mapping[str, Any], name: str) -> bool:
    value = row.get(name)
    return value is not None and value != ""


def _timestamp(value: Any) -> int:
    if value is None or value == "":
        raise _RowError("timestamp", "missing timestamp")
    if not isinstance(value, str):
        raise _RowError("timestamp", f"expected ISO 8601 text, found {value!r}")
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _RowError(
            "timestamp", f"{value!r} is not an ISO 8601 instant (e.g. 2026-06-01T09:00:00Z)"
        ) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise _RowError(
            "timestamp", f"{value!r} has no timezone offset; add one, e.g. {value.strip()}Z"
        )
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _decimal(row: Mapping[str, Any], name: str) -> Decimal | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _RowError(name, f"expected a number, found {value!r}")
    try:
        result = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise _RowError(name, f"{value!r} is not a decimal number") from None
    if not result.is_finite():
        raise _RowError(name, f"{value!r} is not a finite number")
    if result < ZERO:
        raise _RowError(name, f"must be >= 0, found {value!r}")
    return result


def _int(row: Mapping[str, Any], name: str) -> int:
    value = row.get(name)
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise _RowError(name, f"expected a whole number, found {value!r}")
    if isinstance(value, int):
        result = value
    else:
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except (InvalidOperation, TypeError, ValueError):
            raise _RowError(name, f"{value!r} is not a whole number") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise _RowError(name, f"{value!r} is not a whole number")
        result = int(number)
    if result < 0:
        raise _RowError(name, f"must be >= 0, found {value!r}")
    return result


def _text(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bool(row: Mapping[str, Any], name: str) -> bool:
    value = row.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _RowError(name, f"expected true/false, found {value!r}")
