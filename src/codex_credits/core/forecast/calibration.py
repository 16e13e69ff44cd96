"""Calibration on the account's own history: which point rule, and how wide the interval.

Theory of operation (docs/forecasts.md, "Calibration"). A forecast standing on
day ``d`` of the current period asks the account's past: standing on every
day of every complete past period, what did each point rule
(:mod:`~codex_credits.core.forecast.points`) predict for that period's total,
and what came? Every day of every past period is a cut, so a year of history
gives hundreds of samples, each labelled by the days that were left.

1. **Which rule.** Among the samples whose days left are within
   :data:`HORIZON_WINDOW_DAYS` of today's, each rule's mean absolute
   percentage error; the best rule wins, but the default ``blend`` (this
   period's pace shrunk towards the trailing 28 days) is kept unless another
   rule beats it by :data:`SWITCH_MARGIN`. Plain wins where plain is as good.
2. **How wide.** The same samples' log ratios ``log(realised / P50)`` of the
   chosen rule give a split-conformal interval: its P10 and P90 are the P50
   times ``exp`` of the ratios' 10th and 90th percentiles, with a
   finite-sample correction counted in *periods* (samples of one period are
   not independent; :data:`CONFORMAL_CORRECTION`), so few periods give a
   wider interval. Each period weighs the same.
3. **How far to trust it.** The same recipe with each past period held out
   in turn (its interval built from the other periods only) gives the coverage
   the forecast reports about itself, with the error and bias of its P50.

With fewer than :data:`MIN_PERIODS` past periods the interval is the
documented prior (:data:`FALLBACK_LOG_SPREAD`) and the result carries the
``short_history_calibration`` warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from codex_credits.core.forecast.hourly import hour_count
from codex_credits.core.forecast.points import Cuts, UsageSeries, point_forecasts
from codex_credits.core.periods import period_at, period_containing
from codex_credits.display import Displayed

__all__ = [
    "CANDIDATES",
    "CONFORMAL_CORRECTION",
    "DEFAULT_RULE",
    "FALLBACK_LOG_SPREAD",
    "HORIZON_WINDOW_DAYS",
    "MIN_PERIODS",
    "SHORT_CALIBRATION",
    "SWITCH_MARGIN",
    "Calibration",
    "ErrorRecord",
    "calibrate",
    "error_record",
    "period_weights",
]

FloatArray = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]

MIN_PERIODS = 3
"""Past complete periods needed before the account's own errors set the interval."""

HORIZON_WINDOW_DAYS = 3
"""Samples count when their days left are within this many days of today's."""

SWITCH_MARGIN = 0.1
"""A rule replaces the default only if its error is this much lower (relative)."""

DEFAULT_RULE = "fortnight"
"""The point rule used without history, and unless another clearly wins."""

CANDIDATES: tuple[str, ...] = (
    "runrate",
    "blend",
    "weekday",
    "weekday7",
    "weekdayrr",
    "fortnight",
    "fortnight7",
    "fortnightrr",
)
"""The rules the backtest chooses from (the seed's ``linear`` is only a baseline)."""

FALLBACK_LOG_SPREAD = 0.6
"""The prior: with a share ``f`` of the period left, P10/P90 are the P50 times
``exp(-/+ FALLBACK_LOG_SPREAD x sqrt(f))`` (at day 7 of 30, about x0.6 and x1.7)."""

SHORT_CALIBRATION = "short_history_calibration"

CONFORMAL_CORRECTION = 0.5
"""The finite-sample correction of the interval's levels, in periods: the levels are
``0.1 / 0.9`` widened to ``(1 - 0.1)(1 + c / n)`` with ``n`` past periods. ``c = 1`` is
the textbook bound for one error per period; a period here gives several cuts, whose
pooled quantiles are steadier, and ``c = 1`` held 88% of outcomes on the synthetic
development histories (seeds 0-2). ``c = 0.5`` was chosen there (82%), never on the
histories the documentation reports."""

_TAIL = 0.1
_LEAD_DAYS = 7


@dataclass(frozen=True, repr=False)
class Calibration(Displayed):
    """The account's own answer for one cut.

    Attributes:
        rule: the point rule chosen (:data:`~codex_credits.core.forecast.points.POINT_RULES`).
        consumed: CCU of the period before the cut (from the series).
        raw_p50: the rule's forecast of the period total (CCU).
        log_lo / log_hi: the 10th and 90th percentiles of ``log(realised / forecast)``
            at similar days left (conformal, finite-sample corrected; the prior
            without history).
        periods: past complete periods read.
        samples: past cuts read at similar days left.
        mape / bias: the chosen rule's error and mean signed error on past cuts
            at similar days left, in percent (None without history).
        coverage: share of past outcomes inside the interval, each past period
            checked against the interval the other periods give (None with too
            little history).
        warnings: ``short_history_calibration`` when the prior is used.
    """

    rule: str
    consumed: float
    raw_p50: float
    log_lo: float
    log_hi: float
    periods: int
    samples: int
    mape: float | None
    bias: float | None
    coverage: float | None
    warnings: tuple[str, ...] = ()

    def interval(
        self, p50: float | None = None, consumed: float | None = None
    ) -> tuple[float, float, float]:
        """``(P10, P50, P90)`` in CCU around ``p50`` (default the rule's forecast).

        Ordered, and never below ``consumed`` (default what the series shows
        the period consumed): the lower ratio is at most 0 and the upper at
        least 0 (a P50 is never outside its interval).
        """
        floor = self.consumed if consumed is None else consumed
        base = max(self.raw_p50 if p50 is None else p50, floor)
        lo = max(base * math.exp(min(self.log_lo, 0.0)), floor)
        hi = base * math.exp(max(self.log_hi, 0.0))
        return lo, base, hi


