"""``auto``'s P50 and interval: three forecasts combined per account, and their own errors.

Theory of operation (docs/forecasts.md, "Calibration"). ``auto`` forecasts the
period total as a weighted mean of three forecasts:

* **pace**: this period's pace shrunk towards the trailing 28 days, counted in
  days of a 14-day cycle (the point rule :data:`PACE_RULE`);
* **run rate**: done so far plus the trailing 28 days' rate for the rest;
* **seasonal**: done so far plus the seasonal model's expectation of the rest
  (:func:`~codex_credits.core.forecast.seasonal.fit_seasonal`).

The weights, and the interval around the result, come from the account's own
past, so every figure is sized from the errors of the predictor it reports:

1. **Past cuts.** In each of the last :data:`COMBINATION_PERIODS` complete
   periods, cuts at today's days left and :data:`CUT_OFFSETS_DAYS` around it.
   At each, all three forecasts are made from the usage before the cut only
   (the seasonal model is fitted there).
2. **The weights, walked forward.** The weights a past period would have used
   are chosen on the :data:`WEIGHT_PERIODS` periods before it: among the
   weights of :func:`weight_grid`, the least mean absolute log error, each
   period weighing the same; another choice replaces :data:`DEFAULT_WEIGHTS`
   only if it is :data:`WEIGHT_MARGIN` better, and then half-way
   (:data:`WEIGHT_SHRINK`: the choice of a few periods is noisy); with fewer than
   :data:`~codex_credits.core.forecast.calibration.MIN_PERIODS` periods
   before, :data:`DEFAULT_WEIGHTS`. Today's weights are chosen the same way
   on the last periods. A history where the seasonal model does not help
   shifts the weight to the plain forecasts; one where the run rate is best
   puts it there.
3. **The interval and the record.** The log ratios realised / combination of
   those cuts, each made with its own walk-forward weights, give the
   split-conformal interval
   (:func:`~codex_credits.core.forecast.calibration.error_record`) and the
   coverage (each past period held out in turn), MAPE and bias the forecast
   reports about itself.

With fewer than ``MIN_PERIODS`` usable past periods the weights are
:data:`DEFAULT_WEIGHTS`, and the interval is the pace rule's calibration (the
documented prior, with its warning, when history is short).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

import numpy as np
import numpy.typing as npt

from codex_credits.core.forecast.calibration import (
    DEFAULT_RULE,
    MIN_PERIODS,
    Calibration,
    calibrate,
    error_record,
    period_weights,
)
from codex_credits.core.forecast.hourly import hour_count
from codex_credits.core.forecast.points import Cuts, UsageSeries, point_forecasts
from codex_credits.core.forecast.seasonal import SeasonalModel, fit_seasonal
from codex_credits.core.periods import period_at, period_containing

__all__ = [
    "COMBINATION_PERIODS",
    "CUT_OFFSETS_DAYS",
    "DEFAULT_WEIGHTS",
    "PACE_RULE",
    "WEIGHT_MARGIN",
    "WEIGHT_PERIODS",
    "WEIGHT_SHRINK",
    "WEIGHT_STEP",
    "Combination",
    "PastCuts",
    "choose_weights",
    "combine",
    "combined_forecast",
    "past_cuts",
    "weight_grid",
]

FloatArray = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]

PACE_RULE = DEFAULT_RULE
"""The point rule that stands for this period's pace in the combination."""

DEFAULT_WEIGHTS = (1 / 3, 1 / 3, 1 / 3)
"""Weights of pace, run rate and seasonal without enough history to choose."""

WEIGHT_STEP = 0.25
"""The grid of weights the account's past chooses from: multiples of this."""

WEIGHT_PERIODS = 6
"""Past periods on which the weights are chosen."""

WEIGHT_MARGIN = 0.05
"""Other weights replace :data:`DEFAULT_WEIGHTS` only if their error is this much lower."""

