"""Plots (matplotlib, behind the ``plot`` extra: ``pip install codex-credits[plot]``).

Each function draws on a given ``ax`` (or a new figure) and returns the axes.
Amounts are converted to floats only to draw them.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from codex_credits.core.ratecard import RateCard
from codex_credits.core.reports import Report
from codex_credits.core.usage import UsageLog

__all__ = ["plot_burndown", "plot_reserve", "plot_spend"]


def _axes(ax: Any) -> Any:
    try:
        plt = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'codex-credits[plot]'") from None
    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_burndown(
    log: UsageLog, card: RateCard, pool: Decimal, *, start: datetime, ax: Any = None
) -> Any:
    """What is left of ``pool`` after each event from ``start``, against time."""
    ax = _axes(ax)
    part = log.between(start)
    spent = np.cumsum(part.amounts_micro(card)) / 1_000_000
    times = [start, *(e.timestamp for e in part)]
    left = [float(pool), *(float(pool) - spent).tolist()]
    ax.step(times, left, where="post", label="left in pool")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel(card.unit)
    ax.set_title("Burn-down against the pool")
    ax.legend()
    return ax


def plot_reserve(
    hours: Sequence[datetime], levels: Sequence[Decimal], cap: Decimal | None = None, ax: Any = None
) -> Any:
    """The savings reserve level at the end of each hour (e.g. from a simulation)."""
    ax = _axes(ax)
    ax.step(list(hours), [float(v) for v in levels], where="post", label="reserve")
    if cap is not None:
        ax.axhline(float(cap), color="grey", linestyle="--", label="cap")
    ax.set_title("Savings reserve")
    ax.legend()
    return ax


def plot_spend(report: Report, ax: Any = None) -> Any:
    """A bar per report row (spend by project, user, feature, ...)."""
    ax = _axes(ax)
    ax.bar([row.key for row in report.rows], [float(row.total) for row in report.rows])
    ax.set_ylabel(report.unit)
    ax.set_title(f"Spend by {report.by}")
    return ax
