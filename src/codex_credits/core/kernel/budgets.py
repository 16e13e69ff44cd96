"""Budgets as the kernel sees them: an event mask, a limit, a control, a window per hour.

Theory of operation (docs/engine.md, "Budgets" and "The kernel"): the rules of a
budget are those of :mod:`codex_credits.core.budgets`; the kernel only needs

* the **mask**: which events the budget applies to, any scope (a label, a team's
  users, a pool's sessions, the whole organisation):
  :func:`codex_credits.core.budgetmask.budget_mask`, computed once by ``prepare``;
* the **window of every hour** (:func:`budget_windows`): the billing period, or the
  budget's own day, week, sprint or month, numbered by
  :func:`codex_credits.core.budgetmask.budget_windows`. Spend, overrides and alerts
  restart when the window changes; work counts in the window of the hour in which it
  is served, and an alert names the start of its window;
* the limit (amount plus this window's overrides) and the control.

A parent changes nothing in a decision: a request counts in every budget whose mask
holds it (so a parent's spend includes its children's), and every hard stop and queue
on the way must let it through, the one leaving the least room deciding.

A :class:`BudgetBook` holds the spend, limits and alerts already raised of every
budget of one lane, as plain integers; it starts from the budget states of the
account and gives them back (:meth:`BudgetBook.states`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from codex_credits.core.budgetmask import budget_windows as window_numbers
from codex_credits.core.budgets import Budget, BudgetState, Control
from codex_credits.core.events import BudgetAlert
from codex_credits.core.statement import EPOCH
from codex_credits.core.units import from_micro, quantize_ccu, to_micro

__all__ = [
    "BudgetBook",
    "KernelBudget",
    "budget_windows",
    "kernel_budgets",
    "prefix_fired",
]

BoolArray = npt.NDArray[np.bool_]
Int64Array = npt.NDArray[np.int64]
HOUR_US = 3_600_000_000
_UNSET = -(2**62)
"""The window of a budget that has not entered one yet: the first hour resets it."""


def budget_windows(budget: Budget, start_us: int, hours: int, anchor: datetime) -> Int64Array:
    """The number of ``budget``'s window for every hour of a simulation from ``start_us``
    (the billing period's number from ``anchor`` for a billing budget)."""
    starts = start_us + np.arange(hours, dtype=np.int64) * HOUR_US
    return window_numbers(budget, starts, anchor)


@dataclass(frozen=True)
class KernelBudget:
    """A budget as the kernel sees it: mask, limit, control, window per hour, alerts."""

    budget: Budget
    mask: BoolArray
    amount: int
    windows: Int64Array

    @property
    def name(self) -> str:
        """The budget's name."""
        return self.budget.name

    @property
    def control(self) -> Control:
        """The budget's control."""
        return self.budget.control

    @property
    def alert_at(self) -> tuple[Decimal, ...]:
        """The budget's alert fractions, in increasing order."""
        return self.budget.alert_at

    @property
    def limiting(self) -> bool:
        """True when the budget refuses work (hard stop or queue)."""
        return self.control in (Control.HARD_STOP, Control.QUEUE)

    @property
    def resets(self) -> Int64Array:
        """The hours (after the first) where a window of the budget's own begins."""
        if self.budget.window.billing:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.diff(self.windows)).astype(np.int64) + 1


def kernel_budgets(
    budgets: tuple[Budget, ...],
    masks: tuple[BoolArray, ...],
    start_us: int,
    hours: int,
    anchor: datetime,
) -> tuple[KernelBudget, ...]:
    """Every budget of a simulation, as the kernel sees it (``masks``: each budget's
    :func:`~codex_credits.core.budgetmask.budget_mask` of the log)."""
    return tuple(
        KernelBudget(
            budget=b,
            mask=mask,
            amount=to_micro(b.amount),
            windows=budget_windows(b, start_us, hours, anchor),
        )
        for b, mask in zip(budgets, masks, strict=True)
    )


def prefix_fired(state: BudgetState) -> bool:
    """True when the alerts a budget state has raised are its first fractions (as every
    state the engine makes: a fraction reached means every smaller one was)."""
    fired = set(state.fired)
    return fired == set(state.budget.alert_at[: len(fired)])


@dataclass
class BudgetBook:
    """The budgets of one lane in their current window: spend, limits, alerts raised."""

    budgets: tuple[KernelBudget, ...]
    opening: Sequence[BudgetState] = ()
    """The account's budget states at the first hour (none: every budget fresh)."""
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
        self.window = [_UNSET] * n
        for b, state in enumerate(self.opening):
            kb = self.budgets[b]
            assert state.budget == kb.budget
            assert prefix_fired(state), "the kernel counts alerts fired in order"
            if kb.budget.window.billing:
                self.window[b] = int(kb.windows[0]) if len(kb.windows) else _UNSET
            elif state.window is None:
                continue  # never rolled: the first hour starts it afresh
            else:
                self.window[b] = state.window
            self.spend[b] = to_micro(state.spend)
            self.extra[b] = to_micro(state.extra)
            self.fired[b] = len(state.fired)

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

    def window_start(self, b: int, period_start: datetime) -> datetime:
        """The start of budget ``b``'s current window (``period_start`` for a billing one)."""
        window = self.budgets[b].budget.window
        return period_start if window.billing else window.bounds(self.window[b])[0]

    def states(self, hour: datetime) -> tuple[BudgetState, ...]:
        """The budget states of the account at ``hour``, the start of a new billing period
        after the last hour: billing budgets afresh, the others rolled to their window."""
        states = []
        for b, kb in enumerate(self.budgets):
            window = kb.budget.window
            if window.billing:
                states.append(BudgetState(budget=kb.budget))
                continue
            index = window.index(hour)
            if index != self.window[b]:
                states.append(BudgetState(budget=kb.budget, window=index))
                continue
            states.append(
                BudgetState(
                    budget=kb.budget,
                    spend=from_micro(self.spend[b]),
                    extra=from_micro(self.extra[b]),
                    fired=kb.alert_at[: self.fired[b]],
                    window=index,
                )
            )
        return tuple(states)

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
                        at=EPOCH + timedelta(microseconds=int(at_us[j])),
                        spend=from_micro(int(after[j])),
                        amount=from_micro(self.limit(b)),
                        period_start=self.window_start(b, period_start),
                    ),
                )
            )
            self.fired[b] += 1
        return raised
