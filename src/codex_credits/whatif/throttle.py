"""Rollover stacking: throttle the months before a heavy one.

Theory of operation (docs/levers/rollover.md). :class:`ThrottleBefore` caps
the selected demand of each of the ``months_before`` billing periods before
the heavy period (the one containing ``month``): in time order, a selected
task whose running total in its period would pass ``cap`` is taken out of
Codex (done another way, as the seed suggests), and reported as displaced.
What was not spent rolls over (within the tier's cap) and is drawn first in
the heavy period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import final

import numpy as np

from codex_credits.core.timeutil import epoch_us, require_utc
from codex_credits.core.units import amount, to_micro
from codex_credits.core.usage import UsageLog
from codex_credits.errors import ConfigError
from codex_credits.whatif.base import (
    Applied,
    Scope,
    Where,
    describe_where,
    finish,
    replace_columns,
    select,
)

__all__ = ["ThrottleBefore", "month_instant"]


def month_instant(month: datetime | date | str) -> datetime:
    """An instant in the heavy month: a datetime, a date, ``YYYY-MM`` or ``YYYY-MM-DD``."""
    if isinstance(month, datetime):
        return require_utc(month, "month")
    if isinstance(month, date):
        return datetime(month.year, month.month, month.day, tzinfo=UTC)
    text = month.strip()
    try:
        if len(text) == 7:
            return datetime.strptime(text + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
        return datetime.fromisoformat(text if "T" in text else text + "T00:00:00+00:00").astimezone(
            UTC
        )
    except ValueError:
        raise ConfigError(f"month must be YYYY-MM, a date or a datetime, got {month!r}") from None


@final
@dataclass(frozen=True)
class ThrottleBefore:
    """Cap demand in the ``months_before`` periods before the heavy period at ``cap`` each."""

    month: datetime | date | str
    cap: Decimal | int | str
    months_before: int = 2
    where: Where = None

    def describe(self) -> str:
        """One line for reports."""
        return (
            f"throttle to {self.cap} per period in the {self.months_before} period(s) before "
            f"{self.month} ({describe_where(self.where)})"
        )

    def apply(self, log: UsageLog, scope: Scope) -> Applied:
        """Displace selected demand past the cap; see the module docs."""
        cap = amount(self.cap)
        if cap < 0:
            raise ConfigError(f"cap must be >= 0, got {cap}")
        if self.months_before < 1:
            raise ConfigError(f"months_before must be at least 1, got {self.months_before}")
        heavy = scope.period_containing(month_instant(self.month))
        cap_micro = to_micro(cap)
        prices = scope.prices(log).total
        chosen = select(log, self.where)
        ts = log.timestamps_us
        displaced = np.zeros(len(log), dtype=np.bool_)
        for index in range(max(0, heavy.index - self.months_before), heavy.index):
            period = scope.period(index)
            lo = int(np.searchsorted(ts, epoch_us(period.start), side="left"))
            hi = int(np.searchsorted(ts, epoch_us(period.end), side="left"))
            inside = np.nonzero(chosen[lo:hi])[0] + lo
            running = np.cumsum(prices[inside])
            displaced[inside[running > cap_micro]] = True
        keep = ~displaced
        after = replace_columns(log, {}, keep=keep)
        return finish(
            self.describe(),
            log,
            after,
            scope,
            events=int(displaced.sum()),
            displaced_micro=int(prices[displaced].sum()),
            displaced_events=int(displaced.sum()),
        )
