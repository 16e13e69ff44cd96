"""The account at a cut time, replayed from the billing anchor with the path engine.

Theory of operation (docs/forecasts.md, "Where the paths start"): a forecast
starts every path from the account's real state at the cut: what the period
has consumed, the rollover blocks still unspent, the grant left, overage so far,
the savings reserve and any deferred work. :func:`replay_state` computes it by
running the hourly history through :func:`run_path` (one path, plain integers), period
by period from the anchor (the first period starts there), settling each period
end with :func:`close_period`. Hours before the anchor are ignored; hours
without usage still accrue the reserve. When the state is known instead (an
engine :class:`~codex_credits.core.account.AccountState`, for example one built
from the usage API's account status), :func:`path_start_from_state` reads it
off the state's ledger and reserve.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import AccountState
from codex_credits.core.forecast.hourly import hour_count
from codex_credits.core.forecast.pathengine import HourlyRules, PathStart, close_period, run_path
from codex_credits.core.ledger import BlockKind
from codex_credits.core.periods import check_anchor, period_at, period_containing
from codex_credits.core.status import period_spending
from codex_credits.core.timeutil import hour_floor
from codex_credits.core.units import to_micro
from codex_credits.errors import ConfigError

__all__ = [
    "advance",
    "next_period",
    "path_start_from_state",
    "period_start_state",
    "replay_state",
    "replay_states",
    "spend_blocks",
]

Int64Array = npt.NDArray[np.int64]


def period_start_state(
    rules: HourlyRules,
    index: int,
    rollover: tuple[tuple[int, int], ...] = (),
    reserve: int = 0,
    backlog: int = 0,
) -> PathStart:
    """The state at the start of period ``index``: a fresh grant, nothing consumed."""
    return PathStart(
        period_index=index,
        consumed=0,
        rollover=rollover,
        grant_left=rules.pool,
        overage=0,
        reserve=reserve,
        backlog=backlog,
    )


def path_start_from_state(state: AccountState) -> PathStart:
    """The path engine's start at the open hour of an engine state.

    ``consumed`` and ``overage`` are the ledger's spends and overage since the
    period began; rollover blocks keep their order and expire at the end of
    the period their expiry closes; the reserve is the state's level. Pass the
    result as ``state=`` to
    :func:`~codex_credits.core.forecast.forecaster.forecast_period` with the
    plan's anchor and tier.

    Raises:
        ConfigError: the open hour has already served work (the path engine
            starts at a whole hour).
    """
    if state.served_in_hour:
        raise ConfigError(
            f"the account has served {state.served_in_hour} CCU in the hour from "
            f"{state.hour.isoformat()}; a forecast starts at a whole hour"
        )
    anchor = state.plan.anchor
    spending = period_spending(state)
    rollover = tuple(
        (to_micro(b.remaining), period_containing(anchor, b.expires).index - 1)
        for b in state.ledger.blocks
        if b.kind is BlockKind.ROLLOVER and b.remaining > 0
    )
    grant_left = sum(
        to_micro(b.remaining) for b in state.ledger.blocks if b.kind is BlockKind.GRANT
    )
    return PathStart(
        period_index=state.period.index,
        consumed=to_micro(spending.from_rollover + spending.from_grant + spending.overage),
        rollover=rollover,
        grant_left=grant_left,
        overage=to_micro(spending.overage),
        reserve=to_micro(state.reserve.level),
    )


def spend_blocks(start: PathStart, spent: int) -> tuple[tuple[tuple[int, int], ...], int]:
    """Blocks and grant left after ``spent`` more credits (rollover first, soonest expiry)."""
    blocks = []
    for amount_left, expires in start.rollover:
        take = min(spent, amount_left)
        spent -= take
        blocks.append((amount_left - take, expires))
    return tuple(blocks), start.grant_left - spent


def advance(rules: HourlyRules, state: PathStart, demand: Sequence[int]) -> PathStart:
    """The state after ``demand`` (micro-CCU per hour), all within ``state``'s period."""
    outcome = run_path(rules, state, demand)
    credits_left = int(outcome.credits_left[0])
    blocks, grant_left = spend_blocks(state, state.credits_left - credits_left)
    return PathStart(
        period_index=state.period_index,
        consumed=int(outcome.consumed[0]),
        rollover=blocks,
        grant_left=grant_left,
        overage=int(outcome.overage[0]),
        reserve=int(outcome.reserve[0]),
        backlog=int(outcome.backlog[0]),
    )


def next_period(rules: HourlyRules, state: PathStart) -> PathStart:
    """Settle the end of ``state``'s period and open the next one."""
    left = np.array([state.credits_left], dtype=np.int64)
    _, _, surviving = close_period(rules, state, left)
    index = state.period_index
    expiries = [e for _, e in state.rollover if e > index] + [index + rules.rollover_periods]
    blocks = tuple(
        (int(amount[0]), expires)
        for amount, expires in zip(surviving, expiries, strict=True)
        if int(amount[0]) > 0
    )
    return period_start_state(
        rules, index + 1, blocks, reserve=state.reserve, backlog=state.backlog
    )


def replay_states(
    rules: HourlyRules,
    anchor: datetime,
    hourly: Int64Array,
    first_hour: datetime,
    cuts: Sequence[datetime],
) -> tuple[PathStart, ...]:
    """The state at each of ``cuts`` (floored to the hour, ascending), in one pass.

    Args:
        rules: the account's rules.
        anchor: the billing anchor; the first period starts there.
        hourly: demand per hour, ``hourly[i]`` for the hour ``first_hour + i``.
        first_hour: the hour of ``hourly[0]``.
        cuts: instants; each result is the state at the start of that hour.
    """
    anchor = check_anchor(anchor)
    first_hour = hour_floor(first_hour)
    state = period_start_state(rules, 0)
    pos = anchor
    states = []
    for cut in cuts:
        cut = hour_floor(cut)
        if cut < pos:
            raise ValueError("cuts must be ascending")
        while pos < cut:
            period = period_at(anchor, state.period_index)
            stop = min(period.end, cut)
            state = advance(rules, state, _slice(hourly, first_hour, pos, stop))
            pos = stop
            if pos == period.end:
                state = next_period(rules, state)
        states.append(state)
    return tuple(states)


def replay_state(
    rules: HourlyRules,
    anchor: datetime,
    hourly: Int64Array,
    first_hour: datetime,
    at: datetime,
) -> PathStart:
    """Replay ``hourly`` (micro-CCU per hour from ``first_hour``) from ``anchor`` up to ``at``.

    The result is the state at the start of ``at``'s hour (see :func:`replay_states`).
    """
    return replay_states(rules, anchor, hourly, first_hour, (at,))[0]


def _slice(hourly: Int64Array, first_hour: datetime, start: datetime, stop: datetime) -> list[int]:
    n = hour_count(start, stop)
    offset = hour_count(first_hour, start) - hour_count(start, first_hour)
    demand = [0] * n
    lo = max(0, -offset)
    hi = min(n, len(hourly) - offset)
    if hi > lo:
        demand[lo:hi] = hourly[offset + lo : offset + hi].tolist()
    return demand
