"""One lane through every hour: quiet stretches at once, busy hours by rounds.

Theory of operation (docs/engine.md, "The kernel"). A lane walks the hours of its
simulation. From an hour with no work waiting, it looks ahead over a stretch of
hours (doubling while they stay quiet, never past a period end, an override or the
start of a budget's own window) and decides them together: with every event served
whole, the reserve's levels are a clamped cumulative sum
(:func:`~codex_credits.core.kernel.rules.levels_after`), the credits and every
budget's spend are cumulative sums, and the stretch is quiet up to
the first hour where an hour's demand passes ``L`` plus the reserve at its start, the
credits run short (a tier without overage), a budget would refuse or waive, or an
alert threshold is reached. Events too large for any hour are blocked in bulk there
when nothing else could refuse them. Every other hour is a busy hour:
:mod:`~codex_credits.core.kernel.pieces` decides its pieces (the work waiting, then
the hour's own events) in rounds, and :mod:`~codex_credits.core.kernel.hour` books
the outcome. Work waiting is kept as arrays in original order (with a creation
stamp that orders two pieces of one event as the reference does); new work is
appended; work a queue budget held is merged back at a period start or an override.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from codex_credits.core.account import AccountState
from codex_credits.core.budgets import Control
from codex_credits.core.kernel.budgets import BudgetBook, KernelBudget
from codex_credits.core.kernel.busy import busy_hour
from codex_credits.core.kernel.hour import HourBook, near_limit
from codex_credits.core.kernel.ledger import LaneLedger
from codex_credits.core.kernel.rules import Int64Array, LaneRules, levels_after
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.statement import PeriodTally
from codex_credits.core.units import to_micro

__all__ = ["HOUR_US", "LaneInput", "LaneResult", "run_lane"]

HOUR_US = 3_600_000_000
_FIRST_SPAN = 16


@dataclass
class LaneInput:
    """The events of a lane, cut into hours, with everything lanes over them share."""

    amounts: Int64Array
    sandbox: Int64Array | None
    ts: Int64Array
    start_us: int
    hours: int
    periods: tuple[BillingPeriod, ...]
    period_first_hour: tuple[int, ...]
    budgets: tuple[KernelBudget, ...] = ()
    overrides: tuple[tuple[int, int, int], ...] = ()
    """``(hour, budget index, micro-CCU)``, by hour; hours before the start are dropped."""
    lo: Int64Array = field(init=False)
    hi: Int64Array = field(init=False)
    csum: Int64Array = field(init=False)
    budget_csum: list[Int64Array] = field(init=False)
    has_sandbox: bool = field(init=False)
    """True when some event has a sandbox part (that a degraded budget may waive)."""
    resets: Int64Array = field(init=False)
    """The hours where a budget's own window (a day, week, sprint, month) begins."""

    def __post_init__(self) -> None:
        self.has_sandbox = self.sandbox is not None and bool(self.sandbox.any())
        edges = self.start_us + np.arange(self.hours + 1, dtype=np.int64) * HOUR_US
        cut = np.searchsorted(self.ts, edges, side="left").astype(np.int64)
        self.lo, self.hi = cut[:-1], cut[1:]
        self.csum = _prefix(self.amounts)
        self.budget_csum = [_prefix(np.where(b.mask, self.amounts, 0)) for b in self.budgets]
        self.resets = np.unique(
            np.concatenate([np.zeros(0, dtype=np.int64), *(b.resets for b in self.budgets)])
        )


def _prefix(values: Int64Array) -> Int64Array:
    out = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=out[1:])
    return out


@dataclass
class LaneResult:
    """What one lane gives: statements' counters, the timeline, outcomes, final figures."""

    tallies: list[PeriodTally]
    book: HourBook
    level: int
    recent: tuple[int, ...]
    ledger: LaneLedger
    budgets: BudgetBook


