"""Organisation sweeps: every account (and every tier and seat count) as lanes.

Theory of operation (docs/engine.md, "Organisation sweeps"): usage events carry an
optional ``account_id``. :func:`simulate_many` runs each account's plan as one
lane, and :func:`compare_tiers_many` every tier and seat count of every account;
all lanes step through the hours together
(:func:`~codex_credits.core.kernel.lanes.run_lanes`), with the rules of
:func:`~codex_credits.core.simulate.simulate` (same statements, figure for figure,
as :func:`~codex_credits.core.compare.compare_tiers` for a comparison). Lanes with
budgets or the reserve's trailing-window rule, and lanes whose waiting work grows
past a few thousand pieces, run alone through the one-lane kernel. Both return one
tidy table: a row per account, option and billing period
(:meth:`SweepResult.table`, :meth:`SweepResult.to_pandas`), and a recommended plan
per account for a comparison.

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

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import final

import numpy as np
from pydantic import Field

from codex_credits.core.account import AccountState, Plan, open_account
from codex_credits.core.budgets import Budget
from codex_credits.core.compare import (
    TierComparison,
    check_tolerance,
    rank_options,
    tier_candidates,
)
from codex_credits.core.events import Mode, Policy
from codex_credits.core.kernel.grid import HOUR_US, SweepEvents
from codex_credits.core.kernel.lanes import run_lanes
from codex_credits.core.kernel.ledger import epoch_us
from codex_credits.core.kernel.rules import Int64Array, LaneRules
from codex_credits.core.kernel.simulation import lane_input, lane_statements
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.replaysetup import periods_between
from codex_credits.core.simulate import prepare
from codex_credits.core.statement import PeriodStatement
from codex_credits.core.sweeptable import (
    ROW_FIELDS,
    AccountStatement,
    LaneBlock,
    LaneRef,
    SweepResult,
)
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import ZERO, Ccu, from_micro
from codex_credits.core.usage import DIMENSIONS, UsageEvent, UsageLog
from codex_credits.errors import ConfigError

__all__ = [
    "ROW_FIELDS",
    "AccountPlan",
    "AccountStatement",
    "SweepResult",
    "compare_tiers_many",
    "simulate_many",
    "split_by_account",
]

_LABELLED = (*DIMENSIONS, "sandbox_class")
MAX_WAITING = 2048
"""A lane with more pieces of work waiting leaves the sweep and runs alone."""
ACCOUNTS_AT_ONCE = 2048
"""The most accounts whose lanes step together (their events' hour grid is
``accounts x hours`` integers)."""


@final
class AccountPlan(Frozen):
    """One account of a sweep: its tier, seats, billing anchor and opening credit."""

    account_id: str
    tier: str = "pro"
    seats: int = Field(default=1, ge=1)
    anchor: UtcDatetime | None = Field(default=None, description="default: the sweep's start")
    rollover_balance: Ccu | None = None
    reserve: Ccu | None = None


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
    present: list[str],
) -> list[AccountPlan]:
    if accounts is None:
        return [AccountPlan(account_id=a) for a in sorted(present)]
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


def _present(log: UsageLog) -> list[str]:
    """The accounts with events in ``log``."""
    if not len(log):
        return []
    table = log.labels("account_id")
    seen = np.flatnonzero(np.bincount(log.column("account_id"), minlength=len(table)))
    return [name for code in seen.tolist() if (name := table[code]) is not None]


def _options(mode: Mode | str, on_rate_limit: Policy | str, months: int) -> tuple[Mode, Policy]:
    if months < 1:
        raise ConfigError(f"months must be at least 1, got {months}")
    try:
        return Mode(mode), Policy(on_rate_limit)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


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
    mode, policy = _options(mode, on_rate_limit, months)
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    log = usage if isinstance(usage, UsageLog) else UsageLog.from_events(usage)
    lanes = [
        (
            plan.account_id,
            open_account(
                rate_card,
                plan.tier,
                plan.seats,
                plan.anchor or start,
                rollover_balance=plan.rollover_balance,
                reserve=plan.reserve,
                budgets=budgets,
            ),
        )
        for plan in _plans(accounts, _present(log))
    ]
    refs, _ = _run(log, rate_card, lanes, months, mode, policy, tuple(budgets))
    return SweepResult(refs)


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
    mode, policy = _options(mode, on_rate_limit, months)
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    candidates = tier_candidates(rate_card, max_seats, tiers)
    log = usage if isinstance(usage, UsageLog) else UsageLog.from_events(usage)
    names = sorted(_present(log)) if accounts is None else list(accounts)
    states = {
        (tier, seats): open_account(rate_card, tier, seats, start, budgets=budgets)
        for _, tier, seats in candidates
    }
    order = {tier: o for o, tier, _ in candidates}
    lanes = [(name, states[(tier, seats)]) for name in names for _, tier, seats in candidates]
    refs, demand = _run(log, rate_card, lanes, months, mode, policy, tuple(budgets))

    def rank(
        grouped: Mapping[str, list[tuple[Plan, PeriodStatement]]],
    ) -> dict[str, TierComparison]:
        return {
            account: rank_options(
                [(order[plan.tier], plan.seats, plan.tier, totals) for plan, totals in options],
                from_micro(demand[account]),
                tolerance,
            )
            for account, options in grouped.items()
        }

    return SweepResult(refs, rank)


def _run(
    log: UsageLog,
    card: RateCard,
    lanes: list[tuple[str, AccountState]],
    months: int,
    mode: Mode,
    policy: Policy,
    budgets: tuple[Budget, ...],
) -> tuple[list[LaneRef], dict[str, int]]:
    """Run ``(account, opening state)`` lanes; returns them in order, and each account's
    demand over its periods (micro-CCU)."""
    amounts = log.amounts_micro(card)
    ts = log.timestamps_us
    codes = log.column("account_id")
    table = log.labels("account_id")
    groups: dict[tuple[datetime, int], list[int]] = {}
    batch: dict[str, int] = {}
    for i, (name, state) in enumerate(lanes):  # one grid per anchor, a bounded one
        key = (state.plan.anchor, batch.setdefault(name, len(batch) // ACCOUNTS_AT_ONCE))
        groups.setdefault(key, []).append(i)
    refs: list[LaneRef | None] = [None] * len(lanes)
    demand: dict[str, int] = {}
    logs: dict[str, UsageLog] | None = None
    for members in groups.values():
        states = [lanes[i][1] for i in members]
        first = states[0]
        periods = periods_between(first.period, months, first.plan.anchor)
        start_us = epoch_us(periods[0].start)
        hours = (epoch_us(periods[-1].end) - start_us) // HOUR_US
        first_hours = tuple((epoch_us(p.start) - start_us) // HOUR_US for p in periods)
        names = list(dict.fromkeys(lanes[i][0] for i in members))
        column = {name: j for j, name in enumerate(names)}
        lookup = np.full(len(table), -1, dtype=np.int64)
        for code, label in enumerate(table):
            if label in column:
                lookup[code] = column[label]
        events = SweepEvents.build(
            amounts,
            ts,
            lookup[codes] if len(codes) else codes.astype(np.int64),
            len(names),
            start_us,
            hours,
        )
        totals = events.account_demand().tolist()
        demand.update(zip(names, totals, strict=True))
        account = np.array([column[lanes[i][0]] for i in members], dtype=np.int64)
        once = {id(s): LaneRules.from_plan(s.plan, mode, policy) for s in states}
        rules = [once[id(s)] for s in states]
        alone: list[int] = list(range(len(members)))
        micro: Int64Array | None = None
        limited: Int64Array | None = None
        if not budgets and all(r.window_hours is None for r in rules):
            tallies = run_lanes(
                rules, states, account, events, periods, first_hours, max_waiting=MAX_WAITING
            )
            micro, limited, alone = tallies.micro, tallies.rate_limited_events, list(tallies.alone)
        done: dict[int, tuple[PeriodStatement, ...]] = {}
        if alone and logs is None:
            logs = split_by_account(log)
        for j in alone:
            assert logs is not None
            name, state = lanes[members[j]]
            setup = prepare(
                logs.get(name, UsageLog.empty()),
                state,
                card=card,
                months=months,
                mode=mode,
                on_rate_limit=policy,
                budgets=budgets,
            )
            done[j] = lane_statements(setup, lane_input(setup), setup.state)
        block = LaneBlock(tuple(s.plan for s in states), periods, micro, limited, done)
        for j, i in enumerate(members):
            refs[i] = (lanes[i][0], block, j)
    return [r for r in refs if r is not None], demand
