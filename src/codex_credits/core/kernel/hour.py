"""Booking what an hour did: the lane's counters, timeline, per-event columns, waiting work.

Theory of operation (docs/engine.md, "The kernel"): :class:`HourBook` is one lane's
mutable bookkeeping. :meth:`HourBook.serve_quiet` books a stretch of quiet hours
(every event served whole); :func:`busy_hour` decides one busy hour with
:func:`~codex_credits.core.kernel.pieces.serve_hour` and
:func:`~codex_credits.core.kernel.pieces.decide` and books it: service (and the
reserve drawn past ``L``), first refusals by the rate limit (counted once per piece
of work, and once per event), blocked work, work a queue budget holds, the work left
waiting, alerts. Which credits paid for each served piece is settled once at the end
(:meth:`HourBook.split_pieces`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from codex_credits.core.budgets import Control
from codex_credits.core.events import BudgetAlert
from codex_credits.core.kernel.budgets import BudgetBook
from codex_credits.core.kernel.ledger import split_by_credits
from codex_credits.core.kernel.pieces import QUEUED, RL, Decision, HourRooms, decide, serve_hour
from codex_credits.core.kernel.rules import Int64Array, LaneRules, close_hour
from codex_credits.core.statement import PeriodTally

if TYPE_CHECKING:
    from codex_credits.core.kernel.lane import LaneInput

__all__ = ["HourBook", "Waiting", "busy_hour"]

HOUR_US = 3_600_000_000
_STAMP = 1 << 32
BoolArray = npt.NDArray[np.bool_]


def _empty() -> Int64Array:
    return np.zeros(0, dtype=np.int64)


@dataclass
class Waiting:
    """Pieces of work in original order: event index, amount, creation stamp, counted."""

    idx: Int64Array = field(default_factory=_empty)
    amount: Int64Array = field(default_factory=_empty)
    stamp: Int64Array = field(default_factory=_empty)
    counted: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    def __len__(self) -> int:
        return len(self.idx)

    @property
    def total(self) -> int:
        """The work waiting, in micro-CCU."""
        return int(self.amount.sum())

    def merged(self, other: list[Waiting]) -> Waiting:
        """These pieces and ``other``'s, in (event, creation) order."""
        parts = [self, *other]
        idx = np.concatenate([p.idx for p in parts])
        stamp = np.concatenate([p.stamp for p in parts])
        order = np.lexsort((stamp, idx))
        return Waiting(
            idx[order],
            np.concatenate([p.amount for p in parts])[order],
            stamp[order],
            np.concatenate([p.counted for p in parts])[order],
        )


