"""A seasonal demand model: a daily cycle, a level with a trend, and an hour-of-day shape.

Theory of operation (docs/forecasts.md, "The seasonal model"). Team usage has
rhythms that a constant daily rate misses: quiet weekends, review-day peaks in
two-week sprints, growth. :func:`fit_seasonal` learns, from whole UTC days of
history before the cut:

1. **Daily cycle.** Each day's total is divided by a centred 14-day moving
   average (its local level); the median ratio per phase of the cycle is that
   phase's factor. Medians make holidays and outage days (missing hours show as
   zeros) count for little. A 7-day cycle is the default; a 14-day cycle (sprints)
   is used when leave-one-out it explains the history clearly better.
2. **Level and trend.** Deseasonalised days (total / factor) get a weighted
   straight-line fit over recent weeks, weighted by the factor (a quiet weekend
   day says little about the level), by recency, and refitted once with days
   far from the line (holidays) set aside.
3. **Hour of day.** The share of each hour in a day's total, per phase, shrunk
   towards the shape of all days.

The model also measures its own uncertainty: the spread of days around the fit
per phase (``day_cv``), and how wrong the level may be over a horizon
(``level_sigma``). With fewer than :data:`MIN_DAYS` days of history it falls
back to simpler shapes and says so in ``warnings``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from codex_credits.core.forecast.hourly import day_floor, hour_count
from codex_credits.core.forecast.trend import DAMPING, local_trend, shift_check
from codex_credits.core.timeutil import hour_floor, require_utc

__all__ = [
    "DAMPING",
    "MIN_DAYS",
    "SHORT_HISTORY",
    "SeasonalModel",
    "fit_seasonal",
    "leave_one_out_errors",
]

FloatArray = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]

MIN_DAYS = 14
"""Whole days of history below which the model warns that it is guessing."""

SHORT_HISTORY = "short_history"
NO_HISTORY = "no_history"

_SHRINK_HOURS = 4.0


@dataclass(frozen=True)
class SeasonalModel:
    """A fitted model; every figure is CCU per day or a ratio (floats: statistics).

    Attributes:
        origin: midnight UTC of the first history day (day 0).
        cut: the first hour not in the history.
        cycle: 7 or 14 days.
        factors: the daily factor of each phase (mean 1).
        level: the deseasonalised daily level (CCU per day) at day ``cut_day``.
        slope: the level's change per day at the cut; it decays by ``damping`` a day.
        state_cov: ``(2, 2)`` covariance of (level, slope) at the cut.
        level_step_var: variance the level gains per day (a random walk).
        hour_shape: ``(cycle, 24)`` share of each hour in a day of that phase.
        day_cv: ``(cycle,)`` relative spread of a day of that phase around the fit.
        daily: history daily totals (CCU), whole days only.
        local_level: each history day's local (deseasonalised) level.
        hourly: ``(days, 24)`` history hourly CCU, whole days only.
        warnings: what the model could not learn, e.g. ``short_history``.
    """

    origin: datetime
    cut: datetime
    cycle: int
    factors: FloatArray
    level: float
    slope: float
    state_cov: FloatArray
    level_step_var: float
    hour_shape: FloatArray
    day_cv: FloatArray
    daily: FloatArray
    local_level: FloatArray
    hourly: FloatArray
    holidays: frozenset[date]
    warnings: tuple[str, ...]

    @property
    def cut_day(self) -> int:
        """Index of the day containing the cut."""
        return (self.cut - self.origin).days

    def phase(self, day: int | Int64Array) -> Int64Array:
        """The cycle phase of day index ``day`` (phases are anchored on the calendar)."""
        ordinal = self.origin.toordinal() + np.asarray(day, dtype=np.int64)
        result: Int64Array = ordinal % self.cycle
        return result

    def is_holiday(self, day: Int64Array) -> npt.NDArray[np.bool_]:
        """Whether each day index is a declared holiday."""
        if not self.holidays:
            return np.zeros(np.shape(day), dtype=bool)
        first = self.origin.date()
        return np.array(
            [first + timedelta(days=int(d)) in self.holidays for d in np.ravel(day)], dtype=bool
        ).reshape(np.shape(day))

    def trend_sum(self, days: Int64Array) -> FloatArray:
        """How many days of today's slope the level has gained by each day index."""
        ahead = np.maximum(np.asarray(days, dtype=np.float64) - self.cut_day, 0.0)
        result: FloatArray = (1.0 - DAMPING**ahead) / (1.0 - DAMPING)
        return result

    def expected_level(self, days: Int64Array) -> FloatArray:
        """Expected deseasonalised level of each day index from the cut on."""
        result: FloatArray = np.maximum(self.level + self.slope * self.trend_sum(days), 0.0)
        return result

    def day_factor(self, days: Int64Array) -> FloatArray:
        """The cycle factor of each day index (a declared holiday gets the quietest)."""
        days = np.asarray(days, dtype=np.int64)
        factor = self.factors[self.phase(days)]
        result: FloatArray = np.where(self.is_holiday(days), float(self.factors.min()), factor)
        return result

    def expected_daily(self, days: Int64Array) -> FloatArray:
        """Expected total CCU of each day index from the cut on."""
        result: FloatArray = self.expected_level(days) * self.day_factor(days)
        return result

    def sample_levels(self, days: Int64Array, paths: int, rng: np.random.Generator) -> FloatArray:
        """``(paths, len(days))`` level trajectories: uncertain start and slope, random walk."""
        days = np.asarray(days, dtype=np.int64)
        state = rng.multivariate_normal(
            [self.level, self.slope], self.state_cov, size=paths, method="eigh"
        )
        ahead = np.maximum(days - self.cut_day, 0)
        step_sd = math.sqrt(self.level_step_var)
        steps = rng.normal(0.0, step_sd, (paths, len(days)))
        walk = np.cumsum(np.where(ahead > 0, 1.0, 0.0) * steps, axis=1)
        levels = state[:, :1] + state[:, 1:] * self.trend_sum(days) + walk
        result: FloatArray = np.maximum(levels, 0.0)
        return result

    def sum_variance(self, days: Int64Array, weights: FloatArray) -> float:
        """Variance of ``sum(weights x level[day])`` from level, slope and random-walk errors."""
        days = np.asarray(days, dtype=np.int64)
        a = np.array([weights.sum(), float(np.sum(weights * self.trend_sum(days)))])
        state_var = float(a @ self.state_cov @ a)
        ahead = np.maximum(days - self.cut_day, 0)
        moving = np.where(ahead > 0, weights, 0.0)
        tails = np.cumsum(moving[::-1])[::-1]
        return state_var + self.level_step_var * float(np.sum(tails**2))

    def expected_hourly(self, start: datetime, end: datetime) -> FloatArray:
        """Expected CCU of every hour in ``[start, end)``."""
        start = hour_floor(start)
        n = hour_count(start, end)
        first = hour_count(self.origin, start)
        idx = first + np.arange(n, dtype=np.int64)
        days = idx // 24
        hours = idx % 24
        result: FloatArray = (
            self.expected_daily(days) * self.hour_shape[self.phase(days), hours]
        ).astype(np.float64)
        return result


