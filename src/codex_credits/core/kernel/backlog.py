"""The work waiting for a retry, kept so that an hour costs what it serves, not the backlog.

Theory of operation (docs/engine.md, "No cliff"). Waiting pieces stay in one
array in original order; served pieces become holes (amount 0) instead of being
removed, new refusals are appended, and a head index skips the served front. An
hour with a long backlog then serves:

* the front: the pieces that fit, in order, found with a cumulative sum over a
  window from the head that doubles until the room is used up;
* request mode, past the first refusal: again and again "the first waiting piece,
  in original order, no larger than the room left", found with the minimum of
  each block of 256 pieces (a block whose minimum is larger is skipped whole);
  each query costs one pass over the block minima, each served piece one query;
* fluid mode: the first refused piece is served in part, which uses up the room.

Pieces not served stay where they are: nothing is done for them. This holds only
while nothing but the rate limit can refuse a waiting piece, which the caller
checks with upper bounds of the largest waiting piece (of every limiting budget's
scope and overall) against the rooms; otherwise the hour is decided on every piece
(:meth:`Backlog.pieces`, then :meth:`Backlog.replace`). Holes are squeezed out when
they are more than half of the array.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from codex_credits.core.kernel.rules import Int64Array

__all__ = ["FRESH", "PLAIN", "UNCOUNTED", "Backlog"]

BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]
PLAIN, FRESH, UNCOUNTED = 0, 1, 2
"""Waiting piece flags: counted with the rate limit as its event's reason; counted with
another reason (fluid mode); not counted yet (work a queue budget released)."""
_BLOCK = 256
_DEAD = np.iinfo(np.int64).max


class Backlog:
    """Waiting pieces: event index, amount, creation stamp, counted; see the module docs."""

    def __init__(self, masks: list[BoolArray]) -> None:
        self.masks = masks
        empty = np.zeros(0, dtype=np.int64)
        self._reset(empty, empty, empty, np.zeros(0, dtype=np.int8))

    def _reset(
        self, idx: Int64Array, amount: Int64Array, stamp: Int64Array, flag: Int8Array
    ) -> None:
        n = len(idx)
        cap = max(_BLOCK, -(-2 * n // _BLOCK) * _BLOCK)
        self.idx = np.zeros(cap, dtype=np.int64)
        self.amount = np.zeros(cap, dtype=np.int64)
        self.key = np.full(cap, _DEAD, dtype=np.int64)
        self.stamp = np.zeros(cap, dtype=np.int64)
        self.flag = np.zeros(cap, dtype=np.int8)
        self.idx[:n], self.amount[:n], self.stamp[:n], self.flag[:n] = idx, amount, stamp, flag
        self.key[:n] = amount
        self.head, self.end = 0, n
        self.alive = n
        self.total = int(amount.sum())
        self.fresh = int(np.count_nonzero(flag))
        self.largest = int(amount.max()) if n else 0
        self.largest_in = [
            int(amount[m[idx]].max()) if n and m[idx].any() else 0 for m in self.masks
        ]
        self.blockmin = self.key.reshape(-1, _BLOCK).min(axis=1)

    def __len__(self) -> int:
        return self.alive

    def _live(self) -> Int64Array:
        result: Int64Array = np.flatnonzero(self.key[self.head : self.end] != _DEAD) + self.head
        return result

    # -- the slow path --------------------------------------------------------------------

    def pieces(self) -> tuple[Int64Array, Int64Array, Int64Array, BoolArray]:
        """Every waiting piece in order: ``(event, amount, stamp, counted)``."""
        live = self._live()
        return self.idx[live], self.amount[live], self.stamp[live], self.flag[live] != UNCOUNTED

    def replace(
        self, idx: Int64Array, amount: Int64Array, stamp: Int64Array, flag: Int8Array
    ) -> None:
        """Hold exactly these pieces (in order), flagged ``PLAIN``, ``FRESH`` or ``UNCOUNTED``."""
        self._reset(idx, amount, stamp, flag)

    # -- the fast path --------------------------------------------------------------------

    def append(
        self, idx: Int64Array, amount: Int64Array, stamp: Int64Array, flag: Int8Array
    ) -> None:
        """New refusals, after every waiting piece."""
        m = len(idx)
        if not m:
            return
        if self.end + m > len(self.idx) or (self.end - self.head) > 2 * self.alive + _BLOCK:
            live = self._live()
            self._reset(
                np.concatenate((self.idx[live], idx)),
                np.concatenate((self.amount[live], amount)),
                np.concatenate((self.stamp[live], stamp)),
                np.concatenate((self.flag[live], flag)),
            )
            return
        a, z = self.end, self.end + m
        self.idx[a:z], self.amount[a:z], self.key[a:z], self.stamp[a:z] = idx, amount, amount, stamp
        self.flag[a:z] = flag
        self.fresh += int(np.count_nonzero(flag))
        self.end = z
        self.alive += m
        self.total += int(amount.sum())
        self.largest = max(self.largest, int(amount.max()))
        for j, mask in enumerate(self.masks):
            mine = amount[mask[idx]]
            if len(mine):
                self.largest_in[j] = max(self.largest_in[j], int(mine.max()))
        self._refresh(a // _BLOCK, (z - 1) // _BLOCK + 1)

    def refused_again(self) -> tuple[Int64Array, Int64Array, BoolArray]:
        """The flagged pieces still waiting after :meth:`serve`, now plain.

        In an hour where only the rate limit refuses, every piece still waiting was
        refused by it: a piece not counted yet (work a queue budget released) is
        refused for the first time, and every flagged piece's event now shows the
        rate limit as its reason. Returns ``(events, amounts, first refusal)``.
        """
        live = self._live()
        pos = live[self.flag[live] != PLAIN]
        first = self.flag[pos] == UNCOUNTED
        self.flag[pos] = PLAIN
        self.fresh = 0
        return self.idx[pos], self.amount[pos].copy(), first

    def _refresh(self, b0: int, b1: int) -> None:
        self.blockmin[b0:b1] = self.key[b0 * _BLOCK : b1 * _BLOCK].reshape(-1, _BLOCK).min(axis=1)

    def _take(self, pos: Int64Array) -> tuple[Int64Array, Int64Array]:
        """Serve the pieces at ``pos`` whole; returns their events and amounts."""
        idx, amount = self.idx[pos], self.amount[pos].copy()
        self.fresh -= int(np.count_nonzero(self.flag[pos]))
        self.flag[pos] = PLAIN
        self.amount[pos] = 0
        self.key[pos] = _DEAD
        self.alive -= len(pos)
        self.total -= int(amount.sum())
        return idx, amount

    def serve(self, room: int, fluid: bool) -> tuple[Int64Array, Int64Array, Int64Array, int]:
        """Serve what fits in ``room`` (see the module docs).

        Returns ``(events, amounts served, pieces served in part, room left)``; a
        piece served in part (fluid mode) keeps its place with the rest.
        """
        got_idx: list[Int64Array] = []
        got_amt: list[Int64Array] = []
        pos, width = self.head, _BLOCK
        refused = -1
        while pos < self.end:
            stop = min(pos + width, self.end)
            cum = np.cumsum(self.amount[pos:stop])
            j = int(np.searchsorted(cum, room, side="right"))
            live = np.flatnonzero(self.key[pos : pos + j] != _DEAD) + pos
            if len(live):
                i, a = self._take(live)
                got_idx.append(i)
                got_amt.append(a)
            if j:
                room -= int(cum[j - 1])
            if pos + j < stop:
                refused = pos + j
                break
            pos, width = stop, width * 2
        b0 = self.head // _BLOCK
        self.head = refused if refused >= 0 else self.end
        part = np.zeros(0, dtype=np.int64)
        if refused >= 0 and fluid and room > 0:
            got_idx.append(self.idx[refused : refused + 1].copy())
            got_amt.append(np.array([room], dtype=np.int64))
            self.amount[refused] -= room
            self.key[refused] = self.amount[refused]
            self.total -= room
            part = self.idx[refused : refused + 1].copy()
            room = 0
        self._refresh(b0, self.head // _BLOCK + 1)
        if refused >= 0 and not fluid:
            start = refused + 1
            while room > 0:
                p = self._first_at_most(start, room)
                if p < 0:
                    break
                i, a = self._take(np.array([p], dtype=np.int64))
                got_idx.append(i)
                got_amt.append(a)
                room -= int(a[0])
                self._refresh(p // _BLOCK, p // _BLOCK + 1)
                start = p + 1
        if not got_idx:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, part, room
        return np.concatenate(got_idx), np.concatenate(got_amt), part, room

    def _first_at_most(self, start: int, room: int) -> int:
        """The first live piece at or after ``start`` with an amount <= ``room`` (-1: none)."""
        if start >= self.end:
            return -1
        b = start // _BLOCK
        edge = min((b + 1) * _BLOCK, self.end)
        hit = np.flatnonzero(self.key[start:edge] <= room)
        if len(hit):
            return start + int(hit[0])
        last = (self.end - 1) // _BLOCK + 1
        blocks = np.flatnonzero(self.blockmin[b + 1 : last] <= room)
        if not len(blocks):
            return -1
        c = b + 1 + int(blocks[0])
        hit = np.flatnonzero(self.key[c * _BLOCK : (c + 1) * _BLOCK] <= room)
        return c * _BLOCK + int(hit[0])
