"""The pieces of a busy hour, for one lane or many at once: the rounds.

Theory of operation (docs/engine.md, "The kernel" and "Organisation sweeps"). In a
busy hour a lane visits its pieces in order (the work waiting, then the hour's own
events) with the order of checks of :func:`~codex_credits.core.kernel.pieces.decide`.
Here the pieces of every busy lane are one flat array, grouped by lane (``seg``,
nondecreasing, every lane present); one lane is the case of a single segment.

Every lane has rooms that only shrink, and only by what is served: ``fit``, the
room that applies to every piece (``min(rate-limit room, credits)``: both shrink by
the same amount), and the room of each limiting budget, which applies to the pieces
in its scope. A piece is served whole exactly when it fits every room that applies
to it at its visit; in fluid mode a piece that does not is served the part that
fits. :func:`serve_rounds` is that rule, written once: every candidate is assumed
served; the prefix of each lane whose running totals fit every room is served; the
first piece past it is decided alone (request mode: refused; fluid mode: the part
that fits), the lanes' rooms shrink, and candidates that can no longer be served (in
request mode larger than a room, in fluid mode under a room at zero or below) are dropped
before the next round. Each round decides one refusal per lane, so the rounds are
few unless a lane alternates refusals and fits; past :data:`MAX_ROUNDS` the rest is
decided piece by piece.

:func:`decide_crowd` is the hour of the organisation sweep (no budgets): fluid mode
serves a prefix of each lane's work (:func:`~codex_credits.core.kernel.fluid.fill`),
request mode runs the rounds; then every other piece's outcome follows from the rooms
at its visit (what was served before it in its lane).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from codex_credits.core.kernel.fluid import fill
from codex_credits.core.kernel.rules import Int64Array

__all__ = [
    "MAX_ROUNDS",
    "ONE_LANE",
    "Crowd",
    "decide_crowd",
    "segment_starts",
    "segment_sums",
    "serve_rounds",
]

BoolArray = npt.NDArray[np.bool_]
MAX_ROUNDS = 48
ONE_LANE = np.zeros(1, dtype=np.int64)
"""``starts`` of one lane: its only segment starts at the first piece."""
_NONE = np.zeros(0, dtype=np.int64)


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
    total: Int64Array = values.cumsum()
    if len(starts) == 1:
        return total
    counts = np.empty_like(starts)  # the length of every segment
    counts[:-1] = starts[1:]
    counts[-1] = len(values)
    counts -= starts
    result: Int64Array = total - (total[starts] - values[starts]).repeat(counts)
    return result


def _before(values: Int64Array, starts: Int64Array) -> Int64Array:
    """The sum of the values before each one within its segment."""
    result: Int64Array = _upto(values, starts) - values
    return result


def _lanes(seg: Int64Array, cand: Int64Array, fit: Int64Array) -> Int64Array:
    """The candidates' lanes (one lane: none needed, an empty array)."""
    result: Int64Array = seg[cand] if len(fit) > 1 else _NONE
    return result


def _at(mask: BoolArray, cand: Int64Array | None) -> BoolArray:
    """The mask of the candidates (None: every piece)."""
    return mask if cand is None else mask[cand]


def _lane(room: Int64Array, s: Int64Array) -> Int64Array:
    """Each piece's lane's room (one lane: the room itself, broadcast)."""
    return room if len(room) == 1 else room[s]


def serve_rounds(
    amount: Int64Array,
    seg: Int64Array,
    starts: Int64Array,
    fit: Int64Array,
    fluid: bool,
    rooms: Sequence[Int64Array] = (),
    masks: Sequence[BoolArray] = (),
) -> Int64Array:
    """What each piece is served (see the module docs); the rooms shrink in place.

    ``fit`` and ``rooms[j]`` are per lane; ``masks[j]`` per piece, the scope of budget
    ``j``; ``seg`` gives each piece's lane and ``starts`` where each lane's pieces start
    (:func:`segment_starts`). Amounts are nonnegative.
    """
    served = np.zeros(len(amount), dtype=np.int64)
    if not len(amount):
        return served
    if not fluid and not rooms and len(starts) == len(amount):
        whole = amount <= _lane(fit, seg)  # one piece per lane: a single comparison
        served[whole] = amount[whole]
        fit[seg] -= served  # one piece per lane
        return served
    hour = _Hour(amount, seg, fit, fluid, rooms, masks, served)
    cand = hour.servable(None)
    prefix = not fluid and not rooms  # what fits is a prefix of each lane's candidates
    one = len(fit) == 1
    rounds = 0
    while len(cand):
        rounds += 1
        if rounds > MAX_ROUNDS:
            hour.one_by_one(cand)
            break
        a = amount[cand]
        s = _NONE if one else seg[cand]
        at = starts if len(cand) == len(amount) else ONE_LANE if one else segment_starts(s)
        within = _upto(a, at)
        ok = within <= _lane(fit, s)
        sums = []
        if rooms:
            for room, mask in zip(rooms, masks, strict=True):
                m = mask[cand]
                c = _upto(np.where(m, a, 0), at)
                ok &= ~m | (c <= _lane(room, s))
                sums.append(c)
        take, first, after = _split(ok, at, prefix)
        served[cand[take]] = a[take]
        lanes = ONE_LANE if one else s[at]
        _shrink(fit, lanes, _taken(within, take, at))
        for room, c in zip(rooms, sums, strict=True):
            _shrink(room, lanes, _taken(c, take, at))
        if fluid and first is not None:
            hour.part(cand[first])
        if after is None:
            break
        cand = hour.servable(cand[after])
    return served


