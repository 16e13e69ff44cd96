"""The fields of a rollout line: usage objects, timestamps, whole numbers.

Each reader returns the field's value or raises :class:`BadLine` naming the
field and what is wrong with it; :mod:`codex_credits.io.rollout_parse` counts
such a line as bad and reports it with its file and line number. ``loads`` is
the JSON decoder of every line (orjson, or the standard library without it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import blake2b
from typing import Any, Final

from codex_credits.io.bounds import in_range_us
from codex_credits.io.rollout_records import Usage

__all__ = [
    "MAX_TOKENS",
    "BadLine",
    "int_field",
    "loads",
    "parse_ts",
    "project",
    "stable_key",
    "timestamp",
    "usage",
]

try:  # orjson is the field's standard fast JSON parser; json is the fallback.
    import orjson

    loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - exercised only without orjson installed
    import json

    loads = json.loads  # (RecursionError on deep nesting is caught as a bad line)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_USAGE_FIELDS: Final = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
)
MAX_TOKENS: Final = 10**15
"""The most tokens one request may carry in one field; more is a bad line.

A thousand times any context window, and small enough that every card prices a
request within a 64-bit micro-CCU column."""


class BadLine(Exception):
    """A field of the line is missing or out of range; the message names it."""


def usage(value: Any, name: str) -> Usage | None:
    if value is None:
        return None
    if type(value) is dict:
        get = value.get
        inp = get("input_tokens", 0)
        cached = get("cached_input_tokens", 0)
        out = get("output_tokens", 0)
        reasoning = get("reasoning_output_tokens", 0)
        if (
            type(inp) is int
            and type(cached) is int
            and type(out) is int
            and type(reasoning) is int
            and 0 <= cached <= inp <= MAX_TOKENS
            and 0 <= out <= MAX_TOKENS
            and 0 <= reasoning <= MAX_TOKENS
        ):
            total = get("total_tokens")
            if type(total) is not int or total < 0:
                total = inp + out
            return (inp, cached, out, reasoning, total)
    return _usage_problem(value, name)


def _usage_problem(value: Any, name: str) -> Usage:
    """The slow path of :func:`_usage`: ``null`` fields are 0, anything else wrong is named."""
    if type(value) is not dict:
        raise BadLine(f"{name} is not an object")
    numbers = []
    for field in _USAGE_FIELDS:
        number = value.get(field)
        if number is None:
            number = 0
        elif type(number) is not int or not 0 <= number <= MAX_TOKENS:
            raise BadLine(
                f"{name}.{field} must be a whole number in 0..{MAX_TOKENS}, got {number!r}"
            )
        numbers.append(number)
    inp, cached, out, reasoning = numbers
    if cached > inp:
        raise BadLine(f"{name}: cached_input_tokens ({cached}) exceed input_tokens ({inp})")
    total = value.get("total_tokens")
    if type(total) is not int or total < 0:
        total = inp + out
    return (inp, cached, out, reasoning, total)


def int_field(value: Any, name: str) -> int:
    if type(value) is dict:
        number = value.get(name)
        if type(number) is int and number >= 0:
            if number > MAX_TOKENS:
                raise BadLine(f"{name} {number} is beyond {MAX_TOKENS}")
            return number
    return 0


def timestamp(obj: dict[str, Any]) -> int:
    stamp = obj.get("timestamp")
    if type(stamp) is not str:
        raise BadLine("missing timestamp")
    return parse_ts(stamp)


def parse_ts(stamp: str) -> int:
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        raise BadLine(f"timestamp {stamp!r} is not ISO 8601") from None
    if at.tzinfo is None:
        raise BadLine(f"timestamp {stamp!r} has no timezone")
    delta = at - _EPOCH
    us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not in_range_us(us):
        raise BadLine(f"timestamp {stamp!r} is outside the UTC years 1 to 9999")
    return us


def project(cwd: str) -> str | None:
    name = cwd.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name or None


def stable_key(text: str) -> int:
    """A 64-bit key for ``text`` that is the same in every process.

    ``hash(str)`` is salted per process, so keys sent back from worker
    processes (or compared across runs) must not use it.
    """
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "little", signed=True)
