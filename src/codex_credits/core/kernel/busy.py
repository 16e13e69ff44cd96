"""A busy hour of one lane: decide its pieces, book their outcomes, close the hour.

Theory of operation (docs/engine.md, "The kernel" and "No cliff"). The pieces of a
busy hour are the work waiting (in original order), then the hour's own events.
When nothing but the rate limit can refuse a waiting piece (every piece waiting
was counted already, and the largest waiting piece fits every limiting budget's
room and the credits even after the most the hour can serve), the waiting work is
served by :meth:`~codex_credits.core.kernel.backlog.Backlog.serve` without looking
at the pieces that stay, and only the hour's own events go through
:func:`~codex_credits.core.kernel.pieces.serve_hour` and
:func:`~codex_credits.core.kernel.pieces.decide`. Otherwise every piece does.
Booking: service (the reserve drawn past ``L``), budget spend and alerts, first
refusals by the rate limit (once per piece of work, once per event), blocked work,
work a queue budget holds, the work left waiting.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from codex_credits.core.budgets import Control
from codex_credits.core.events import BudgetAlert
from codex_credits.core.kernel.backlog import FRESH, PLAIN
from codex_credits.core.kernel.hour import STAMP, HourBook, Waiting
from codex_credits.core.kernel.pieces import RL, HourRooms, decide, serve_hour
from codex_credits.core.kernel.rules import Int64Array, close_hour
from codex_credits.core.statement import PeriodTally

__all__ = ["busy_hour"]

HOUR_US = 3_600_000_000
BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]


def busy_hour(book: HourBook, tally: PeriodTally, h: int, k: int) -> None:
    """Decide, book and close busy hour ``h`` (in period ``k``)."""
    rules, inp = book.rules, book.inp
    backlog = book.backlog
    rate = rules.limit + book.level
    served_idx: list[Int64Array] = []
    served_amt: list[Int64Array] = []
    fast = _only_the_rate_limit(book, rate)
    if fast and len(backlog):
        idx, amt, _, room = backlog.serve(rate, rules.fluid)
        if len(idx):
            _spend(book, tally, k, idx, amt, np.full(len(idx), inp.start_us + h * HOUR_US))
            served_idx.append(idx)
            served_amt.append(amt)
        rate = room
        if backlog.fresh:
            again, amounts, first = backlog.refused_again()
            _first_refusals(book, tally, h, again[first], amounts[first])
            if book.record:
                book.reason[again] = RL
    waiting = Waiting() if fast else book.waiting()
    left, flag, idx, amt = _decide(book, tally, h, k, waiting, rate)
    if fast:
        backlog.append(left.idx, left.amount, left.stamp, flag)
    else:
        backlog.replace(left.idx, left.amount, left.stamp, flag)
    served_idx.append(idx)
    served_amt.append(amt)
    _close(book, tally, h, k, np.concatenate(served_idx), np.concatenate(served_amt))


def _first_refusals(
    book: HourBook, tally: PeriodTally, h: int, idx: Int64Array, amount: Int64Array
) -> None:
    """Book pieces refused by the rate limit for the first time (``idx`` nondecreasing)."""
    rl = int(amount.sum())
    if not rl:
        return
    tally.micro["rate_limited_ccu"] += rl
    book.timeline["rate_limited"][h] += rl
    seen = book.ever_limited[idx]
    distinct = np.ones(len(idx), dtype=np.bool_)
    distinct[1:] = idx[1:] != idx[:-1]
    tally.rate_limited_events += int((distinct & ~seen).sum())
    book.ever_limited[idx] = True
    if book.record:
        np.add.at(book.columns["rate_limited"], idx, amount)


def _only_the_rate_limit(book: HourBook, most: int) -> bool:
    """True when nothing but the rate limit can refuse a waiting piece this hour."""
    backlog, rules, budgets = book.backlog, book.rules, book.budgets
    if not rules.defer:
        return False  # waiting work (released by a queue budget) is dropped when refused
    if rules.fluid and any(budgets.budgets[b].control is Control.QUEUE for b in book.limiting):
        return False  # two pieces of one event could wait at once: keep their order exact
    if not rules.overage and backlog.largest and backlog.largest > book.credits - most:
        return False
    for j, b in enumerate(book.limiting):
        top = backlog.largest_in[j]
        if top and top > budgets.room(b) - most:
            return False
    return True


def _spend(
    book: HourBook, tally: PeriodTally, k: int, idx: Int64Array, amt: Int64Array, at_us: Int64Array
) -> None:
    """Book served pieces (in serve order): consumption, credits, budget spend and alerts."""
    s = int(amt.sum())
    book.consumed += s
    book.credits -= s
    tally.micro["consumed"] += s
    budgets = book.budgets
    if not budgets.budgets:
        return
    raised: list[tuple[int, int, BudgetAlert]] = []
    period_start = book.inp.periods[k].start
    for b, kb in enumerate(budgets.budgets):
        mine = kb.mask[idx]
        t = budgets.next_threshold(b)
        if t is None or budgets.spend[b] + int(amt[mine].sum()) < t:
            budgets.spend[b] += int(amt[mine].sum())  # no alert can fire
            continue
        pos = np.flatnonzero(mine & (amt > 0))
        if len(pos):
            for j, bb, alert in budgets.record(b, amt[pos], at_us[pos], period_start):
                raised.append((int(pos[j]), bb, alert))
    raised.sort(key=lambda x: (x[0], x[1]))
    book.alerts.extend(a for _, _, a in raised)


def _decide(
    book: HourBook, tally: PeriodTally, h: int, k: int, w: Waiting, rate0: int
) -> tuple[Waiting, Int8Array, Int64Array, Int64Array]:
    """Decide ``w``'s pieces, then the hour's own events.

    Returns what waits (and its backlog flags) and what was served, in order.
    """
    inp, rules, budgets = book.inp, book.rules, book.budgets
    lo, hi = int(inp.lo[h]), int(inp.hi[h])
    nw = len(w)
    limiting = book.limiting
    if nw:
        idx = np.concatenate((w.idx, np.arange(lo, hi, dtype=np.int64)))
        amount = np.concatenate((w.amount, inp.amounts[lo:hi]))
        counted = np.concatenate((w.counted, np.zeros(hi - lo, dtype=np.bool_)))
        hour_us = np.full(nw, inp.start_us + h * HOUR_US, dtype=np.int64)
        at_us = np.concatenate((hour_us, inp.ts[lo:hi]))
        masks = [budgets.budgets[b].mask[idx] for b in limiting]
    else:  # only the hour's own events: views, no copies
        idx = np.arange(lo, hi, dtype=np.int64)
        amount = inp.amounts[lo:hi]
        counted = np.zeros(hi - lo, dtype=np.bool_)
        at_us = inp.ts[lo:hi]
        masks = [budgets.budgets[b].mask[lo:hi] for b in limiting]
    add = _add_range(lo, hi) if not nw else np.add.at
    queue = [budgets.budgets[b].control is Control.QUEUE for b in limiting]
    credits = None if rules.overage else book.credits
    rooms0 = [budgets.room(b) for b in limiting]
    waived = None
    if _may_waive(book, idx, amount, nw):
        waived = np.zeros(len(idx), dtype=np.int64)
        amount = amount.copy()
        served = _piece_by_piece(book, idx, amount, waived, nw, rate0, masks, queue)
    else:
        served = serve_hour(rules, amount, HourRooms(rate0, credits, list(rooms0), masks, queue))
    before = np.cumsum(served) - served
    visit = []
    for j, mask in enumerate(masks):
        mine = np.where(mask, served, 0)
        visit.append(rooms0[j] - (np.cumsum(mine) - mine))
    dec = decide(
        rules,
        amount,
        rate0 - before,
        None if credits is None else credits - before,
        visit,
        masks,
        queue,
    )
    assert np.array_equal(dec.served, served), "the rounds and the order of checks disagree"
    got = np.flatnonzero(served > 0)
    if len(got):
        _spend(book, tally, k, idx[got], served[got], at_us[got])
    tl, micro, record = book.timeline, tally.micro, book.record
    limited = dec.rate_limited
    if limited.any():
        first = np.flatnonzero((limited > 0) & ~counted)
        _first_refusals(book, tally, h, idx[first], limited[first])
    blocked = int(dec.blocked.sum())
    if blocked:
        micro["blocked_ccu"] += blocked
        tl["blocked"][h] += blocked
        if record:
            add(book.columns["blocked"], idx, dec.blocked)
    base = h * STAMP
    keep = np.flatnonzero(limited > 0)
    left = Waiting()
    flag = np.zeros(0, dtype=np.int8)
    if rules.defer:
        left = Waiting(
            idx[keep], limited[keep], base + 2 * keep, np.ones(len(keep), dtype=np.bool_)
        )
        flag = np.where(dec.reason[keep] == RL, PLAIN, FRESH).astype(np.int8)
    elif len(keep):
        micro["unserved_ccu"] += int(limited.sum())
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
            add(book.columns["waived"], idx, waived)
        why = np.flatnonzero(dec.reason > 0)
        book.reason[idx[why]] = dec.reason[why]
    return left, flag, idx[got], served[got]


def _add_range(lo: int, hi: int) -> Callable[[Int64Array, Int64Array, Int64Array], None]:
    """``np.add.at`` for pieces that are exactly events ``lo..hi`` (a slice)."""

    def add(column: Int64Array, idx: Int64Array, values: Int64Array) -> None:
        column[lo:hi] += values

    return add


def _close(
    book: HourBook, tally: PeriodTally, h: int, k: int, idx: Int64Array, amt: Int64Array
) -> None:
    """Close hour ``h``: the reserve drawn and accrued, the timeline, the served record."""
    rules = book.rules
    s = int(amt.sum())
    drawn = max(s - rules.limit, 0)
    book.level -= drawn
    tally.micro["reserve_drawn"] += drawn
    if book.record and len(idx):
        book.segments.append((k, idx, amt, 0, 0))
        if drawn:
            book.draws(idx, amt)
    book.level = close_hour(rules, book.level, book.recent, s)
    tl = book.timeline
    tl["served"][h] = s
    tl["drawn"][h] = drawn
    tl["reserve"][h] = book.level
    tl["waiting"][h] = book.backlog.total


def _may_waive(book: HourBook, idx: Int64Array, amount: Int64Array, nw: int) -> bool:
    """True when a degraded budget might waive a new event's sandbox part this hour."""
    sandbox = book.inp.sandbox
    budgets = book.budgets
    if sandbox is None or not book.inp.has_sandbox:
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
    rate: int,
    masks: list[BoolArray],
    queue: list[bool],
) -> Int64Array:
    """An hour where a degraded budget may waive sandbox parts: one piece at a time."""
    rules, budgets = book.rules, book.budgets
    sandbox = book.inp.sandbox
    assert sandbox is not None
    spend = list(budgets.spend)
    credits = None if rules.overage else book.credits
    served = np.zeros(len(idx), dtype=np.int64)
    degraded = [b for b, kb in enumerate(budgets.budgets) if kb.control is Control.DEGRADED]
    all_masks = [kb.mask[idx] for kb in budgets.budgets]
    for i in range(len(idx)):
        a = int(amount[i])
        if i >= nw:
            for b in degraded:
                if all_masks[b][i] and spend[b] + a > budgets.limit(b):
                    waived[i] = int(sandbox[idx[i]])
                    a -= int(waived[i])
                    amount[i] = a
                    break
        rooms = [
            np.array([max(budgets.limit(b) - spend[b], 0)], dtype=np.int64) for b in book.limiting
        ]
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
