"""The prepared input of a replay: the usage log cut into UTC hours and periods.

A :class:`Setup` holds what both ways of running a simulation read (the
reference processor of :mod:`codex_credits.core.replay` and the kernel of
:mod:`codex_credits.core.kernel`): the account, the log and every event's
amount in micro-CCU, the periods the simulation covers and, for each UTC hour
from the first period's start, the events that fall in it
(:func:`hour_bounds`). It is built once per simulation by
:mod:`codex_credits.core.simulate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import AccountState, Plan
from codex_credits.core.budgets import Budget, Override
from codex_credits.core.events import REQUEST_LABELS, Mode, Policy
from codex_credits.core.periods import BillingPeriod, period_at
from codex_credits.core.ratecard import RateCard
from codex_credits.core.usage import UsageLog
from codex_credits.core.usageevent import DIMENSIONS

__all__ = ["HOUR_US", "Setup", "hour_bounds", "periods_between"]

HOUR_US = 3_600_000_000
LABEL_DIMENSIONS = tuple(name for name in REQUEST_LABELS if name in DIMENSIONS)
"""The request labels a usage log carries (a key id is known only at dispatch)."""


@dataclass
class Setup:
    """Everything both processors need, prepared once."""

    card: RateCard
    state: AccountState
    log: UsageLog
    amounts: npt.NDArray[np.int64]
    sandbox: npt.NDArray[np.int64] | None
    mode: Mode
    policy: Policy
    budgets: tuple[Budget, ...]
    overrides: tuple[Override, ...]
    periods: tuple[BillingPeriod, ...]
    start_us: int
    hours: int
    lo: npt.NDArray[np.int64]
    hi: npt.NDArray[np.int64]
    period_first_hour: tuple[int, ...]
    override_hours: tuple[int, ...]
    matches: tuple[npt.NDArray[np.bool_], ...]

    @property
    def plan(self) -> Plan:
        """The account's terms."""
        return self.state.plan

    @property
    def start(self) -> datetime:
        """The first hour."""
        return self.periods[0].start

    def hour_start(self, h: int) -> datetime:
        """The start of hour ``h``."""
        return self.start + timedelta(hours=h)

    def labels(self) -> dict[str, list[str | None]]:
        """Every event's budget labels (only needed when there are budgets)."""
        return {dim: self.log.dimension_values(dim) for dim in LABEL_DIMENSIONS}


def hour_bounds(
    ts: npt.NDArray[np.int64], start_us: int, hours: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``(lo, hi)``: the events of hour ``h`` are ``lo[h]..hi[h]`` (a sorted log)."""
    edges = start_us + np.arange(hours + 1, dtype=np.int64) * HOUR_US
    cut = np.searchsorted(ts, edges, side="left").astype(np.int64)
    return cut[:-1], cut[1:]


def periods_between(
    first: BillingPeriod, months: int, anchor: datetime
) -> tuple[BillingPeriod, ...]:
    """``months`` consecutive periods from ``first``."""
    return tuple(period_at(anchor, first.index + j) for j in range(months))
