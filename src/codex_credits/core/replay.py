"""Replaying a usage log hour by hour: the rules of a simulation around the account.

Theory of operation (docs/engine.md, "Simulation"): the account decides one
request at a time; a simulation adds what happens around it.

* The simulation starts at the billing anchor and runs whole UTC hours to
  the end of the last period. Events outside that window are ignored.
* Each hour first retries, in original order, the work deferred by the rate
  limit in the previous hour and the work a queue budget released (at a
  period start, or at an override), then the hour's own events in time order.
* Rate-limited work is deferred to the next hour or dropped (``Policy``).
  ``rate_limited_ccu`` and ``rate_limited_events`` count work once, in the
  period of its first refusal. ``unserved_ccu`` is work never served: dropped
  (counted when dropped) or still waiting when the simulation ends (counted
  in the last period), including work still held by a queue budget.
* A refused part is retried as an amount-only piece: a degraded budget's
  waiver is decided when the event is first seen.

The driver (:func:`run`) replays a
:class:`~codex_credits.core.replaysetup.Setup` piece by piece with
:class:`ReferenceProcessor`, which calls :func:`~codex_credits.core.account.apply`
on a frozen :class:`~codex_credits.core.account.AccountState`: the readable
reference (``simulate(..., engine="reference")``). The kernel
(:mod:`codex_credits.core.kernel`) restates the same rules on integer micro-CCU
over lanes; property tests hold the two equal, and both build their result with
:func:`result_from`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import AccountState, advance, apply, apply_override
from codex_credits.core.events import (
    BudgetAlert,
    HourClosed,
    PeriodClosed,
    Policy,
    Reason,
    Request,
    Status,
)
from codex_credits.core.replaysetup import HOUR_US, Setup
from codex_credits.core.statement import (
    EPOCH,
    REASON_CODES,
    STATUS_CODES,
    EventOutcomes,
    PeriodStatement,
    PeriodTally,
    SimulationResult,
    Timeline,
)
from codex_credits.core.units import from_micro, to_micro

__all__ = [
    "Attempt",
    "Piece",
    "Processor",
    "ReferenceProcessor",
    "run",
]


Attempt = tuple[int, int, int, int, int, int, int, int, int, int, int]
"""``(served, from_rollover, from_grant, from_overage, from_reserve, waived,
rate_limited, blocked, queued, reason code, queue budget index)`` in micro-CCU."""

Piece = tuple[int, int, int, bool]
"""Work waiting for a retry: ``(event index, sequence, amount, already counted)``."""

_REASON_INDEX = {reason: code for code, reason in enumerate(REASON_CODES)}
_RATE_LIMITED = _REASON_INDEX[Reason.RATE_LIMITED]
_QUEUED = _REASON_INDEX[Reason.BUDGET_QUEUED]


class Processor(Protocol):
    """Decides pieces of work and keeps the account's state between them."""

    alerts: list[BudgetAlert]

    def override(self, j: int) -> None: ...

    def attempt(self, idx: int, amount: int, sandbox: int, at_us: int) -> Attempt: ...

    def close_hour(self, h: int) -> tuple[int, int, int]: ...

    def close_period(self, k: int) -> tuple[int, int]: ...

    def rollover_balance(self) -> int: ...

    def finish(self, out: _Out, tallies: list[PeriodTally]) -> AccountState: ...


@dataclass
class _Out:
    """Per-event columns being filled, and the record of what was served when."""

    n: int
    served: npt.NDArray[np.int64] = field(init=False)
    from_rollover: npt.NDArray[np.int64] = field(init=False)
    from_grant: npt.NDArray[np.int64] = field(init=False)
    from_overage: npt.NDArray[np.int64] = field(init=False)
    from_reserve: npt.NDArray[np.int64] = field(init=False)
    waived: npt.NDArray[np.int64] = field(init=False)
    rate_limited: npt.NDArray[np.int64] = field(init=False)
    blocked: npt.NDArray[np.int64] = field(init=False)
    unserved: npt.NDArray[np.int64] = field(init=False)
    reason: npt.NDArray[np.int8] = field(init=False)
    counted: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        for name in EventOutcomes.COLUMNS:
            if name != "requested":  # known up front; the rest is filled in as served
                setattr(self, name, np.zeros(self.n, dtype=np.int64))
        self.reason = np.zeros(self.n, dtype=np.int8)