class HourBook:
    """One lane's state between hours and everything it has booked (see the module docs)."""

    def __init__(self, rules: LaneRules, inp: LaneInput, budgets: BudgetBook, record: bool) -> None:
        self.rules = rules
        self.inp = inp
        self.budgets = budgets
        self.record = record
        n, nh = len(inp.amounts), inp.hours
        self.level = 0
        self.recent: deque[int] = deque()
        self.credits = 0
        self.consumed = 0
        self.waiting = Waiting()
        self.held: list[list[Waiting]] = [[] for _ in inp.budgets]
        self.period_credits: list[tuple[int, int]] = []
        large = np.where(inp.amounts > rules.most, inp.amounts, 0) if not rules.fluid else None
        self.large_csum = np.zeros(n + 1, dtype=np.int64)
        if large is not None:
            np.cumsum(large, out=self.large_csum[1:])
        self.timeline = {
            name: np.zeros(nh, dtype=np.int64)
            for name in ("served", "reserve", "drawn", "rate_limited", "blocked", "waiting")
        }
        self.ever_limited = np.zeros(n, dtype=np.bool_)
        self.columns: dict[str, Int64Array] = {}
        if record:
            for name in ("waived", "rate_limited", "blocked", "unserved", "from_reserve"):
                self.columns[name] = np.zeros(n, dtype=np.int64)
            self.reason = np.zeros(n, dtype=np.int8)
        self.segments: list[tuple[int, Int64Array | None, Int64Array, int, int]] = []
        """Service in serve order: ``(period, events, amounts, lo, hi)``; ``events`` None
        means events ``lo..hi`` served whole."""
        self.alerts: list[BudgetAlert] = []

    # -- held work -----------------------------------------------------------------------

    def release(self, b: int) -> None:
        """Budget ``b``'s held work comes back, before the hour's own work."""
        if self.held[b]:
            self.waiting = self.waiting.merged(self.held[b])
            self.held[b] = []

    def release_all(self) -> None:
        """A new period: every queue budget's held work comes back."""
        parts = [w for pieces in self.held for w in pieces]
        if parts:
            self.waiting = self.waiting.merged(parts)
            self.held = [[] for _ in self.held]

    # -- quiet hours ---------------------------------------------------------------------

    def serve_quiet(
        self,
        tally: PeriodTally,
        h: int,
        f: int,
        demand: Int64Array,
        levels: Int64Array,
        large: Int64Array,
        k: int,
    ) -> None:
        """Book hours ``h .. h+f-1``: every event served whole (too-large ones blocked)."""
        inp, rules = self.inp, self.rules
        drawn = np.maximum(demand - rules.limit, 0)
        tl = self.timeline
        tl["served"][h : h + f] = demand
        tl["drawn"][h : h + f] = drawn
        tl["reserve"][h : h + f] = levels
        total = int(demand.sum())
        self.level = int(levels[-1])
        self.consumed += total
        self.credits -= total
        micro = tally.micro
        micro["consumed"] += total
        micro["reserve_drawn"] += int(drawn.sum())
        lo, hi = int(inp.lo[h]), int(inp.hi[h + f - 1])
        for b, bc in enumerate(inp.budget_csum):
            self.budgets.spend[b] += int(bc[hi] - bc[lo])
        blocked = int(large.sum())
        idx = np.arange(lo, hi, dtype=np.int64) if blocked else None
        if idx is not None:
            tl["blocked"][h : h + f] = large
            micro["blocked_ccu"] += blocked
            big = inp.amounts[lo:hi] > rules.most
            if self.record:
                self.columns["blocked"][idx[big]] = inp.amounts[lo:hi][big]
                self.reason[idx[big]] = 2
            idx = idx[~big]
        if self.record:
            if blocked:
                self.segments.append((k, idx, inp.amounts[idx], lo, hi))
            elif hi > lo:
                self.segments.append((k, None, inp.amounts[lo:hi], lo, hi))
            for j in np.flatnonzero(drawn).tolist():
                a, z = int(inp.lo[h + j]), int(inp.hi[h + j])
                pieces = inp.amounts[a:z]
                if not rules.fluid:
                    pieces = np.where(pieces > rules.most, 0, pieces)
                self._draws(np.arange(a, z, dtype=np.int64), pieces)

    def _draws(self, idx: Int64Array, served: Int64Array) -> None:
        """What each piece served in one hour (in order) took from the reserve."""
        limit = self.rules.limit
        after = np.cumsum(served)
        took = np.maximum(after - limit, 0) - np.maximum(after - served - limit, 0)
        np.add.at(self.columns["from_reserve"], idx, took)

    # -- the end -------------------------------------------------------------------------

    def finish(self, last: PeriodTally) -> None:
        """Work still waiting or held at the end is unserved (in the last period)."""
        micro = last.micro
        parts: list[tuple[Waiting, int]] = [(self.waiting, RL)]
        parts += [(w, QUEUED) for pieces in self.held for w in pieces]
        for w, reason in parts:
            if not len(w):
                continue
            micro["unserved_ccu"] += w.total
            if self.record:
                np.add.at(self.columns["unserved"], w.idx, w.amount)
                self.reason[w.idx] = reason

    def split_pieces(self) -> dict[str, Int64Array]:
        """Served, from rollover / grant / overage / reserve, per event.

        Service in serve order is a list of segments (a range of events served whole
        in a quiet stretch, or the pieces of one busy hour), each in one period. Within
        a period the credits pay rollover first, then the grant, then overage, so only
        the segments that reach rollover or overage need a per-piece split.
        """
        n = len(self.inp.amounts)
        served = np.zeros(n, dtype=np.int64)
        add = np.add.at if self.rules.fluid else _add
        for _, idx, amt, lo, hi in self.segments:
            if idx is None:
                served[lo:hi] = amt
            else:
                add(served, idx, amt)
        out = {name: np.zeros(n, dtype=np.int64) for name in ("from_rollover", "from_overage")}
        grant = served.copy()
        out["served"] = served
        out["from_reserve"] = self.columns["from_reserve"]
        k_now, c = -1, 0
        for k, idx, amt, lo, hi in self.segments:
            if k != k_now:
                k_now, c = k, 0
                rollover, grant_in = self.period_credits[k]
            total = int(amt.sum())
            start, c = c, c + total
            if rollover <= start and c <= rollover + grant_in:
                continue  # all from the grant
            if start >= rollover + grant_in:  # all overage
                r, o = np.zeros_like(amt), amt
            elif c <= rollover:  # all from rollover
                r, o = amt, np.zeros_like(amt)
            else:
                before = start + np.cumsum(amt) - amt
                r, _, o = split_by_credits(amt, before, rollover, grant_in)
            for name, values in (("from_rollover", r), ("from_overage", o)):
                if idx is None:
                    out[name][lo:hi] += values
                else:
                    add(out[name], idx, values)
            if idx is None:
                grant[lo:hi] -= r + o
            else:
                add(grant, idx, -(r + o))
        out["from_grant"] = grant
        return out