def run_lane(
    rules: LaneRules,
    inp: LaneInput,
    state: AccountState,
    *,
    record: bool = True,
    keep_log: bool = True,
) -> LaneResult:
    """Run one lane from ``state`` (at the start of ``inp.periods[0]``) over every hour."""
    nh = inp.hours
    ledger = LaneLedger(state, keep_log)
    tallies = [PeriodTally(start=p.start, end=p.end) for p in inp.periods]
    tallies[0].micro["granted"] = ledger.pool
    tallies[0].micro["rollover_in"] = ledger.rollover_in
    budgets = BudgetBook(inp.budgets, state.budgets if inp.budgets else ())
    book = HourBook(rules, inp, budgets, record)
    book.credits = ledger.credits_in
    book.level = to_micro(state.reserve.level)
    book.recent = deque(to_micro(x) for x in state.reserve.recent)
    firsts = inp.period_first_hour
    ends = [*firsts[1:], nh]
    k = 0
    ov = list(inp.overrides)
    ov_i = 0
    span = _FIRST_SPAN
    h = 0
    while h < nh:
        if h == firsts[k] and h > 0:  # a new period: held work comes back
            book.release_all()
        if budgets.budgets:
            budgets.enter_hour(h)
        while ov_i < len(ov) and ov[ov_i][0] == h:
            _, b, micro = ov[ov_i]
            budgets.raise_limit(b, micro)
            book.release(b)
            ov_i += 1
        stop = ends[k]
        if ov_i < len(ov):
            stop = min(stop, ov[ov_i][0])
        r = int(np.searchsorted(inp.resets, h, side="right"))
        if r < len(inp.resets):
            stop = min(stop, int(inp.resets[r]))  # a budget's window starts afresh there
        done = 0
        if not len(book.backlog) and rules.window_hours is None:
            done = _quiet(rules, inp, book, tallies[k], h, min(stop, h + span), k)
            span = min(span * 4, nh) if done == min(stop, h + span) - h else _FIRST_SPAN
        if done == 0:
            busy_hour(book, tallies[k], h, k)
            done = 1
        h += done
        if h == ends[k]:
            _close_period(book, ledger, tallies, k)
            k += 1
    book.finish(tallies[-1])
    return LaneResult(
        tallies=tallies,
        book=book,
        level=book.level,
        recent=tuple(book.recent),
        ledger=ledger,
        budgets=budgets,
    )


def _close_period(book: HourBook, ledger: LaneLedger, tallies: list[PeriodTally], k: int) -> None:
    micro = tallies[k].micro
    r, g, o = ledger.split(book.consumed)
    micro["consumed_from_rollover"], micro["consumed_from_grant"], micro["overage_ccu"] = r, g, o
    book.period_credits.append((ledger.rollover_in, ledger.grant_in))
    expired, rollover_out = ledger.close_period(book.inp.periods[k], book.consumed)
    micro["expired"] = expired
    micro["rollover_out"] = rollover_out
    if k + 1 < len(tallies):
        nxt = tallies[k + 1].micro
        nxt["granted"] = ledger.pool
        nxt["rollover_in"] = rollover_out
    book.consumed = 0
    book.credits = ledger.credits_in


def _quiet(
    rules: LaneRules, inp: LaneInput, book: HourBook, tally: PeriodTally, h: int, e: int, k: int
) -> int:
    """Serve the quiet hours from ``h`` (before ``e``) at once; returns how many."""
    budgets = book.budgets
    if not rules.overage and book.credits <= 0 and not budgets.budgets:
        book.serve_exhausted(
            tally, h, e - h, levels_after(rules, book.level, np.zeros(e - h, dtype=np.int64))
        )
        return e - h  # out of credits: every piece until the period end is blocked
    refusals = _refusals(book, rules, h, e)
    first = int(inp.csum[inp.hi[h]] - inp.csum[inp.lo[h]])
    first -= int(book.large_csum[inp.hi[h]] - book.large_csum[inp.lo[h]])
    if refusals is not None:
        first -= refusals.between(int(inp.lo[h]), int(inp.hi[h]))
    if first > rules.limit + book.level:
        return 0  # the first hour is busy: no need to look further
    lo, hi = inp.lo[h:e], inp.hi[h:e]
    demand = inp.csum[hi] - inp.csum[lo]
    refused = np.zeros(e - h, dtype=np.int64)
    if refusals is not None:
        refused = refusals.per_hour(lo, hi)
        demand = demand - refused
    ok = np.ones(e - h, dtype=np.bool_)
    large = book.large_csum[hi] - book.large_csum[lo]
    if budgets.budgets:
        ok &= large == 0  # a budget might refuse them first: a busy hour decides
    else:
        demand = demand - large  # blocked (too large, or past the credits), nothing changes
    levels = levels_after(rules, book.level, demand)
    start = np.concatenate(([book.level], levels[:-1]))
    ok &= demand <= rules.limit + start
    if not rules.overage:
        ok &= np.cumsum(demand) <= book.credits
    served_in: list[Int64Array] = []
    for b, budget in enumerate(budgets.budgets):
        bc = inp.budget_csum[b]
        mine = bc[hi] - bc[lo]
        if refusals is not None:
            mine = mine - refusals.per_hour(lo, hi, b)
        served_in.append(mine)
        spent = budgets.spend[b] + np.cumsum(mine)
        if budget.limiting or (budget.control is Control.DEGRADED and inp.has_sandbox):
            ok &= spent <= budgets.limit(b)
        if budget.limiting and refusals is not None:
            ok &= spent + refusals.largest_passed(b) <= budgets.limit(b)
        t = budgets.next_threshold(b)
        if t is not None:
            ok &= (spent < t) | (spent == budgets.spend[b])
    f = e - h if bool(ok.all()) else int(np.argmin(ok))
    if f:
        spend = [int(m[:f].sum()) for m in served_in]
        book.serve_quiet(tally, h, f, demand[:f], levels[:f], large[:f], k, spend, refused[:f])
    return f


