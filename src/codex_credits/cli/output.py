"""Rendering results for people (tables, Markdown) and programs (JSON, CSV).

Decimals are written as exact strings in JSON; tables right-align numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

from pydantic import BaseModel

from codex_credits.escape import markdown, terminal

__all__ = ["Table", "to_json", "to_jsonable", "write_json"]


def to_jsonable(value: Any) -> Any:
    """Turn Decimals into strings, datetimes into ISO text, models into dicts, recursively."""
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="python"))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """Pretty JSON text with every amount an exact decimal string."""
    return json.dumps(to_jsonable(value), indent=2, ensure_ascii=False)


def write_json(value: Any, out: TextIO) -> None:
    """Write :func:`to_json` and a newline."""
    out.write(to_json(value) + "\n")


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _numeric(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


@dataclass
class Table:
    """A titled table that renders as aligned text, Markdown or CSV."""

    columns: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    title: str | None = None

    def add(self, *cells: Any) -> None:
        """Append one row."""
        self.rows.append(cells)

    def render(self, fmt: str = "table") -> str:
        """``table`` (aligned text), ``markdown`` or ``csv``."""
        if fmt == "markdown":
            return self._markdown()
        if fmt == "csv":
            return self._csv()
        return self._text()

    def _text(self) -> str:
        cells = [[terminal(_text(c)) for c in row] for row in self.rows]  # data: escaped
        widths = [len(c) for c in self.columns]
        for row in cells:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
        numeric = [
            any(_numeric(row[i]) for row in self.rows if i < len(row))
            for i in range(len(self.columns))
        ]

        def line(values: Sequence[str]) -> str:
            parts = [
                v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i])
                for i, v in enumerate(values)
            ]
            return "  ".join(parts).rstrip()

        out = []
        if self.title:
            out.append(self.title)
        out.append(line(list(self.columns)))
        out.append("  ".join("-" * w for w in widths))
        out.extend(line(row) for row in cells)
        return "\n".join(out)

    def _markdown(self) -> str:
        numeric = [
            any(_numeric(row[i]) for row in self.rows if i < len(row))
            for i in range(len(self.columns))
        ]
        out = []
        if self.title:
            out.append(f"**{self.title}**\n")
        out.append("| " + " | ".join(self.columns) + " |")
        out.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
        for row in self.rows:
            out.append("| " + " | ".join(markdown(_text(c)) for c in row) + " |")
        return "\n".join(out)

    def _csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if c is None else _text(c) for c in row])
        return buffer.getvalue().rstrip("\n")
