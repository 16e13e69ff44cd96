"""Plots (matplotlib, behind the ``plot`` extra: ``pip install codex-credits[plot]``).

Each function draws on a given ``ax`` (or a new figure) and returns the axes, so
plots compose: ``ax = plot_burndown(result); plot_reserve(result, ax=ax.twinx())``.
Dates use matplotlib's concise date formatter, readable at the default size.
Amounts are converted to floats only to draw them.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from codex_credits.core.compare import TierComparison
from codex_credits.core.forecast.forecaster import FanPoint
from codex_credits.core.forecast.result import PeriodForecast
from codex_credits.core.ratecard import RateCard
from codex_credits.core.reports import Report
from codex_credits.core.statement import SimulationResult
from codex_credits.core.usage import UsageLog

__all__ = ["plot_burndown", "plot_comparison", "plot_forecast", "plot_reserve", "plot_spend"]


def _axes(ax: Any) -> Any:
    try:
        plt = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'codex-credits[plot]'") from None
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _dates(ax: Any) -> None:
    mdates = importlib.import_module("matplotlib.dates")
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def plot_burndown(
    source: SimulationResult | UsageLog,
    card: RateCard | None = None,
    pool: Decimal | None = None,
    *,
    start: datetime | None = None,
    ax: Any = None,
) -> Any:
    """What is left of the credits against time: below zero is overage.

    From a :class:`SimulationResult`: each period's rollover plus grant, less what
    the engine served hour by hour. From a usage log: ``pool`` less the priced
    events on ``card`` from ``start``.
    """
    ax = _axes(ax)
    if isinstance(source, SimulationResult):
        times, left = _result_burndown(source)
        unit = "CCU"
    else:
        if card is None or pool is None or start is None:
            raise TypeError("plot_burndown of a usage log needs card, pool and start")
        part = source.between(start)
        spent = np.cumsum(part.amounts_micro(card)) / 1_000_000
        times = [start, *(e.timestamp for e in part)]
        left = [float(pool), *(float(pool) - spent).tolist()]
        unit = card.unit
    ax.step(times, left, where="post", label="credits left")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel(unit)
    ax.set_title("Burn-down of the credits")
    ax.legend()
    _dates(ax)
    return ax


def _result_burndown(result: SimulationResult) -> tuple[list[datetime], list[float]]:
    timeline = result.timeline
    hours = [timeline.hour(i) for i in range(len(timeline))]
    served = timeline.served
    times: list[datetime] = []
    left: list[float] = []
    for period in result.periods:
        inside = [i for i, h in enumerate(hours) if period.start <= h < period.end]
        pool = float(period.rollover_in + period.granted)
        used = np.cumsum(served[inside]) / 1_000_000 if inside else np.zeros(0)
        times += [period.start, *(hours[i] for i in inside)]
        left += [pool, *(pool - used).tolist()]
    return times, left


def plot_reserve(
    source: SimulationResult | Sequence[datetime],
    levels: Sequence[Decimal] | None = None,
    cap: Decimal | None = None,
    ax: Any = None,
) -> Any:
    """The savings reserve level at the end of each hour, with its cap.

    Pass a :class:`SimulationResult` (its timeline and plan), or hours and levels.
    """
    ax = _axes(ax)
    if isinstance(source, SimulationResult):
        timeline = source.timeline
        hours = [timeline.hour(i) for i in range(len(timeline))]
        values = (timeline.reserve / 1_000_000).tolist()
        cap = source.plan.limits.reserve_cap if cap is None else cap
    else:
        if levels is None:
            raise TypeError("plot_reserve of hours needs their levels")
        hours, values = list(source), [float(v) for v in levels]
    ax.step(hours, values, where="post", label="reserve")
    if cap is not None:
        ax.axhline(float(cap), color="grey", linestyle="--", label="cap")
    ax.set_ylabel("CCU")
    ax.set_title("Savings reserve")
    ax.legend()
    _dates(ax)
    return ax


def plot_forecast(
    fan: Sequence[FanPoint] | PeriodForecast,
    forecast: PeriodForecast | Sequence[FanPoint] | None = None,
    *,
    ax: Any = None,
) -> Any:
    """The forecast fan: P10-P90 band and P50 of the period's consumption by day end.

    Pass the fan (:func:`~codex_credits.forecast_fan`), the :class:`PeriodForecast`
    of the same cut, or both (in either order). With the forecast, the credits (the
    pool), the consumption so far, the period end (where the rollover is settled,
    with the P50 rollover) and the P50 exhaustion time are marked; with the forecast
    alone the band runs straight from the cut to the period-end P10/P90.
    """
    if isinstance(fan, PeriodForecast):
        fan, forecast = (forecast if isinstance(forecast, Sequence) else ()), fan
    if isinstance(forecast, Sequence):
        raise TypeError("plot_forecast takes one fan and one PeriodForecast")
    ax = _axes(ax)
    points = [(p.at, float(p.p10), float(p.p50), float(p.p90)) for p in fan]
    if not points and forecast is not None:
        so_far = float(forecast.consumed)
        points = [
            (forecast.at, so_far, so_far, so_far),
            (forecast.period.end, float(forecast.p10), float(forecast.p50), float(forecast.p90)),
        ]
    times = [p[0] for p in points]
    ax.fill_between(
        times, [p[1] for p in points], [p[3] for p in points], alpha=0.3, label="P10-P90"
    )
    ax.plot(times, [p[2] for p in points], label="P50")
    if forecast is not None:
        ax.axhline(
            float(forecast.credits_at_period_start), color="black", linestyle="--", label="pool"
        )
        ax.plot([forecast.at], [float(forecast.consumed)], "o", color="black", label="so far")
        ax.axvline(forecast.period.end, color="grey", linestyle=":", label="period end")
        rollover = forecast.rollover.p50
        if rollover is None:
            rollover = forecast.rollover.formula.credits_to_roll_over
        ax.annotate(
            f"rollover (P50) {float(rollover):,.0f}",
            (forecast.period.end, float(forecast.credits_at_period_start)),
            textcoords="offset points",
            xytext=(-4, 4),
            ha="right",
        )
        exhausted = forecast.exhaustion.p50
        if exhausted is not None:
            ax.axvline(exhausted, color="red", linestyle="-.", label="exhausted (P50)")
    ax.set_ylabel("CCU consumed in the period")
    ax.set_title("Forecast of the billing period")
    ax.legend()
    _dates(ax)
    return ax


def plot_comparison(comparison: TierComparison, ax: Any = None) -> Any:
    """Total cost of every tier and seat count; options refusing too much are hatched."""
    ax = _axes(ax)
    options = comparison.options
    labels = [f"{o.tier} x{o.seats}" for o in options]
    bars = ax.barh(labels, [float(o.total_cost) for o in options], label="total cost")
    for bar, option in zip(bars, options, strict=True):
        if option.refused_share > comparison.tolerance:
            bar.set_hatch("//")
            bar.set_alpha(0.5)
        if comparison.recommended is not None and option.rank == comparison.recommended.rank:
            bar.set_edgecolor("black")
            bar.set_linewidth(2)
        ax.annotate(
            f"{float(option.refused_share):.0%} refused",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            textcoords="offset points",
            xytext=(3, 0),
            va="center",
            fontsize="small",
        )
    ax.invert_yaxis()
    ax.set_xlabel("USD")
    ax.set_title("Tiers by total cost (hatched: refuses more than the tolerance)")
    return ax


def plot_spend(report: Report, ax: Any = None) -> Any:
    """A bar per report row (spend by project, user, feature, ...)."""
    ax = _axes(ax)
    ax.bar([row.key for row in report.rows], [float(row.total) for row in report.rows])
    ax.set_ylabel(report.unit)
    ax.set_title(f"Spend by {report.by}")
    return ax
