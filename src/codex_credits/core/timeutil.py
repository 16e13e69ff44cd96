"""Instants and calendar arithmetic.

Every instant is timezone-aware and normalised to UTC on the way in; a naive
datetime is refused with :class:`~codex_credits.errors.NaiveDatetimeError`.
Hours are UTC clock hours ``[h, h+1)``. Billing months are calendar months from
an anchor, the day clamped to the month's end (31 January + 1 month = 28 or 29
February), computed with python-dateutil's ``relativedelta``, never as 30 days.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from dateutil.relativedelta import relativedelta
from pydantic import AfterValidator, BeforeValidator

from codex_credits.errors import NaiveDatetimeError

__all__ = [
    "HOUR",
    "UtcDatetime",
    "add_months_clamped",
    "epoch_seconds",
    "epoch_us",
    "from_epoch",
    "from_epoch_us",
    "hour_floor",
    "hours",
    "parse_instant",
    "require_utc",
]

HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def require_utc(at: datetime, name: str = "at") -> datetime:
    """Check that ``at`` is aware and return it in UTC.

    Raises:
        NaiveDatetimeError: if ``at`` has no timezone.
        TypeError: if ``at`` is not a datetime.
    """
    if not isinstance(at, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{name}={at.isoformat()} has no timezone; pass an aware datetime, "
            "for example datetime(2026, 6, 1, tzinfo=timezone.utc) or '2026-06-01T00:00:00Z'"
        )
    return at.astimezone(UTC)


def parse_instant(text: str, name: str = "timestamp") -> datetime:
    """Parse ISO 8601 text with an offset (``Z`` allowed) into a UTC datetime."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{name}: {text!r} is not an ISO 8601 instant (expected e.g. 2026-06-01T09:00:00Z)"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:  # text: advice in text's terms
        raise NaiveDatetimeError(
            f"{name}: {text.strip()!r} has no timezone offset; add one, e.g. {text.strip()}Z"
        )
    return require_utc(value, name)


def _before(value: Any) -> Any:
    if isinstance(value, str):
        return parse_instant(value)
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(_before), AfterValidator(require_utc)]
"""A pydantic field type: an aware datetime, normalised to UTC. Naive values are refused."""


def hour_floor(at: datetime) -> datetime:
    """The start of the UTC clock hour containing ``at``."""
    at = require_utc(at)
    return at.replace(minute=0, second=0, microsecond=0)


def hours(start: datetime, end: datetime) -> Iterator[datetime]:
    """Every hour start in ``[start, end)``, start floored to its hour."""
    current = hour_floor(start)
    end = require_utc(end, "end")
    while current < end:
        yield current
        current += HOUR


def add_months_clamped(anchor: datetime, months: int) -> datetime:
    """``anchor`` plus ``months`` calendar months, the day clamped to the month's end."""
    result: datetime = require_utc(anchor, "anchor") + relativedelta(months=months)
    return result


def epoch_seconds(at: datetime) -> int:
    """Whole seconds since the Unix epoch (sub-second part floored)."""
    delta = require_utc(at) - _EPOCH
    return delta.days * 86_400 + delta.seconds


def epoch_us(at: datetime) -> int:
    """Whole microseconds since the Unix epoch: exact, and ordered like the instants."""
    delta = require_utc(at) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_us(micros: int) -> datetime:
    """A UTC datetime from whole microseconds since the Unix epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def from_epoch(seconds: int) -> datetime:
    """A UTC datetime from whole Unix seconds."""
    return _EPOCH + timedelta(seconds=seconds)
