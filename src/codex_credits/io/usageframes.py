"""Usage from columnar data: Parquet, Arrow, pandas, polars and DuckDB.

:func:`read_frame` turns any of these into Arrow record batches (pyarrow, the
``arrow`` extra) and reads them batch by batch through the same checks as a
file (:mod:`codex_credits.io.usagecolumns`), so memory grows with the result.
Rows are numbered from 1 in error messages (``<pandas.DataFrame>:14: field
'ccu': ...``).

Values keep their exactness: ``decimal128`` and text amounts are read exactly;
a binary float amount is accepted only when its exact value has at most six
decimal places (``0.5``), so ``0.1`` as a float is refused with its row and
field named (store amounts as decimals or text). Timestamps are text with an
offset or Arrow timestamps with a time zone; naive ones are refused.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from codex_credits.core.usage import UsageLog
from codex_credits.errors import UsageDataError
from codex_credits.io.usagecolumns import convert_table
from codex_credits.io.usagemerge import Merger
from codex_credits.io.usagetables import KNOWN, Table

__all__ = ["is_frame", "read_frame"]

_BATCH_ROWS = 65_536


def is_frame(source: Any) -> bool:
    """Whether ``source`` is columnar data rather than a path."""
    return not isinstance(source, str | Path)


def read_frame(source: Any, *, strict: bool = True) -> UsageLog:
    """Read a pyarrow Table or RecordBatchReader, a pandas or polars DataFrame, a
    DuckDB relation, or a Parquet file (a path ending ``.parquet``).

    Raises:
        UsageDataError: a bad row (with ``strict``), or data of an unknown kind.
    """
    name = Path(f"<{type(source).__module__.split('.')[0]}.{type(source).__name__}>")
    if isinstance(source, str | Path):
        name = Path(source)
    merger = Merger(keep_event_ids=True)
    first = 1
    for batch in _batches(source):
        columns = {
            column: [_cell(v) for v in batch.column(column).to_pylist()]
            for column in batch.schema.names
            if column in KNOWN
        }
        n = batch.num_rows
        if not n:
            continue
        rows = [
            dict(zip(columns, values, strict=True))
            for values in zip(*columns.values(), strict=True)
        ]
        table = Table(columns, rows.__getitem__, _numbering(first), np.zeros(n, dtype=np.bool_))
        chunk = convert_table(table, name, strict, 1000 - len(merger.problems))
        if chunk is None:
            raise UsageDataError(f"{name}: a value does not fit a 64-bit column", path=str(name))
        merger.add(chunk)
        first += n
    return merger.log()


def _numbering(first: int) -> Callable[[int], int]:
    def line(i: int) -> int:
        return first + i

    return line


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()  # a naive one has no offset and is refused
    return value


def _batches(source: Any) -> Iterator[Any]:
    try:
        pa = importlib.import_module("pyarrow")
    except ImportError:  # pragma: no cover - the arrow extra is not installed
        raise UsageDataError(
            "reading columnar data needs pyarrow: pip install 'codex-credits[arrow]'"
        ) from None
    if isinstance(source, str | Path):
        pq = importlib.import_module("pyarrow.parquet")
        yield from pq.ParquetFile(str(source)).iter_batches(batch_size=_BATCH_ROWS)
        return
    if hasattr(source, "to_arrow_reader"):  # a DuckDB relation
        source = source.to_arrow_reader(_BATCH_ROWS)
    elif hasattr(source, "fetch_record_batch"):  # older DuckDB
        source = source.fetch_record_batch(_BATCH_ROWS)
    elif hasattr(source, "to_arrow"):  # polars
        source = source.to_arrow()
    elif type(source).__module__.startswith("pandas"):
        source = pa.Table.from_pandas(source, preserve_index=False)
    if isinstance(source, pa.Table):
        yield from source.to_batches(max_chunksize=_BATCH_ROWS)
    elif isinstance(source, pa.RecordBatchReader):
        yield from source
    elif isinstance(source, pa.RecordBatch):
        yield source
    else:
        raise UsageDataError(f"cannot read usage from a {type(source).__name__}")
