"""Organisation sweeps: every account (and every tier and seat count) as lanes.

Theory of operation (docs/engine.md, "Organisation sweeps"): usage events carry an
optional ``account_id``. :func:`simulate_many` cuts the log by account and runs
each account's plan as one lane of the kernel, with the rules of
:func:`~codex_credits.core.simulate.simulate` (same statements, figure for figure);
:func:`compare_tiers_many` runs every tier and seat count of every account, as
:func:`~codex_credits.core.compare.compare_tiers` does for one, and recommends a
plan per account. Both return one tidy table: a row per account, option and
billing period (:meth:`SweepResult.table`, :meth:`SweepResult.to_pandas`).

>>> from datetime import datetime, UTC
>>> from decimal import Decimal
>>> from codex_credits.core.usage import UsageEvent
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> log = [UsageEvent(timestamp=start, ccu=Decimal(120), account_id="a"),
...        UsageEvent(timestamp=start, ccu=Decimal(30), account_id="b")]
>>> sweep = simulate_many(log, {"a": "pro", "b": "plus"}, start=start)
>>> [(r["account_id"], r["tier"], r["consumed"]) for r in sweep.table()]
[('a', 'pro', Decimal('120.000000')), ('b', 'plus', Decimal('30.000000'))]
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, final

import numpy as np
from pydantic import Field

from codex_credits.core.budgets import Budget
from codex_credits.core.compare import (
    TierComparison,
    TierOption,
    check_tolerance,
    compare_prepared,
    tier_candidates,
)
from codex_credits.core.events import Mode, Policy
from codex_credits.core.kernel.simulation import lane_input, lane_statements
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.simulate import prepare
from codex_credits.core.statement import STATEMENT_FIELDS, PeriodStatement
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import ZERO, Ccu
from codex_credits.core.usage import DIMENSIONS, UsageEvent, UsageLog
from codex_credits.errors import ConfigError

__all__ = [
    "AccountPlan",
    "AccountStatement",
    "SweepResult",
    "compare_tiers_many",
    "simulate_many",
    "split_by_account",
]

_LABELLED = (*DIMENSIONS, "sandbox_class")

ROW_FIELDS: tuple[str, ...] = ("account_id", "tier", "seats", "period", *STATEMENT_FIELDS)
"""The columns of :meth:`SweepResult.table`, in order."""


@final
class AccountPlan(Frozen):
    """One account of a sweep: its tier, seats, billing anchor and opening credit."""

    account_id: str
    tier: str = "pro"
    seats: int = Field(default=1, ge=1)
    anchor: UtcDatetime | None = Field(default=None, description="default: the sweep's start")
    rollover_balance: Ccu | None = None
    reserve: Ccu | None = None


@final
class AccountStatement(Frozen):
    """One billing period of one account on one plan."""

    account_id: str
    tier: str
    seats: int
    period: int = Field(ge=0, description="0 for the first simulated period")
    statement: PeriodStatement

    def row(self) -> dict[str, Any]:
        """The statement as one row of the tidy table (:data:`ROW_FIELDS`)."""
        return {
            "account_id": self.account_id,
            "tier": self.tier,
            "seats": self.seats,
            "period": self.period,
            **self.statement.to_dict(),
        }


@dataclass(frozen=True)
class SweepResult:
    """Statements of every account (and option), and a recommended plan per account."""

    statements: tuple[AccountStatement, ...]
    comparisons: Mapping[str, TierComparison] = field(default_factory=dict)
    """Per account, every option ranked (:func:`compare_tiers_many` only)."""

    @property
    def recommended(self) -> dict[str, TierOption | None]:
        """The recommended option of every compared account (None: none within tolerance)."""
        return {account: c.recommended for account, c in self.comparisons.items()}

    def table(self) -> list[dict[str, Any]]:
        """One row per account, option and period (Decimals and datetimes as is)."""
        return [s.row() for s in self.statements]

    def totals(
        self, account_id: str, tier: str | None = None, seats: int | None = None
    ) -> PeriodStatement:
        """The sum of one account's periods (on one option, when several were run).

        Raises:
            KeyError: no such account or option.
        """
        periods = tuple(
            s.statement
            for s in self.statements
            if s.account_id == account_id
            and (tier is None or s.tier == tier)
            and (seats is None or s.seats == seats)
        )
        if not periods:
            raise KeyError(f"no statements for account {account_id!r}")
        return PeriodStatement.total(periods)

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame (needs the ``pandas`` extra)."""
        pandas = importlib.import_module("pandas")
        return pandas.DataFrame(self.table(), columns=list(ROW_FIELDS))


def split_by_account(log: UsageLog) -> dict[str, UsageLog]:
    """The events of every ``account_id`` (in time order); unlabelled events are left out.

    The log is reordered by account once; each account's log is a slice of it.
    """
    codes = log.column("account_id")
    table = log.labels("account_id")
    order = np.argsort(codes, kind="stable")
    ordered = log.take(order)
    sorted_codes = codes[order]
    present = np.unique(sorted_codes)
    bounds = np.searchsorted(
        sorted_codes, np.concatenate((present, [present[-1] + 1])) if len(present) else present
    )
    columns = ordered._columns  # the same columns, sliced: no copy per account
    labels = {name: ordered.labels(name) for name in columns if name in _LABELLED}
    found: dict[str, UsageLog] = {}
    for j, code in enumerate(present.tolist()):
        name = table[code]
        if name is None:
            continue
        lo, hi = int(bounds[j]), int(bounds[j + 1])
        found[name] = UsageLog({k: v[lo:hi] for k, v in columns.items()}, labels)
    return found


