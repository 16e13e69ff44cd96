"""Any codex_credits value as rows: its fields as columns, nested values flattened.

The fallback of :func:`codex_credits.tabular.tabulate` and the building block of
the result-specific tables: a pydantic model or a dataclass becomes one row, a
nested model or dataclass adds ``outer_inner`` columns, a list of scalars is
joined with ``"; "``. A column's kind comes from the field's declared type
first (a ``Decimal | None`` field is an amount column even when every row holds
None) and from its values otherwise.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, get_args, get_origin

if TYPE_CHECKING:
    from codex_credits.tabular import Column, Kind, Tabular

__all__ = ["from_dicts", "is_record", "record_rows", "rows_of"]

_NUMBERS = (int, float)


def is_record(value: Any) -> bool:
    """True for a codex_credits pydantic model or dataclass instance."""
    cls = type(value)
    if not cls.__module__.startswith("codex_credits"):
        return False
    return dataclasses.is_dataclass(value) or hasattr(cls, "model_fields")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The declared type of every field ({} when the annotations do not resolve)."""
    if cls not in _HINTS:
        fields = getattr(cls, "model_fields", None)
        if fields is not None:
            _HINTS[cls] = {name: f.annotation for name, f in fields.items()}
        else:
            try:
                hints = typing.get_type_hints(cls)
            except (NameError, TypeError):
                hints = {}
            _HINTS[cls] = {f.name: hints.get(f.name) for f in dataclasses.fields(cls)}
    return _HINTS[cls]


def _field_names(cls: type) -> list[str]:
    fields = getattr(cls, "model_fields", None)
    if fields is not None:
        return list(fields)
    return [f.name for f in dataclasses.fields(cls)]


def _declared(annotation: Any) -> Kind | None:
    """The column kind a declared type implies: amounts, times, numbers."""
    if annotation is None:
        return None
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _declared(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_declared(a) for a in get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if annotation is Decimal:
        return "decimal"
    if annotation is datetime:
        return "time"
    if annotation is float:
        return "number"
    return None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | Decimal | datetime | Enum)


def _cell(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value


def record_rows(
    value: Any, prefix: str = "", skip: Sequence[str] = ()
) -> tuple[dict[str, Any], dict[str, Kind]]:
    """One record's row (nested records flattened) and the kinds its types declare."""
    row: dict[str, Any] = {}
    kinds: dict[str, Kind] = {}
    cls = type(value)
    hints = _hints(cls)
    for name in _field_names(cls):
        if name in skip:
            continue
        item = getattr(value, name)
        key = prefix + name
        if is_record(item):
            inner, inner_kinds = record_rows(item, key + "_")
            row.update(inner)
            kinds.update(inner_kinds)
        elif isinstance(item, tuple | list | frozenset):
            if all(_scalar(v) for v in item):
                row[key] = "; ".join(str(_cell(v)) for v in item)
        elif isinstance(item, Mapping):
            for k, v in item.items():
                if is_record(v):
                    inner, inner_kinds = record_rows(v, f"{key}_{k}_")
                    row.update(inner)
                    kinds.update(inner_kinds)
                elif _scalar(v):
                    row[f"{key}_{k}"] = _cell(v)
        elif _scalar(item) or isinstance(item, timedelta):
            row[key] = _cell(item)
            declared = _declared(hints.get(name))
            if declared is not None:
                kinds[key] = declared
    return row, kinds


def rows_of(title: str, values: Sequence[Any], skip: Sequence[str] = ()) -> Tabular:
    """One row per record of ``values`` (models or dataclasses)."""
    rows, kinds = [], {}
    for value in values:
        row, declared = record_rows(value, "", skip)
        rows.append(row)
        kinds.update(declared)
    return from_dicts(title, rows, kinds)


def from_dicts(
    title: str, rows: Sequence[Mapping[str, Any]], kinds: Mapping[str, Kind] | None = None
) -> Tabular:
    """A table of plain rows; ``kinds`` overrides the kind a column's values suggest."""
    from codex_credits.tabular import Column, Tabular

    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns: list[Column] = []
    for name in names:
        values = [_cell(row.get(name)) for row in rows]
        kind = (kinds or {}).get(name) or _kind(values)
        columns.append(Column(name, values, kind))
    return Tabular(title, tuple(columns))


def _kind(values: Sequence[Any]) -> Kind:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, Decimal) for v in present):
        return "decimal"
    if present and all(isinstance(v, datetime) for v in present):
        return "time"
    if (
        len(present) < len(values)
        and present
        and all(isinstance(v, _NUMBERS) and not isinstance(v, bool) for v in present)
        and any(isinstance(v, float) for v in present)
    ):
        return "number"
    return "plain"
