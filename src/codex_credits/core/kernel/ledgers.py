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
``rollover_periods`` periods later; the next grant opens.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from codex_credits.core.account import AccountState
from codex_credits.core.kernel.ledger import LaneLedger, epoch_us
from codex_credits.core.kernel.rules import Int64Array
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.units import to_micro

__all__ = ["LaneLedgers"]

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
        r = np.minimum(consumed, self.rollover_in)
        g = np.minimum(consumed - r, self.grant_in)
        o = consumed - r - g
        left = self.left
        before = np.cumsum(left, axis=1) - left
        left = left - np.clip(r[:, np.newaxis] - before, 0, left)
        lapsing = self.expires <= end_us
        expired = np.where(lapsing, left, 0).sum(axis=1)
        left = np.where(lapsing, 0, left)
        expires = np.where(lapsing, _NEVER, self.expires)
        leftover = self.grant_in - g
        rolled = np.zeros_like(leftover)
        new_expiry = np.full(len(leftover), _NEVER, dtype=np.int64)
        for periods in {p.rollover_periods for p in self.plans}:
            if not periods:
                continue
            mine = np.array([p.rollover_periods == periods for p in self.plans])
            expiry = self.plans[int(np.argmax(mine))].rollover_expiry(period)
            assert expiry is not None
            balance = left.sum(axis=1)
            fits = np.maximum(self.cap - balance, 0)
            rolled = np.where(mine & (leftover > 0), np.minimum(leftover, fits), rolled)
            new_expiry[mine] = epoch_us(expiry)
        expired += leftover - rolled
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
