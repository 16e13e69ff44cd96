"""Monte Carlo demand: a block bootstrap of past days, scaled to the forecast level.

Theory of operation (docs/forecasts.md, "Monte Carlo"). Each path fills the
rest of the period day by day. For a future day of cycle phase ``p`` it draws
one past day of the same phase (a whole day of 24 hourly amounts, so a day's
own shape and burstiness are kept), and scales it by the forecast level of the
target day over the local level of the source day, so growth and quiet spells
carry over. The target level is itself drawn per path
(:meth:`~codex_credits.core.forecast.seasonal.SeasonalModel.sample_levels`):
today's level and slope from their fitted uncertainty, plus the level's random
walk day after day, so the spread widens with the horizon. With no past
day of a phase, the model's expected day is used with gamma noise of the
phase's spread. Amounts are rounded to integer micro-CCU.

Everything is drawn from one :class:`numpy.random.Generator`: the same seed gives
the same paths.

:func:`calibrate_demand` then scales each path as a whole (its shape hour by
hour is kept) so that the paths' totals follow the account's calibrated
interval (:mod:`~codex_credits.core.forecast.calibration`): the path ranked
at quantile ``u`` of the sampled totals gets the total the calibrated
distribution has at ``u`` (log-normal between and beyond P10, P50 and P90).
The probability of overage, the expected overage and the exhaustion dates read
off these paths therefore inherit the calibration.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from codex_credits.core.forecast.hourly import hour_count
from codex_credits.core.forecast.seasonal import SeasonalModel

__all__ = [
    "BOOTSTRAP_WEEKS",
    "calibrate_demand",
    "sample_calibrated_demand",
    "sample_demand",
]

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

BOOTSTRAP_WEEKS = 8
"""How far back (in weeks) the bootstrap looks for days of the same phase."""


def sample_demand(
    model: SeasonalModel,
    end: datetime,
    paths: int,
    rng: np.random.Generator,
) -> Int64Array:
    """Demand of ``paths`` paths for the hours ``[model.cut, end)``, shape ``(paths, hours)``."""
    return _round(_sample(model, end, paths, rng))


def sample_calibrated_demand(
    model: SeasonalModel,
    end: datetime,
    paths: int,
    rng: np.random.Generator,
    targets: tuple[float, float, float],
) -> Int64Array:
    """:func:`sample_demand` then :func:`calibrate_demand`, rounding once (the same draws)."""
    out = _sample(model, end, paths, rng)
    out *= _path_scales(out.sum(axis=1), targets)[:, np.newaxis]
    return _round(out)


def _round(micro: FloatArray) -> Int64Array:
    result: Int64Array = np.rint(micro, out=micro).astype(np.int64)
    return result


def _sample(
    model: SeasonalModel,
    end: datetime,
    paths: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Unrounded micro-CCU demand, shape ``(paths, hours)``."""
    n_hours = hour_count(model.cut, end)
    out: FloatArray = np.zeros((paths, n_hours), dtype=np.float64)
    if n_hours == 0 or paths == 0:
        return out
    first = hour_count(model.origin, model.cut)
    first_day = first // 24
    future = np.arange(first_day, (first + n_hours - 1) // 24 + 1, dtype=np.int64)
    levels = model.sample_levels(future, paths, rng)
    n_hist = len(model.daily)
    hist_days = np.arange(n_hist, dtype=np.int64)
    hist_phase = model.phase(hist_days) if n_hist else hist_days
    usable = (model.local_level > 0) & ~model.is_holiday(hist_days) if n_hist else hist_days > 0
    oldest = n_hist - 7 * BOOTSTRAP_WEEKS
    col = 0
    day = first // 24
    hour = first % 24
    while col < n_hours:
        span = min(24 - hour, n_hours - col)
        phase = int(model.phase(day))
        target_level = levels[:, day - first_day]
        candidates = np.flatnonzero((hist_phase == phase) & usable & (hist_days >= oldest))
        if model.is_holiday(np.array([day]))[0]:
            quiet = int(np.argmin(model.factors))
            candidates = np.flatnonzero((hist_phase == quiet) & usable & (hist_days >= oldest))
            target_level = target_level * float(model.factors.min() / model.factors[quiet])
        if len(candidates):
            pick = candidates[rng.integers(0, len(candidates), paths)]
            scale = target_level / model.local_level[pick]
            block = model.hourly[pick, hour : hour + span] * scale[:, np.newaxis]
        else:
            expected = target_level * float(model.day_factor(np.array([day]))[0])
            cv = float(model.day_cv[phase])
            shape_k = 1.0 / max(cv, 1e-3) ** 2
            noise = rng.gamma(shape_k, 1.0 / shape_k, paths)
            block = np.outer(expected * noise, model.hour_shape[phase, hour : hour + span])
        out[:, col : col + span] = block * 1e6  # micro-CCU, rounded by the caller
        col += span
        day += 1
        hour = 0
    return out


_Z90 = NormalDist().inv_cdf(0.9)


def calibrate_demand(demand: Int64Array, targets: tuple[float, float, float]) -> Int64Array:
    """Scale each path so the paths' totals follow ``targets`` (P10, P50, P90 of the rest).

    ``targets`` are micro-CCU of demand for the rest of the period. Paths are
    ranked by their total; the path at rank quantile ``u`` is scaled to the
    total of the calibrated distribution at ``u``: log-normal through P50 with
    the P10 and P90 spreads on either side (linear where P10 is 0). A path
    with no demand stays idle. Deterministic: no random draws.
    """
    if demand.size == 0:
        return demand
    scaled = demand * _path_scales(demand.sum(axis=1).astype(np.float64), targets)[:, np.newaxis]
    return _round(scaled)


def _path_scales(totals: FloatArray, targets: tuple[float, float, float]) -> FloatArray:
    """Each path's factor: the calibrated total at its rank over its own total."""
    paths = len(totals)
    if paths == 0:
        return totals
    order = np.argsort(totals, kind="stable")
    z = _normal_scores(paths)
    t10, t50, t90 = (max(float(t), 0.0) for t in targets)
    if t50 <= 0:
        wanted = np.where(z > 0, z / _Z90 * t90, 0.0)
    else:
        up = np.log(max(t90, t50) / t50) / _Z90
        if t10 > 0:
            down = t50 * np.exp(z * np.log(t50 / t10) / _Z90)
        else:
            down = np.maximum(t50 + z * t50 / _Z90, 0.0)
        wanted = np.where(z > 0, t50 * np.exp(z * up), down)
    target = np.empty(paths)
    target[order] = wanted
    result: FloatArray = np.where(totals > 0, target / np.where(totals > 0, totals, 1.0), 0.0)
    return result


@cache
def _normal_scores(paths: int) -> FloatArray:
    """Standard normal quantiles at ``(i + 0.5) / paths``."""
    dist = NormalDist()
    return np.array([dist.inv_cdf((i + 0.5) / paths) for i in range(paths)])
