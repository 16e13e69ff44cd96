"""Splitting a usage file, one chunk at a time, into columns of raw cells.

The columnar reader (:mod:`codex_credits.io.usagecolumns`) reads a file in
chunks of about :data:`CHUNK_BYTES` (whole lines, or whole CSV records), so
the memory it needs grows with the result, not with the file. Each chunk
becomes a :class:`Table`: the raw cells of each known column, a way to fetch
one row for the reference reader, and every row's line number in the file.

- **CSV.** A file whose chunks hold no quote character, no NUL and no lone
  carriage return (``\\r\\n`` line ends are fine) is a plain grid:
  ``csv.reader`` would split it at commas and line ends only, so each chunk is
  split the same way in one pass, without a list per record. Blank lines and
  records of the wrong width are found with NumPy and handled as the ``csv``
  module would. Any other file goes through ``csv.reader`` (a record it
  refuses, such as a field over its size limit, is a bad row and reading goes
  on), in batches of records.
- **JSON Lines.** All lines of a chunk are parsed in one ``orjson`` call (as
  one JSON array) when the chunk allows it, else line by line. A line holding
  a number with a fraction (which ``orjson`` reads as a binary float) is parsed
  again with ``json`` and ``Decimal``, so no amount is ever a float.

A chunk that only the reference reader can report in order (text that is not
UTF-8, for example) makes the generators yield None.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from codex_credits.core.usage import DIMENSIONS
from codex_credits.io.columnparse import BoolArray
from codex_credits.io.usagerows import (
    BOM,
    INT_FIELDS,
    check_header,
    csv_records,
    jsonl_row,
)

__all__ = ["CHUNK_BYTES", "KNOWN", "TEXT_FIELDS", "Table", "csv_tables", "jsonl_tables"]

try:  # orjson is the field's standard fast JSON parser; json is the fallback.
    import orjson

    _loads: Callable[[bytes | bytearray | str], Any] | None = orjson.loads
    _LoadError: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - exercised only without orjson installed
    _loads = None
    _LoadError = ValueError

CHUNK_BYTES = 4 << 20
"""About how many bytes of a file are split into columns at once."""
_BATCH_RECORDS = 50_000  # records per table when csv.reader splits the file
TEXT_FIELDS = (*DIMENSIONS, "sandbox_class")
KNOWN = frozenset(("timestamp", "ccu", *INT_FIELDS, "sandbox_minutes", "fast", *TEXT_FIELDS))
_EMPTY: Mapping[str, Any] = {}


class Table:
    """The records of one chunk: columns by name, any one row, and each row's line."""

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


def _chunks(handle: BinaryIO, size: int) -> Iterator[bytes]:
    """Whole lines of ``handle``, about ``size`` bytes at a time."""
    rest = b""
    while True:
        block = handle.read(size)
        if not block:
            if rest:
                yield rest
            return
        block = rest + block
        end = block.rfind(b"\n") + 1
        if not end:
            rest = block
            continue
        rest = block[end:]
        yield block[:end]


# -- CSV ------------------------------------------------------------------------------------


def csv_tables(path: Path, size: int | None = None) -> Iterator[Table | None]:
    """The tables of a CSV file; None when only the reference reader may read it.

    Raises:
        UsageDataError: the header has no ``timestamp`` column.
        OSError: the file cannot be read.
    """
    size = size or CHUNK_BYTES
    if _is_plain(path, size):
        with path.open("rb") as handle:
            first = handle.readline()
            if first.startswith(BOM):
                first = first[len(BOM) :]
            first = first[:-2] if first.endswith(b"\r\n") else first.rstrip(b"\n")
            if len(first) > csv.field_size_limit():
                yield None
                return
            try:
                header = check_header(first.decode("utf-8").split(","), path)
            except UnicodeDecodeError:
                yield None
                return
            if len(header) > 1:
                line = 2
                for chunk in _chunks(handle, size):
                    table = _plain_table(header, chunk, line)
                    if table is None:
                        yield None
                        return
                    line += table.physical
                    yield table
                return
    yield from _csv_module_tables(path)


def _is_plain(path: Path, size: int) -> bool:
    """Whether the file holds no quote, no NUL and no lone carriage return."""
    tail = b""
    with path.open("rb") as handle:
        while block := handle.read(size):
            if b'"' in block or b"\x00" in block:
                return False
            data = tail + block
            lone = data.count(b"\r") - data.count(b"\r\n")
            tail = b"\r" if data.endswith(b"\r") else b""
            if lone > len(tail):
                return False
    return not tail


class _PlainTable(Table):
    physical = 0  # lines the chunk spans


def _plain_table(header: list[str], data: bytes, first_line: int) -> _PlainTable | None:
    """The table of one chunk of a plain grid (see the module docs), else None."""
    if b'"' in data or b"\x00" in data:
        return None
    physical = data.count(b"\n")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
        if b"\r" in data:
            return None  # a lone carriage return ends a record for csv.reader
    width = len(header)
    body = data if data.endswith(b"\n") else data + b"\n"
    physical += not data.endswith(b"\n")
    raw = np.frombuffer(body, dtype=np.uint8)
    newline = raw == ord("\n")
    separators = np.flatnonzero(newline | (raw == ord(",")))
    if int(np.diff(separators, prepend=-1).max()) - 1 > csv.field_size_limit():
        return None  # csv.reader refuses such a field; it reports the row
    ends = newline[separators]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    wrong: dict[int, str] = {}
    if separators.size % width == 0 and _is_grid(ends.reshape(-1, width)):
        fields = text.replace("\n", ",").split(",")
        fields.pop()  # after the last line feed
        lines: list[int] | None = None
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
            numbers.append(first_line + i)
            kept.append(record)
        fields = ",".join(kept).split(",") if kept else []
        lines = numbers
    n = len(fields) // width
    position = {name: i for i, name in enumerate(header)}  # a repeated name: the last wins
    columns = {name: fields[i::width] for name, i in position.items() if name in KNOWN}

    def row(i: int) -> Mapping[str, Any]:
        if i in wrong:
            return {"__error__": wrong[i]}
        return dict(zip(header, fields[i * width : (i + 1) * width], strict=True))

    flagged = np.zeros(n, dtype=np.bool_)
    flagged[list(wrong)] = True
    line = (lambda i: first_line + i) if lines is None else lines.__getitem__
    table = _PlainTable(columns, row, line, flagged)
    table.physical = physical
    return table