def _plans(
    accounts: Mapping[str, str | AccountPlan] | Sequence[str | AccountPlan] | None,
    logs: dict[str, UsageLog],
) -> list[AccountPlan]:
    if accounts is None:
        return [AccountPlan(account_id=a) for a in sorted(logs)]
    items: Iterable[tuple[str | None, str | AccountPlan]]
    items = accounts.items() if isinstance(accounts, Mapping) else ((None, a) for a in accounts)
    plans = []
    for key, value in items:
        if isinstance(value, AccountPlan):
            if key is not None and key != value.account_id:
                raise ConfigError(f"account {key!r} maps to a plan for {value.account_id!r}")
            plans.append(value)
        elif key is None:
            plans.append(AccountPlan(account_id=value))
        else:
            plans.append(AccountPlan(account_id=key, tier=value))
    names = [p.account_id for p in plans]
    if len(set(names)) != len(names):
        raise ConfigError("each account may appear once in a sweep")
    return plans


def simulate_many(
    usage: UsageLog | Iterable[UsageEvent],
    accounts: Mapping[str, str | AccountPlan] | Sequence[str | AccountPlan] | None = None,
    *,
    start: datetime,
    months: int = 1,
    card: RateCard | str | None = None,
    mode: Mode | str = Mode.REQUEST,
    on_rate_limit: Policy | str = Policy.DEFER,
    budgets: Sequence[Budget] = (),
) -> SweepResult:
    """Simulate every account of an organisation on its own plan.

    Each account's statements equal those of
    ``simulate(<its events>, plan.tier, seats=plan.seats, start=plan.anchor or start, ...)``.

    Args:
        usage: events labelled with ``account_id`` (unlabelled events are ignored).
        accounts: ``{account_id: tier}``, ``{account_id: AccountPlan}``, a sequence of
            plans or account ids (on pro), or None for every account in the usage on pro.
        start: the billing anchor of plans without their own.
        months: billing periods to simulate.
        card: the rate card (default: the built-in CCU card).
        mode: request or fluid.
        on_rate_limit: defer or drop.
        budgets: budgets applied within every account.

    Raises:
        ConfigError: a bad plan, tier, seat count, anchor or months.
    """
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    log = usage if isinstance(usage, UsageLog) else UsageLog.from_events(usage)
    logs = split_by_account(log)
    statements: list[AccountStatement] = []
    for plan in _plans(accounts, logs):
        setup = prepare(
            logs.get(plan.account_id, UsageLog.empty()),
            plan.tier,
            seats=plan.seats,
            card=rate_card,
            start=plan.anchor or start,
            months=months,
            mode=mode,
            on_rate_limit=on_rate_limit,
            budgets=budgets,
            rollover_balance=plan.rollover_balance,
            reserve=plan.reserve,
        )
        periods = lane_statements(setup, lane_input(setup), setup.state)
        statements += _rows(plan.account_id, plan.tier, plan.seats, periods)
    return SweepResult(statements=tuple(statements))


def compare_tiers_many(
    usage: UsageLog | Iterable[UsageEvent],
    accounts: Sequence[str] | None = None,
    *,
    start: datetime,
    months: int = 1,
    card: RateCard | str | None = None,
    max_seats: int = 3,
    tolerance: Decimal | int | str = ZERO,
    tiers: Sequence[str] | None = None,
    mode: Mode | str = Mode.REQUEST,
    on_rate_limit: Policy | str = Policy.DEFER,
    budgets: Sequence[Budget] = (),
) -> SweepResult:
    """Every tier and seat count for every account, ranked, with a plan per account.

    Each account's comparison equals ``compare_tiers(<its events>, ...)``; the
    statements of every option are in the table, and
    :attr:`SweepResult.recommended` holds each account's recommended option.

    Args:
        usage: events labelled with ``account_id`` (unlabelled events are ignored).
        accounts: the accounts to compare (default: every account in the usage).
        start: the billing anchor.
        months: billing periods to replay.
        card: the rate card (default: the built-in CCU card).
        max_seats: the most seats to try (each tier's own maximum also applies).
        tolerance: the largest refused share of demand (0 to 1) a recommendation may have.
        tiers: the tiers to try (default: every tier of the card).
        mode: request or fluid.
        on_rate_limit: defer or drop.
        budgets: budgets applied in every replay.

    Raises:
        ConfigError: a bad tolerance, seat limit, tier or months.
    """
    tolerance = check_tolerance(tolerance)
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    candidates = tier_candidates(rate_card, max_seats, tiers)
    log = usage if isinstance(usage, UsageLog) else UsageLog.from_events(usage)
    logs = split_by_account(log)
    names = sorted(logs) if accounts is None else list(accounts)
    statements: list[AccountStatement] = []
    comparisons: dict[str, TierComparison] = {}
    _, first_tier, first_seats = candidates[0]
    for name in names:
        setup = prepare(
            logs.get(name, UsageLog.empty()),
            first_tier,
            seats=first_seats,
            card=rate_card,
            start=start,
            months=months,
            mode=mode,
            on_rate_limit=on_rate_limit,
            budgets=budgets,
        )
        per_option: dict[tuple[str, int], tuple[PeriodStatement, ...]] = {}
        comparisons[name] = compare_prepared(setup, candidates, tolerance, per_option)
        for (tier, seats), periods in per_option.items():
            statements += _rows(name, tier, seats, periods)
    return SweepResult(statements=tuple(statements), comparisons=comparisons)


def _rows(
    account: str, tier: str, seats: int, periods: tuple[PeriodStatement, ...]
) -> list[AccountStatement]:
    return [
        AccountStatement(account_id=account, tier=tier, seats=seats, period=k, statement=p)
        for k, p in enumerate(periods)
    ]
