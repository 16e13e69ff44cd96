"""``what_if``: the same usage, the same rules, with changes, side by side.

Theory of operation (docs/what-if.md): the changes are applied in order, each
to the log the previous one returned. Both logs (as given, and changed) are
priced on the card by :func:`~codex_credits.core.logpricing.price_log` (so
time-of-day windows, model tiers and cached context count), and both are
replayed by the public :func:`~codex_credits.core.simulate.simulate` with
the same account and options. The result holds the two simulations, what
each change modelled, and the differences per period (every statement
field), per project (demand and consumption) and per meter (demand).
With no changes the two statements are identical.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, final

import numpy as np

from codex_credits.core.account import Account, AccountState
from codex_credits.core.logpricing import LogPrices
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.simulate import simulate
from codex_credits.core.statement import STATEMENT_FIELDS, PeriodStatement, SimulationResult
from codex_credits.core.units import Ccu, from_micro
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError
from codex_credits.whatif.base import Change, Saving, Scope, replace_columns

__all__ = ["Difference", "PeriodDifference", "WhatIf", "what_if"]


@final
class Difference(Frozen):
    """One group's figure before and after: ``change = after - before``."""

    key: str
    before: Ccu
    after: Ccu
    change: Ccu


@final
class PeriodDifference(Frozen):
    """One billing period: both statements and ``after - before`` for every field."""

    before: PeriodStatement
    after: PeriodStatement
    change: dict[str, Decimal | int]


@final
@dataclass(frozen=True, eq=False, repr=False)
class WhatIf(Displayed):
    """Two replays of the same usage, before and after the changes."""

    changes: tuple[str, ...]
    savings: tuple[Saving, ...]
    before: SimulationResult
    after: SimulationResult
    periods: tuple[PeriodDifference, ...]
    totals: PeriodDifference
    by_project: tuple[Difference, ...]
    by_meter: tuple[Difference, ...]
    log_before: UsageLog
    log_after: UsageLog

    @property
    def saved_usd(self) -> Decimal:
        """Total cost before minus after (positive: the changes save money)."""
        return self.before.totals.total_cost - self.after.totals.total_cost

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "changes": list(self.changes),
            "savings": [s.model_dump() for s in self.savings],
            "periods": [_period_data(p) for p in self.periods],
            "totals": _period_data(self.totals),
            "by_project": [d.model_dump() for d in self.by_project],
            "by_meter": [d.model_dump() for d in self.by_meter],
        }


def _period_data(p: PeriodDifference) -> dict[str, Any]:
    return {
        "start": p.before.start,
        "end": p.before.end,
        "before": p.before.to_dict(),
        "after": p.after.to_dict(),
        "change": p.change,
    }


def _difference(before: PeriodStatement, after: PeriodStatement) -> PeriodDifference:
    change: dict[str, Decimal | int] = {
        name: getattr(after, name) - getattr(before, name) for name in STATEMENT_FIELDS[2:]
    }
    return PeriodDifference(before=before, after=after, change=change)


def _scope(
    account: Account | AccountState | str | None,
    card: RateCard | str | None,
    start: datetime | None,
) -> tuple[Scope, RateCard]:
    if isinstance(account, Account):
        return Scope(card=account.card, anchor=account.state.plan.anchor), account.card
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    if isinstance(account, AccountState):
        return Scope(card=rate_card, anchor=account.plan.anchor), rate_card
    if start is None:
        raise ConfigError("give start (the billing anchor) or an account")
    return Scope(card=rate_card, anchor=start), rate_card


def _as_amounts(log: UsageLog, prices: LogPrices) -> UsageLog:
    ones = np.ones(len(log), dtype=np.bool_)
    return replace_columns(log, {"ccu_micro": prices.total, "has_ccu": ones})


def _groups(
    codes: np.ndarray[Any, Any], table: tuple[str | None, ...], values: np.ndarray[Any, Any]
) -> dict[str, int]:
    sums = np.zeros(len(table), dtype=np.int64)
    np.add.at(sums, codes, values)
    return {label if label is not None else "(none)": int(sums[i]) for i, label in enumerate(table)}


def _by_project(
    before: UsageLog, after: UsageLog, b: SimulationResult, a: SimulationResult
) -> tuple[Difference, ...]:
    left = _groups(before.column("project_id"), before.labels("project_id"), b.outcomes.served)
    right = _groups(after.column("project_id"), after.labels("project_id"), a.outcomes.served)
    keys = sorted(k for k in {*left, *right} if left.get(k, 0) or right.get(k, 0))
    return tuple(_diff(k, left.get(k, 0), right.get(k, 0)) for k in keys)


def _diff(key: str, before: int, after: int) -> Difference:
    return Difference(
        key=key,
        before=from_micro(before),
        after=from_micro(after),
        change=from_micro(after - before),
    )


def what_if(
    usage: UsageLog | Iterable[UsageEvent],
    account: Account | AccountState | str | None = "pro",
    changes: Sequence[Change] = (),
    *,
    seats: int = 1,
    card: RateCard | str | None = None,
    start: datetime | None = None,
    months: int = 1,
    **engine: Any,
) -> WhatIf:
    """Replay ``usage`` as it is and with ``changes`` applied; compare the statements.

    Args:
        usage: the usage to replay.
        account: as for :func:`~codex_credits.core.simulate.simulate` (a tier
            name, an :class:`Account` or an :class:`AccountState`).
        changes: what-if transformations, applied in order.
        seats: seats (with a tier name).
        card: the rate card (with a tier name or an account state).
        start: the billing anchor (with a tier name).
        months: billing periods to replay.
        **engine: further options of ``simulate`` (``on_rate_limit``,
            ``mode``, ``budgets``, ``rollover_balance``, ``reserve``...).

    Raises:
        ConfigError: bad account, card, change or options.
    """
    scope, rate_card = _scope(account, card, start)
    log = usage if isinstance(usage, UsageLog) else UsageLog.from_events(usage)
    changed = log
    savings: list[Saving] = []
    for change in changes:
        applied = change.apply(changed, scope)
        changed = applied.log
        savings.append(applied.saving)
    prices_before = scope.prices(log)
    prices_after = scope.prices(changed)
    options: dict[str, Any] = {"seats": seats, "start": start, "months": months, **engine}
    if not isinstance(account, Account):
        options["card"] = rate_card
    before = simulate(_as_amounts(log, prices_before), account, **options)
    after = (
        before
        if changed is log
        else simulate(_as_amounts(changed, prices_after), account, **options)
    )
    periods = tuple(_difference(b, a) for b, a in zip(before.periods, after.periods, strict=True))
    meters_before, meters_after = prices_before.sums(), prices_after.sums()
    by_meter = tuple(
        _diff(name, meters_before[name], meters_after[name])
        for name in meters_before
        if meters_before[name] or meters_after[name]
    )
    return WhatIf(
        changes=tuple(c.describe() for c in changes),
        savings=tuple(savings),
        before=before,
        after=after,
        periods=periods,
        totals=_difference(before.totals, after.totals),
        by_project=_by_project(log, changed, before, after),
        by_meter=by_meter,
        log_before=log,
        log_after=changed,
    )
