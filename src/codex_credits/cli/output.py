"""Rendering results for people (tables, Markdown) and programs (JSON, CSV).

Decimals are written as exact strings in JSON; tables right-align numbers and fit
the terminal's width (rich lays them out).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

from pydantic import BaseModel

from codex_credits.display import text
from codex_credits.escape import markdown, terminal

__all__ = ["Table", "terminal_width", "to_json", "to_jsonable", "write_json"]


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


_PROSE_MIN = 24
"""Prose columns (messages) wrap, but not narrower than this."""

_GAP = 2


def _column_groups(least: list[int], width: int) -> list[list[int]]:
    """Column indexes per printed block: all at once if they fit, else blocks keyed by column 0."""
    if sum(least) + _GAP * (len(least) - 1) <= width or len(least) < 3:
        return [list(range(len(least)))]
    groups: list[list[int]] = []
    current = [0]
    used = least[0]
    for i in range(1, len(least)):
        if len(current) > 1 and used + _GAP + least[i] > width:
            groups.append(current)
            current, used = [0], least[0]
        current.append(i)
        used += _GAP + least[i]
    groups.append(current)
    return groups


def terminal_width() -> int:
    """The width tables are laid out for: ``COLUMNS``, else the terminal's, else 80."""
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def wrapped(text: str, first: str = "", rest: str = "") -> list[str]:
    """Prose as lines that fit the terminal; words (numbers, paths) are never cut."""
    return textwrap.wrap(
        text,
        terminal_width(),
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _text(value: Any) -> str:
    """A cell as the terminal shows it: flags as yes/no, floats in full, else as notebooks do."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(value)
    return text(value)


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
        """Aligned columns that fit the terminal (``COLUMNS``; 80 when not a terminal).

        Numbers, times and other single words are never cut: prose cells wrap within
        their column, and a table still too wide is split into column groups, each
        repeating the first column (as data frames print).
        """
        width = terminal_width()
        cells = [[terminal(_text(c)) for c in row] for row in self.rows]  # data: escaped
        widths = [
            max([len(name), *(len(row[i]) for row in cells if i < len(row))])
            for i, name in enumerate(self.columns)
        ]
        prose = [any(" " in row[i] for row in cells if i < len(row)) for i in range(len(widths))]
        least = [min(w, _PROSE_MIN) if p else w for w, p in zip(widths, prose, strict=True)]
        parts = [
            self._rich(group, cells, widths, prose, width) for group in _column_groups(least, width)
        ]
        text = "\n\n".join(parts)
        if self.title:
            title = textwrap.wrap(self.title, width, break_on_hyphens=False, break_long_words=False)
            text = "\n".join([*title, text])
        return text

    def _rich(
        self,
        group: list[int],
        cells: list[list[str]],
        widths: list[int],
        prose: list[bool],
        width: int,
    ) -> str:
        from rich import box
        from rich.console import Console
        from rich.table import Table as RichTable

        table = RichTable(
            box=box.Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True),
            header_style=None,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),
        )
        numeric = self._numeric()
        for i in group:
            table.add_column(
                self.columns[i],
                justify="right" if numeric[i] else "left",
                no_wrap=not prose[i],
                min_width=min(widths[i], _PROSE_MIN) if prose[i] else widths[i],
                overflow="fold",
            )
        for row in cells:
            table.add_row(*(row[i] if i < len(row) else "" for i in group))
        buffer = io.StringIO()
        console = Console(
            file=buffer, width=width, color_system=None, highlight=False, markup=False, emoji=False
        )
        console.print(table, crop=True)
        return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())

    def _numeric(self) -> list[bool]:
        return [
            any(_numeric(row[i]) for row in self.rows if i < len(row))
            for i in range(len(self.columns))
        ]

    def _markdown(self) -> str:
        numeric = self._numeric()
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
