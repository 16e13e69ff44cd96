"""One lane's bookkeeping: counters, timeline, per-event columns, waiting and held work.

Theory of operation (docs/engine.md, "The kernel"): :class:`HourBook` is one lane's
mutable state between hours and everything it has booked.
:meth:`HourBook.serve_quiet` books a stretch of quiet hours (every event served
whole); busy hours are booked by :mod:`~codex_credits.core.kernel.busy`. Which
credits paid for each served piece is settled once at the end
(:meth:`HourBook.split_pieces`): within a period, in serve order, rollover first,
then the grant, then overage.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from codex_credits.core.budgets import Control
from codex_credits.core.events import BudgetAlert
from codex_credits.core.kernel.backlog import FRESH, UNCOUNTED, Backlog
from codex_credits.core.kernel.budgets import BudgetBook
from codex_credits.core.kernel.ledger import split_by_credits
from codex_credits.core.kernel.pieces import HARD, NO_CREDITS, QUEUED, RL, TOO_LARGE
from codex_credits.core.kernel.rules import Int64Array, LaneRules
from codex_credits.core.statement import PeriodTally

if TYPE_CHECKING:
    from codex_credits.core.kernel.lane import LaneInput

__all__ = ["HourBook", "Waiting"]

HOUR_US = 3_600_000_000
_STAMP = 1 << 32
BoolArray = npt.NDArray[np.bool_]
STAMP = 1 << 32
"""Creation stamps: ``hour x STAMP + 2 x position in the hour (+1 for held work)``."""


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


def near_limit(rules: LaneRules, room: int) -> bool:
    """True when a limiting budget's room is small enough that its refusals are decided in
    bulk: at most ``L + C`` in request mode (a larger piece is refused whole), zero in
    fluid mode (any smaller room serves part of a piece)."""
    return room <= 0 if rules.fluid else room <= rules.most


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
        self.limiting = [b for b, kb in enumerate(inp.budgets) if kb.limiting]
        self.backlog = Backlog([inp.budgets[b].mask for b in self.limiting])
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

    def waiting(self) -> Waiting:
        """The work waiting for a retry, in order."""
        return Waiting(*self.backlog.pieces())

    def _merge(self, parts: list[Waiting]) -> None:
        w = self.waiting().merged(parts)
        flag = np.where(w.counted, FRESH, UNCOUNTED).astype(np.int8)
        self.backlog.replace(w.idx, w.amount, w.stamp, flag)

    def release(self, b: int) -> None:
        """Budget ``b``'s held work comes back, before the hour's own work."""
        if self.held[b]:
            self._merge(self.held[b])
            self.held[b] = []

    def release_all(self) -> None:
        """A new period: every queue budget's held work comes back."""
        parts = [w for pieces in self.held for w in pieces]
        if parts:
            self._merge(parts)
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
        spend: list[int],
        refused: Int64Array,
    ) -> None:
        """Book hours ``h .. h+f-1``: every event served whole, but those too large and
        those an exhausted budget refuses (``refused`` per hour; ``spend`` what each
        budget's scope was served)."""
        inp, rules = self.inp, self.rules
        drawn = np.maximum(demand - rules.limit, 0)
        tl = self.timeline
        tl["served"][h : h + f] = demand
        tl["drawn"][h : h + f] = drawn
        tl["reserve"][h : h + f] = levels
        total = int(demand.sum())
        credits_before = self.credits
        self.level = int(levels[-1])
        self.consumed += total
        self.credits -= total
        micro = tally.micro
        micro["consumed"] += total
        micro["reserve_drawn"] += int(drawn.sum())
        lo, hi = int(inp.lo[h]), int(inp.hi[h + f - 1])
        blocked = int(large.sum())
        idx = np.arange(lo, hi, dtype=np.int64) if blocked or refused.any() else None
        if refused.any():
            idx = self._refuse(tally, h, f, lo, hi)  # with the rooms of the stretch start
        elif idx is not None:
            tl["blocked"][h : h + f] = large
            micro["blocked_ccu"] += blocked
            big = inp.amounts[lo:hi] > rules.most
            if self.record:
                pos = idx[big]
                self.columns["blocked"][pos] = inp.amounts[pos]
                reason = np.full(len(pos), TOO_LARGE, dtype=np.int8)
                if not rules.overage:  # the credits are checked first
                    before = (inp.csum[pos] - inp.csum[lo]) - (
                        self.large_csum[pos] - self.large_csum[lo]
                    )
                    reason[inp.amounts[pos] > credits_before - before] = NO_CREDITS
                self.reason[pos] = reason
            idx = idx[~big]
        for b, add in enumerate(spend):
            self.budgets.spend[b] += add
        if self.record:
            if idx is not None:
                self.segments.append((k, idx, inp.amounts[idx], lo, hi))
            elif hi > lo:
                self.segments.append((k, None, inp.amounts[lo:hi], lo, hi))
            for j in np.flatnonzero(drawn).tolist():
                a, z = int(inp.lo[h + j]), int(inp.hi[h + j])
                pieces = inp.amounts[a:z]
                if not rules.fluid:
                    pieces = np.where(pieces > rules.most, 0, pieces)
                if idx is not None:
                    pieces = np.where(np.isin(np.arange(a, z), idx), pieces, 0)
                self.draws(np.arange(a, z, dtype=np.int64), pieces)

    def _refuse(self, tally: PeriodTally, h: int, f: int, lo: int, hi: int) -> Int64Array:
        """Book what exhausted budgets refuse in quiet hours; returns the events served."""
        inp, budgets = self.inp, self.budgets
        amounts = inp.amounts[lo:hi]
        binding = np.full(hi - lo, -1, dtype=np.int64)
        for b in self.limiting:
            if near_limit(self.rules, budgets.room(b)):
                hit = inp.budgets[b].mask[lo:hi] & (amounts > budgets.room(b)) & (binding < 0)
                binding[hit] = b
        idx = np.arange(lo, hi, dtype=np.int64)
        hours = np.searchsorted(inp.hi[h : h + f], idx, side="right") + h
        stamps = hours * STAMP + 2 * (idx - inp.lo[hours]) + 1
        hard = np.zeros(hi - lo, dtype=np.bool_)
        for b in set(binding[binding >= 0].tolist()):
            mine = binding == b
            if inp.budgets[b].control is Control.QUEUE:
                sel = np.flatnonzero(mine)
                self.held[b].append(
                    Waiting(idx[sel], amounts[sel], stamps[sel], np.zeros(len(sel), dtype=np.bool_))
                )
                if self.record:
                    self.reason[idx[sel]] = QUEUED
            else:
                hard |= mine
        if hard.any():
            total = int(amounts[hard].sum())
            tally.micro["blocked_ccu"] += total
            np.add.at(self.timeline["blocked"], hours[hard], amounts[hard])
            if self.record:
                self.columns["blocked"][idx[hard]] = amounts[hard]
                self.reason[idx[hard]] = HARD
        result: Int64Array = idx[binding < 0]
        return result

    def serve_exhausted(self, tally: PeriodTally, h: int, f: int, levels: Int64Array) -> None:
        """Book hours ``h .. h+f-1`` of a tier without overage out of credits: all blocked."""
        inp = self.inp
        lo, hi = inp.lo[h : h + f], inp.hi[h : h + f]
        blocked = inp.csum[hi] - inp.csum[lo]
        tl = self.timeline
        tl["reserve"][h : h + f] = levels
        tl["blocked"][h : h + f] = blocked
        self.level = int(levels[-1])
        tally.micro["blocked_ccu"] += int(blocked.sum())
        if self.record:
            a, z = int(lo[0]), int(hi[-1])
            amounts = inp.amounts[a:z]
            self.columns["blocked"][a:z] = amounts
            self.reason[a:z] = np.where(amounts > 0, NO_CREDITS, self.reason[a:z])

    def draws(self, idx: Int64Array, served: Int64Array) -> None:
        """What each piece served in one hour (in order) took from the reserve."""
        limit = self.rules.limit
        after = np.cumsum(served)
        took = np.maximum(after - limit, 0) - np.maximum(after - served - limit, 0)
        np.add.at(self.columns["from_reserve"], idx, took)

    # -- the end -------------------------------------------------------------------------

    def finish(self, last: PeriodTally) -> None:
        """Work still waiting or held at the end is unserved (in the last period)."""
        micro = last.micro
        parts: list[tuple[Waiting, int]] = [(self.waiting(), RL)]
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