WEIGHT_SHRINK = 0.5
"""Weights chosen on a few past periods are shrunk this far towards :data:`DEFAULT_WEIGHTS`
(the chosen ones are noisy; an equal mix of forecasts is hard to beat)."""

COMBINATION_PERIODS = 12
"""Past periods whose cuts size the interval (one seasonal fit per cut)."""

CUT_OFFSETS_DAYS = (-2, 0, 2)
"""Past cuts are at today's days left shifted by these days."""

_LEAD_DAYS = 7


@dataclass(frozen=True)
class Combination:
    """``auto``'s answer for one cut.

    Attributes:
        weights: the weights of pace, run rate and seasonal in the P50.
        calibration: the combination's calibration: ``raw_p50`` is the combined
            forecast of the period total, the interval and record are the
            combination's own (its weights walked forward); ``rule`` is the pace rule.
    """

    weights: tuple[float, float, float]
    calibration: Calibration


@dataclass(frozen=True)
class PastCuts:
    """The three forecasts at past cuts, and what came.

    Attributes:
        period: the past period of each cut, numbered from 0 (the oldest).
        forecasts: ``(cuts, 3)``: pace, run rate and seasonal forecasts of the total.
        realised: the period's real total.
    """

    period: Int64Array
    forecasts: FloatArray
    realised: FloatArray

    @property
    def periods(self) -> int:
        """Past periods with at least one cut."""
        return len(np.unique(self.period))


@cache
def weight_grid() -> tuple[tuple[float, float, float], ...]:
    """Every weight triple whose weights are multiples of :data:`WEIGHT_STEP` summing to 1."""
    k = round(1 / WEIGHT_STEP)
    return tuple(
        (a / k, b / k, (k - a - b) / k)
        for a, b in itertools.product(range(k + 1), repeat=2)
        if a + b <= k
    )


def combine(weights: Sequence[float], forecasts: FloatArray) -> FloatArray:
    """The weighted mean of pace, run rate and seasonal (the last axis of ``forecasts``)."""
    result: FloatArray = np.asarray(forecasts, dtype=np.float64) @ np.asarray(weights)
    return result


def choose_weights(cuts: PastCuts, before: int) -> tuple[float, float, float]:
    """The weights that did best on the :data:`WEIGHT_PERIODS` periods before ``before``,
    shrunk towards :data:`DEFAULT_WEIGHTS` (:data:`WEIGHT_SHRINK`)."""
    use = (cuts.period < before) & (cuts.period >= before - WEIGHT_PERIODS)
    if len(np.unique(cuts.period[use])) < MIN_PERIODS:
        return DEFAULT_WEIGHTS
    weight = period_weights(cuts.period, use)[use]
    f, real = cuts.forecasts[use], cuts.realised[use]

    def error(w: tuple[float, float, float]) -> float:
        return float(np.sum(weight * np.abs(np.log(real / np.maximum(combine(w, f), 1e-9)))))

    errors = {w: error(w) for w in weight_grid()}
    best = min(errors, key=errors.__getitem__)
    if errors[best] >= (1 - WEIGHT_MARGIN) * error(DEFAULT_WEIGHTS):
        return DEFAULT_WEIGHTS
    a, b, c = (
        (1 - WEIGHT_SHRINK) * x + WEIGHT_SHRINK * d
        for x, d in zip(best, DEFAULT_WEIGHTS, strict=True)
    )
    return a, b, c


