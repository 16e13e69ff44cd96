"""Usage as an hourly series of exact micro-CCU, the input of every forecaster.

Theory of operation (docs/forecasts.md): forecasts and the path engine work in
whole UTC hours ``[h, h+1)``. :func:`hourly_totals` sums a log's priced events
per hour with an integer cumulative sum (no float weights), so the series adds
up exactly to the log's total over the same span.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import epoch_seconds, hour_floor, require_utc
from codex_credits.core.usage import UsageLog

__all__ = ["day_floor", "hour_count", "hourly_totals"]

Int64Array = npt.NDArray[np.int64]
_HOUR_US = 3_600_000_000


def day_floor(at: datetime) -> datetime:
    """Midnight UTC of the day containing ``at``."""
    return hour_floor(at).replace(hour=0)


def hour_count(start: datetime, end: datetime) -> int:
    """Whole hours from ``start`` to ``end`` (both on whole hours; 0 if ``end <= start``)."""
    seconds = (require_utc(end, "end") - require_utc(start, "start")) // timedelta(seconds=1)
    return max(0, int(seconds) // 3600)


def hourly_totals(
    log: UsageLog,
    card: RateCard,
    start: datetime,
    end: datetime,
    amounts_micro: Int64Array | None = None,
) -> Int64Array:
    """Micro-CCU served per hour over ``[start, end)`` (both on whole hours).

    Args:
        log: the usage, priced on ``card`` (or ``amounts_micro`` if already priced).
        start: the first hour.
        end: the end of the last hour.
        amounts_micro: the log's amounts when the caller has them already.
    """
    start = hour_floor(start)
    n = hour_count(start, end)
    amounts = log.amounts_micro(card) if amounts_micro is None else amounts_micro
    ts = log.timestamps_us
    start_us = epoch_seconds(start) * 1_000_000
    bounds = start_us + np.arange(n + 1, dtype=np.int64) * _HOUR_US
    cumulative = np.concatenate(([0], np.cumsum(amounts, dtype=np.int64)))
    idx = np.searchsorted(ts, bounds, side="left")
    totals: Int64Array = np.diff(cumulative[idx]).astype(np.int64)
    return totals
