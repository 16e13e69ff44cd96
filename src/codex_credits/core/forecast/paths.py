"""Forecasts read off calibrated Monte Carlo paths (``montecarlo`` and ``auto``).

Theory of operation (docs/forecasts.md, "Calibration" and "Monte Carlo"):
demand paths are sampled from the seasonal model (:func:`sample_demand`), each
scaled as a whole so the paths' totals follow the calibrated interval
(:func:`calibrate_demand`), and run hour by hour through the credit rules
(:func:`run_paths`). ``auto`` centres the interval on the combination of this period's
pace, the run rate and the seasonal model whose errors sized it
(:mod:`~codex_credits.core.forecast.combination`); ``montecarlo`` on the
sampled paths' own median. The probability of overage, the expected
overage, the exhaustion dates and the rollover balance are read off the paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from codex_credits.core.forecast.analytic import (
    ccu_interval,
    credits_at_period_start,
    exhaustion_outlook,
    forecast_quality,
    hour_at,
    rollover_outlook,
)
from codex_credits.core.forecast.calibration import Calibration
from codex_credits.core.forecast.montecarlo import (
    calibrate_demand,
    sample_calibrated_demand,
    sample_demand,
)
from codex_credits.core.forecast.pathengine import (
    HourlyRules,
    PathStart,
    close_period,
    run_paths,
)
from codex_credits.core.forecast.projection import LinearProjection
from codex_credits.core.forecast.result import ForecastMethod, PeriodForecast, RolloverOutlook
from codex_credits.core.forecast.seasonal import SeasonalModel
from codex_credits.core.halfeven import div_half_even
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.units import CENT, from_micro, quantize_ccu, round_cents

__all__ = [
    "PathForecast",
    "calibrated_paths",
    "end_figures",
    "path_forecast",
    "path_quantiles",
]

Int64Array = npt.NDArray[np.int64]

_QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class PathForecast:
    """Everything a path forecast needs: the rules, the start, the model, the calibration."""

    rules: HourlyRules
    period: BillingPeriod
    cut: datetime
    start: PathStart
    linear: LinearProjection | None
    model: SeasonalModel
    paths: int
    seed: int
    calibration: Calibration
    weights: tuple[float, float, float] | None = None


def calibrated_paths(mc: PathForecast, auto: bool) -> tuple[Int64Array, tuple[float, float, float]]:
    """Demand paths scaled to the calibrated interval, and that interval (CCU).

    ``auto`` centres the interval on the calibration's own forecast (the
    combination of :mod:`~codex_credits.core.forecast.combination`, whose
    errors sized it); ``montecarlo`` on the sampled paths' own median.
    """
    done = mc.start.consumed / 1e6
    cal = mc.calibration
    end = mc.period.end
    if auto:
        interval = cal.interval(p50=done + cal.raw_p50 - cal.consumed, consumed=done)
        rest = tuple((v - done) * 1e6 for v in interval)
        rng = np.random.default_rng(mc.seed)
        demand = sample_calibrated_demand(mc.model, end, mc.paths, rng, (rest[0], rest[1], rest[2]))
        return demand, interval
    demand = sample_demand(mc.model, end, mc.paths, np.random.default_rng(mc.seed))
    p50 = done + float(np.median(demand.sum(axis=1))) / 1e6
    interval = cal.interval(p50=p50, consumed=done)
    rest = tuple((v - done) * 1e6 for v in interval)
    return calibrate_demand(demand, (rest[0], rest[1], rest[2])), interval


def end_figures(
    rules: HourlyRules, consumed: Int64Array, interval: tuple[float, float, float]
) -> tuple[Decimal, Decimal, Decimal]:
    """P10, P50, P90 of period-end consumption over calibrated paths.

    Where the rules serve every demand (overage, rate-limited work retried) the
    calibrated interval stands, widened to the paths' own quantiles (never
    narrower); otherwise the paths' quantiles, which the rules may cap.
    """
    p10, p50, p90 = (from_micro(v) for v in path_quantiles(consumed))
    if rules.overage_rate is not None and rules.defer:
        lo, mid, hi = ccu_interval(*interval)
        return min(p10, lo), mid, max(p90, hi)
    return p10, p50, p90


def path_forecast(mc: PathForecast, *, auto: bool) -> PeriodForecast:
    """The ``auto`` (or ``montecarlo``) forecast from calibrated paths."""
    rules, start, cut, paths = mc.rules, mc.start, mc.cut, mc.paths
    demand, interval = calibrated_paths(mc, auto)
    outcome = run_paths(rules, start, demand)
    p10, p50, p90 = end_figures(rules, outcome.consumed, interval)
    if rules.overage_rate is not None:
        cents = _cents(outcome.overage, rules.overage_rate)
        cost: Decimal | None = round_cents(Decimal(int(cents.sum())) * CENT / paths)
    else:
        cost = None
    expected_overage = quantize_ccu(from_micro(int(outcome.overage.sum())) / paths)
    new_rollover, _, _ = close_period(rules, start, outcome.credits_left)
    r10, r50, r90 = (from_micro(v) for v in path_quantiles(new_rollover))
    formula = rollover_outlook(rules, start, p50).formula
    exhausted = outcome.exhausted_hour
    times = []
    for q in _QUANTILES:
        k = math.ceil(q * paths)  # the k-th earliest exhaustion, if that many paths exhaust
        done = np.sort(exhausted[exhausted >= 0])
        times.append(hour_at(cut, int(done[k - 1])) if len(done) >= k else None)
    exhaustion = exhaustion_outlook(start, float(np.mean(exhausted >= 0)), times)
    return PeriodForecast(
        method=ForecastMethod.AUTO if auto else ForecastMethod.MONTECARLO,
        at=cut,
        period=mc.period,
        consumed=from_micro(start.consumed),
        credits_at_period_start=from_micro(credits_at_period_start(start)),
        p10=p10,
        p50=p50,
        p90=p90,
        linear_projection=mc.linear,
        probability_overage=float(np.mean(outcome.overage > 0)),
        expected_overage_ccu=expected_overage,
        expected_overage_cost=cost,
        probability_rate_limited=float(np.mean(outcome.rate_limited > 0)),
        exhaustion=exhaustion,
        rollover=RolloverOutlook(formula=formula, p10=r10, p50=r50, p90=r90),
        paths=paths,
        seed=mc.seed,
        quality=forecast_quality(mc.calibration, mc.weights if auto else None),
        warnings=mc.model.warnings + mc.calibration.warnings,
    )


def path_quantiles(values: Int64Array) -> tuple[int, int, int]:
    """P10, P50, P90 as values some path actually took (exact integers)."""
    q = np.quantile(values, _QUANTILES, method="inverted_cdf")
    return int(q[0]), int(q[1]), int(q[2])


def _cents(overage_micro: Int64Array, rate: Decimal) -> Int64Array:
    """Each path's overage cost in cents, rounded half-even once."""
    num, den = rate.as_integer_ratio()
    divisor = den * 10_000  # micro-CCU x USD/CCU -> cents
    if int(overage_micro.max(initial=0)) * num < 2**62 and divisor < 2**62:
        return div_half_even(overage_micro * num, divisor)
    exact = [round_cents(from_micro(int(v)) * rate) / CENT for v in overage_micro]
    return np.array([int(v) for v in exact], dtype=np.int64)
