"""The account at a cut time, from the credit engine.

Theory of operation (docs/forecasts.md, "Where the paths start"): a forecast
starts every path from the account's state at the cut: what the period has
consumed, the rollover blocks still unspent, the grant left, overage so far,
the savings reserve and any deferred work. There is one implementation of the
rules, the credit engine's, so the state comes from it:

* The account starts from an :class:`~codex_credits.core.account.AccountState`
  at the start of a billing period (by default a new account at the billing
  anchor, with the starting rollover balance and reserve the caller gives).
* The hourly history from there to the cut is replayed by
  :func:`~codex_credits.core.simulate.simulate` in fluid mode (one amount-only
  request per busy hour, at the start of the hour: forecasts work in whole
  hours, and in fluid mode only an hour's total matters). Its timeline gives
  the reserve and the deferred work after the last hour before the cut, and
  the CCU the cut's period served so far.
* The ledger at the cut is the engine's own: the opening ledger carried over
  each earlier period end by :func:`~codex_credits.core.ledger.spend` (the
  period's consumption, from its statement),
  :func:`~codex_credits.core.ledger.close_period` and
  :func:`~codex_credits.core.ledger.grant`, exactly as
  :func:`~codex_credits.core.account.advance` does, then the cut's period
  spent so far. Within a period the spending order does not change, so one
  spend of the total equals the engine's many small ones.
* :func:`path_start_from_state` turns any engine state at the start of an hour
  (for example an account built from the usage API's status) into the path
  engine's :class:`~codex_credits.core.forecast.pathengine.PathStart`: rollover
  blocks with the index of the period at whose end each expires, the grant
  left, and the period's consumption and overage read from the ledger's log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Literal

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import AccountState
from codex_credits.core.events import Mode, Refusal
from codex_credits.core.forecast.hourly import hour_count
from codex_credits.core.forecast.pathengine import PathStart
from codex_credits.core.ledger import BlockKind, EntryKind, Ledger, close_period, grant, spend
from codex_credits.core.periods import period_at, period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.reserve import ReserveState
from codex_credits.core.simulate import simulate
from codex_credits.core.timeutil import epoch_seconds, hour_floor
from codex_credits.core.units import ZERO, from_micro, to_micro
from codex_credits.core.usage import UsageLog
from codex_credits.core.usagebuilder import UsageLogBuilder
from codex_credits.errors import ConfigError

__all__ = [
    "hourly_log",
    "path_start_from_state",
    "state_at",
    "states_at",
]

Int64Array = npt.NDArray[np.int64]
_HOUR_US = 3_600_000_000
_TICK = timedelta(microseconds=1)


def hourly_log(
    hourly: Int64Array, first_hour: datetime, start: datetime, end: datetime
) -> UsageLog:
    """One amount-only event per busy hour of ``[start, end)``, at the start of the hour.

    ``hourly[i]`` is the demand (micro-CCU) of the hour ``first_hour + i``; hours
    outside the series are idle.
    """
    builder = UsageLogBuilder()
    lo = max(hour_count(first_hour, start), 0)
    hi = min(hour_count(first_hour, end), len(hourly))
    base = epoch_seconds(hour_floor(first_hour)) * 1_000_000
    for i in range(lo, hi):
        value = int(hourly[i])
        if value:
            builder.add(base + i * _HOUR_US, ccu_micro=value)
    return builder.build()


def path_start_from_state(state: AccountState, *, backlog: int = 0) -> PathStart:
    """The path engine's start for an engine state at the start of an hour.

    Args:
        state: the account; nothing may have been served in its open hour yet.
        backlog: deferred work (micro-CCU) waiting to be retried in that hour.

    Raises:
        ConfigError: the state's open hour has already served work.
    """
    if state.served_in_hour:
        raise ConfigError(
            f"the account has served {state.served_in_hour} CCU in the hour from "
            f"{state.hour.isoformat()}; a forecast starts at a whole hour: advance it first"
        )
    anchor = state.plan.anchor
    period = state.period
    rollover: list[tuple[int, int]] = []
    grant_left = ZERO
    for block in state.ledger.blocks:  # burn order: rollover by soonest expiry, then grant
        if block.kind is BlockKind.GRANT:
            grant_left += block.remaining
        elif block.remaining > 0:
            expires = period_containing(anchor, block.expires - _TICK).index
            rollover.append((to_micro(block.remaining), expires))
    consumed = overage = ZERO
    for entry in state.ledger.entries():
        if entry.at >= period.start and entry.kind in (EntryKind.SPEND, EntryKind.OVERAGE):
            consumed += entry.amount
            if entry.kind is EntryKind.OVERAGE:
                overage += entry.amount
    return PathStart(
        period_index=period.index,
        consumed=to_micro(consumed),
        rollover=tuple(rollover),
        grant_left=to_micro(grant_left),
        overage=to_micro(overage),
        reserve=to_micro(state.reserve.level),
        backlog=backlog,
    )


def states_at(
    opening: AccountState,
    card: RateCard,
    hourly: Int64Array,
    first_hour: datetime,
    cuts: Sequence[datetime],
    *,
    on_rate_limit: Literal["defer", "drop"] = "defer",
) -> tuple[PathStart, ...]:
    """The state at the start of each of ``cuts``' hours (ascending), from one replay.

    Args:
        opening: the account at the start of a billing period, at or before the
            first cut; or, with every cut in its open hour, the account at the cut.
        card: the card the account is on.
        hourly: demand per hour, ``hourly[i]`` for the hour ``first_hour + i``.
        first_hour: the hour of ``hourly[0]``.
        cuts: instants, ascending; each is floored to its hour.
        on_rate_limit: whether rate-limited work waits for the next hour.

    Raises:
        ConfigError: a cut before the opening state, or an opening state inside a
            period with a cut after its open hour.
    """
    hours = [hour_floor(c) for c in cuts]
    if any(b < a for a, b in pairwise(hours)):
        raise ConfigError("the forecast cuts must be in time order")
    if not hours:
        return ()
    start = opening.hour
    if hours[0] < start:
        raise ConfigError(
            f"the cut {hours[0].isoformat()} is before the account's state ({start.isoformat()})"
        )
    if hours[-1] == start:
        return tuple(path_start_from_state(opening) for _ in hours)
    if start != opening.period.start or opening.served_in_hour or opening.as_of != start:
        raise ConfigError(
            "a forecast replays history from an account at the start of a billing period "
            f"(the account is at {opening.as_of.isoformat()}); give the account at the cut "
            "or at the start of its period"
        )
    plan = opening.plan
    last_period = period_containing(plan.anchor, hours[-1]).index
    months = last_period - opening.period.index + 1
    log = hourly_log(hourly, first_hour, start, hours[-1])
    result = simulate(
        log, opening, card=card, months=months, mode=Mode.FLUID, on_rate_limit=on_rate_limit
    )
    timeline = result.timeline
    served = np.concatenate(([0], np.cumsum(timeline.served, dtype=np.int64)))
    ledger = opening.ledger
    index = opening.period.index
    states = []
    for cut in hours:
        period = period_containing(plan.anchor, cut)
        while index < period.index:  # carry the ledger over a period end, as the engine does
            done = period_at(plan.anchor, index)
            statement = result.periods[index - opening.period.index]
            ledger = _spend(ledger, statement.consumed, done.start, plan.has_overage)
            ledger, _ = close_period(
                ledger,
                at=done.end,
                rollover_expires=plan.rollover_expiry(done),
                rollover_cap=plan.rollover_cap,
            )
            index += 1
            ledger = grant(
                ledger, plan.pool, at=done.end, expires=period_at(plan.anchor, index).end
            )
        h = hour_count(start, cut)
        so_far = int(served[h] - served[hour_count(start, period.start)])
        at_cut = _spend(ledger, from_micro(so_far), cut, plan.has_overage) if so_far else ledger
        level = timeline.reserve[h - 1] if h else to_micro(opening.reserve.level)
        waiting = int(timeline.waiting[h - 1]) if h else 0
        state = AccountState(
            plan=plan,
            period=period,
            hour=cut,
            as_of=cut,
            reserve=ReserveState(level=from_micro(int(level))),
            ledger=at_cut,
        )
        states.append(path_start_from_state(state, backlog=waiting))
    return tuple(states)


def state_at(
    opening: AccountState,
    card: RateCard,
    hourly: Int64Array,
    first_hour: datetime,
    at: datetime,
    *,
    on_rate_limit: Literal["defer", "drop"] = "defer",
) -> PathStart:
    """The state at the start of ``at``'s hour (see :func:`states_at`)."""
    return states_at(opening, card, hourly, first_hour, (at,), on_rate_limit=on_rate_limit)[0]


def _spend(ledger: Ledger, amount: Decimal, at: datetime, overage: bool) -> Ledger:
    spent = spend(ledger, amount, at=at, allow_overage=overage)
    if isinstance(spent, Refusal):  # pragma: no cover - the engine never serves past credits
        raise AssertionError(spent.detail)
    return spent[0]
