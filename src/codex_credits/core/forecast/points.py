"""Cheap point forecasts of a period's total, vectorised over many cuts at once.

Theory of operation (docs/forecasts.md, "Point forecasts"). Every rule here
reads only the cumulative hourly usage, so one NumPy expression serves one cut
(today's forecast) or every past cut of a walk-forward backtest. For a cut
with ``done`` CCU consumed in the period, ``elapsed`` days gone and ``left``
days to go:

``linear``
    The seed's rule: ``done / elapsed x (elapsed + left)``.
``runrate``
    ``done + left x last28 / 28``: the trailing 28 days' rate for the rest.
``blend``
    ``done + left x (done + k/28 x last28) / (elapsed + k)``: this period's
    pace shrunk towards the trailing 28 days, as if ``k`` days of the recent
    rate were added to the period's own (``k`` in :data:`BLEND_DAYS`).
``weekday``
    The blend measured in "ordinary days": each weekday has a factor (its
    usage per hour over the last :data:`WEEKDAY_WINDOW_DAYS` days, relative
    to all days'), elapsed, recent and remaining days are counted by their
    factors, so a period whose rest is mostly weekends is forecast lower.
    ``weekday7`` adds 7 days of the recent rate instead of ``k``; ``weekdayrr``
    is the recent rate alone (no pace of this period).
``fortnight``, ``fortnight7``, ``fortnightrr``
    The same with a 14-day cycle (two-week sprints: review days, planning days).

Cut positions are hour indices into the series (hour 0 is ``first_hour``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

__all__ = [
    "BLEND_DAYS",
    "POINT_RULES",
    "WEEKDAY_WINDOW_DAYS",
    "Cuts",
    "UsageSeries",
    "point_forecasts",
]

FloatArray = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]

BLEND_DAYS = 14
"""Days of the trailing rate the ``blend`` and ``weekday`` rules add to the period's pace."""

WEEKDAY_WINDOW_DAYS = 56
"""Days of history before a cut from which the weekday factors are read."""

RECENT_DAYS = 28
POINT_RULES: tuple[str, ...] = (
    "linear",
    "runrate",
    "blend",
    "weekday",
    "weekday7",
    "weekdayrr",
    "fortnight",
    "fortnight7",
    "fortnightrr",
)
"""The point rules, by name (see the module's docstring)."""

_SHORT = 7.0