@dataclass(frozen=True)
class _Samples:
    period: Int64Array  # index of the past period of each sample (0 = oldest)
    left: FloatArray  # days left at the cut
    realised: FloatArray
    forecasts: dict[str, FloatArray]


def calibrate(
    hourly_micro: Int64Array,
    first_hour: datetime,
    anchor: datetime,
    cut: datetime,
    *,
    rule: str | None = None,
) -> Calibration:
    """Choose the point rule and the interval for the cut from the account's own past.

    Args:
        hourly_micro: micro-CCU per hour from ``first_hour``; hours from the cut
            on are ignored.
        first_hour: the hour of ``hourly_micro[0]``.
        anchor: the billing anchor.
        cut: the forecast cut (a whole hour).
        rule: force a point rule instead of choosing one.
    """
    upto = hour_count(first_hour, cut)
    series = UsageSeries.of(hourly_micro[:upto], first_hour)
    period = period_containing(anchor, cut)
    now = Cuts(
        cut=np.array([upto]),
        start=np.array([hour_count(first_hour, period.start)]),
        end=np.array([hour_count(first_hour, period.end)]),
    )
    current = {name: float(v[0]) for name, v in point_forecasts(series, now).items()}
    consumed = float(series.total[upto] - series.total[now.start[0]])
    left = (period.end - cut) / timedelta(days=1)
    samples = _past_samples(series, first_hour, anchor, period.index, cut - period.start)
    n_periods = len(np.unique(samples.period))
    near = np.abs(samples.left - left) <= HORIZON_WINDOW_DAYS + 1e-9
    if n_periods < MIN_PERIODS or not np.any(near):
        spread = FALLBACK_LOG_SPREAD * math.sqrt(max(left, 0.0) / period.days)
        chosen = rule or DEFAULT_RULE
        return Calibration(
            rule=chosen,
            consumed=consumed,
            raw_p50=current[chosen],
            log_lo=-spread,
            log_hi=spread,
            periods=n_periods,
            samples=int(np.count_nonzero(near)),
            mape=None,
            bias=None,
            coverage=None,
            warnings=(SHORT_CALIBRATION,),
        )
    chosen = rule or _choose(samples, period_weights(samples.period, near))
    record = error_record(samples.forecasts[chosen], samples.realised, samples.period, near)
    return Calibration(
        rule=chosen,
        consumed=consumed,
        raw_p50=current[chosen],
        log_lo=record.log_lo,
        log_hi=record.log_hi,
        periods=n_periods,
        samples=int(np.count_nonzero(near)),
        mape=record.mape,
        bias=record.bias,
        coverage=record.coverage,
    )


@dataclass(frozen=True)
class ErrorRecord:
    """A predictor's past errors, summarised: its conformal interval and its record.

    Attributes:
        log_lo / log_hi: the interval's log ratios (split conformal, counted in periods).
        mape / bias: mean absolute and mean signed percentage error, in percent,
            each period weighing the same.
        coverage: the held-out coverage: each past period against the interval
            the other periods give (None with too few periods).
    """

    log_lo: float
    log_hi: float
    mape: float
    bias: float
    coverage: float | None


def error_record(
    forecast: FloatArray,
    realised: FloatArray,
    period: Int64Array,
    use: npt.NDArray[np.bool_],
) -> ErrorRecord:
    """The conformal interval and the record of a predictor from its past forecasts.

    ``forecast`` and ``realised`` are the predictor's forecasts at past cuts and
    what came; ``period`` numbers the past period of each cut (0 = the oldest);
    only cuts where ``use`` holds count.
    """
    weights = period_weights(period, use)
    ratio = np.log(realised / np.maximum(forecast, 1e-9))
    lo, hi = _conformal(ratio, weights, len(np.unique(period[use])))
    error = (forecast - realised) / realised
    return ErrorRecord(
        log_lo=lo,
        log_hi=hi,
        mape=float(np.sum(weights * np.abs(error)) * 100),
        bias=float(np.sum(weights * error) * 100),
        coverage=_held_out_coverage(ratio, period, use),
    )


