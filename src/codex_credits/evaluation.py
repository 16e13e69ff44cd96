"""Judging forecast methods on synthetic team histories with known outcomes.

Each :class:`Scenario` is a seeded synthetic history (from
:func:`codex_credits.synthetic.team_usage`) with one of the rhythms real teams
show: a weekday rhythm, two-week sprints with review-day peaks, holidays,
growth, a quiet month. :func:`evaluate` walks forward over each scenario's
periods (:func:`~codex_credits.core.forecast.backtest.backtest_series`), cutting
each period at several days, and pools the cases: the mean absolute percentage
error of a method's P50, the same error for the linear projection, and how
often the P10-P90 interval held the realised period-end consumption
(docs/forecasts.md, "How good are the forecasts").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from codex_credits.core.forecast.backtest import DEFAULT_CUT_DAYS, BacktestCase, backtest_series
from codex_credits.core.forecast.hourly import hourly_totals
from codex_credits.core.forecast.result import ForecastMethod
from codex_credits.core.periods import period_at
from codex_credits.core.ratecard import RateCard
from codex_credits.synthetic import team_usage

__all__ = ["Evaluation", "Scenario", "evaluate", "standard_scenarios"]

Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Scenario:
    """A synthetic account history: segments of :func:`team_usage` added hour by hour.

    Attributes:
        name: a readable id.
        start: the billing anchor and the first day of history (midnight UTC).
        days: length of the history.
        segments: ``(first day, days, keyword arguments of team_usage)``: each segment's
            log is drawn over the whole history (so sprint rhythms stay in phase)
            and only its days are kept; the segments' usage adds up.
        tier / seats: the account.
    """

    name: str
    start: datetime
    days: int
    segments: tuple[tuple[int, int, dict[str, Any]], ...]
    tier: str = "pro"
    seats: int = 1
    holidays: tuple[date, ...] = field(default=())

    def hourly(self, card: RateCard) -> Int64Array:
        """Micro-CCU per hour over the whole history."""
        end = self.start + timedelta(days=self.days)
        total = np.zeros(self.days * 24, dtype=np.int64)
        for first_day, days, kwargs in self.segments:
            log = team_usage(self.start, self.days, **kwargs)
            hourly = hourly_totals(log, card, self.start, end)
            lo, hi = first_day * 24, (first_day + days) * 24
            total[lo:hi] += hourly[lo:hi]
        return total


def standard_scenarios(seed: int = 0, months: int = 5) -> tuple[Scenario, ...]:
    """The five rhythms, about ``months`` months each, seeded by ``seed``."""
    start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
    days = round(months * 30.4)
    # The second-last billing month is quiet.
    quiet_from = (period_at(start, months - 2).start - start).days
    quiet_days = period_at(start, months - 2).days
    holidays = tuple(
        start.date() + timedelta(days=d) for d in (17, 45, 46, 80, days - 40, days - 20)
    )
    plain = {"sprint_days": None}
    return (
        Scenario("weekday", start, days, ((0, days, {"seed": seed, **plain}),)),
        Scenario("sprints", start, days, ((0, days, {"seed": seed + 1}),)),
        Scenario(
            "holidays",
            start,
            days,
            ((0, days, {"seed": seed + 2, "holidays": holidays}),),
        ),
        Scenario(
            "growth",
            start,
            days,
            ((0, days, {"seed": seed + 3, "growth_per_day": 0.006, "engineers": 5}),),
        ),
        Scenario(
            "quiet-month",
            start,
            days,
            (
                (0, quiet_from, {"seed": seed + 4, "engineers": 8}),
                (quiet_from, quiet_days, {"seed": seed + 5, "engineers": 3}),
                (quiet_from + quiet_days, days, {"seed": seed + 6, "engineers": 8}),
            ),
        ),
    )


@dataclass(frozen=True)
class Evaluation:
    """Pooled results of one method over many scenarios.

    Attributes:
        mape: mean absolute percentage error of the method's P50 (percent).
        linear_mape: the same for the linear projection on the same cuts.
        reduction: ``1 - mape / linear_mape``: how much of the linear error is removed.
        coverage: share of cases inside ``[P10, P90]``.
        by_scenario: ``name -> (mape, linear_mape, coverage, cases)``.
    """

    method: ForecastMethod
    cases: tuple[BacktestCase, ...]
    mape: float
    linear_mape: float
    reduction: float
    coverage: float
    by_scenario: dict[str, tuple[float, float, float, int]]


def evaluate(
    scenarios: Sequence[Scenario],
    method: ForecastMethod | str = ForecastMethod.AUTO,
    *,
    card: RateCard | None = None,
    cut_days: Sequence[int] = DEFAULT_CUT_DAYS,
    warmup_periods: int = 2,
    paths: int = 1000,
    seed: int = 0,
) -> Evaluation:
    """Backtest ``method`` (by default ``auto``, as forecasts default to) on every scenario
    and pool the cases."""
    card = card or RateCard.default()
    method = ForecastMethod(method)
    cases: list[BacktestCase] = []
    named: dict[str, list[BacktestCase]] = {}
    for scenario in scenarios:
        report = backtest_series(
            scenario.hourly(card),
            scenario.start,
            card=card,
            tier=scenario.tier,
            seats=scenario.seats,
            anchor=scenario.start,
            method=method,
            cut_days=cut_days,
            warmup_periods=warmup_periods,
            paths=paths,
            seed=seed,
            holidays=scenario.holidays,
        )
        cases.extend(report.cases)
        named.setdefault(scenario.name, []).extend(report.cases)
    by_scenario = {name: _pool(group) for name, group in named.items()}
    mape, linear, coverage, _ = _pool(cases)
    return Evaluation(
        method=method,
        cases=tuple(cases),
        mape=mape,
        linear_mape=linear,
        reduction=1.0 - mape / linear if linear > 0 else 0.0,
        coverage=coverage,
        by_scenario=by_scenario,
    )


def _pool(cases: Sequence[BacktestCase]) -> tuple[float, float, float, int]:
    return (
        float(np.mean([c.abs_pct_error for c in cases])),
        float(np.mean([c.linear_abs_pct_error for c in cases])),
        float(np.mean([c.covered for c in cases])),
        len(cases),
    )