Index = slice | BoolArray | Int64Array


def _split(ok: BoolArray, at: Int64Array, prefix: bool) -> tuple[Index, Index | None, Index | None]:
    """The candidates served whole this round (each lane's up to its first that is
    not), each lane's first that is not, and the candidates after it (None: none).
    ``prefix``: the candidates that fit are already a prefix of each lane's."""
    if len(at) == 1:  # one lane: slices
        k = int(np.argmin(ok))
        if ok[k]:
            return slice(0, len(ok)), None, None
        return slice(0, k), slice(k, k + 1), slice(k + 1, None) if k + 1 < len(ok) else None
    bad = ~ok
    if prefix:  # request mode: the first that does not fit is not served (no part)
        return ok, None, bad
    ahead = _before(bad.astype(np.int64), at)
    take = ahead == 0
    first = np.flatnonzero(take & bad)
    take &= ok
    return take, first, ahead > 0


def _taken(values: Int64Array, take: Index, at: Int64Array) -> Int64Array | int:
    """Per lane, the running total ``values`` at its last candidate taken (0: none)."""
    if isinstance(take, slice):
        k = take.stop
        return int(values[k - 1]) if k else 0
    result: Int64Array = np.maximum.reduceat(np.where(take, values, 0), at)
    return result


def _shrink(room: Int64Array, lanes: Int64Array, by: Int64Array | int) -> None:
    """``room[lanes] -= by`` (one lane: no index)."""
    if len(room) == 1:
        room[0] -= by
    else:
        room[lanes] -= by


class _Hour:
    """The pieces of one hour and their lanes' rooms (see :func:`serve_rounds`)."""

    def __init__(
        self,
        amount: Int64Array,
        seg: Int64Array,
        fit: Int64Array,
        fluid: bool,
        rooms: Sequence[Int64Array],
        masks: Sequence[BoolArray],
        served: Int64Array,
    ) -> None:
        self.amount, self.seg, self.fit, self.fluid = amount, seg, fit, fluid
        self.rooms, self.masks, self.served = rooms, masks, served

    def servable(self, cand: Int64Array | None) -> Int64Array:
        """The candidates (None: every piece) that may still be served with the rooms."""
        if cand is None:
            s, a = self.seg if len(self.fit) > 1 else _NONE, self.amount
        else:
            s, a = _lanes(self.seg, cand, self.fit), self.amount[cand]
        if self.fluid:
            keep = np.ones(len(a), dtype=np.bool_)
            keep &= _lane(self.fit, s) > 0
            for room, mask in zip(self.rooms, self.masks, strict=True):
                keep &= ~_at(mask, cand) | (_lane(room, s) > 0)
        else:
            keep = a <= _lane(self.fit, s)
            for room, mask in zip(self.rooms, self.masks, strict=True):
                keep &= ~_at(mask, cand) | (a <= _lane(room, s))
        result: Int64Array = keep.nonzero()[0] if cand is None else cand[keep]
        return result

    def part(self, first: Int64Array) -> None:
        """Fluid mode: each lane's first piece not served whole gets the part that fits
        (``first``: at most one piece per lane)."""
        s = self.seg[first]
        part = np.minimum(self.amount[first], self.fit[s])
        for room, mask in zip(self.rooms, self.masks, strict=True):
            part = np.where(mask[first], np.minimum(part, room[s]), part)
        part = np.maximum(part, 0)
        self.served[first] = part
        self.fit[s] -= part
        for room, mask in zip(self.rooms, self.masks, strict=True):
            room[s] -= np.where(mask[first], part, 0)

    def one_by_one(self, cand: Int64Array) -> None:
        """The rest of an hour with many refusals: piece by piece, in order."""
        left = self.fit.tolist()
        budget = [room.tolist() for room in self.rooms]
        scope = [mask[cand].tolist() for mask in self.masks]
        pieces = zip(
            cand.tolist(), self.seg[cand].tolist(), self.amount[cand].tolist(), strict=True
        )
        for p, (i, s, a) in enumerate(pieces):
            give = min(a, left[s])
            for j, room in enumerate(budget):
                if scope[j][p]:
                    give = min(give, room[s])
            if give <= 0 or (give < a and not self.fluid):
                continue
            self.served[i] = give
            left[s] -= give
            for j, room in enumerate(budget):
                if scope[j][p]:
                    room[s] -= give
        self.fit[:] = left
        for room, values in zip(self.rooms, budget, strict=True):
            room[:] = values


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
    served = serve_rounds(amount, seg, starts, fit, fluid=False)
    whole = served == amount
    before = _before(served, starts)
    blocked = ~whole & ((amount > credits[seg] - before) | (amount > most[seg]))
    limited = ~whole & ~blocked
    return Crowd(served, np.where(limited, amount, 0), np.where(blocked, amount, 0))
