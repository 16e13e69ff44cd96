"""One busy hour of many lanes at once: every lane's pieces as one ragged array.

Theory of operation (docs/engine.md, "Organisation sweeps"). In a busy hour a
lane visits its pieces in order (the work waiting, then the hour's own events)
with the order of checks of :func:`~codex_credits.core.kernel.pieces.decide`
(without budgets): the credits (a tier without overage: a piece larger than
what is left is blocked), then the size (request mode: a piece larger than
``L + C`` is blocked), then the rate limit (request mode: whole or not at all;
fluid mode: the part that fits). Here the pieces of every busy lane are one flat
array, grouped by lane (``seg``, nondecreasing, every lane present), and the hour
is decided for all lanes with segmented cumulative sums.

The credits and the rate-limit room both shrink only by what is served, so a
piece is served whole exactly when it fits ``min(room, credits)`` at its visit.

* Fluid mode: what is served is a prefix of the lane's work, filled up to
  ``min(room, credits)``: one segmented cumulative sum.
* Request mode: rounds, as :func:`~codex_credits.core.kernel.pieces.serve_hour`
  does for one lane. Every candidate is assumed served; the prefix of each lane
  whose running total fits is served; the first piece past it is refused, the
  lanes' rooms shrink, and candidates larger than their lane's room are dropped
  (the refused piece among them) before the next round. Each round refuses one
  piece per lane, so the rounds are few unless a lane alternates refusals and
  fits; past :data:`MAX_ROUNDS` the rest is decided piece by piece.

Once the served pieces are known, every other piece's outcome follows from the
rooms at its visit (what was served before it in its lane).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from codex_credits.core.kernel.fluid import fill
from codex_credits.core.kernel.rules import Int64Array

__all__ = ["MAX_ROUNDS", "Crowd", "decide_crowd", "segment_starts", "segment_sums"]

BoolArray = npt.NDArray[np.bool_]
MAX_ROUNDS = 32


def segment_starts(seg: Int64Array, segments: int = -1) -> Int64Array:
    """Where each run of equal values of a nondecreasing ``seg`` starts.

    ``segments``, when given, is the number of runs (every piece alone: no search).
    """
    if len(seg) == segments or not len(seg):
        return np.arange(len(seg), dtype=np.int64)
    change = np.flatnonzero(seg[1:] != seg[:-1]) + 1
    result: Int64Array = np.concatenate(([0], change)).astype(np.int64)
    return result


def segment_sums(values: Int64Array, starts: Int64Array) -> Int64Array:
    """The sum of every segment (segments start at ``starts``, none empty), exactly,
    along the last axis."""
    if len(starts) == values.shape[-1]:
        return values  # every segment holds one piece
    result: Int64Array = np.add.reduceat(values, starts, axis=-1)
    return result


def _upto(values: Int64Array, starts: Int64Array) -> Int64Array:
    """The sum of the values up to and with each one, within its segment."""
    if len(starts) == len(values):
        return values
    total = np.cumsum(values)
    counts = np.diff(starts, append=len(values))
    result: Int64Array = total - np.repeat(total[starts] - values[starts], counts)
    return result


def _before(values: Int64Array, starts: Int64Array) -> Int64Array:
    """The sum of the values before each one within its segment."""
    result: Int64Array = _upto(values, starts) - values
    return result


class Crowd:
    """Per-piece outcomes of one hour: served, rate limited and blocked (micro-CCU)."""

    def __init__(self, served: Int64Array, limited: Int64Array, blocked: Int64Array) -> None:
        self.served = served
        self.limited = limited
        self.blocked = blocked


def decide_crowd(
    amount: Int64Array,
    seg: Int64Array,
    starts: Int64Array,
    room: Int64Array,
    credits: Int64Array,
    most: Int64Array,
    fluid: bool,
) -> Crowd:
    """Decide the pieces of every busy lane (see the module docs).

    ``room``, ``credits`` and ``most`` are per lane (``credits`` very large on a tier
    with overage); ``seg`` gives each piece's lane, nondecreasing, every lane present,
    and ``starts`` where each lane's pieces start (:func:`segment_starts`).
    """
    fit = np.minimum(room, credits)
    if fluid:
        return Crowd(*fill(amount, _before(amount, starts), fit[seg], credits[seg]))
    single = len(starts) == len(amount)  # one piece per lane: a single comparison
    whole = amount <= fit if single else _serve_whole(amount, seg, starts, fit.copy())
    served = np.where(whole, amount, 0)
    before = _before(served, starts)
    blocked = ~whole & ((amount > credits[seg] - before) | (amount > most[seg]))
    limited = ~whole & ~blocked
    return Crowd(served, np.where(limited, amount, 0), np.where(blocked, amount, 0))


def _serve_whole(
    amount: Int64Array, seg: Int64Array, every: Int64Array, fit: Int64Array
) -> BoolArray:
    """Which pieces request mode serves whole; ``fit`` (room per lane) shrinks.

    ``every``: where each lane's pieces start (the first round's candidates are often
    every piece)."""
    whole = np.zeros(len(amount), dtype=np.bool_)
    cand = np.flatnonzero(amount <= fit[seg])
    rounds = 0
    while len(cand):
        rounds += 1
        if rounds > MAX_ROUNDS:
            _one_by_one(amount, seg, fit, cand, whole)
            break
        a, s = amount[cand], seg[cand]
        starts = every if len(cand) == len(amount) else segment_starts(s)
        within = _upto(a, starts)
        ok = within <= fit[s]
        whole[cand[ok]] = True
        fit[s[starts]] -= np.maximum.reduceat(np.where(ok, within, 0), starts)
        rest = cand[~ok]
        cand = rest[amount[rest] <= fit[seg[rest]]]
    return whole


def _one_by_one(
    amount: Int64Array, seg: Int64Array, fit: Int64Array, cand: Int64Array, whole: BoolArray
) -> None:
    """The rest of an hour with many refusals: piece by piece, in order."""
    room = fit.tolist()
    for i, s, a in zip(cand.tolist(), seg[cand].tolist(), amount[cand].tolist(), strict=True):
        if a <= room[s]:
            whole[i] = True
            room[s] -= a
    fit[:] = room