class _Refusals:
    """Events a hard-stop or queue budget near its limit refuses, over a stretch of hours.

    A limiting budget refuses every piece in its scope larger than its room, before
    anything else is checked, and a refused piece changes nothing else; rooms only
    shrink. So a stretch can still be quiet for the rest of the work: the pieces
    larger than a budget's room at the stretch start are refused, and the stretch's
    checks (every other piece in a budget's scope served within its limit) make sure
    no other piece would be. The budget that refuses a piece is the first listed whose
    room at the stretch start is too small (``binding``); a limiting budget listed
    before it must still have room for the piece at its visit, or it would decide
    instead (:meth:`largest_passed` bounds what that takes).
    """

    def __init__(self, book: HourBook, h: int, e: int, near: list[int]) -> None:
        inp, budgets = book.inp, book.budgets
        lo, hi = int(inp.lo[h]), int(inp.hi[e - 1])
        amounts = inp.amounts[lo:hi]
        binding = np.full(len(amounts), len(inp.budgets), dtype=np.int64)
        for b in near:
            hit = inp.budgets[b].mask[lo:hi] & (amounts > budgets.room(b))
            binding[hit & (binding > b)] = b
        found = np.flatnonzero(binding < len(inp.budgets))
        self.pos = found + lo
        """The refused events (in order), their amounts and the budget refusing each."""
        self.amount = amounts[found]
        self.binding = binding[found]
        self.csum = _prefix(self.amount)
        self.masks = [b.mask for b in inp.budgets]
        self.hour_ends = inp.hi[h:e]

    def __len__(self) -> int:
        return len(self.pos)

    def between(self, lo: int, hi: int) -> int:
        i, j = np.searchsorted(self.pos, (lo, hi))
        return int(self.csum[j] - self.csum[i])

    def per_hour(self, lo: Int64Array, hi: Int64Array, b: int | None = None) -> Int64Array:
        pos, csum = self.pos, self.csum
        if b is not None:
            mine = self.masks[b][pos]
            pos, csum = pos[mine], _prefix(self.amount[mine])
        result: Int64Array = csum[np.searchsorted(pos, hi)] - csum[np.searchsorted(pos, lo)]
        return result

    def largest_passed(self, b: int) -> Int64Array:
        """Per hour, the largest refused piece in budget ``b``'s scope that a budget
        listed after ``b`` refuses: ``b`` must have room for it at its visit."""
        out = np.zeros(len(self.hour_ends), dtype=np.int64)
        sel = self.masks[b][self.pos] & (self.binding > b)
        if sel.any():
            hours = np.searchsorted(self.hour_ends, self.pos[sel], side="right")
            np.maximum.at(out, hours, self.amount[sel])
        return out


def _refusals(book: HourBook, rules: LaneRules, h: int, e: int) -> _Refusals | None:
    """What budgets near their limit refuse in hours ``h..e`` (None: nothing, or a
    degraded budget's waiver might change an amount first)."""
    budgets = book.budgets
    near = [b for b in book.limiting if near_limit(rules, budgets.room(b))]
    if not near:
        return None
    if book.inp.has_sandbox and any(kb.control is Control.DEGRADED for kb in budgets.budgets):
        return None
    refusals = _Refusals(book, h, e, near)
    return refusals if len(refusals) else None