def _add(column: Int64Array, idx: Int64Array, values: Int64Array) -> None:
    column[idx] += values  # request mode: an event is served whole, once


def busy_hour(book: HourBook, tally: PeriodTally, h: int, k: int) -> None:
    """Decide and book busy hour ``h`` (in period ``k``)."""
    inp, rules, budgets = book.inp, book.rules, book.budgets
    lo, hi = int(inp.lo[h]), int(inp.hi[h])
    w = book.waiting
    nw = len(w)
    idx = np.concatenate((w.idx, np.arange(lo, hi, dtype=np.int64)))
    amount = np.concatenate((w.amount, inp.amounts[lo:hi]))
    counted = np.concatenate((w.counted, np.zeros(hi - lo, dtype=np.bool_)))
    hour_us = inp.start_us + h * HOUR_US
    at_us = np.concatenate((np.full(nw, hour_us, dtype=np.int64), inp.ts[lo:hi]))
    limiting = [b for b, kb in enumerate(budgets.budgets) if kb.limiting]
    masks = [budgets.budgets[b].mask[idx] for b in limiting]
    queue = [budgets.budgets[b].control is Control.QUEUE for b in limiting]
    credits = None if rules.overage else book.credits
    rate0 = rules.limit + book.level
    rooms0 = [budgets.room(b) for b in limiting]
    waived = None
    if _may_waive(book, idx, amount, nw):
        waived = np.zeros(len(idx), dtype=np.int64)
        amount = amount.copy()
        served = _piece_by_piece(book, idx, amount, waived, nw, limiting, masks, queue)
    else:
        rooms = HourRooms(rate0, credits, list(rooms0), masks, queue)
        served = serve_hour(rules, amount, rooms)
    before = np.cumsum(served) - served
    budget_visit = []
    for j, mask in enumerate(masks):
        mine = np.where(mask, served, 0)
        budget_visit.append(rooms0[j] - (np.cumsum(mine) - mine))
    dec = decide(
        rules,
        amount,
        rate0 - before,
        None if credits is None else credits - before,
        budget_visit,
        masks,
        queue,
    )
    assert np.array_equal(dec.served, served), "the rounds and the order of checks disagree"
    _book(book, tally, h, k, idx, amount, counted, at_us, dec, limiting, waived)


def _may_waive(book: HourBook, idx: Int64Array, amount: Int64Array, nw: int) -> bool:
    """True when a degraded budget might waive a new event's sandbox part this hour."""
    sandbox = book.inp.sandbox
    budgets = book.budgets
    if sandbox is None:
        return False
    for b, kb in enumerate(budgets.budgets):
        if kb.control is not Control.DEGRADED:
            continue
        mask = kb.mask[idx]
        if budgets.spend[b] + int(amount[mask].sum()) <= budgets.limit(b):
            continue
        if bool((sandbox[idx[nw:]][mask[nw:]] > 0).any()):
            return True
    return False


