"""Clocks: the only place in the library that reads the wall clock.

The core never asks for "now"; adapters and the CLI take a :class:`Clock` and
pass its time as an argument. Tests use :class:`FixedClock` or
:class:`ManualClock`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from codex_credits.core.timeutil import require_utc

__all__ = ["Clock", "FixedClock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """Anything that can tell the current UTC time."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock stopped at one instant."""

    def __init__(self, at: datetime) -> None:
        self._at = require_utc(at)

    def now(self) -> datetime:
        return self._at


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime) -> None:
        self._at = require_utc(at)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        if delta < timedelta(0):
            raise ValueError("a ManualClock never goes backwards")
        self._at += delta

    def set(self, at: datetime) -> None:
        """Jump to ``at`` (not earlier than now)."""
        at = require_utc(at)
        if at < self._at:
            raise ValueError("a ManualClock never goes backwards")
        self._at = at
