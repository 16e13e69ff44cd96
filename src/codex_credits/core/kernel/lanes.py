"""Many lanes through the same hours at once: the kernel of organisation sweeps.

Theory of operation (docs/engine.md, "Organisation sweeps"). A lane is one
account on one tier and seat count; lanes of the same account share its events.
The events of every account are grouped by account and cut into the hours of one
grid (:class:`~codex_credits.core.kernel.grid.SweepEvents`: each account-hour's
demand, and where its events are). Every piece of state is an integer micro-CCU array indexed by lane: the
reserve, the credits left (a tier without overage), the period's counters, and
the work waiting (one flat array of pieces, grouped by lane, in original order).

One step is one UTC hour for every lane (the demand of 256 hours is gathered at
once, per lane):

* a lane with nothing waiting whose hour's demand fits the hour serves every
  event whole: nothing but its demand is needed. In request mode the events larger
  than ``L + C`` are blocked whatever else happens, so their sum (per account-hour,
  for each distinct ``L + C``) is set aside first; what is left fits when it is at
  most ``L + reserve`` (and the credits, on a tier without overage), and then no
  event left is too large;
* a lane of a tier without overage out of credits, with nothing waiting, blocks
  its whole demand;
* every other lane is busy: its pieces (the work waiting, then the hour's own
  events) go through :func:`~codex_credits.core.kernel.crowd.decide_crowd`,
  all busy lanes together;
* the hour closes for every lane: the reserve drawn past ``L``, the accrual of an
  hour below ``T`` (capped), the credits;
* at a period end, every lane's ledger settles at once
  (:class:`~codex_credits.core.kernel.ledgers.LaneLedgers`).

An hour costs array passes over the lanes, plus the busy lanes' pieces. A lane
whose waiting work grows past ``max_waiting`` pieces (sustained overload) would
make every hour cost its backlog: it leaves the sweep and is reported in
:attr:`LaneTallies.alone`, for the caller to run alone through the one-lane kernel
(:mod:`~codex_credits.core.kernel.lane`, whose backlog keeps an hour's cost to what
it serves). Budgets and the reserve's trailing-window rule are one-lane matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from codex_credits.core.account import AccountState
from codex_credits.core.kernel.crowd import decide_crowd, segment_starts, segment_sums
from codex_credits.core.kernel.grid import SweepEvents
from codex_credits.core.kernel.ledgers import LaneLedgers
from codex_credits.core.kernel.rules import Int64Array, LaneRules, close_reserve
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.statement import MICRO_FIELDS
from codex_credits.core.units import to_micro

__all__ = ["FIELD", "LaneTallies", "run_lanes"]

FIELD = {name: i for i, name in enumerate(MICRO_FIELDS)}
"""The position of every counter along the last axis of :attr:`LaneTallies.micro`."""
_BIG = 1 << 62  # the credits of a lane with overage: never short
_CHUNK = 256  # hours whose demand is gathered at once


@dataclass(frozen=True)
class LaneTallies:
    """What a sweep gives per lane: the period counters, and the lanes left to run alone."""

    micro: Int64Array
    """``(lanes, periods, len(MICRO_FIELDS))`` micro-CCU counters, :data:`FIELD` order."""
    rate_limited_events: Int64Array
    """``(lanes, periods)``."""
    alone: tuple[int, ...]
    """Lanes whose waiting work grew past ``max_waiting``: their tallies are not valid."""
    busy_lane_hours: int = 0
    """How many lane-hours were decided piece by piece (the rest served their demand)."""


def _arr(values: Sequence[int]) -> Int64Array:
    return np.array(values, dtype=np.int64)


def run_lanes(
    rules: Sequence[LaneRules],
    states: Sequence[AccountState],
    account: Int64Array,
    events: SweepEvents,
    periods: Sequence[BillingPeriod],
    first_hours: Sequence[int],
    *,
    max_waiting: int = 2048,
) -> LaneTallies:
    """Run every lane (``rules[i]`` from ``states[i]`` over ``account[i]``'s events).

    All lanes share the mode, the policy and the periods; no lane has budgets or the
    reserve's trailing-window rule (see the module docs).
    """
    return _Lanes(rules, states, account, events, periods, max_waiting).run(first_hours)


class _Lanes:
    """The state of every lane between hours (see the module docs)."""

    def __init__(
        self,
        rules: Sequence[LaneRules],
        states: Sequence[AccountState],
        account: Int64Array,
        events: SweepEvents,
        periods: Sequence[BillingPeriod],
        max_waiting: int,
    ) -> None:
        n = len(rules)
        self.events, self.periods, self.account = events, periods, account
        self.fluid, self.defer = rules[0].fluid, rules[0].defer
        self.limit = _arr([r.limit for r in rules])
        self.threshold = _arr([r.threshold for r in rules])
        self.cap = _arr([r.reserve_cap for r in rules])
        self.most = self.limit + self.cap
        effs = {r.efficiency for r in rules}
        self.eff = effs.pop() if len(effs) == 1 else None
        self.eff_num = _arr([r.efficiency[0] for r in rules])
        self.eff_den = _arr([r.efficiency[1] for r in rules])
        self.hard = np.array([not r.overage for r in rules], dtype=np.bool_)
        self.any_hard = bool(self.hard.any())
        self.ledgers = LaneLedgers(states)
        levels = {id(s): to_micro(s.reserve.level) for s in states}
        self.level = _arr([levels[id(s)] for s in states])
        self.micro = np.zeros((n, len(periods), len(MICRO_FIELDS)), dtype=np.int64)
        self.rl_events = np.zeros((n, len(periods)), dtype=np.int64)
        self.micro[:, 0, FIELD["granted"]] = self.ledgers.pool
        self.micro[:, 0, FIELD["rollover_in"]] = self.ledgers.rollover_in
        self._open_period()
        self.wait_lane = np.zeros(0, dtype=np.int64)
        self.wait_amount = np.zeros(0, dtype=np.int64)
        self.waiting = np.zeros(n, dtype=np.bool_)
        self.max_waiting = max_waiting
        self.alone: list[int] = []
        self.busy_lane_hours = 0
        self.tops = {m: np.flatnonzero(self.most == m) for m in set(self.most.tolist())}
        self._reserve_lanes()

    def _open_period(self) -> None:
        n = len(self.limit)
        self.credits = np.where(self.hard, self.ledgers.credits_in, _BIG)
        self.acc = {
            name: np.zeros(n, dtype=np.int64)
            for name in ("consumed", "reserve_drawn", "rate_limited_ccu", "blocked_ccu")
        }
        self.acc["unserved_ccu"] = np.zeros(n, dtype=np.int64)
        self.acc_events = np.zeros(n, dtype=np.int64)

    def run(self, first_hours: Sequence[int]) -> LaneTallies:
        hours = self.events.hours
        ends = [*first_hours[1:], hours]
        for k, first in enumerate(first_hours):
            for h0 in range(first, ends[k], _CHUNK):
                self._chunk(h0, min(h0 + _CHUNK, ends[k]))
            self._close_period(k)
        last = len(self.periods) - 1
        if len(self.wait_lane):
            waiting = np.zeros(len(self.limit), dtype=np.int64)
            np.add.at(waiting, self.wait_lane, self.wait_amount)
            self.micro[:, last, FIELD["unserved_ccu"]] += waiting
        return LaneTallies(self.micro, self.rl_events, tuple(self.alone), self.busy_lane_hours)

    def _chunk(self, h0: int, h1: int) -> None:
        """Hours ``h0..h1`` of one period. Every lane is booked as if it served its
        demand (but the events too large), and each busy hour corrects its lanes."""
        fit = self.events.demand(h0, h1)[:, self.account]
        larger = None
        if not self.fluid:  # request mode: events larger than L + C are blocked
            larger = np.zeros_like(fit)
            for most, lanes in self.tops.items():
                mine = self.events.larger(h0, h1, most)
                larger[:, lanes] = mine[:, self.account[lanes]]
            fit -= larger
            self.acc["blocked_ccu"] += larger.sum(axis=0)
        self.acc["consumed"] += fit.sum(axis=0)
        for h in range(h0, h1):
            self._hour(h, fit[h - h0], None if larger is None else larger[h - h0])

    def _hour(self, h: int, fit: Int64Array, larger: Int64Array | None) -> None:
        """Hour ``h``: ``fit`` per lane is its demand but the events larger than ``L + C``
        (request mode: blocked whatever else happens), ``larger`` what those ask; both
        are booked already, as if served and blocked."""
        room = self.limit + self.level
        if self.any_hard:
            np.minimum(room, self.credits, out=room)
        if len(self.wait_lane):
            room[self.wait_lane] = -1  # a lane with work waiting is busy
        quiet = fit <= room
        if quiet.all():
            self._close_hour(fit)
            return
        served = fit.copy()
        busy = np.flatnonzero(~quiet)
        blocked, consumed = self.acc["blocked_ccu"], self.acc["consumed"]
        if self.any_hard:  # out of credits, nothing waiting: the whole demand is blocked
            out = (self.credits[busy] <= 0) & ~self.waiting[busy]
            if out.any():
                gone = busy[out]
                blocked[gone] += fit[gone]
                consumed[gone] -= fit[gone]
                served[gone] = 0
                busy = busy[~out]
        if len(busy):
            self.busy_lane_hours += len(busy)
            if larger is not None:
                blocked[busy] -= larger[busy]  # the crowd counts them
            got = self._busy(h, busy)
            consumed[busy] += got - fit[busy]
            served[busy] = got
        self._close_hour(served)

    def _busy(self, h: int, busy: Int64Array) -> Int64Array:
        """Decide the busy lanes' pieces; returns what each served."""
        ev = self.events
        cols = self.account[busy]
        lo, hi = ev.cut[h][cols], ev.cut[h + 1][cols]
        counts = hi - lo
        total = int(counts.sum())
        new_seg = np.arange(len(busy), dtype=np.int64)
        if total == len(busy) and not len(self.wait_lane):
            pos = lo  # every busy lane has one event (none is busy for waiting work)
        else:
            offsets = np.cumsum(counts) - counts
            pos = np.repeat(lo - offsets, counts) + np.arange(total, dtype=np.int64)
            new_seg = np.repeat(new_seg, counts)
        amount = ev.amounts[pos]
        is_new = np.ones(total, dtype=np.bool_)
        if len(self.wait_lane):
            old_seg = np.searchsorted(busy, self.wait_lane)
            seg = np.concatenate((old_seg, new_seg))
            order = np.argsort(seg, kind="stable")  # within a lane: waiting first, in order
            seg = seg[order]
            amount = np.concatenate((self.wait_amount, amount))[order]
            is_new = np.concatenate((np.zeros(len(old_seg), dtype=np.bool_), is_new))[order]
        else:
            seg = new_seg
        starts = segment_starts(seg, len(busy))
        room = self.limit[busy] + self.level[busy]
        crowd = decide_crowd(
            amount, seg, starts, room, self.credits[busy], self.most[busy], self.fluid
        )
        limited_new = np.where(is_new, crowd.limited, 0)
        sums = segment_sums(
            np.stack((crowd.served, limited_new, limited_new > 0, crowd.blocked, crowd.limited)),
            starts,
        )
        acc = self.acc
        acc["rate_limited_ccu"][busy] += sums[1]
        self.acc_events[busy] += sums[2]
        acc["blocked_ccu"][busy] += sums[3]
        if self.defer:
            keep = np.flatnonzero(crowd.limited)
            self.waiting[busy] = False
            if len(keep) or len(self.wait_lane):
                self.wait_lane = busy[seg[keep]]
                self.wait_amount = crowd.limited[keep]
                self.waiting[self.wait_lane] = True
                self._send_alone()
        else:
            acc["unserved_ccu"][busy] += sums[4]
        result: Int64Array = sums[0]
        return result

    def _send_alone(self) -> None:
        """Lanes with more than ``max_waiting`` pieces waiting leave the sweep."""
        if len(self.wait_lane) <= self.max_waiting:
            return
        counts = np.bincount(self.wait_lane, minlength=len(self.limit))
        crowded = np.flatnonzero(counts > self.max_waiting)
        if not len(crowded):
            return
        self.alone.extend(crowded.tolist())
        stay = ~np.isin(self.wait_lane, crowded)
        self.wait_lane, self.wait_amount = self.wait_lane[stay], self.wait_amount[stay]
        self.waiting[crowded] = False
        self.limit[crowded] = _BIG >> 2  # from now on every hour of theirs is quiet
        self.credits[crowded] = _BIG
        self.hard[crowded] = False
        self._reserve_lanes()

    def _close_hour(self, served: Int64Array) -> None:
        """Close the hour for every lane. A lane without a reserve (``C = 0``) never
        draws one (it serves at most ``L``) and keeps a level of zero: only the lanes
        with a reserve are closed."""
        g = self.grow
        if g is None:
            s, level = served, self.level
        else:
            s, level = served[g], self.level[g]
        limit, threshold, cap, num, den = self.reserve_rules
        after, drawn = close_reserve(
            level, s, limit, threshold, cap, (num, den) if self.eff is None else self.eff
        )
        if g is None:
            self.level = after
            self.acc["reserve_drawn"] += drawn
        else:
            self.level[g] = after
            self.acc["reserve_drawn"][g] += drawn
        if self.any_hard:
            self.credits -= served  # on a tier with overage, far from zero all the same

    def _reserve_lanes(self) -> None:
        """The lanes with a reserve, and their figures (all lanes: ``grow`` is None)."""
        grow = np.flatnonzero(self.cap > 0)
        self.grow = None if len(grow) == len(self.cap) else grow
        pick = slice(None) if self.grow is None else self.grow
        self.reserve_rules = tuple(
            a[pick] for a in (self.limit, self.threshold, self.cap, self.eff_num, self.eff_den)
        )

    def _close_period(self, k: int) -> None:
        acc = self.acc
        r, g, o, expired, balance = self.ledgers.close_period(self.periods[k], acc["consumed"])
        micro = self.micro[:, k]
        for name, values in acc.items():
            micro[:, FIELD[name]] = values
        micro[:, FIELD["consumed_from_rollover"]] = r
        micro[:, FIELD["consumed_from_grant"]] = g
        micro[:, FIELD["overage_ccu"]] = o
        micro[:, FIELD["expired"]] = expired
        micro[:, FIELD["rollover_out"]] = balance
        self.rl_events[:, k] = self.acc_events
        if k + 1 < len(self.periods):
            self.micro[:, k + 1, FIELD["granted"]] = self.ledgers.pool
            self.micro[:, k + 1, FIELD["rollover_in"]] = balance
        self._open_period()
