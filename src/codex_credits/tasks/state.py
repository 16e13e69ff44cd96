"""The account at an instant, replayed from its usage: what a dispatch decision meets.

:func:`account_state_at` replays the usage before ``at`` through
:func:`~codex_credits.core.simulate.simulate` (request mode, rate-limited work
deferred) from the billing anchor and builds the engine's
:class:`~codex_credits.core.account.AccountState` at ``at``: the period's
rollover and grant less what it consumed, the CCU served in ``at``'s hour,
the reserve, and every budget's spend this period. Work the rate limit still
holds back at ``at`` is not carried (it is reported by ``simulate``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import numpy as np

from codex_credits.core.account import AccountState, open_account
from codex_credits.core.budgets import Budget, BudgetState
from codex_credits.core.events import Refusal
from codex_credits.core.ledger import spend
from codex_credits.core.periods import period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.reserve import ReserveState
from codex_credits.core.simulate import simulate
from codex_credits.core.timeutil import epoch_us, hour_floor, require_utc
from codex_credits.core.units import ZERO, from_micro
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.errors import ConfigError

__all__ = ["account_state_at"]


def account_state_at(
    usage: UsageLog | Iterable[UsageEvent],
    tier: str,
    anchor: datetime,
    at: datetime,
    *,
    seats: int = 1,
    card: RateCard | None = None,
    rollover_balance: Decimal | None = None,
    reserve: Decimal | None = None,
    budgets: Sequence[Budget] = (),
) -> AccountState:
    """The engine state of the account at ``at``, after the usage before it.

    Raises:
        ConfigError: a bad tier, seats or anchor; ``at`` before the anchor.
    """
    card = card if card is not None else RateCard.default()
    at = require_utc(at)
    if at < anchor:
        raise ConfigError(f"at {at.isoformat()} is before the billing anchor {anchor.isoformat()}")
    log = usage if isinstance(usage, UsageLog) else UsageLog.from_events(usage)
    before = log.between(None, at)
    period = period_containing(require_utc(anchor), at)
    result = simulate(
        before,
        tier,
        seats=seats,
        card=card,
        start=anchor,
        months=period.index + 1,
        rollover_balance=rollover_balance or None,
        reserve=reserve or None,
        budgets=budgets,
    )
    statement = result.periods[period.index]
    timeline = result.timeline
    i = int(np.searchsorted(timeline.hour_us, epoch_us(period.start)))
    opening_reserve = from_micro(int(timeline.reserve[i - 1])) if i > 0 else (reserve or ZERO)
    state = open_account(
        card,
        tier,
        seats,
        anchor,
        start=period.start,
        rollover_balance=statement.rollover_in,
        reserve=opening_reserve,
        budgets=budgets,
    )
    ledger = state.ledger
    if statement.consumed:
        spent = spend(ledger, statement.consumed, at=at, allow_overage=state.plan.has_overage)
        if isinstance(spent, Refusal):  # pragma: no cover - the engine paid for it
            raise ConfigError(spent.detail)
        ledger = spent[0]
    hour = hour_floor(at)
    h = int(np.searchsorted(timeline.hour_us, epoch_us(hour)))
    served = from_micro(int(timeline.served[h])) if h < len(timeline) else ZERO
    start_reserve = from_micro(int(timeline.reserve[h - 1])) if h > 0 else opening_reserve
    level = start_reserve - max(served - state.plan.limits.limit, ZERO)
    return AccountState(
        plan=state.plan,
        period=state.period,
        hour=hour,
        as_of=at,
        served_in_hour=served,
        reserve=ReserveState(level=level),
        ledger=ledger,
        budgets=_budget_spend(state.budgets, before, result.outcomes.served, period.start),
    )


def _budget_spend(
    states: tuple[BudgetState, ...],
    log: UsageLog,
    served: np.ndarray,
    period_start: datetime,
) -> tuple[BudgetState, ...]:
    if not states:
        return states
    in_period = log.timestamps_us >= epoch_us(period_start)
    out = []
    for s in states:
        table = log.labels(s.budget.scope)
        if s.budget.value in table:
            mask = in_period & (log.column(s.budget.scope) == table.index(s.budget.value))
            spent = from_micro(int(served[mask].sum()))
        else:
            spent = ZERO
        out.append(BudgetState(budget=s.budget, spend=spent))
    return tuple(out)
