"""The rollover ledgers of many lanes at once: credits per period, settled at each period end.

Theory of operation (docs/engine.md, "Organisation sweeps"): the rules are those of
:class:`~codex_credits.core.kernel.ledger.LaneLedger`, restated over a lane axis.
Every lane of a sweep shares the billing periods (one anchor), so a period end is
one step for all lanes. Each lane's rollover blocks are a row of a small matrix
(amount left, expiry in epoch microseconds), kept sorted soonest expiry first
(creation order breaks ties); a period's consumption ``c`` draws
``min(c, rollover_in)`` from the blocks in that order, then the grant, then
overage; blocks whose expiry is at or before the period end lapse; what is left of
the grant rolls over (truncated at the lane's cap) into a block expiring
``rollover_periods`` periods later; the next grant opens. The period end's draw,
lapse and rollover are :func:`settle`, which the Monte Carlo paths' period close
(:func:`~codex_credits.core.forecast.pathengine.close_period`) calls too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import AccountState
from codex_credits.core.kernel.ledger import LaneLedger, epoch_us
from codex_credits.core.kernel.rules import Int64Array
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.units import to_micro

__all__ = ["LaneLedgers", "settle"]

_NEVER = np.iinfo(np.int64).max


class LaneLedgers:
    """Rollover blocks and the grant of every lane, in micro-CCU (see the module docs)."""

    def __init__(self, states: Sequence[AccountState]) -> None:
        once: dict[int, LaneLedger] = {}  # lanes often share an opening state
        opened = [once.get(id(s)) or once.setdefault(id(s), LaneLedger(s, False)) for s in states]
        n = len(opened)
        width = max((len(lg.blocks) for lg in opened), default=0)
        self.left = np.zeros((n, width), dtype=np.int64)
        self.expires = np.full((n, width), _NEVER, dtype=np.int64)
        for i, lg in enumerate(opened):  # already soonest expiry first, then by id
            for j, block in enumerate(lg.blocks):
                self.expires[i, j], self.left[i, j] = block[2], block[4]
        self.pool = np.array([lg.pool for lg in opened], dtype=np.int64)
        self.grant_in = np.array([lg.grant_in for lg in opened], dtype=np.int64)
        self.rollover_in = self.left.sum(axis=1)
        plans = [s.plan for s in states]
        self.cap = np.array([to_micro(p.rollover_cap) for p in plans], dtype=np.int64)
        self.plans = plans

    @property
    def credits_in(self) -> Int64Array:
        """Rollover plus grant at the start of the open period, per lane."""
        result: Int64Array = self.rollover_in + self.grant_in
        return result

    def close_period(
        self, period: BillingPeriod, consumed: Int64Array
    ) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array, Int64Array]:
        """Settle ``period`` on every lane and open the next.

        Returns ``(from rollover, from grant, overage, expired, rollover balance)``.
        """
        end_us = epoch_us(period.end)
        periods = np.array([p.rollover_periods for p in self.plans], dtype=np.int64)
        left, r, g, expired, rolled = settle(
            self.left, self.expires <= end_us, consumed, self.grant_in, self.cap, periods > 0
        )
        o = consumed - r - g
        expires = np.where(self.expires <= end_us, _NEVER, self.expires)
        new_expiry = np.full(len(rolled), _NEVER, dtype=np.int64)
        for n in set(periods.tolist()) - {0}:
            mine = periods == n
            expiry = self.plans[int(np.argmax(mine))].rollover_expiry(period)
            assert expiry is not None
            new_expiry[mine] = epoch_us(expiry)
        left = np.concatenate((left, rolled[:, np.newaxis]), axis=1)
        expires = np.concatenate((expires, new_expiry[:, np.newaxis]), axis=1)
        expires = np.where(left > 0, expires, _NEVER)
        order = np.argsort(expires, axis=1, kind="stable")
        left = np.take_along_axis(left, order, axis=1)
        expires = np.take_along_axis(expires, order, axis=1)
        filled = np.flatnonzero((left > 0).any(axis=0))
        used = int(filled[-1]) + 1 if len(filled) else 0
        self.left, self.expires = left[:, :used], expires[:, :used]
        self.grant_in = self.pool.copy()
        self.rollover_in = self.left.sum(axis=1)
        return r, g, o, expired, self.rollover_in


def settle(
    left: Int64Array,
    lapsing: npt.NDArray[np.bool_],
    consumed: Int64Array,
    grant: Int64Array | int,
    cap: Int64Array | int,
    rolls: npt.NDArray[np.bool_] | bool,
) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array, Int64Array]:
    """A period end on every lane: the period's rule of credits, over lanes.

    ``left`` holds each lane's rollover blocks in drawing order (soonest expiry
    first), ``lapsing`` which of them expire at this period end; ``consumed`` (CCU
    served since the blocks and the ``grant`` were counted) draws the blocks, then
    the grant; lapsing blocks expire; what is left of the grant rolls over where
    ``rolls`` holds, up to ``cap`` minus the blocks kept, and the rest expires.

    Returns ``(blocks kept (lapsed ones zero), from rollover, from grant, expired,
    rolled over)``.
    """
    r = np.minimum(consumed, left.sum(axis=1))
    g: Int64Array = np.minimum(consumed - r, grant)
    before = np.cumsum(left, axis=1) - left
    left = left - np.clip(r[:, np.newaxis] - before, 0, left)
    expired: Int64Array = np.where(lapsing, left, 0).sum(axis=1)
    left = np.where(lapsing, 0, left)
    leftover = grant - g
    fits = np.maximum(cap - left.sum(axis=1), 0)
    rolled: Int64Array = np.where(rolls & (leftover > 0), np.minimum(leftover, fits), 0)
    expired += leftover - rolled
    return left, r, g, expired, rolled