def fit_seasonal(
    hourly_micro: Int64Array,
    first_hour: datetime,
    cut: datetime,
    *,
    holidays: Sequence[date] = (),
    since: datetime | None = None,
) -> SeasonalModel:
    """Fit the model on the hours ``[first_hour, cut)``.

    Args:
        hourly_micro: micro-CCU per hour from ``first_hour`` (at least up to ``cut``).
        first_hour: the hour of ``hourly_micro[0]``.
        cut: the forecast cut; history is everything before its hour.
        holidays: known holiday dates, in the past (set aside) or the future
            (forecast at the quietest phase's level).
        since: the start of the current billing period: its days are also read
            on their own, in case the level shifted within the period.
    """
    cut = hour_floor(require_utc(cut, "cut"))
    origin = day_floor(first_hour)
    lead = hour_count(origin, hour_floor(first_hour))
    n_hours = hour_count(origin, cut)
    series = np.zeros(n_hours, dtype=np.float64)
    take = min(len(hourly_micro), n_hours - lead)
    if take > 0:
        series[lead : lead + take] = hourly_micro[:take] / 1e6
    n_days = n_hours // 24
    hourly = series[: n_days * 24].reshape(n_days, 24)
    daily = hourly.sum(axis=1)
    holiday_set = frozenset(holidays)
    first_date = origin.date()
    is_holiday = np.array(
        [first_date + timedelta(days=d) in holiday_set for d in range(n_days)], dtype=bool
    )
    warnings: list[str] = []
    if n_days < MIN_DAYS:
        warnings.append(NO_HISTORY if n_days == 0 or daily.sum() <= 0 else SHORT_HISTORY)

    local = _local_level(daily)
    ratio = np.where(local > 0, daily / np.where(local > 0, local, 1.0), np.nan)
    ratio[is_holiday] = np.nan
    ordinals = origin.toordinal() + np.arange(n_days)
    cycle = _choose_cycle(ratio, ordinals)
    factors = _factors(ratio, ordinals, cycle)
    phases = ordinals % cycle
    fitted_local = local * factors[phases] if n_days else daily
    day_cv = _day_cv(daily, fitted_local, phases, cycle, is_holiday)
    z = daily / factors[phases] if n_days else daily
    level, slope, cov, step_var, filtered = local_trend(z, day_cv[phases], is_holiday)
    if since is not None and n_days:
        first_current = max(0, (day_floor(since) - origin).days)
        level, slope, cov = shift_check(
            z, day_cv[phases], is_holiday, filtered, first_current, (level, slope, cov)
        )
    if n_days < MIN_DAYS:
        cov = cov + np.diag([(0.25 * level) ** 2, 0.0])
    local_z = np.where(filtered > 0, filtered, np.where(local > 0, local, level))
    shape = _hour_shape(hourly, phases, cycle, is_holiday)
    return SeasonalModel(
        origin=origin,
        cut=cut,
        cycle=cycle,
        factors=factors,
        level=level,
        slope=slope,
        state_cov=cov,
        level_step_var=step_var,
        hour_shape=shape,
        day_cv=day_cv,
        daily=daily,
        local_level=local_z,
        hourly=hourly,
        holidays=holiday_set,
        warnings=tuple(warnings),
    )


