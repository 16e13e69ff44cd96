"""Forecasts without paths (``linear``, ``seasonal``) and the figures every method shares.

Theory of operation (docs/forecasts.md, "The methods"): the linear method is
the seed's projection carried to every figure; the seasonal method takes the
model's expectation for the rest of the period and the calibrated interval
around it, with a normal of the same P10-P90 width for the probability and
expected amount of overage. The shared pieces turn a path-engine start and a
P50 into the rollover outlook, the overage cost and the exhaustion outlook.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from codex_credits.core.forecast.calibration import Calibration
from codex_credits.core.forecast.pathengine import HourlyRules, PathStart
from codex_credits.core.forecast.projection import LinearProjection, forecast_rollover
from codex_credits.core.forecast.result import (
    Exhaustion,
    ForecastMethod,
    ForecastQuality,
    PeriodForecast,
    RolloverOutlook,
)
from codex_credits.core.forecast.seasonal import SeasonalModel
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.units import ZERO, from_micro, round_cents

__all__ = [
    "ccu_interval",
    "credits_at_period_start",
    "exhaustion_outlook",
    "forecast_quality",
    "hour_at",
    "linear_forecast",
    "overage_cost",
    "rollover_outlook",
    "seasonal_forecast",
]

_Z90 = 1.2815515655446004


def credits_at_period_start(start: PathStart) -> int:
    """Rollover plus the grant at the start of the cut's period (micro-CCU)."""
    return start.credits_left + start.consumed - start.overage


def rollover_outlook(rules: HourlyRules, start: PathStart, projected: Decimal) -> RolloverOutlook:
    """The seed's rollover formula applied to ``projected``."""
    at_period_start = credits_at_period_start(start) - rules.pool
    formula = forecast_rollover(
        allocation=from_micro(rules.pool),
        projected=projected,
        current_rollover=from_micro(max(at_period_start, 0)),
        cap=from_micro(rules.rollover_cap),
    )
    return RolloverOutlook(formula=formula)


def overage_cost(rules: HourlyRules, overage_ccu: Decimal) -> Decimal | None:
    """The cost of ``overage_ccu`` in USD, rounded to cents (None for a hard stop)."""
    if rules.overage_rate is None:
        return None
    return round_cents(overage_ccu * rules.overage_rate)


def hour_at(cut: datetime, index: float) -> datetime:
    """The start of the ``index``-th whole hour after ``cut``."""
    return cut + timedelta(hours=int(index))


def exhaustion_outlook(
    start: PathStart, probability: float, times: Sequence[datetime | None]
) -> Exhaustion:
    """When the credits left at the cut run out: P10, P50 and P90 of the instant."""
    return Exhaustion(
        credits_at_cut=from_micro(start.credits_left),
        already_exhausted=start.credits_left <= 0,
        probability_before_end=probability,
        p10=times[0],
        p50=times[1],
        p90=times[2],
    )


# -- linear ------------------------------------------------------------------------------------


def linear_forecast(
    rules: HourlyRules,
    period: BillingPeriod,
    cut: datetime,
    start: PathStart,
    linear: LinearProjection | None,
) -> PeriodForecast:
    consumed = from_micro(start.consumed)
    projected = linear.projected if linear else consumed
    credits = from_micro(credits_at_period_start(start))
    overage = max(ZERO, projected - credits) if rules.overage_rate is not None else ZERO
    left = from_micro(start.credits_left)
    when: datetime | None = None
    if start.credits_left <= 0:
        when = cut
    elif linear is not None and linear.daily_rate > 0:
        hours_left = left / linear.daily_rate * 24
        candidate = hour_at(cut, float(hours_left))
        when = candidate if candidate < period.end else None
    exhaustion = exhaustion_outlook(start, 1.0 if when is not None else 0.0, (when, when, when))
    return PeriodForecast(
        method=ForecastMethod.LINEAR,
        at=cut,
        period=period,
        consumed=consumed,
        credits_at_period_start=credits,
        p10=projected,
        p50=projected,
        p90=projected,
        linear_projection=linear,
        probability_overage=1.0 if overage > 0 else 0.0,
        expected_overage_ccu=overage,
        expected_overage_cost=overage_cost(rules, overage),
        exhaustion=exhaustion,
        rollover=rollover_outlook(rules, start, projected),
    )


