"""Billing periods: calendar months from an anchor.

Period ``k`` of an account is ``[anchor + k months, anchor + (k+1) months)``,
each computed from the anchor itself, so an anchor on the 31st gives periods
starting 31 Jan, 28 Feb (29 in a leap year), 31 Mar, 30 Apr ... and never drifts.
An anchor must fall on a whole UTC hour, because the engine works in hours.

>>> from datetime import datetime, UTC
>>> p = period_containing(datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
>>> p.index, p.start.date(), p.end.date()
(1, datetime.date(2026, 2, 28), datetime.date(2026, 3, 31))
"""

from __future__ import annotations

from datetime import datetime
from typing import final

from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime, add_months_clamped, require_utc
from codex_credits.errors import ConfigError

__all__ = ["BillingPeriod", "check_anchor", "period_at", "period_containing"]


@final
class BillingPeriod(Frozen):
    """One billing period ``[start, end)``; ``index`` counts from the anchor (0 = first)."""

    index: int
    start: UtcDatetime
    end: UtcDatetime

    @property
    def days(self) -> int:
        """Length of the period in whole days (28 to 31)."""
        return (self.end - self.start).days

    @property
    def hours(self) -> int:
        """Length of the period in hours."""
        return int((self.end - self.start).total_seconds()) // 3600

    def __contains__(self, at: object) -> bool:
        return isinstance(at, datetime) and self.start <= require_utc(at) < self.end


def check_anchor(anchor: datetime) -> datetime:
    """Return the anchor in UTC, or raise ConfigError if it is not on a whole hour."""
    anchor = require_utc(anchor, "anchor")
    if anchor.minute or anchor.second or anchor.microsecond:
        raise ConfigError(f"anchor {anchor.isoformat()} must fall on a whole UTC hour")
    return anchor


def period_at(anchor: datetime, index: int) -> BillingPeriod:
    """Period number ``index`` (may be negative) of an account anchored at ``anchor``."""
    anchor = check_anchor(anchor)
    return BillingPeriod(
        index=index,
        start=add_months_clamped(anchor, index),
        end=add_months_clamped(anchor, index + 1),
    )


def period_containing(anchor: datetime, at: datetime) -> BillingPeriod:
    """The billing period that contains ``at``."""
    anchor = check_anchor(anchor)
    at = require_utc(at)
    months = (at.year - anchor.year) * 12 + (at.month - anchor.month)
    index = months - 1
    while True:
        period = period_at(anchor, index)
        if at < period.start:
            index -= 1
        elif at >= period.end:
            index += 1
        else:
            return period
