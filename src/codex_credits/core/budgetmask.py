"""A budget over a whole usage log at once: which events it scopes, in which window.

Theory of operation (docs/governance.md, "Budgets as a hierarchy"): an
array engine sees a budget as an event mask, a limit, a control and, per
event, the number of the window its spend is counted in. These two functions
are the array form of :meth:`Budget.matches <codex_credits.core.budgets.Budget.matches>`
and :class:`~codex_credits.core.budgetwindow.BudgetWindow`; property tests
hold them equal to the state machine's reading of the same budget.

* :func:`budget_mask`: True where the budget scopes the event. Usage logs
  carry no key id, so a ``key`` budget scopes nothing in a log (keys bind at
  dispatch, through :func:`codex_credits.governance.authorize`).
* :func:`budget_windows`: the window index of every event; for a billing
  budget, the billing period index from the account's anchor.
* :func:`node_spend`: what each budget served per window, from a
  simulation's per-event ``served`` column (statements per node).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from codex_credits.core.budgets import Budget
from codex_credits.core.periods import period_at, period_containing
from codex_credits.core.timeutil import epoch_us, from_epoch_us
from codex_credits.core.units import from_micro
from codex_credits.core.usage import UsageLog

__all__ = ["budget_mask", "budget_windows", "node_spend"]


def _codes(log: UsageLog, dimension: str, values: Sequence[str]) -> npt.NDArray[np.bool_]:
    table = log.labels(dimension)
    wanted = np.zeros(len(table), dtype=np.bool_)  # by label code: one lookup per event
    wanted[[table.index(v) for v in values if v in table]] = True
    mask: npt.NDArray[np.bool_] = wanted[log.column(dimension)]
    return mask


def budget_mask(log: UsageLog, budget: Budget) -> npt.NDArray[np.bool_]:
    """True for every event of ``log`` that ``budget`` scopes."""
    n = len(log)
    scope = budget.scope
    if scope == "organisation":
        return np.ones(n, dtype=np.bool_)
    if scope == "team":
        return _codes(log, "user_id", budget.members)
    if scope == "pool":
        sessions = (budget.value, *budget.members)
        return _codes(log, "session_id", sessions) | _codes(log, "parent_session_id", sessions)
    if scope == "key_id":
        return np.zeros(n, dtype=np.bool_)
    return _codes(log, scope, (budget.value,))


def budget_windows(
    budget: Budget, timestamps_us: npt.NDArray[np.int64], anchor: datetime
) -> npt.NDArray[np.int64]:
    """The number of ``budget``'s window containing each instant (microseconds since
    the epoch); ``anchor`` is the account's billing anchor, used by billing budgets."""
    window = budget.window
    length = window.length
    if length is not None:
        origin = epoch_us(window.origin)
        size = int(length.total_seconds()) * 1_000_000
        return np.floor_divide(timestamps_us - origin, size).astype(np.int64)
    origin_at = anchor if window.billing else window.origin
    out = np.empty(len(timestamps_us), dtype=np.int64)
    if not len(timestamps_us):
        return out
    # months: walk the (few) periods between the first and last instant
    period = period_containing(origin_at, from_epoch_us(int(timestamps_us.min())))
    last = int(timestamps_us.max())
    edges = [epoch_us(period.start)]
    indexes = [period.index]
    while edges[-1] <= last:
        nxt = period_at(origin_at, indexes[-1] + 1)
        indexes.append(nxt.index)
        edges.append(epoch_us(nxt.start))
    position = np.searchsorted(np.asarray(edges, dtype=np.int64), timestamps_us, side="right") - 1
    out[:] = np.asarray(indexes, dtype=np.int64)[position]
    return out


def node_spend(
    log: UsageLog,
    served_micro: npt.NDArray[np.int64],
    budgets: Sequence[Budget],
    anchor: datetime,
) -> dict[str, dict[int, Decimal]]:
    """Spend per budget and window: ``{budget name: {window index: CCU}}``.

    ``served_micro`` is a simulation's per-event ``served`` column (micro-CCU,
    aligned with ``log``); an event counts in every budget that scopes it, so a
    parent's spend includes its children's.
    """
    ts = log.timestamps_us
    result: dict[str, dict[int, Decimal]] = {}
    for budget in budgets:
        mask = budget_mask(log, budget) & (served_micro > 0)
        windows = budget_windows(budget, ts[mask], anchor)
        amounts = served_micro[mask]
        per: dict[int, Decimal] = {}
        for index in np.unique(windows).tolist():
            per[int(index)] = from_micro(int(amounts[windows == index].sum()))
        result[budget.name] = per
    return result
