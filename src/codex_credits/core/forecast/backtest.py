"""Walk-forward backtests: how a forecast method would have done on past periods.

Theory of operation (docs/forecasts.md, "Which method to trust"). For every
complete billing period after ``warmup_periods``, and for each cut ``cut_days``
into it, :func:`backtest` forecasts the period from the usage before the cut
only, then compares with what the period really consumed (the credit engine's
statement of the period, replayed from the whole history). It reports the
mean absolute percentage error of the P50, its bias (mean signed error), the
share of periods whose real consumption fell inside the P10-P90 interval (an
honest 80% interval covers about 80%), the pinball loss of P10, P50 and P90,
and the error of two baselines on the same cuts (the seed's linear projection
and "consumed so far plus the trailing 28-day run rate for the rest"), so a
user can see which method to trust on their own data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import final

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import open_account
from codex_credits.core.events import Mode
from codex_credits.core.forecast.forecaster import forecast_series
from codex_credits.core.forecast.hourly import day_floor, hour_count, hourly_totals
from codex_credits.core.forecast.result import ForecastMethod
from codex_credits.core.forecast.state import hourly_log, states_at
from codex_credits.core.model import Frozen
from codex_credits.core.periods import check_anchor, period_at
from codex_credits.core.ratecard import RateCard
from codex_credits.core.simulate import simulate
from codex_credits.core.timeutil import HOUR, UtcDatetime, hour_floor
from codex_credits.core.units import ZERO, Ccu, from_micro, quantize_ccu
from codex_credits.core.usage import UsageLog
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError

__all__ = [
    "DEFAULT_CUT_DAYS",
    "BacktestCase",
    "BacktestReport",
    "backtest",
    "backtest_series",
    "pinball_loss",
]

Int64Array = npt.NDArray[np.int64]

DEFAULT_CUT_DAYS: tuple[int, ...] = (3, 7, 10, 14, 18, 21, 25)
"""Days into each period at which the forecasts are cut."""


@final
class BacktestCase(Frozen):
    """One forecast compared with what happened."""

    period_index: int
    at: UtcDatetime
    realised: Ccu
    p10: Ccu
    p50: Ccu
    p90: Ccu
    linear: Ccu
    run_rate: Ccu
    abs_pct_error: float
    linear_abs_pct_error: float
    run_rate_abs_pct_error: float
    covered: bool


@final
class BacktestReport(Displayed, Frozen):
    """A method's record over past periods.

    Attributes:
        mape: mean absolute percentage error of the P50, in percent.
        coverage: share of cases whose realised consumption lay in ``[P10, P90]``.
        bias: mean signed percentage error of the P50 (positive: too high).
        pinball: mean pinball loss of P10, P50 and P90 at levels 0.1, 0.5 and
            0.9, each as a percentage of the realised consumption (lower is
            better; it rewards a narrow interval only where it holds).
        linear_mape: the same error for the linear projection on the same cuts.
        run_rate_mape: the same for consumed so far plus the 28-day run rate.
    """

    method: ForecastMethod
    cases: tuple[BacktestCase, ...]
    mape: float
    coverage: float
    bias: float
    pinball: float
    linear_mape: float
    run_rate_mape: float


def backtest(
    history: UsageLog,
    *,
    tier: str,
    anchor: datetime,
    seats: int = 1,
    card: RateCard | None = None,
    method: ForecastMethod | str = ForecastMethod.AUTO,
    cut_days: Sequence[int] = DEFAULT_CUT_DAYS,
    warmup_periods: int = 1,
    paths: int = 1000,
    seed: int = 0,
    holidays: Sequence[date] = (),
) -> BacktestReport:
    """Walk forward over the complete periods of ``history``.

    Args:
        history: the account's usage.
        tier / seats / card / anchor: the account.
        method: the method to judge.
        cut_days: days into each period at which to cut.
        warmup_periods: leading periods used only as history.
        paths / seed: Monte Carlo sample per forecast.
        holidays: known holidays, passed to the forecaster.

    Raises:
        ConfigError: when the history holds no complete period after the warm-up.
    """
    card = card or RateCard.default()
    anchor = check_anchor(anchor)
    if not len(history):
        raise ConfigError("the history is empty: nothing to backtest")
    first = min(day_floor(history.start), anchor)
    last = hour_floor(history.end) + HOUR
    hourly = hourly_totals(history, card, first, last)
    return backtest_series(
        hourly,
        first,
        card=card,
        tier=tier,
        seats=seats,
        anchor=anchor,
        method=method,
        cut_days=cut_days,
        warmup_periods=warmup_periods,
        paths=paths,
        seed=seed,
        holidays=holidays,
    )


def backtest_series(
    hourly: Int64Array,
    first: datetime,
    *,
    card: RateCard,
    tier: str,
    anchor: datetime,
    seats: int = 1,
    method: ForecastMethod | str = ForecastMethod.AUTO,
    cut_days: Sequence[int] = DEFAULT_CUT_DAYS,
    warmup_periods: int = 1,
    paths: int = 1000,
    seed: int = 0,
    holidays: Sequence[date] = (),
) -> BacktestReport:
    """:func:`backtest` on an hourly series (micro-CCU per hour from ``first``).

    The credit engine replays the whole history once: its statements give what
    each period really consumed, and its states at the cuts start the forecasts.
    """
    method = ForecastMethod(method)
    opening = open_account(card, tier, seats, check_anchor(anchor))
    anchor = opening.plan.anchor
    last = first + HOUR * len(hourly)
    periods = []
    index = warmup_periods
    while (period := period_at(anchor, index)).end <= last:
        periods.append(period)
        index += 1
    if not periods:
        raise ConfigError(
            f"the history holds no complete billing period after {warmup_periods} warm-up "
            "period(s); give more history or fewer warm-up periods"
        )
    history = hourly_log(hourly, first, anchor, periods[-1].end)
    replayed = simulate(history, opening, card=card, months=index, mode=Mode.FLUID)
    cuts = [
        (period, period.start + timedelta(days=day))
        for period in periods
        for day in cut_days
        if period.start + timedelta(days=day) < period.end
    ]
    states = states_at(opening, card, hourly, first, [at for _, at in cuts])
    cases: list[BacktestCase] = []
    for (period, at), state in zip(cuts, states, strict=True):
        realised = replayed.periods[period.index].consumed
        upto = hour_count(first, at)
        result = forecast_series(
            hourly[:upto],
            first,
            opening=opening,
            card=card,
            at=at,
            method=method,
            paths=paths,
            seed=seed + len(cases),
            holidays=holidays,
            state=state,
        )
        linear = result.linear_projection.projected if result.linear_projection else realised
        rate = _run_rate(hourly, upto, result.period.end - at)
        cases.append(
            BacktestCase(
                period_index=period.index,
                at=at,
                realised=realised,
                p10=result.p10,
                p50=result.p50,
                p90=result.p90,
                linear=linear,
                run_rate=result.consumed + rate,
                abs_pct_error=_ape(float(result.p50), float(realised)),
                linear_abs_pct_error=_ape(float(linear), float(realised)),
                run_rate_abs_pct_error=_ape(float(result.consumed + rate), float(realised)),
                covered=result.p10 <= realised <= result.p90,
            )
        )
    if not cases:
        raise ConfigError("no cut falls inside a complete billing period: check cut_days")
    return BacktestReport(
        method=method,
        cases=tuple(cases),
        mape=float(np.mean([c.abs_pct_error for c in cases])),
        coverage=float(np.mean([c.covered for c in cases])),
        bias=float(np.mean([_pe(float(c.p50), float(c.realised)) for c in cases])),
        pinball=float(np.mean([pinball_loss(c) for c in cases])),
        linear_mape=float(np.mean([c.linear_abs_pct_error for c in cases])),
        run_rate_mape=float(np.mean([c.run_rate_abs_pct_error for c in cases])),
    )


def pinball_loss(case: BacktestCase) -> float:
    """Mean pinball loss of a case's P10, P50 and P90, in percent of the realised amount.

    The pinball loss of a quantile forecast ``q`` at level ``a`` for outcome ``y``
    is ``a (y - q)`` when ``y >= q`` and ``(1 - a)(q - y)`` otherwise.
    """
    y = float(case.realised)
    if y <= 0:
        return 0.0
    total = 0.0
    for level, q in ((0.1, case.p10), (0.5, case.p50), (0.9, case.p90)):
        diff = y - float(q)
        total += max(level * diff, (level - 1) * diff)
    return total / 3 / y * 100.0


def _run_rate(hourly: Int64Array, upto: int, left: timedelta) -> Decimal:
    """The trailing 28 days' usage per day times the days left (CCU)."""
    lo = max(0, upto - 28 * 24)
    days = Decimal(upto - lo) / 24
    if days <= 0:
        return ZERO
    per_day = from_micro(int(hourly[lo:upto].sum())) / days
    return quantize_ccu(per_day * Decimal(left / timedelta(hours=1)) / 24)


def _pe(forecast: float, actual: float) -> float:
    return 0.0 if actual == 0 else (forecast - actual) / actual * 100.0


def _ape(forecast: float, actual: float) -> float:
    if actual == 0:
        return 0.0 if forecast == 0 else 100.0
    return abs(forecast - actual) / actual * 100.0
