"""Budget windows: the period a budget's spend is counted over and reset at.

Theory of operation (docs/governance.md, "Budgets as a hierarchy"):

* By default a budget counts spend per **billing period** (``every="billing"``)
  and resets when the account's period starts, as it always has.
* A budget may instead have a window of its own: ``day``, ``week``, ``sprint``
  (``days`` long) or calendar ``month``. Windows are numbered from ``start``
  (a whole UTC hour; window 0 begins there, earlier instants get negative
  numbers): fixed-length windows are ``[start + k x length, start + (k+1) x
  length)``; months are calendar months from ``start`` with the day clamped,
  exactly like billing periods (day 31 becomes the month's last day).
* Defaults for ``start``: midnight UTC 1970-01-01 for days, Monday 1970-01-05
  for weeks, the 1st of January 1970 for months. A sprint must name its start.
* Every boundary falls on a whole UTC hour, so the engine resets a window's
  spend when it opens the first hour of the window.

>>> from datetime import datetime, UTC
>>> sprint = BudgetWindow(every="sprint", days=14, start=datetime(2026, 1, 5, tzinfo=UTC))
>>> sprint.index(datetime(2026, 1, 19, 0, tzinfo=UTC))
1
>>> sprint.bounds(1)[1].date()
datetime.date(2026, 2, 2)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import final

from pydantic import Field, model_validator

from codex_credits.core.model import Frozen
from codex_credits.core.periods import check_anchor, period_at, period_containing
from codex_credits.core.timeutil import UtcDatetime, require_utc

__all__ = ["BudgetWindow", "Every"]

_DAY_START = datetime(1970, 1, 1, tzinfo=UTC)
_WEEK_START = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday


class Every(StrEnum):
    """How often a budget's spend resets."""

    BILLING = "billing"
    """With the account's billing period (the default)."""
    DAY = "day"
    WEEK = "week"
    SPRINT = "sprint"
    """Every ``days`` days from ``start``."""
    MONTH = "month"
    """Calendar months from ``start`` (day clamped, as billing periods)."""


@final
class BudgetWindow(Frozen):
    """The window a budget counts spend over (see the module docs)."""

    every: Every = Every.BILLING
    days: int | None = Field(default=None, ge=1, description="sprint length in days")
    start: UtcDatetime | None = Field(default=None, description="the start of window 0")

    @model_validator(mode="after")
    def _consistent(self) -> BudgetWindow:
        if self.every is Every.SPRINT:
            if self.days is None or self.start is None:
                raise ValueError("a sprint window needs days and start")
        elif self.days is not None:
            raise ValueError(f"days applies only to sprint windows, not {self.every.value}")
        if self.every is Every.BILLING and self.start is not None:
            raise ValueError("a billing window starts with the account's periods; drop start")
        if self.start is not None:
            check_anchor(self.start)
        return self

    @property
    def billing(self) -> bool:
        """True when the window is the account's billing period."""
        return self.every is Every.BILLING

    @property
    def origin(self) -> datetime:
        """The start of window 0 (not defined for billing windows)."""
        if self.start is not None:
            return self.start
        if self.every is Every.WEEK:
            return _WEEK_START
        if self.every is Every.BILLING:
            raise ValueError("a billing window has no origin of its own")
        return _DAY_START

    @property
    def length(self) -> timedelta | None:
        """The fixed length of a window (None for months and billing periods)."""
        if self.every is Every.DAY:
            return timedelta(days=1)
        if self.every is Every.WEEK:
            return timedelta(days=7)
        if self.every is Every.SPRINT:
            assert self.days is not None
            return timedelta(days=self.days)
        return None

    def index(self, at: datetime) -> int:
        """The number of the window containing ``at``.

        Raises:
            ValueError: for a billing window (its index is the billing period's).
        """
        at = require_utc(at)
        length = self.length
        if length is not None:
            return (at - self.origin) // length
        return period_containing(self.origin, at).index

    def bounds(self, index: int) -> tuple[datetime, datetime]:
        """``[start, end)`` of window number ``index``."""
        length = self.length
        if length is not None:
            start = self.origin + index * length
            return start, start + length
        period = period_at(self.origin, index)
        return period.start, period.end
