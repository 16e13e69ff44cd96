"""One entry point for every forecast method: :func:`forecast_period`.

Theory of operation (docs/forecasts.md). A forecast cuts the usage at ``at``
(floored to its hour: forecasts work in whole UTC hours), finds the account's
state there (the credit engine replays the history from the account's
opening state, :mod:`~codex_credits.core.forecast.state`; or the caller passes
the state at the cut), and forecasts the rest of the billing period:

``auto`` (the default)
    This period's pace, the 28-day run rate and the seasonal model's
    expectation, weighted as the account's own past periods say, with the
    P10-P90 interval the errors of that same combination support, walked
    forward on the account's past
    (:func:`~codex_credits.core.forecast.combination.combined_forecast`);
    Monte Carlo paths scaled to that interval (:func:`calibrate_demand`) give
    the probability of overage, the expected overage and the exhaustion dates.
``linear``
    The seed's rule: consumption so far over days elapsed, times days in the
    period. One figure; P10 = P50 = P90.
``seasonal``
    The expected rest of the period from :func:`fit_seasonal`; the interval
    around it is the account's calibrated one.
``montecarlo``
    ``paths`` sampled demand paths (:func:`sample_demand`) run hour by hour
    through the credit rules (:func:`run_paths`), so reserve, rollover, overage
    and rate limits act on every path; the paths are scaled to the calibrated
    interval around their own median, and figures are read off the paths.

Every method also reports the seed's linear projection and the rollover forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, final

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import AccountState, OpeningBlock, open_account
from codex_credits.core.forecast.analytic import linear_forecast, seasonal_forecast
from codex_credits.core.forecast.calibration import calibrate
from codex_credits.core.forecast.combination import combined_forecast
from codex_credits.core.forecast.hourly import day_floor, hour_count, hourly_totals
from codex_credits.core.forecast.pathengine import HourlyRules, PathStart, run_paths
from codex_credits.core.forecast.paths import (
    PathForecast,
    calibrated_paths,
    end_figures,
    path_forecast,
    path_quantiles,
)
from codex_credits.core.forecast.projection import (
    LinearProjection,
    days_elapsed,
    project_linear,
)
from codex_credits.core.forecast.result import ForecastMethod, PeriodForecast
from codex_credits.core.forecast.seasonal import fit_seasonal
from codex_credits.core.forecast.state import state_at
from codex_credits.core.model import Frozen
from codex_credits.core.periods import check_anchor, period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import UtcDatetime, hour_floor
from codex_credits.core.units import Ccu, from_micro
from codex_credits.core.usage import UsageLog
from codex_credits.display import Rows
from codex_credits.errors import ConfigError

__all__ = ["FanPoint", "forecast_fan", "forecast_period", "forecast_series"]

Int64Array = npt.NDArray[np.int64]


@final
class FanPoint(Frozen):
    """Consumption of the period up to ``at`` (a day end): P10, P50 and P90 over the paths."""

    at: UtcDatetime
    p10: Ccu
    p50: Ccu
    p90: Ccu


def forecast_period(
    log: UsageLog,
    *,
    tier: str,
    anchor: datetime,
    at: datetime,
    seats: int = 1,
    card: RateCard | None = None,
    method: ForecastMethod | str = ForecastMethod.AUTO,
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
        method: ``auto`` (default), ``linear``, ``seasonal`` or ``montecarlo``.
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
    method: ForecastMethod | str = ForecastMethod.AUTO,
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
        return linear_forecast(rules, period, cut, start, linear)
    mc = _path_forecast(
        hourly, first_hour, anchor, method, holidays, rules, cut, start, linear, paths, seed
    )
    if method is ForecastMethod.SEASONAL:
        return seasonal_forecast(rules, period, cut, start, linear, mc.model, mc.calibration)
    return path_forecast(mc, auto=method is ForecastMethod.AUTO)


def forecast_fan(
    log: UsageLog,
    *,
    tier: str,
    anchor: datetime,
    at: datetime,
    seats: int = 1,
    card: RateCard | None = None,
    method: ForecastMethod | str = ForecastMethod.AUTO,
    paths: int = 2000,
    seed: int = 0,
    state: AccountState | PathStart | None = None,
    rollover_balance: Decimal | int | str | Sequence[OpeningBlock] | None = None,
    reserve: Decimal | int | str | None = None,
) -> tuple[FanPoint, ...]:
    """The fan: cumulative period consumption at each UTC day end after ``at``, over paths.

    The same calibrated paths as :func:`forecast_period` with the same ``method``
    (``auto`` or ``montecarlo``), ``paths``, ``seed`` and starting state; the last
    point is the period end.
    """
    method = ForecastMethod(method)
    if method not in (ForecastMethod.AUTO, ForecastMethod.MONTECARLO):
        raise ConfigError(
            f"the fan reads Monte Carlo paths: method auto or montecarlo, not {method}"
        )
    card = card or RateCard.default()
    opening = _opening(card, tier, seats, anchor, state, rollover_balance, reserve)
    rules = HourlyRules.from_plan(opening.plan)
    cut, first, hourly = _history(log, card, opening.plan.anchor, at)
    period = period_containing(opening.plan.anchor, cut)
    start = state if isinstance(state, PathStart) else state_at(opening, card, hourly, first, cut)
    mc = _path_forecast(
        hourly, first, opening.plan.anchor, method, (), rules, cut, start, None, paths, seed
    )
    demand, interval = calibrated_paths(mc, method is ForecastMethod.AUTO)
    outcome = run_paths(rules, start, demand, record=True)
    assert outcome.served_by_hour is not None
    cumulative = start.consumed + np.cumsum(outcome.served_by_hour, axis=1)
    points = []
    for i in range(cumulative.shape[1]):
        when = cut + timedelta(hours=i + 1)
        if when == period.end:
            p10, p50, p90 = end_figures(rules, outcome.consumed, interval)
            points.append(FanPoint(at=when, p10=p10, p50=p50, p90=p90))
        elif when.hour == 0:
            q = path_quantiles(cumulative[:, i])
            points.append(
                FanPoint(at=when, p10=from_micro(q[0]), p50=from_micro(q[1]), p90=from_micro(q[2]))
            )
    return Rows(points)


def _path_forecast(
    hourly: Int64Array,
    first_hour: datetime,
    anchor: datetime,
    method: ForecastMethod,
    holidays: Sequence[date],
    rules: HourlyRules,
    cut: datetime,
    start: PathStart,
    linear: LinearProjection | None,
    paths: int,
    seed: int,
) -> PathForecast:
    """The seasonal model and the calibration at ``cut``, for ``paths`` paths from ``seed``.

    ``auto`` is calibrated as a combination
    (:func:`~codex_credits.core.forecast.combination.combined_forecast`); the
    other methods on the point rule the account's past chose.
    """
    upto = hour_count(first_hour, cut)
    period = period_containing(anchor, cut)
    model = fit_seasonal(hourly[:upto], first_hour, cut, holidays=holidays, since=period.start)
    if method is ForecastMethod.AUTO:
        combination = combined_forecast(hourly, first_hour, anchor, cut, model, holidays)
        calibration, weights = combination.calibration, combination.weights
    else:
        calibration, weights = calibrate(hourly[:upto], first_hour, anchor, cut), None
    return PathForecast(rules, period, cut, start, linear, model, paths, seed, calibration, weights)


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
