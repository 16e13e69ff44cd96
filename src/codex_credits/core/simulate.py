"""``simulate``: replay usage through a tier's rules, period by period.

Theory of operation (docs/engine.md, "Simulation"): the usage log is priced
once on the card (integer micro-CCU) and cut into UTC hours from the billing
anchor. The default ``engine="batch"`` runs it as one lane of the integer
kernel (:mod:`codex_credits.core.kernel`: quiet stretches at once, busy hours
in rounds); ``engine="reference"`` replays it with the driver of
:mod:`codex_credits.core.replay`, which calls the frozen state machine of
:mod:`codex_credits.core.account` for every piece. Both give the same result.

>>> from datetime import datetime, UTC
>>> from codex_credits.core.usage import UsageEvent
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> log = [UsageEvent(timestamp=datetime(2026, 1, 2, 9, tzinfo=UTC), ccu=Decimal(120))]
>>> result = simulate(log, "pro", start=start, months=1)
>>> result.periods[0].consumed, result.periods[0].total_cost
(Decimal('120.000000'), Decimal('200.00'))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import (
    Account,
    AccountState,
    OpeningBlock,
    open_account,
)
from codex_credits.core.budgetmask import budget_mask
from codex_credits.core.budgets import Budget, BudgetState, Control, Override
from codex_credits.core.events import Mode, Policy
from codex_credits.core.kernel.budgets import prefix_fired
from codex_credits.core.kernel.simulation import run_kernel
from codex_credits.core.ratecard import RateCard
from codex_credits.core.replay import ReferenceProcessor, run
from codex_credits.core.replaysetup import HOUR_US, Setup, hour_bounds, periods_between
from codex_credits.core.statement import EPOCH, SimulationResult
from codex_credits.core.timeutil import require_utc
from codex_credits.core.units import from_micro, to_micro
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.errors import ConfigError

__all__ = ["prepare", "simulate"]


def simulate(
    events: UsageLog | Iterable[UsageEvent],
    account: Account | AccountState | str | None = None,
    *,
    seats: int = 1,
    card: RateCard | str | None = None,
    start: datetime | None = None,
    months: int = 1,
    on_rate_limit: Policy | str = Policy.DEFER,
    mode: Mode | str = Mode.REQUEST,
    budgets: Sequence[Budget] | None = None,
    overrides: Sequence[Override] = (),
    rollover_balance: Decimal | int | str | Sequence[OpeningBlock] | None = None,
    reserve: Decimal | int | str | None = None,
    engine: Literal["batch", "reference"] = "batch",
) -> SimulationResult:
    """Replay ``events`` for ``months`` billing periods.

    Args:
        events: a :class:`UsageLog` (outcomes align with its index order) or
            usage events (a log is built from them, sorted by time).
        account: a tier name (with ``seats``, ``card`` and ``start``, the
            billing anchor), an :class:`Account`, or an :class:`AccountState`
            at the start of a period (for example a previous result's
            ``final_state``).
        seats: seats sharing the pool (with a tier name).
        card: the rate card (default: the built-in CCU card).
        start: the billing anchor, where the simulation starts.
        months: how many billing periods to simulate.
        on_rate_limit: ``"defer"`` rate-limited work to the next hour, or ``"drop"`` it.
        mode: ``"request"`` (all or nothing) or ``"fluid"`` (the part that fits).
        budgets: budgets to enforce (replacing those of a given account).
        overrides: budget overrides, each counting from the start of its hour.
        rollover_balance: starting rollover credit: one number (a block
            expiring at the end of the first period) or explicit blocks.
        reserve: the starting reserve level.
        engine: ``"batch"`` (fast) or ``"reference"`` (the state machine).

    Raises:
        ConfigError: bad tier, seats, anchor, months, budgets or overrides.
    """
    setup = prepare(
        events,
        account,
        seats=seats,
        card=card,
        start=start,
        months=months,
        on_rate_limit=on_rate_limit,
        mode=mode,
        budgets=budgets,
        overrides=overrides,
        rollover_balance=rollover_balance,
        reserve=reserve,
    )
    if engine == "reference" or not all(prefix_fired(s) for s in setup.state.budgets):
        # a hand-made budget state whose alerts skip a fraction only the state machine reads
        return run(setup, ReferenceProcessor(setup))
    if engine != "batch":
        raise ConfigError(f"engine must be 'batch' or 'reference', got {engine!r}")
    return run_kernel(setup)


def prepare(
    events: UsageLog | Iterable[UsageEvent],
    account: Account | AccountState | str | None = None,
    *,
    seats: int = 1,
    card: RateCard | str | None = None,
    start: datetime | None = None,
    months: int = 1,
    on_rate_limit: Policy | str = Policy.DEFER,
    mode: Mode | str = Mode.REQUEST,
    budgets: Sequence[Budget] | None = None,
    overrides: Sequence[Override] = (),
    rollover_balance: Decimal | int | str | Sequence[OpeningBlock] | None = None,
    reserve: Decimal | int | str | None = None,
) -> Setup:
    """Check the arguments of :func:`simulate` and price the log once."""
    if months < 1:
        raise ConfigError(f"months must be at least 1, got {months}")
    try:
        policy = Policy(on_rate_limit)
        mode = Mode(mode)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if isinstance(account, Account):
        card = account.card
        account = account.state
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    if isinstance(account, AccountState):
        if rollover_balance is not None or reserve is not None:
            raise ConfigError("rollover_balance and reserve come from the given account state")
        state = _usable_state(account, rate_card, start, budgets)
    else:
        if start is None:
            raise ConfigError("give start (the billing anchor) or an account")
        state = open_account(
            rate_card,
            account if account is not None else "pro",
            seats,
            start,
            rollover_balance=rollover_balance,
            reserve=reserve,
            budgets=budgets or (),
        )
    log = events if isinstance(events, UsageLog) else UsageLog.from_events(events)
    plan = state.plan
    periods = periods_between(state.period, months, plan.anchor)
    start_us = _us(periods[0].start)
    hours = int((periods[-1].end - periods[0].start).total_seconds()) // 3600
    ts = log.timestamps_us
    lo, hi = hour_bounds(ts, start_us, hours)
    first_hours = tuple(int((p.start - periods[0].start).total_seconds()) // 3600 for p in periods)
    names = {s.budget.name for s in state.budgets}
    for override in overrides:
        if override.budget not in names:
            raise ConfigError(f"override for unknown budget {override.budget!r}")
    for budget in state.budgets:
        if budget.budget.control is Control.QUEUE and not budget.budget.window.billing:
            raise ConfigError(
                f"budget {budget.budget.name!r}: a simulation releases queued work at billing "
                "period starts only; give a queue budget the billing window"
            )
    ordered = tuple(sorted(overrides, key=lambda o: o.at))
    override_hours = tuple((_us(o.at) - start_us) // HOUR_US for o in ordered)
    budget_list = tuple(s.budget for s in state.budgets)
    amounts = log.amounts_micro(rate_card)
    sandbox = None
    if any(b.control is Control.DEGRADED for b in budget_list):
        sandbox = _sandbox_micro(log, rate_card)
    return Setup(
        card=rate_card,
        state=state,
        log=log,
        amounts=amounts,
        sandbox=sandbox,
        mode=mode,
        policy=policy,
        budgets=budget_list,
        overrides=ordered,
        periods=periods,
        start_us=start_us,
        hours=hours,
        lo=lo,
        hi=hi,
        period_first_hour=first_hours,
        override_hours=override_hours,
        matches=tuple(budget_mask(log, b) for b in budget_list),
    )


def _usable_state(
    state: AccountState,
    card: RateCard,
    start: datetime | None,
    budgets: Sequence[Budget] | None,
) -> AccountState:
    if state.plan.card != card.name:
        raise ConfigError(
            f"the account is on card {state.plan.card}, but card {card.name} was given"
        )
    if state.hour != state.period.start or state.as_of != state.hour or state.served_in_hour:
        raise ConfigError(
            "a simulation continues an account only from the start of a billing period "
            f"(the account is at {state.as_of.isoformat()}, its period began "
            f"{state.period.start.isoformat()})"
        )
    if start is not None and require_utc(start, "start") != state.hour:
        raise ConfigError(
            f"start {start.isoformat()} differs from the account's {state.hour.isoformat()}"
        )
    if budgets is None:
        return state
    return state.with_budgets(tuple(BudgetState(budget=b) for b in budgets))


def _sandbox_micro(log: UsageLog, card: RateCard) -> npt.NDArray[np.int64]:
    """The sandbox part of every metered event (0 for amount-only events)."""
    meters = card.meters
    result = np.zeros(len(log), dtype=np.int64)
    if meters is None:
        return result
    has_ccu = log.column("has_ccu")
    minutes = log.column("sandbox_micro_minutes")
    candidates = np.nonzero(~has_ccu & (minutes > 0))[0]
    if not len(candidates):
        return result
    factor = card.options.fast_mode_factor
    classes = log.labels("sandbox_class")
    codes = log.column("sandbox_class")
    fast = log.column("fast")
    for i in candidates.tolist():
        name = classes[int(codes[i])] or meters.default_sandbox_class
        rate = meters.sandbox_per_minute.get(name)
        if rate is None:
            raise ConfigError(f"unknown sandbox class {name!r} on card {card.name}")
        value = from_micro(int(minutes[i])) * rate
        if fast[i]:
            value *= factor
        result[i] = to_micro(value)
    return result


def _us(at: datetime) -> int:
    delta = require_utc(at) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
