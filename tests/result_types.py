"""Which public types are results: what the public functions of ``codex_credits`` return."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

import codex_credits as cc

NOT_RESULTS = {
    "Account": "a stateful engine; its result is Account.state (an AccountState)",
    "PathStart": "the forecast engine's internal start vector",
    "HourlyRules": "the forecast engine's per-hour rules (arrays), an input of run_paths",
    "SeasonalModel": "a fitted model (arrays and methods), not a table",
    "RateCard": "an input (it has its own table as a result of `card`)",
}
"""Return types that are not results a notebook tabulates, and why."""


def _public() -> dict[str, Any]:
    return {name: getattr(cc, name) for name in cc.__all__}


def _callables() -> Iterator[Callable[..., Any]]:
    for value in _public().values():
        if inspect.isfunction(value):
            yield value
        elif inspect.isclass(value):
            for name, member in vars(value).items():
                if isinstance(member, classmethod | staticmethod):
                    member = member.__func__
                if not name.startswith("_") and inspect.isfunction(member):
                    yield member


def _walk(annotation: Any, classes: dict[type, str], out: set[str]) -> None:
    if inspect.isclass(annotation) and annotation in classes:
        out.add(classes[annotation])
    for arg in typing.get_args(annotation):
        _walk(arg, classes, out)


def _is_result(cls: type) -> bool:
    """A record (dataclass, pydantic model) or another value class; not an enumeration."""
    return not issubclass(cls, Enum | BaseException)


def result_types() -> set[str]:
    """Public record classes some public function or method returns (alone or in a collection)."""
    public = _public()
    classes = {v: n for n, v in public.items() if inspect.isclass(v)}
    found: set[str] = set()
    for function in _callables():
        namespace = {**function.__globals__, **public}
        hints = typing.get_type_hints(function, globalns=namespace)
        _walk(hints.get("return"), classes, found)
    return {n for n in found if _is_result(public[n]) and n not in NOT_RESULTS}