def run(setup: Setup, proc: Processor) -> SimulationResult:
    """Replay ``setup``'s log through ``proc``; see the module docs for the rules."""
    n = len(setup.log)
    nh = setup.hours
    plan = setup.plan
    out = _Out(n)
    pool = to_micro(plan.pool)
    tallies = [PeriodTally(start=p.start, end=p.end) for p in setup.periods]
    tallies[0].micro["granted"] = pool
    tallies[0].micro["rollover_in"] = proc.rollover_balance()
    boundaries = set(setup.period_first_hour[1:])
    period_last_hour = {first - 1 for first in setup.period_first_hour[1:]} | {nh - 1}
    amounts = setup.amounts
    sandbox = setup.sandbox
    ts = setup.log.timestamps_us
    lo_arr, hi_arr = setup.lo.tolist(), setup.hi.tolist()
    defer = setup.policy is Policy.DEFER
    timeline = {
        name: np.zeros(nh, dtype=np.int64)
        for name in ("served", "reserve", "drawn", "rate_limited", "blocked", "waiting")
    }
    tl_rl, tl_blocked = timeline["rate_limited"], timeline["blocked"]
    deferred: list[Piece] = []
    held: list[list[Piece]] = [[] for _ in setup.budgets]
    seq = 0
    k = 0
    tally = tallies[0]
    micro = tally.micro
    ov_hours = setup.override_hours
    ov_i = 0
    while ov_i < len(ov_hours) and ov_hours[ov_i] < 0:
        ov_i += 1  # overrides before the simulation starts are ignored

    def attempt(idx: int, amount: int, sb: int, at_us: int, counted: bool, h: int) -> None:
        nonlocal seq
        (served, r, g, o, fr, waived, rl, bl, q, reason, qb) = proc.attempt(idx, amount, sb, at_us)
        if served:
            out.served[idx] += served
            micro["consumed"] += served
            out.from_rollover[idx] += r
            out.from_grant[idx] += g
            out.from_overage[idx] += o
            out.from_reserve[idx] += fr
            micro["consumed_from_rollover"] += r
            micro["consumed_from_grant"] += g
            micro["overage_ccu"] += o
        if waived:
            out.waived[idx] += waived
        if reason:
            out.reason[idx] = reason
        if bl:
            out.blocked[idx] += bl
            micro["blocked_ccu"] += bl
            tl_blocked[h] += bl
        if rl:
            if not counted:
                micro["rate_limited_ccu"] += rl
                out.rate_limited[idx] += rl
                tl_rl[h] += rl
                if idx not in out.counted:
                    out.counted.add(idx)
                    tally.rate_limited_events += 1
            if defer:
                seq += 1
                deferred.append((idx, seq, rl, True))
            else:
                micro["unserved_ccu"] += rl
                out.unserved[idx] += rl
        if q:
            seq += 1
            held[qb].append((idx, seq, q, counted))

    for h in range(nh):
        hour_us = setup.start_us + h * HOUR_US
        retry = deferred
        deferred = []
        if h in boundaries:
            for pieces in held:
                retry.extend(pieces)
                pieces.clear()
        while ov_i < len(ov_hours) and ov_hours[ov_i] == h:
            proc.override(ov_i)
            name = setup.overrides[ov_i].budget
            for b, budget in enumerate(setup.budgets):
                if budget.name == name:
                    retry.extend(held[b])
                    held[b].clear()
            ov_i += 1
        lo, hi = lo_arr[h], hi_arr[h]
        retry.sort()
        for idx, _, amount, counted in retry:
            attempt(idx, amount, 0, hour_us, counted, h)
        for i in range(lo, hi):
            sb = int(sandbox[i]) if sandbox is not None else 0
            attempt(i, int(amounts[i]), sb, int(ts[i]), False, h)
        served, drawn, level = proc.close_hour(h)
        timeline["served"][h] = served
        timeline["drawn"][h] = drawn
        timeline["reserve"][h] = level
        timeline["waiting"][h] = sum(piece[2] for piece in deferred)
        micro["reserve_drawn"] += drawn
        if h in period_last_hour:
            expired, rollover_out = proc.close_period(k)
            micro["expired"] = expired
            micro["rollover_out"] = rollover_out
            if h + 1 < nh:
                k += 1
                tally = tallies[k]
                micro = tally.micro
                micro["granted"] = pool
                micro["rollover_in"] = rollover_out

    last = tallies[-1].micro
    for idx, _, amount, _ in sorted(deferred):
        last["unserved_ccu"] += amount
        out.unserved[idx] += amount
        out.reason[idx] = _RATE_LIMITED
    for pieces in held:
        for idx, _, amount, _ in pieces:
            last["unserved_ccu"] += amount
            out.unserved[idx] += amount
            out.reason[idx] = _QUEUED
    final_state = proc.finish(out, tallies)
    columns = {name: getattr(out, name) for name in EventOutcomes.COLUMNS if name != "requested"}
    return result_from(setup, columns, out.reason, tallies, timeline, proc.alerts, final_state)


