"""The level and trend of daily demand: a local linear trend, Kalman-filtered.

Theory of operation (docs/forecasts.md, "The seasonal model", step 2). The
deseasonalised days are noisy observations of a level that follows a random
walk plus a damped slope (:func:`local_trend`); the random-walk variances are
picked by likelihood from a small grid. A shift of the level at the start of
the current period is weighed apart (:func:`shift_check`).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["DAMPING", "local_trend", "shift_check"]

FloatArray = npt.NDArray[np.float64]

_SHIFT_PRIOR = 0.1
_HELD_SD = 0.03
_MOVED_SD = 0.5
_Q_LEVEL = (0.0002, 0.001, 0.004, 0.016)
_Q_SLOPE = (0.0, 1e-6, 1e-5)
DAMPING = 0.97
"""Daily damping of the trend's slope."""


def local_trend(
    z: FloatArray, cv: FloatArray, is_holiday: npt.NDArray[np.bool_]
) -> tuple[float, float, FloatArray, float, FloatArray]:
    """A local linear trend filtered through the deseasonalised days.

    The level follows a random walk plus a damped slope; each day is one noisy
    observation of the level with relative spread ``cv`` (its phase's). The
    random-walk variances are picked by likelihood from a small grid, so a
    steady history gets a steady level and a history with shifts (a quiet
    month) a level that follows the recent days. An outlying day counts less
    (Huber); declared holidays do not count at all. A shift within the current
    period is weighed apart (:func:`shift_check`).

    Returns:
        ``(level, slope, covariance of both, level variance gained per day,
        filtered level of every day)``.
    """
    n = len(z)
    if n == 0:
        return 0.0, 0.0, np.zeros((2, 2)), 0.0, z.copy()
    usable = ~is_holiday
    recent = z[max(0, n - 28) :][usable[max(0, n - 28) :]]
    scale = float(np.median(recent)) if len(recent) else 0.0
    if scale <= 0 or n < 7:
        level = float(np.mean(z[usable])) if np.any(usable) else 0.0
        spread = (0.3 * level) ** 2
        return level, 0.0, np.diag([spread, 0.0]), (0.02 * level) ** 2, np.full(n, level)
    best: tuple[float, tuple[float, float, FloatArray, FloatArray]] | None = None
    best_q = (0.0, 0.0)
    for q_level in _Q_LEVEL:
        for q_slope in _Q_SLOPE:
            ll, state = _filter(z, cv, usable, scale, q_level, q_slope)
            if best is None or ll > best[0]:
                best = (ll, state)
                best_q = (q_level, q_slope)
    assert best is not None
    level, slope, cov, filtered = best[1]
    return level, slope, cov, best_q[0] * scale**2, filtered


def shift_check(
    z: FloatArray,
    cv: FloatArray,
    is_holiday: npt.NDArray[np.bool_],
    filtered: FloatArray,
    first: int,
    fit: tuple[float, float, FloatArray],
) -> tuple[float, float, FloatArray]:
    """Weigh "the level held" against "the level moved at the period start".

    The current period's days give their own level estimate. Under "held" it
    should agree with the level filtered up to the period start; under "moved"
    it may differ by about half the level. Each reading gets its posterior
    probability (a shift is a priori one chance in ten) and the two are mixed.
    """
    level, slope, cov = fit
    n = len(z)
    days = np.arange(first, n)
    days = days[~is_holiday[days]] if len(days) else days
    if first < 1 or len(days) == 0:
        return fit
    before = float(filtered[first - 1])
    if before <= 0:
        return fit
    var_day = (cv[days] * before) ** 2
    precision = float(np.sum(1.0 / var_day))
    current = float(np.sum(z[days] / var_day)) / precision
    var_current = 1.0 / precision
    gap = current - before
    held_var = float(cov[0, 0]) + var_current + (_HELD_SD * before) ** 2
    moved_var = held_var + (_MOVED_SD * before) ** 2
    held = math.exp(-0.5 * gap * gap / held_var) / math.sqrt(held_var) * (1 - _SHIFT_PRIOR)
    moved = math.exp(-0.5 * gap * gap / moved_var) / math.sqrt(moved_var) * _SHIFT_PRIOR
    p = moved / (held + moved)
    mixed = (1 - p) * level + p * current
    var = (1 - p) * float(cov[0, 0]) + p * var_current + p * (1 - p) * (level - current) ** 2
    new_cov = np.array([[var, (1 - p) * cov[0, 1]], [(1 - p) * cov[0, 1], cov[1, 1]]])
    return max(mixed, 0.0), (1 - p) * slope, new_cov


def _filter(
    z: FloatArray,
    cv: FloatArray,
    usable: npt.NDArray[np.bool_],
    scale: float,
    q_level: float,
    q_slope: float,
) -> tuple[float, tuple[float, float, FloatArray, FloatArray]]:
    """Kalman filter of the local linear trend; returns (log-likelihood, final state)."""
    s2 = scale * scale
    first = z[:7][usable[:7]]
    level = float(np.mean(first)) if len(first) else scale
    slope = 0.0
    p11, p12, p22 = s2 * 0.25, 0.0, s2 * 1e-4
    ql, qs = q_level * s2, q_slope * s2
    ll = 0.0
    phi = DAMPING
    zs = z.tolist()
    cvs = cv.tolist()
    ok = usable.tolist()
    filtered = np.zeros(len(zs))
    for i in range(len(zs)):
        # Predict.
        level = level + slope
        slope = phi * slope
        p11, p12, p22 = (
            p11 + 2 * p12 + p22 + ql,
            phi * (p12 + p22),
            phi * phi * p22 + qs,
        )
        if not ok[i]:
            filtered[i] = level
            continue
        r = (cvs[i] * max(level, 0.05 * scale)) ** 2
        v = zs[i] - level
        s = p11 + r
        e = v / math.sqrt(s)
        if abs(e) > 3.0:  # an outlier (unknown holiday, outage): count it for less
            r *= (abs(e) / 3.0) ** 2
            s = p11 + r
        if i >= 7:
            ll += -0.5 * (math.log(s) + v * v / s)
        k1, k2 = p11 / s, p12 / s
        level += k1 * v
        slope += k2 * v
        p11, p12, p22 = (1 - k1) * p11, (1 - k1) * p12, p22 - k2 * p12
        filtered[i] = level
    cov = np.array([[p11, p12], [p12, p22]])
    return ll, (max(level, 0.0), slope, cov, filtered)