def combined_forecast(
    hourly_micro: Int64Array,
    first_hour: datetime,
    anchor: datetime,
    cut: datetime,
    model: SeasonalModel,
    holidays: Sequence[date] = (),
) -> Combination:
    """``auto``'s weights and calibration at ``cut`` (see the module's docstring).

    ``model`` is the seasonal model fitted at the cut; only usage before
    ``cut`` is read.
    """
    upto = hour_count(first_hour, cut)
    history = hourly_micro[:upto]
    pace = calibrate(history, first_hour, anchor, cut, rule=PACE_RULE)
    period = period_containing(anchor, cut)
    series = UsageSeries.of(history, first_hour)
    now = _forecasts(
        series, [upto], [hour_count(first_hour, period.start)], [hour_count(first_hour, period.end)]
    )
    seasonal = pace.consumed + float(model.expected_hourly(cut, period.end).sum())
    current = np.array([now[0, 0], now[0, 1], seasonal])
    cuts = None if pace.warnings else past_cuts(history, first_hour, anchor, cut, holidays)
    if cuts is None or cuts.periods < MIN_PERIODS:
        p50 = float(combine(DEFAULT_WEIGHTS, current))
        return Combination(DEFAULT_WEIGHTS, dataclasses.replace(pace, raw_p50=p50))
    used = np.empty(len(cuts.period))
    for k in range(cuts.periods):
        mine = cuts.period == k
        used[mine] = combine(choose_weights(cuts, k), cuts.forecasts[mine])
    record = error_record(used, cuts.realised, cuts.period, np.ones(len(used), dtype=bool))
    weights = choose_weights(cuts, cuts.periods)
    return Combination(
        weights,
        dataclasses.replace(
            pace,
            raw_p50=float(combine(weights, current)),
            log_lo=record.log_lo,
            log_hi=record.log_hi,
            periods=cuts.periods,
            samples=len(used),
            mape=record.mape,
            bias=record.bias,
            coverage=record.coverage,
        ),
    )


def past_cuts(
    hourly_micro: Int64Array,
    first_hour: datetime,
    anchor: datetime,
    cut: datetime,
    holidays: Sequence[date] = (),
) -> PastCuts | None:
    """Pace, run rate and seasonal forecasts at the past cuts of ``cut`` (module docstring, 1).

    Only usage before ``cut`` is read; None when no past period has a usable cut.
    """
    upto = hour_count(first_hour, cut)
    series = UsageSeries.of(hourly_micro[:upto], first_hour)
    current = period_containing(anchor, cut)
    left = current.end - cut
    back_of: list[int] = []
    hours: list[tuple[int, int, int]] = []
    seasonal: list[float] = []
    realised: list[float] = []
    for back in range(1, COMBINATION_PERIODS + 1):
        p = period_at(anchor, current.index - back)
        if p.start < first_hour + timedelta(days=_LEAD_DAYS):
            break
        s0, e0 = hour_count(first_hour, p.start), hour_count(first_hour, p.end)
        real = float(series.total[e0] - series.total[s0])
        for offset in CUT_OFFSETS_DAYS:
            at = p.end - left + timedelta(days=offset)
            if real <= 0 or not p.start < at < p.end:
                continue
            c = hour_count(first_hour, at)
            model = fit_seasonal(hourly_micro[:c], first_hour, at, holidays=holidays, since=p.start)
            done = float(series.total[c] - series.total[s0])
            back_of.append(back)
            hours.append((c, s0, e0))
            seasonal.append(done + float(model.expected_hourly(at, p.end).sum()))
            realised.append(real)
    if not hours:
        return None
    rules = _forecasts(series, *zip(*hours, strict=True))
    forecasts = np.column_stack((rules, np.array(seasonal)))
    ok = np.all(forecasts > 0, axis=1)
    if not np.any(ok):
        return None
    _, period = np.unique(-np.array(back_of)[ok], return_inverse=True)
    order = np.argsort(period, kind="stable")  # the oldest period first
    return PastCuts(
        period=period[order].astype(np.int64),
        forecasts=forecasts[ok][order],
        realised=np.array(realised)[ok][order],
    )


def _forecasts(
    series: UsageSeries, cut: Sequence[int], start: Sequence[int], end: Sequence[int]
) -> FloatArray:
    """``(cuts, 2)``: the pace rule's and the run rate's forecasts (cut, start, end in hours)."""
    f = point_forecasts(
        series,
        Cuts(
            np.array(cut, dtype=np.int64),
            np.array(start, dtype=np.int64),
            np.array(end, dtype=np.int64),
        ),
    )
    result: FloatArray = np.column_stack((f[PACE_RULE], f["runrate"]))
    return result