def result_from(
    setup: Setup,
    columns: dict[str, npt.NDArray[np.int64]],
    reason_column: npt.NDArray[np.int8],
    tallies: list[PeriodTally],
    timeline: dict[str, npt.NDArray[np.int64]],
    alerts: list[BudgetAlert],
    final_state: AccountState,
) -> SimulationResult:
    """The :class:`SimulationResult` of a run: statements, timeline, per-event outcomes."""
    nh = setup.hours
    amounts = setup.amounts
    n = len(amounts)
    csum = np.concatenate(([0], np.cumsum(amounts, dtype=np.int64)))
    demand = csum[setup.hi] - csum[setup.lo]
    first = int(setup.lo[0]) if nh else 0
    last = int(setup.hi[-1]) if nh else 0
    inside = np.zeros(n, dtype=np.bool_)
    inside[first:last] = True
    status = np.full(n, STATUS_CODES.index(Status.IGNORED), dtype=np.int8)
    refused = columns["blocked"] + columns["unserved"]
    served = columns["served"]
    full = inside & (refused == 0)
    status[full] = STATUS_CODES.index(Status.SERVED)
    status[inside & ~full & (served == 0)] = STATUS_CODES.index(Status.REFUSED)
    status[inside & ~full & (served > 0)] = STATUS_CODES.index(Status.PARTIAL)
    reason = np.where(full, np.int8(0), reason_column).astype(np.int8)
    outcomes = EventOutcomes(
        requested=np.array(amounts, dtype=np.int64), status=status, reason=reason, **columns
    )
    hour_us = setup.start_us + np.arange(nh, dtype=np.int64) * HOUR_US
    tl = Timeline(hour_us=hour_us, demand=demand.astype(np.int64), **timeline)
    periods = tuple(t.statement(setup.plan) for t in tallies)
    return SimulationResult(
        plan=setup.plan,
        mode=setup.mode,
        on_rate_limit=setup.policy,
        periods=periods,
        totals=PeriodStatement.total(periods),
        timeline=tl,
        outcomes=outcomes,
        alerts=tuple(alerts),
        final_state=final_state,
        ignored_events=int(n - (last - first)),
    )


class ReferenceProcessor:
    """Decides every piece with :func:`~codex_credits.core.account.apply` (Decimal state)."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.state = setup.state
        self.alerts: list[BudgetAlert] = []
        self.mode = setup.mode
        self.budget_index = {b.name: i for i, b in enumerate(setup.budgets)}
        self.labels = setup.labels() if setup.budgets else None
        self.closed: PeriodClosed | None = None

    def override(self, j: int) -> None:
        self.state, _ = apply_override(self.state, self.setup.overrides[j])

    def attempt(self, idx: int, amount: int, sandbox: int, at_us: int) -> Attempt:
        labels = self.labels
        request = Request(
            amount=from_micro(amount),
            sandbox_ccu=from_micro(sandbox),
            **({dim: values[idx] for dim, values in labels.items()} if labels else {}),
        )
        at = _from_us(at_us)
        transition = apply(self.state, request, at, self.mode)
        self.state = transition.state
        o = transition.outcome
        self.alerts.extend(o.alerts)
        queue_budget = self.budget_index[o.budget] if o.queued and o.budget else -1
        return (
            to_micro(o.served),
            to_micro(o.from_rollover),
            to_micro(o.from_grant),
            to_micro(o.from_overage),
            to_micro(o.from_reserve),
            to_micro(o.waived),
            to_micro(o.rate_limited),
            to_micro(o.blocked),
            to_micro(o.queued),
            _REASON_INDEX[o.reason],
            queue_budget,
        )

    def close_hour(self, h: int) -> tuple[int, int, int]:
        self.state, events = advance(self.state, self.setup.hour_start(h + 1))
        closed = events[0]
        assert isinstance(closed, HourClosed)
        for event in events[1:]:
            if isinstance(event, PeriodClosed):
                self.closed = event
        return to_micro(closed.served), to_micro(closed.drawn), to_micro(closed.reserve)

    def close_period(self, k: int) -> tuple[int, int]:
        closed = self.closed
        assert closed is not None
        assert closed.end == self.setup.periods[k].end
        return to_micro(closed.expired), to_micro(closed.rollover_balance)

    def rollover_balance(self) -> int:
        return to_micro(self.state.ledger.rollover_balance)

    def finish(self, out: _Out, tallies: list[PeriodTally]) -> AccountState:
        return self.state


def _from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)
