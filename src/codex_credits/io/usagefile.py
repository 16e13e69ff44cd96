"""Read and write usage files: CSV and JSON Lines.

Columns (CSV header) or keys (JSONL objects), all optional but ``timestamp``:

``timestamp``       ISO 8601 with an offset (``Z`` allowed); naive times are refused
``ccu``             amount in the card's unit (exact decimal text)
``reasoning_tokens`` ``tool_calls`` ``output_tokens`` ``input_tokens`` ``cached_input_tokens``
                    whole numbers >= 0 (``input_tokens`` includes cached input)
``sandbox_minutes`` decimal >= 0; ``sandbox_class`` a class of the card
``model`` ``fast``  the model priced on a token card; ``fast`` true/false/1/0
``event_id`` ``user_id`` ``project_id`` ``task_type`` ``feature`` ``session_id``
``parent_session_id`` ``account_id``  labels (text); blank cells are no label

A row must carry ``ccu`` or at least one meter. A bad row raises
:class:`~codex_credits.errors.UsageDataError` naming file, line and field; with
``strict=False`` it is skipped and counted in ``log.summary``. A repeated
``event_id`` is dropped and counted, never billed twice. Unknown columns are
ignored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from codex_credits.core.usage import DIMENSIONS, UsageEvent, UsageLog
from codex_credits.errors import UsageDataError
from codex_credits.io.usagecolumns import read_columns
from codex_credits.io.usageframes import is_frame, read_frame
from codex_credits.io.usagerows import INT_FIELDS, read_rows_reference

__all__ = ["USAGE_COLUMNS", "guess_format", "read_usage", "write_usage"]

USAGE_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "ccu",
    *INT_FIELDS,
    "sandbox_minutes",
    "sandbox_class",
    "fast",
    *DIMENSIONS,
)


def read_usage(
    path: str | Path | Any,
    *,
    strict: bool = True,
    format: Literal["csv", "jsonl"] | None = None,
) -> UsageLog:
    """Read a CSV or JSONL usage file into a :class:`UsageLog` sorted by time.

    ``path`` may also be a Parquet file, a pyarrow Table, a pandas or polars
    DataFrame or a DuckDB relation (``read_usage(duckdb.sql("select ..."))``),
    read batch by batch with the same checks (:mod:`codex_credits.io.usageframes`).

    Files are read column by column (:mod:`codex_credits.io.usagecolumns`);
    any row that reader cannot prove good is checked by the row-by-row reference
    reader, so the log, the summary and every error are the same either way.

    Args:
        path: the file; ``.csv`` is CSV, ``.jsonl``/``.ndjson``/``.json`` is JSON Lines.
        strict: raise on the first bad row (default), or skip and count bad rows.
        format: override the format guessed from the file name.

    Raises:
        UsageDataError: a bad row (with ``strict``), or a file that cannot be read.
    """
    if is_frame(path) or Path(path).suffix.lower() == ".parquet":
        return read_frame(path, strict=strict)
    path = Path(path)
    fmt = format or guess_format(path)
    try:
        log = read_columns(path, fmt, strict=strict)
        if log is None:  # something only the reference reader reports in order
            log = read_rows_reference(path, fmt, strict=strict)
    except OSError as exc:
        raise UsageDataError(
            f"{path}: cannot read usage file: {exc.strerror}", path=str(path)
        ) from None
    except UnicodeDecodeError as exc:
        raise UsageDataError(f"{path}: not UTF-8 text ({exc.reason})", path=str(path)) from None
    return log


def write_usage(events: Iterable[UsageEvent], path: str | Path) -> int:
    """Write events as CSV (``.csv``) or JSON Lines; returns the number written.

    ``read_usage`` reads the file back to equal events.
    """
    path = Path(path)
    fmt = guess_format(path)
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
    for name in INT_FIELDS:
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


def guess_format(path: Path) -> Literal["csv", "jsonl"]:
    """``csv`` for a ``.csv`` name, ``jsonl`` for ``.jsonl``/``.ndjson``/``.json``."""
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