def _piece_by_piece(
    book: HourBook,
    idx: Int64Array,
    amount: Int64Array,
    waived: Int64Array,
    nw: int,
    limiting: list[int],
    masks: list[BoolArray],
    queue: list[bool],
) -> Int64Array:
    """An hour where a degraded budget may waive sandbox parts: one piece at a time."""
    inp, rules, budgets = book.inp, book.rules, book.budgets
    sandbox = inp.sandbox
    assert sandbox is not None
    spend = list(budgets.spend)
    rate = rules.limit + book.level
    credits = None if rules.overage else book.credits
    served = np.zeros(len(idx), dtype=np.int64)
    degraded = [b for b, kb in enumerate(budgets.budgets) if kb.control is Control.DEGRADED]
    all_masks = [kb.mask[idx] for kb in budgets.budgets]
    for i in range(len(idx)):
        a = int(amount[i])
        if i >= nw:
            sb = int(sandbox[idx[i]])
            for b in degraded:
                if all_masks[b][i] and spend[b] + a > budgets.limit(b):
                    waived[i] = sb
                    a -= sb
                    amount[i] = a
                    break
        rooms = [np.array([max(budgets.limit(b) - spend[b], 0)], dtype=np.int64) for b in limiting]
        one = decide(
            rules,
            amount[i : i + 1],
            np.array([rate], dtype=np.int64),
            None if credits is None else np.array([credits], dtype=np.int64),
            rooms,
            [m[i : i + 1] for m in masks],
            queue,
        )
        s = int(one.served[0])
        if s:
            served[i] = s
            rate -= s
            if credits is not None:
                credits -= s
            for b in range(len(spend)):
                if all_masks[b][i]:
                    spend[b] += s
    return served


def _book(
    book: HourBook,
    tally: PeriodTally,
    h: int,
    k: int,
    idx: Int64Array,
    amount: Int64Array,
    counted: BoolArray,
    at_us: Int64Array,
    dec: Decision,
    limiting: list[int],
    waived: Int64Array | None,
) -> None:
    rules, inp, budgets = book.rules, book.inp, book.budgets
    tl = book.timeline
    micro = tally.micro
    record = book.record
    served = dec.served
    s = int(served.sum())
    drawn = max(s - rules.limit, 0)
    book.level -= drawn
    book.consumed += s
    book.credits -= s
    micro["consumed"] += s
    micro["reserve_drawn"] += drawn
    got = served > 0
    if s:
        if record:
            sel = np.flatnonzero(got)
            book.segments.append((k, idx[sel], served[sel], 0, 0))
            if drawn:
                book._draws(idx[sel], served[sel])
        raised: list[tuple[int, int, BudgetAlert]] = []
        period_start = inp.periods[k].start
        for b, kb in enumerate(budgets.budgets):
            pos = np.flatnonzero(got & kb.mask[idx])
            if len(pos):
                for j, bb, alert in budgets.record(b, served[pos], at_us[pos], period_start):
                    raised.append((int(pos[j]), bb, alert))
        raised.sort(key=lambda x: (x[0], x[1]))
        book.alerts.extend(a for _, _, a in raised)
    # first refusals by the rate limit
    limited = dec.rate_limited
    if limited.any():
        first = (limited > 0) & ~counted
        rl = int(limited[first].sum())
        if rl:
            micro["rate_limited_ccu"] += rl
            tl["rate_limited"][h] += rl
            events = idx[first]  # nondecreasing: pieces are in original order
            seen = book.ever_limited[events]
            distinct = np.ones(len(events), dtype=np.bool_)
            distinct[1:] = events[1:] != events[:-1]
            tally.rate_limited_events += int((distinct & ~seen).sum())
            book.ever_limited[events] = True
            if record:
                np.add.at(book.columns["rate_limited"], events, limited[first])
    blocked = dec.blocked
    b_total = int(blocked.sum())
    if b_total:
        micro["blocked_ccu"] += b_total
        tl["blocked"][h] += b_total
        if record:
            np.add.at(book.columns["blocked"], idx, blocked)
    base = h * _STAMP
    keep = np.flatnonzero(limited > 0)
    if rules.defer:
        book.waiting = Waiting(
            idx[keep], limited[keep], base + 2 * keep, np.ones(len(keep), dtype=np.bool_)
        )
    else:
        book.waiting = Waiting()
        dropped = int(limited.sum())
        if dropped:
            micro["unserved_ccu"] += dropped
            if record:
                np.add.at(book.columns["unserved"], idx[keep], limited[keep])
    if dec.queued.any():
        for j, b in enumerate(limiting):
            pos = np.flatnonzero((dec.queued > 0) & (dec.binding == j))
            if len(pos):
                book.held[b].append(
                    Waiting(idx[pos], dec.queued[pos], base + 2 * pos + 1, counted[pos])
                )
    if record:
        if waived is not None and waived.any():
            np.add.at(book.columns["waived"], idx, waived)
        why = np.flatnonzero(dec.reason > 0)
        book.reason[idx[why]] = dec.reason[why]
    book.level = close_hour(rules, book.level, book.recent, s)
    tl["served"][h] = s
    tl["drawn"][h] = drawn
    tl["reserve"][h] = book.level
    tl["waiting"][h] = book.waiting.total