@dataclass(frozen=True)
class UsageSeries:
    """Cumulative usage of an hourly series, overall and per phase of a 14-day cycle.

    Attributes:
        total: ``total[h]`` is the usage (CCU) of hours ``[0, h)``.
        by_phase: ``(14, hours + 1)``: the same, counting only days of each phase
            (a day's phase is its proleptic ordinal modulo 14; modulo 7 it is the weekday).
        origin: hours from the start of a phase-0 day to hour 0.
    """

    total: FloatArray
    by_phase: FloatArray
    origin: int

    @classmethod
    def of(cls, hourly_micro: Int64Array, first_hour: datetime) -> UsageSeries:
        """Build from micro-CCU per hour starting at ``first_hour`` (a whole hour)."""
        values = np.asarray(hourly_micro, dtype=np.float64) / 1e6
        origin = (first_hour.toordinal() % 14) * 24 + first_hour.hour
        phase = ((origin + np.arange(len(values))) // 24) % 14
        onehot = phase[np.newaxis, :] == np.arange(14)[:, np.newaxis]
        return cls(
            total=np.concatenate(([0.0], np.cumsum(values))),
            by_phase=np.hstack((np.zeros((14, 1)), np.cumsum(onehot * values, axis=1))),
            origin=origin,
        )

    @property
    def hours(self) -> int:
        """Hours in the series."""
        return len(self.total) - 1

    def usage(self, lo: Int64Array, hi: Int64Array, cycle: int) -> FloatArray:
        """``(cycle, cuts)``: usage of ``[lo, hi)`` on days of each phase of the cycle."""
        u = self.by_phase[:, hi] - self.by_phase[:, lo]
        result: FloatArray = u if cycle == 14 else u[:7] + u[7:]
        return result

    def phase_hours(self, lo: Int64Array, hi: Int64Array, cycle: int) -> FloatArray:
        """``(cycle, cuts)``: hours of ``[lo, hi)`` on days of each phase (by the calendar)."""
        out = np.zeros((cycle, len(lo)))
        span = 24 * cycle
        for p in range(cycle):

            def upto(h: Int64Array, p: int = p) -> Int64Array:
                rounds, rest = np.divmod(h + self.origin, span)
                result: Int64Array = rounds * 24 + np.clip(rest - p * 24, 0, 24)
                return result

            out[p] = upto(hi) - upto(lo)
        return out


@dataclass(frozen=True)
class Cuts:
    """Cut positions: hour indices of each cut and of its period's start and end."""

    cut: Int64Array
    start: Int64Array
    end: Int64Array


def point_forecasts(series: UsageSeries, cuts: Cuts) -> dict[str, FloatArray]:
    """Every rule's forecast of each cut's period total (CCU), by rule name.

    Hours of a period after the series ends count as future; only hours
    before each cut are read.
    """
    c = cuts.cut
    done = series.total[c] - series.total[cuts.start]
    elapsed = (c - cuts.start) / 24.0
    left = (cuts.end - c) / 24.0
    recent_from = np.maximum(c - RECENT_DAYS * 24, 0)
    recent_days = (c - recent_from) / 24.0
    recent = series.total[c] - series.total[recent_from]
    pace = _safe_div(done, elapsed)
    rate = np.where(recent_days > 0, _safe_div(recent, recent_days), pace)
    out = {"linear": done + left * pace, "runrate": done + left * rate}
    k = float(BLEND_DAYS)
    out["blend"] = done + left * (done + k * rate) / (elapsed + k)
    for cycle, name in ((7, "weekday"), (14, "fortnight")):
        factors = _factors(series, c, cycle)
        f_elapsed = _factor_days(series, factors, cuts.start, c, cycle)
        f_recent = _factor_days(series, factors, recent_from, c, cycle)
        f_left = _factor_days(series, factors, c, cuts.end, cycle)
        ordinary = np.where(f_recent > 0, _safe_div(recent, f_recent), rate)
        out[name] = done + f_left * (done + k * ordinary) / (f_elapsed + k)
        out[name + "rr"] = done + f_left * ordinary
        out[name + "7"] = done + f_left * (done + _SHORT * ordinary) / (f_elapsed + _SHORT)
    return out


def _factors(series: UsageSeries, cut: Int64Array, cycle: int) -> FloatArray:
    """``(cycle, cuts)``: each phase's hourly rate over the window before the cut, relative."""
    lo = np.maximum(cut - WEEKDAY_WINDOW_DAYS * 24, 0)
    usage = series.usage(lo, cut, cycle)
    hours = series.phase_hours(lo, cut, cycle)
    mean_rate = _safe_div(usage.sum(axis=0), hours.sum(axis=0))
    # A phase seen for less than a day, or a window with no usage, counts as ordinary.
    own = _safe_div(usage, hours * mean_rate)
    result: FloatArray = np.where((hours >= 24) & (mean_rate > 0), own, 1.0)
    return result


def _factor_days(
    series: UsageSeries, factors: FloatArray, lo: Int64Array, hi: Int64Array, cycle: int
) -> FloatArray:
    """Days of ``[lo, hi)``, each hour weighted by its phase's factor."""
    result: FloatArray = (factors * series.phase_hours(lo, hi, cycle)).sum(axis=0) / 24.0
    return result


def _safe_div(num: FloatArray, den: FloatArray) -> FloatArray:
    den = np.asarray(den, dtype=np.float64)
    result: FloatArray = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return result