def _is_grid(ends: npt.NDArray[np.bool_]) -> bool:
    """Whether every line has exactly the header's width (the last separator ends it)."""
    return bool(ends[:, -1].all()) and not bool(ends[:, :-1].any())


def _csv_module_tables(path: Path) -> Iterator[Table | None]:
    """The tables of any CSV file, split by ``csv.reader`` (quotes, odd line ends...)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            records_of = csv_records(reader)
            first = next(records_of, None)
            if first is None or isinstance(first, str):
                yield None
                return
            header = check_header(first, path)
            while True:
                table = _csv_batch(header, records_of, reader)
                if table is None:
                    return
                yield table
    except UnicodeDecodeError:
        yield None


def _csv_batch(
    header: list[str], records_of: Iterator[list[str] | str], reader: Any
) -> Table | None:
    width = len(header)
    wrong: dict[int, str] = {}
    records: list[list[str]] = []
    lines: list[int] = []
    for values in records_of:
        if isinstance(values, str):
            wrong[len(records)] = values
            values = [""] * width
        elif not values or (len(values) == 1 and not values[0].strip()):
            continue
        elif len(values) != width:
            wrong[len(records)] = f"expected {width} columns, found {len(values)}"
            values = [""] * width
        records.append(values)
        lines.append(reader.line_num)
        if len(records) >= _BATCH_RECORDS:
            break
    if not records:
        return None
    flagged = np.zeros(len(records), dtype=np.bool_)
    flagged[list(wrong)] = True
    position = {name: i for i, name in enumerate(header)}  # a repeated name: the last wins
    every = list(zip(*records, strict=True))
    columns = {name: list(every[i]) for name, i in position.items() if name in KNOWN}

    def row(i: int) -> Mapping[str, Any]:
        if i in wrong:
            return {"__error__": wrong[i]}
        return dict(zip(header, records[i], strict=True))

    return Table(columns, row, lines.__getitem__, flagged)


# -- JSON Lines -----------------------------------------------------------------------------


def jsonl_tables(path: Path, size: int | None = None) -> Iterator[Table | None]:
    """The tables of a JSON Lines file; None when only the reference reader may read it.

    Raises:
        OSError: the file cannot be read.
    """
    size = size or CHUNK_BYTES
    with path.open("rb") as handle:
        line = 1
        for index, chunk in enumerate(_chunks(handle, size)):
            data = chunk[len(BOM) :] if index == 0 and chunk.startswith(BOM) else chunk
            found = _jsonl_table(data, line)
            if found is None:
                yield None
                return
            table, lines = found
            line += lines
            yield table


def _jsonl_table(data: bytes, first_line: int) -> tuple[Table, int] | None:
    """The table of one chunk and the number of lines it spans (as the reference counts)."""
    try:
        text_all = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    texts: list[str] = []
    lone_cr = b"\r" in data and data.count(b"\r") != data.count(b"\r\n")
    if lone_cr:
        texts.extend(io.StringIO(text_all, newline="").readlines())
        count = len(texts)
    else:
        count = data.count(b"\n") + (not data.endswith(b"\n"))
    del text_all

    def text(number: int) -> str:
        """Line ``number`` of the chunk as the reference reads it (line ends kept)."""
        if not texts:
            texts.extend(io.StringIO(data.decode("utf-8"), newline="").readlines())
        return texts[number - 1]

    found = None if lone_cr else _jsonl_whole(data)
    if found is None:
        found = _jsonl_by_line(data)
    rows, relative, failed = found
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
        exact = jsonl_row(text(relative(i)))
        if exact is None or "__error__" in exact:
            flagged[i] = True
            continue
        for name, values in columns.items():
            values[i] = exact.get(name)

    def row(i: int) -> Mapping[str, Any]:
        found = jsonl_row(text(relative(i)))
        return _EMPTY if found is None else found  # (a blank line has no row)

    def line(i: int) -> int:
        return relative(i) + first_line - 1

    return Table(columns, row, line, flagged), count


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
        return {name: list(every[i]) for i, name in enumerate(shape) if name in KNOWN}
    keys = set().union(*shapes) & KNOWN
    return {name: [r.get(name) for r in rows] for name in keys}


def _jsonl_whole(data: bytes) -> tuple[list[Any], Callable[[int], int], list[int]] | None:
    """Every line parsed in one call, as the elements of one JSON array; else None.

    A JSON text holds no raw line feed, so turning each into a comma makes the
    chunk an array of exactly one element per line, unless a line is blank,
    bad, or holds more than one value: then the parse fails or the count is
    off, and the chunk is read line by line instead.
    """
    if _loads is None or not data:
        return None
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
