"""Spend per node of a budget hierarchy: the statement of an account's budgets.

:func:`budget_statement` reads an :class:`~codex_credits.core.account.AccountState`
(advance it to the instant of interest first): one :class:`NodeStatement` per
budget, with its parent, its current window, spend, limit (amount plus
overrides) and room. A node's spend includes every request it scopes, so a
parent's spend includes its children's (docs/governance.md).
"""

from __future__ import annotations

from typing import final

from codex_credits.core.account import AccountState
from codex_credits.core.budgets import Control
from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import Ccu
from codex_credits.display import Rows

__all__ = ["NodeStatement", "budget_statement"]


@final
class NodeStatement(Frozen):
    """One budget in its current window."""

    name: str
    parent: str | None
    scope: str
    value: str
    control: Control
    window_start: UtcDatetime
    window_end: UtcDatetime
    spend: Ccu
    limit: Ccu
    room: Ccu


def budget_statement(state: AccountState) -> tuple[NodeStatement, ...]:
    """Every budget of ``state`` with its spend in its current window, in budget order."""
    rows = []
    for s in state.budgets:
        window = s.budget.window
        if window.billing or s.window is None:
            start, end = state.period.start, state.period.end
        else:
            start, end = window.bounds(s.window)
        rows.append(
            NodeStatement(
                name=s.budget.name,
                parent=s.budget.parent,
                scope=s.budget.scope,
                value=s.budget.value,
                control=s.budget.control,
                window_start=start,
                window_end=end,
                spend=s.spend,
                limit=s.limit,
                room=s.room,
            )
        )
    return Rows(rows)