def _local_level(daily: FloatArray) -> FloatArray:
    """A centred 14-day moving average (shifted inwards at the edges)."""
    n = len(daily)
    if n == 0:
        return daily.copy()
    width = min(14, n)
    cumulative = np.concatenate(([0.0], np.cumsum(daily)))
    lo = np.clip(np.arange(n) - width // 2, 0, n - width)
    result: FloatArray = (cumulative[lo + width] - cumulative[lo]) / width
    return result


def _factors(ratio: FloatArray, ordinals: Int64Array, cycle: int) -> FloatArray:
    phases = ordinals % cycle
    factors = np.ones(cycle)
    weekly = np.ones(7)
    for p in range(7):
        values = ratio[(ordinals % 7 == p) & ~np.isnan(ratio)]
        if len(values):
            weekly[p] = float(np.median(values))
    for p in range(cycle):
        values = ratio[(phases == p) & ~np.isnan(ratio)]
        fallback = weekly[p % 7]
        if len(values) == 0:
            factors[p] = fallback
        else:
            # Shrink a phase with few days towards its weekday.
            k = len(values)
            factors[p] = (k * float(np.median(values)) + fallback) / (k + 1)
    mean = float(factors.mean())
    result: FloatArray = factors / mean if mean > 0 else np.ones(cycle)
    return np.maximum(result, 1e-3)


def _choose_cycle(ratio: FloatArray, ordinals: Int64Array) -> int:
    valid = ~np.isnan(ratio)
    if np.count_nonzero(valid) < 42:
        return 7
    errors = {}
    for cycle in (7, 14):
        phases = ordinals % cycle
        errors[cycle] = sum(
            float(leave_one_out_errors(ratio[(phases == p) & valid]).sum()) for p in range(cycle)
        )
    return 14 if errors[14] < 0.85 * errors[7] else 7


def leave_one_out_errors(values: FloatArray) -> FloatArray:
    """``|v - median(others)|`` for each value, the others being the values not equal to it.

    A lone value is its own median (error 0), and so is a value all others equal.
    Vectorised: removing the run of values equal to ``v`` from the sorted values,
    the median of the rest is read at shifted positions.
    """
    m = len(values)
    if m <= 1:
        return np.zeros(m)
    s = np.sort(values)
    a = np.searchsorted(s, values, side="left")
    t = np.searchsorted(s, values, side="right") - a
    rest = m - t

    def at(r: Int64Array) -> FloatArray:
        result: FloatArray = s[np.minimum(np.where(r < a, r, r + t), m - 1)]
        return result

    lo = at(np.maximum(rest - 1, 0) // 2)
    hi = at(rest // 2)
    median = np.where(rest > 0, (lo + hi) / 2, values)
    result: FloatArray = np.abs(values - median)
    return result


def _hour_shape(
    hourly: FloatArray, phases: Int64Array, cycle: int, is_holiday: npt.NDArray[np.bool_]
) -> FloatArray:
    usable = ~is_holiday
    overall_sum = hourly[usable].sum(axis=0) if np.any(usable) else np.zeros(24)
    total = float(overall_sum.sum())
    overall = overall_sum / total if total > 0 else np.full(24, 1 / 24)
    shape = np.empty((cycle, 24))
    for p in range(cycle):
        rows = hourly[(phases == p) & usable]
        sums = rows.sum(axis=0) if len(rows) else np.zeros(24)
        mass = float(sums.sum())
        # A phase with little mass borrows the overall shape.
        weight = mass / (mass + _SHRINK_HOURS * total / max(1, len(hourly))) if mass > 0 else 0.0
        own = sums / mass if mass > 0 else overall
        shape[p] = weight * own + (1 - weight) * overall
    return shape


def _day_cv(
    daily: FloatArray,
    fitted: FloatArray,
    phases: Int64Array,
    cycle: int,
    is_holiday: npt.NDArray[np.bool_],
) -> FloatArray:
    cv = np.full(cycle, 0.3)
    ok = (fitted > 0) & ~is_holiday
    rel = np.where(ok, daily / np.where(ok, fitted, 1.0) - 1.0, np.nan)
    pooled = float(np.nanstd(rel)) if np.count_nonzero(ok) > 2 else 0.3
    for p in range(cycle):
        values = rel[(phases == p) & ok]
        k = len(values)
        own = float(np.sqrt(np.mean(values**2))) if k else pooled
        cv[p] = (k * own + 2 * pooled) / (k + 2)
    return cv