def _past_samples(
    series: UsageSeries,
    first_hour: datetime,
    anchor: datetime,
    current_index: int,
    offset: timedelta,
) -> _Samples:
    """One cut per day of every complete past period, at the current cut's time of day."""
    day_offset = int(offset / timedelta(hours=1)) % 24
    cut: list[Int64Array] = []
    start: list[Int64Array] = []
    end: list[Int64Array] = []
    which: list[Int64Array] = []
    index = current_index - 1
    found = 0
    while True:
        p = period_at(anchor, index)
        s = hour_count(first_hour, p.start) if p.start >= first_hour else -1
        if s < _LEAD_DAYS * 24:
            break
        e = hour_count(first_hour, p.end)
        cuts = np.arange(s + (day_offset or 24), e, 24, dtype=np.int64)
        cut.append(cuts)
        start.append(np.full(len(cuts), s))
        end.append(np.full(len(cuts), e))
        which.append(np.full(len(cuts), -found - 1))
        found += 1
        index -= 1
    if not cut:
        empty = np.zeros(0, dtype=np.int64)
        return _Samples(empty, empty.astype(np.float64), empty.astype(np.float64), {})
    all_cut = np.concatenate(cut)
    all_start = np.concatenate(start)
    all_end = np.concatenate(end)
    forecasts = point_forecasts(series, Cuts(all_cut, all_start, all_end))
    realised = series.total[all_end] - series.total[all_start]
    ok = realised > 0
    for v in forecasts.values():
        ok &= v > 0
    return _Samples(
        period=(np.concatenate(which) + found)[ok],  # 0 = the oldest period
        left=((all_end - all_cut) / 24.0)[ok],
        realised=realised[ok],
        forecasts={name: v[ok] for name, v in forecasts.items()},
    )


def period_weights(period: Int64Array, near: npt.NDArray[np.bool_]) -> FloatArray:
    """Weights summing to 1 over the samples near today's horizon; each period weighs the same."""
    counts = np.bincount(period[near], minlength=int(period.max()) + 1).astype(np.float64)
    per_sample = np.where(near, 1.0 / np.maximum(counts[period], 1.0), 0.0)
    total = float(per_sample.sum())
    result: FloatArray = per_sample / total if total > 0 else per_sample
    return result


def _choose(samples: _Samples, weights: FloatArray) -> str:
    errors = {
        name: float(np.sum(weights * np.abs(f / samples.realised - 1.0)))
        for name, f in samples.forecasts.items()
        if name in CANDIDATES
    }
    best = min(errors, key=errors.__getitem__)
    if errors[best] < (1.0 - SWITCH_MARGIN) * errors[DEFAULT_RULE]:
        return best
    return DEFAULT_RULE


def _conformal(ratio: FloatArray, weights: FloatArray, n_periods: int) -> tuple[float, float]:
    """Lower and upper quantiles of the ratios, the levels widened for ``n_periods``.

    Split conformal: with ``n`` exchangeable past errors the new one lies below
    the ``ceil((1 - a)(n + 1))``-th smallest with probability at least ``1 - a``;
    as a level of the empirical distribution that is about ``(1 - a)(1 + 1/n)``.
    Here each period gives several cuts, so the level is
    ``(1 - a)(1 + c/n)`` with ``c`` = :data:`CONFORMAL_CORRECTION`.
    """
    upper = (1.0 - _TAIL) * (1.0 + CONFORMAL_CORRECTION / n_periods)
    return (
        _weighted_quantile(ratio, weights, 1.0 - upper),
        _weighted_quantile(ratio, weights, upper),
    )


def _weighted_quantile(values: FloatArray, weights: FloatArray, level: float) -> float:
    keep = weights > 0
    v, w = values[keep], weights[keep]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cumulative = np.cumsum(w) / w.sum()
    if level >= 1.0:
        return float(v[-1])
    if level <= 0.0:
        return float(v[0])
    return float(v[min(int(np.searchsorted(cumulative, level - 1e-12)), len(v) - 1)])


def _held_out_coverage(
    ratio: FloatArray, period: Int64Array, near: npt.NDArray[np.bool_]
) -> float | None:
    """Coverage of the interval on each past period, set from the other periods only.

    Cross-conformal: each period is held out in turn, the interval is built
    from the others exactly as today's is built from all, and the share of the
    held-out period's outcomes inside it is averaged over the periods. None
    with fewer than :data:`MIN_PERIODS` other periods.
    """
    periods = np.unique(period[near])
    if len(periods) <= MIN_PERIODS:
        return None
    hits: list[float] = []
    for k in periods:
        others = near & (period != k)
        mine = near & (period == k)
        lo, hi = _conformal(ratio, period_weights(period, others), len(periods) - 1)
        r = ratio[mine]
        hits.append(float(np.mean((r >= min(lo, 0.0)) & (r <= max(hi, 0.0)))))
    return float(np.mean(hits))
