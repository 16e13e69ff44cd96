"""One entry point for every forecast method: :func:`forecast_period`.

Theory of operation (docs/forecasts.md). A forecast cuts the usage at ``at``
(floored to its hour: forecasts work in whole UTC hours), finds the account's
state there (the credit engine replays the history from the account's
opening state, :mod:`~codex_credits.core.forecast.state`; or the caller passes
the state at the cut), and forecasts the rest of the billing period:

``linear``
    The seed's rule: consumption so far over days elapsed, times days in the
    period. One figure; P10 = P50 = P90.
``seasonal``
    The expected rest of the period from :func:`fit_seasonal`, with a normal
    interval from the model's day-to-day spread and level uncertainty.
``montecarlo``
    ``paths`` sampled demand paths (:func:`sample_demand`) run hour by hour
    through the credit rules (:func:`run_paths`), so reserve, rollover, overage
    and rate limits act on every path; figures are read off the paths.

Every method also reports the seed's linear projection and the rollover forecast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, final

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import AccountState, OpeningBlock, open_account
from codex_credits.core.forecast.hourly import day_floor, hour_count, hourly_totals
from codex_credits.core.forecast.montecarlo import sample_demand
from codex_credits.core.forecast.pathengine import (
    HourlyRules,
    PathStart,
    close_period,
    div_half_even,
    run_paths,
)
from codex_credits.core.forecast.projection import (
    LinearProjection,
    days_elapsed,
    forecast_rollover,
    project_linear,
)
from codex_credits.core.forecast.result import (
    Exhaustion,
    ForecastMethod,
    PeriodForecast,
    RolloverOutlook,
)
from codex_credits.core.forecast.seasonal import SeasonalModel, fit_seasonal
from codex_credits.core.forecast.state import state_at
from codex_credits.core.model import Frozen
from codex_credits.core.periods import BillingPeriod, check_anchor, period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import UtcDatetime, hour_floor
from codex_credits.core.units import CENT, ZERO, Ccu, from_micro, quantize_ccu, round_cents
from codex_credits.core.usage import UsageLog
from codex_credits.display import Rows
from codex_credits.errors import ConfigError

__all__ = ["FanPoint", "forecast_fan", "forecast_period", "forecast_series"]

Int64Array = npt.NDArray[np.int64]

_Z90 = 1.2815515655446004


@final
class FanPoint(Frozen):
    """Consumption of the period up to ``at`` (a day end): P10, P50 and P90 over the paths."""

    at: UtcDatetime
    p10: Ccu
    p50: Ccu
    p90: Ccu


_QUANTILES = (0.1, 0.5, 0.9)


def forecast_period(
    log: UsageLog,
    *,
    tier: str,
    anchor: datetime,
    at: datetime,
    seats: int = 1,
    card: RateCard | None = None,
    method: ForecastMethod | str = ForecastMethod.MONTECARLO,
    paths: int = 2000,
    seed: int = 0,
    holidays: Sequence[date] = (),
    on_rate_limit: Literal["defer", "drop"] = "defer",
    state: AccountState | PathStart | None = None,
    rollover_balance: Decimal | int | str | Sequence[OpeningBlock] | None = None,
    reserve: Decimal | int | str | None = None,
) -> PeriodForecast:
    """Forecast the billing period containing ``at`` from the usage before it.

    Args:
        log: the account's usage (only events before ``at`` are read).
        tier / seats / card: the account's plan (the default card when None).
        anchor: the billing anchor; the first period starts there.
        at: the cut.
        method: ``linear``, ``seasonal`` or ``montecarlo``.
        paths / seed: the Monte Carlo sample; the same seed gives the same result.
        holidays: known holidays (past ones are set aside, future ones are quiet).
        on_rate_limit: retry rate-limited work next hour (``defer``) or ``drop`` it.
        state: the account when known: an engine state at the start of a billing
            period (history is replayed from it up to ``at``) or at ``at``'s hour
            (for example built from the usage API's status), or the path engine's
            start at ``at``. By default a new account at the anchor.
        rollover_balance / reserve: the new account's starting rollover credit
            (one number: a block expiring at the end of the first period; or
            explicit blocks) and savings reserve, as for ``simulate``.

    Raises:
        ConfigError: for an unknown method, tier or seat count, a state that does
            not match the plan, or a starting balance given with a state.
    """
    card = card or RateCard.default()
    opening = _opening(card, tier, seats, anchor, state, rollover_balance, reserve)
    cut, first, hourly = _history(log, card, opening.plan.anchor, at)
    return forecast_series(
        hourly,
        first,
        opening=opening,
        card=card,
        at=cut,
        method=method,
        paths=paths,
        seed=seed,
        holidays=holidays,
        on_rate_limit=on_rate_limit,
        state=state if isinstance(state, PathStart) else None,
    )


def forecast_series(
    hourly: Int64Array,
    first_hour: datetime,
    *,
    opening: AccountState,
    card: RateCard,
    at: datetime,
    method: ForecastMethod | str = ForecastMethod.MONTECARLO,
    paths: int = 2000,
    seed: int = 0,
    holidays: Sequence[date] = (),
    on_rate_limit: Literal["defer", "drop"] = "defer",
    state: PathStart | None = None,
) -> PeriodForecast:
    """:func:`forecast_period` on an hourly series (micro-CCU per hour from ``first_hour``).

    ``opening`` is the account the history is replayed from (see
    :func:`~codex_credits.core.forecast.state.states_at`); ``state``, when given,
    is the path engine's start at ``at`` and the replay is skipped.
    """
    try:
        method = ForecastMethod(method)
    except ValueError:
        names = ", ".join(m.value for m in ForecastMethod)
        raise ConfigError(f"unknown forecast method {method!r}; methods: {names}") from None
    if paths < 1:
        raise ConfigError(f"paths must be at least 1, got {paths}")
    rules = HourlyRules.from_plan(opening.plan, on_rate_limit=on_rate_limit)
    anchor = opening.plan.anchor
    cut = hour_floor(at)
    period = period_containing(anchor, cut)
    if state is None:
        state = state_at(opening, card, hourly, first_hour, cut, on_rate_limit=on_rate_limit)
    start = state
    elapsed = days_elapsed(period, cut)
    consumed = from_micro(start.consumed)
    linear = (
        project_linear(consumed, days_elapsed=elapsed, days_total=period.days)
        if elapsed > 0
        else None
    )
    if method is ForecastMethod.LINEAR:
        return _linear(rules, period, cut, start, linear)
    upto = hour_count(first_hour, cut)
    model = fit_seasonal(hourly[:upto], first_hour, cut, holidays=holidays, since=period.start)
    if method is ForecastMethod.SEASONAL:
        return _seasonal(rules, period, cut, start, linear, model)
    return _montecarlo(rules, period, cut, start, linear, model, paths, seed)


def forecast_fan(
    log: UsageLog,
    *,
    tier: str,
    anchor: datetime,
    at: datetime,
    seats: int = 1,
    card: RateCard | None = None,
    paths: int = 2000,
    seed: int = 0,
    state: AccountState | PathStart | None = None,
    rollover_balance: Decimal | int | str | Sequence[OpeningBlock] | None = None,
    reserve: Decimal | int | str | None = None,
) -> tuple[FanPoint, ...]:
    """The Monte Carlo fan: cumulative period consumption at each UTC day end after ``at``.

    The same paths as :func:`forecast_period` with ``method="montecarlo"`` and the
    same ``paths``, ``seed`` and starting state; the last point is the period end
    (its P10/P50/P90 are that forecast's).
    """
    card = card or RateCard.default()
    opening = _opening(card, tier, seats, anchor, state, rollover_balance, reserve)
    rules = HourlyRules.from_plan(opening.plan)
    cut, first, hourly = _history(log, card, opening.plan.anchor, at)
    period = period_containing(opening.plan.anchor, cut)
    start = state if isinstance(state, PathStart) else state_at(opening, card, hourly, first, cut)
    model = fit_seasonal(hourly, first, cut, since=period.start)
    demand = sample_demand(model, period.end, paths, np.random.default_rng(seed))
    outcome = run_paths(rules, start, demand, record=True)
    assert outcome.served_by_hour is not None
    cumulative = start.consumed + np.cumsum(outcome.served_by_hour, axis=1)
    points = []
    for i in range(cumulative.shape[1]):
        when = cut + timedelta(hours=i + 1)
        if when.hour == 0 or when == period.end:
            q = _quantiles(cumulative[:, i])
            points.append(
                FanPoint(at=when, p10=from_micro(q[0]), p50=from_micro(q[1]), p90=from_micro(q[2]))
            )
    return Rows(points)


def _opening(
    card: RateCard,
    tier: str,
    seats: int,
    anchor: datetime,
    state: AccountState | PathStart | None,
    rollover_balance: Decimal | int | str | Sequence[OpeningBlock] | None,
    reserve: Decimal | int | str | None,
) -> AccountState:
    """The account the forecast replays from: the caller's, or a new one at the anchor."""
    anchor = check_anchor(anchor)
    if state is not None and (rollover_balance is not None or reserve is not None):
        raise ConfigError("rollover_balance and reserve come from the given account state")
    if not isinstance(state, AccountState):
        return open_account(
            card, tier, seats, anchor, rollover_balance=rollover_balance, reserve=reserve
        )
    plan = state.plan
    if (plan.card, plan.tier, plan.seats, plan.anchor) != (card.name, tier, seats, anchor):
        raise ConfigError(
            f"the account state is {plan.seats} seat(s) of {plan.tier} on card {plan.card} "
            f"anchored at {plan.anchor.isoformat()}, not {seats} of {tier} on {card.name} "
            f"anchored at {anchor.isoformat()}"
        )
    return state


def _history(
    log: UsageLog, card: RateCard, anchor: datetime, at: datetime
) -> tuple[datetime, datetime, Int64Array]:
    """``(cut, first hour, hourly usage from the first hour up to the cut)``."""
    cut = hour_floor(at)
    first = min(day_floor(log.start), anchor) if len(log) else anchor
    return cut, first, hourly_totals(log, card, first, cut)


# -- shared pieces -----------------------------------------------------------------------------


def _credits_at_period_start(start: PathStart) -> int:
    return start.credits_left + start.consumed - start.overage


def _rollover_formula(rules: HourlyRules, start: PathStart, projected: Decimal) -> RolloverOutlook:
    at_period_start = _credits_at_period_start(start) - rules.pool
    formula = forecast_rollover(
        allocation=from_micro(rules.pool),
        projected=projected,
        current_rollover=from_micro(max(at_period_start, 0)),
        cap=from_micro(rules.rollover_cap),
    )
    return RolloverOutlook(formula=formula)


def _overage_cost(rules: HourlyRules, overage_ccu: Decimal) -> Decimal | None:
    if rules.overage_rate is None:
        return None
    return round_cents(overage_ccu * rules.overage_rate)


def _hour_at(cut: datetime, index: float) -> datetime:
    return cut + timedelta(hours=int(index))


def _exhaustion(
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


def _linear(
    rules: HourlyRules,
    period: BillingPeriod,
    cut: datetime,
    start: PathStart,
    linear: LinearProjection | None,
) -> PeriodForecast:
    consumed = from_micro(start.consumed)
    projected = linear.projected if linear else consumed
    credits = from_micro(_credits_at_period_start(start))
    overage = max(ZERO, projected - credits) if rules.overage_rate is not None else ZERO
    left = from_micro(start.credits_left)
    when: datetime | None = None
    if start.credits_left <= 0:
        when = cut
    elif linear is not None and linear.daily_rate > 0:
        hours_left = left / linear.daily_rate * 24
        candidate = _hour_at(cut, float(hours_left))
        when = candidate if candidate < period.end else None
    exhaustion = _exhaustion(start, 1.0 if when is not None else 0.0, (when, when, when))
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
        expected_overage_cost=_overage_cost(rules, overage),
        exhaustion=exhaustion,
        rollover=_rollover_formula(rules, start, projected),
    )


# -- seasonal ----------------------------------------------------------------------------------


def _seasonal(
    rules: HourlyRules,
    period: BillingPeriod,
    cut: datetime,
    start: PathStart,
    linear: LinearProjection | None,
    model: SeasonalModel,
) -> PeriodForecast:
    hourly = model.expected_hourly(cut, period.end)
    mean = float(hourly.sum())
    sd = _remaining_sd(model, cut, hourly)
    base = start.consumed / 1e6
    credits = _credits_at_period_start(start) / 1e6

    def ccu(x: float) -> Decimal:
        return from_micro(round(max(x, base) * 1e6))

    mu = base + mean
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
    for z in (_Z90, 0.0, -_Z90):
        scale = (mean + z * sd) / mean if mean > 0 else 0.0
        times.append(_crossing(np.cumsum(hourly) * max(scale, 0.0), left, cut, period))
    p50 = ccu(mu)
    probability = 1.0 if start.credits_left <= 0 else _prob_above(mean, sd, left)
    exhaustion = _exhaustion(start, probability, times)
    return PeriodForecast(
        method=ForecastMethod.SEASONAL,
        at=cut,
        period=period,
        consumed=from_micro(start.consumed),
        credits_at_period_start=from_micro(_credits_at_period_start(start)),
        p10=ccu(mu - _Z90 * sd),
        p50=p50,
        p90=ccu(mu + _Z90 * sd),
        linear_projection=linear,
        probability_overage=min(max(p_over, 0.0), 1.0),
        expected_overage_ccu=expected_overage,
        expected_overage_cost=_overage_cost(rules, expected_overage),
        exhaustion=exhaustion,
        rollover=_rollover_formula(rules, start, p50),
        warnings=model.warnings,
    )


def _remaining_sd(model: SeasonalModel, cut: datetime, hourly: npt.NDArray[np.float64]) -> float:
    """Spread of the rest of the period: day-to-day noise plus the level's uncertainty."""
    if len(hourly) == 0:
        return 0.0
    first = hour_count(model.origin, cut)
    days = (first + np.arange(len(hourly))) // 24
    per_day = np.bincount(days - days[0], weights=hourly)
    day_index = days[0] + np.arange(len(per_day), dtype=np.int64)
    cv = model.day_cv[model.phase(day_index)]
    level = model.expected_level(day_index)
    weights = np.where(level > 0, per_day / np.where(level > 0, level, 1.0), 0.0)
    noise = float(np.sum((per_day * cv) ** 2))
    return math.sqrt(noise + model.sum_variance(day_index, weights))


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
    return _hour_at(cut, int(hit[0])) if len(hit) else None


# -- Monte Carlo -------------------------------------------------------------------------------


def _montecarlo(
    rules: HourlyRules,
    period: BillingPeriod,
    cut: datetime,
    start: PathStart,
    linear: LinearProjection | None,
    model: SeasonalModel,
    paths: int,
    seed: int,
) -> PeriodForecast:
    rng = np.random.default_rng(seed)
    demand = sample_demand(model, period.end, paths, rng)
    outcome = run_paths(rules, start, demand)
    p10, p50, p90 = (from_micro(v) for v in _quantiles(outcome.consumed))
    if rules.overage_rate is not None:
        cents = _cents(outcome.overage, rules.overage_rate)
        cost: Decimal | None = round_cents(Decimal(int(cents.sum())) * CENT / paths)
    else:
        cost = None
    expected_overage = quantize_ccu(from_micro(int(outcome.overage.sum())) / paths)
    new_rollover, _, _ = close_period(rules, start, outcome.credits_left)
    r10, r50, r90 = (from_micro(v) for v in _quantiles(new_rollover))
    formula = _rollover_formula(rules, start, p50).formula
    exhausted = outcome.exhausted_hour
    times = []
    for q in _QUANTILES:
        k = math.ceil(q * paths)  # the k-th earliest exhaustion, if that many paths exhaust
        done = np.sort(exhausted[exhausted >= 0])
        times.append(_hour_at(cut, int(done[k - 1])) if len(done) >= k else None)
    exhaustion = _exhaustion(start, float(np.mean(exhausted >= 0)), times)
    return PeriodForecast(
        method=ForecastMethod.MONTECARLO,
        at=cut,
        period=period,
        consumed=from_micro(start.consumed),
        credits_at_period_start=from_micro(_credits_at_period_start(start)),
        p10=p10,
        p50=p50,
        p90=p90,
        linear_projection=linear,
        probability_overage=float(np.mean(outcome.overage > 0)),
        expected_overage_ccu=expected_overage,
        expected_overage_cost=cost,
        probability_rate_limited=float(np.mean(outcome.rate_limited > 0)),
        exhaustion=exhaustion,
        rollover=RolloverOutlook(formula=formula, p10=r10, p50=r50, p90=r90),
        paths=paths,
        seed=seed,
        warnings=model.warnings,
    )


def _quantiles(values: Int64Array) -> tuple[int, int, int]:
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