# -- seasonal ----------------------------------------------------------------------------------


def seasonal_forecast(
    rules: HourlyRules,
    period: BillingPeriod,
    cut: datetime,
    start: PathStart,
    linear: LinearProjection | None,
    model: SeasonalModel,
    calibration: Calibration,
) -> PeriodForecast:
    hourly = model.expected_hourly(cut, period.end)
    mean = float(hourly.sum())
    base = start.consumed / 1e6
    credits = credits_at_period_start(start) / 1e6
    lo, mu, hi = calibration.interval(p50=base + mean, consumed=base)
    sd = (hi - lo) / (2 * _Z90)  # the normal with the calibrated P10-P90 width
    if sd > 0:
        k = (credits - mu) / sd
        p_over = 0.5 * math.erfc(k / math.sqrt(2))
        exp_over = sd * math.exp(-0.5 * k * k) / math.sqrt(2 * math.pi) + (mu - credits) * p_over
    else:
        p_over = 1.0 if mu > credits else 0.0
        exp_over = max(0.0, mu - credits)
    if rules.overage_rate is None:
        p_over, exp_over = 0.0, 0.0
    expected_overage = from_micro(round(max(exp_over, 0.0) * 1e6))
    left = start.credits_left / 1e6
    times = []
    for total in (hi, mu, lo):
        scale = (total - base) / mean if mean > 0 else 0.0
        times.append(_crossing(np.cumsum(hourly) * max(scale, 0.0), left, cut, period))
    p10, p50, p90 = ccu_interval(lo, mu, hi)
    probability = 1.0 if start.credits_left <= 0 else _prob_above(mu - base, sd, left)
    exhaustion = exhaustion_outlook(start, probability, times)
    return PeriodForecast(
        method=ForecastMethod.SEASONAL,
        at=cut,
        period=period,
        consumed=from_micro(start.consumed),
        credits_at_period_start=from_micro(credits_at_period_start(start)),
        p10=p10,
        p50=p50,
        p90=p90,
        linear_projection=linear,
        probability_overage=min(max(p_over, 0.0), 1.0),
        expected_overage_ccu=expected_overage,
        expected_overage_cost=overage_cost(rules, expected_overage),
        exhaustion=exhaustion,
        rollover=rollover_outlook(rules, start, p50),
        quality=forecast_quality(calibration),
        warnings=model.warnings + calibration.warnings,
    )


def ccu_interval(lo: float, mid: float, hi: float) -> tuple[Decimal, Decimal, Decimal]:
    """CCU figures of a float interval, rounded outwards (never narrower)."""
    return (
        from_micro(math.floor(lo * 1e6)),
        from_micro(round(mid * 1e6)),
        from_micro(math.ceil(hi * 1e6)),
    )


def forecast_quality(
    calibration: Calibration, weights: tuple[float, float, float] | None = None
) -> ForecastQuality:
    """The calibration's record, as the forecast reports it (``auto``: with its weights)."""
    return ForecastQuality(
        rule=calibration.rule,
        periods=calibration.periods,
        samples=calibration.samples,
        mape=calibration.mape,
        bias=calibration.bias,
        coverage=calibration.coverage,
        calibrated=not calibration.warnings,
        run_rate_share=None if weights is None else weights[1],
        seasonal_share=None if weights is None else weights[2],
    )


def _prob_above(mean: float, sd: float, threshold: float) -> float:
    if sd <= 0:
        return 1.0 if mean >= threshold else 0.0
    return 0.5 * math.erfc((threshold - mean) / sd / math.sqrt(2))


def _crossing(
    cumulative: npt.NDArray[np.float64], left: float, cut: datetime, period: BillingPeriod
) -> datetime | None:
    if left <= 0:
        return cut
    hit = np.flatnonzero(cumulative >= left)
    return hour_at(cut, int(hit[0])) if len(hit) else None
