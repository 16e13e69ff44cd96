"""Budgets as the kernel sees them: an event mask, a limit, a control, a window per hour.

Theory of operation (docs/engine.md, "Budgets" and "The kernel"): the rules of a
budget are those of :mod:`codex_credits.core.budgets`; the kernel only needs

* :func:`budget_mask`: which events the budget applies to (today one label equal to
  the budget's value);
* :func:`budget_windows`: the budget's reset window of every hour (today the billing
  period: spend, overrides and alerts restart when the window changes). Work counts
  in the window of the hour in which it is served;
* the limit (amount plus this window's overrides) and the control.

A :class:`BudgetBook` holds the spend, limits and alerts already raised of every
budget of one lane, as plain integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from codex_credits.core.budgets import Budget, Control
from codex_credits.core.events import BudgetAlert
from codex_credits.core.units import from_micro, quantize_ccu, to_micro
from codex_credits.core.usage import UsageLog

__all__ = ["BudgetBook", "KernelBudget", "budget_mask", "budget_windows", "kernel_budgets"]

BoolArray = npt.NDArray[np.bool_]
Int64Array = npt.NDArray[np.int64]


def budget_mask(log: UsageLog, budget: Budget) -> BoolArray:
    """Which events of ``log`` ``budget`` applies to (its scope's label equals its value)."""
    table = log.labels(budget.scope)
    if budget.value not in table:
        return np.zeros(len(log), dtype=np.bool_)
    return np.asarray(log.column(budget.scope) == table.index(budget.value))


def budget_windows(budget: Budget, period_first_hour: tuple[int, ...], hours: int) -> Int64Array:
    """The reset window of every hour of a simulation: today, its billing period."""
    window = np.zeros(hours, dtype=np.int64)
    for first in period_first_hour[1:]:
        window[first:] += 1
    return window


@dataclass(frozen=True)
class KernelBudget:
    """A budget as the kernel sees it: mask, limit, control, window per hour, alerts."""

    name: str
    mask: BoolArray
    amount: int
    control: Control
    windows: Int64Array
    alert_at: tuple[Decimal, ...]

    @property
    def limiting(self) -> bool:
        """True when the budget refuses work (hard stop or queue)."""
        return self.control in (Control.HARD_STOP, Control.QUEUE)


def kernel_budgets(
    log: UsageLog, budgets: tuple[Budget, ...], period_first_hour: tuple[int, ...], hours: int
) -> tuple[KernelBudget, ...]:
    """Every budget of a simulation, as the kernel sees it."""
    return tuple(
        KernelBudget(
            name=b.name,
            mask=budget_mask(log, b),
            amount=to_micro(b.amount),
            control=b.control,
            windows=budget_windows(b, period_first_hour, hours),
            alert_at=b.alert_at,
        )
        for b in budgets
    )


@dataclass
class BudgetBook:
    """The budgets of one lane in their current window: spend, limits, alerts raised."""

    budgets: tuple[KernelBudget, ...]
    spend: list[int] = field(init=False)
    extra: list[int] = field(init=False)
    fired: list[int] = field(init=False)
    """How many of each budget's ``alert_at`` fractions have fired (they fire in order)."""
    window: list[int] = field(init=False)
    alerts: list[BudgetAlert] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._thresholds: dict[tuple[int, int, int], int] = {}
        n = len(self.budgets)
        self.spend, self.extra, self.fired = [0] * n, [0] * n, [0] * n
        self.window = [0] * n

    def limit(self, b: int) -> int:
        """The amount plus this window's overrides."""
        return self.budgets[b].amount + self.extra[b]

    def room(self, b: int) -> int:
        """What may still be spent in this window."""
        return max(self.limit(b) - self.spend[b], 0)

    def threshold(self, b: int, k: int) -> int:
        """The spend at which fraction ``k`` of budget ``b`` alerts."""
        fraction = self.budgets[b].alert_at[k]
        return to_micro(quantize_ccu(fraction * from_micro(self.limit(b))))

    def next_threshold(self, b: int) -> int | None:
        """The spend at which budget ``b``'s next alert fires (None: all fired)."""
        k = self.fired[b]
        if k >= len(self.budgets[b].alert_at):
            return None
        key = (b, k, self.extra[b])
        found = self._thresholds.get(key)
        if found is None:
            found = self._thresholds[key] = self.threshold(b, k)
        return found

    def enter_hour(self, h: int) -> None:
        """Start hour ``h``: a budget whose window changes starts afresh."""
        for b, budget in enumerate(self.budgets):
            w = int(budget.windows[h])
            if w != self.window[b]:
                self.window[b] = w
                self.spend[b] = self.extra[b] = self.fired[b] = 0

    def raise_limit(self, b: int, micro: int) -> None:
        """An override: raise budget ``b`` for the rest of its window."""
        self.extra[b] += micro

    def record(
        self, b: int, served: Int64Array, at_us: Int64Array, period_start: datetime
    ) -> list[tuple[int, int, BudgetAlert]]:
        """Add the matching served pieces (in serve order) to budget ``b``'s spend.

        Returns the alerts raised, each with the position of the piece that raised it
        (an index into ``served``) and the budget index, for ordering.
        """
        raised: list[tuple[int, int, BudgetAlert]] = []
        start = self.spend[b]
        if not len(served):
            return raised
        t = self.next_threshold(b)
        if t is None or start + int(served.sum()) < t:
            self.spend[b] = start + int(served.sum())
            return raised
        after = start + np.cumsum(served)
        self.spend[b] = int(after[-1])
        budget = self.budgets[b]
        while self.fired[b] < len(budget.alert_at):
            t = self.threshold(b, self.fired[b])
            if start >= t:  # reached before (a raise lowered nothing: alerts never refire)
                j = 0
            else:
                j = int(np.searchsorted(after, t, side="left"))
                if j >= len(after):
                    break
            raised.append(
                (
                    j,
                    b,
                    BudgetAlert(
                        budget=budget.name,
                        threshold=budget.alert_at[self.fired[b]],
                        at=_dt(int(at_us[j])),
                        spend=from_micro(int(after[j])),
                        amount=from_micro(self.limit(b)),
                        period_start=period_start,
                    ),
                )
            )
            self.fired[b] += 1
        return raised


def _dt(us: int) -> datetime:
    from datetime import timedelta

    from codex_credits.core.statement import EPOCH

    return EPOCH + timedelta(microseconds=us)
