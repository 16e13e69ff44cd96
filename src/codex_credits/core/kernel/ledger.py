"""The rollover ledger of one lane: credits per period, settled at each period end.

Theory of operation (docs/engine.md, "The rollover ledger"): within a billing period
no block expires, so a lane only needs the credits left (rollover blocks plus the
grant). Service draws rollover first, then the grant, then overage, so a period's
consumption ``c`` splits as ``min(c, rollover_in)``, then ``min(rest, grant)``, then
overage (:meth:`LaneLedger.close_period`), and a piece's split follows from the
cumulative service before it (:func:`split_by_credits`). At the period end the blocks
are burned soonest expiry first, expiring blocks lapse, what is left of the grant
rolls over (truncated at the cap) and the next grant opens; the ledger's log gets one
entry per kind of movement and period.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import AccountState
from codex_credits.core.ledger import Block, BlockKind, EntryKind, EntryLog, Ledger, LedgerEntry
from codex_credits.core.periods import BillingPeriod, period_at
from codex_credits.core.statement import EPOCH
from codex_credits.core.units import from_micro, to_micro

__all__ = ["LaneLedger", "epoch_us", "split_by_credits"]

Int64Array = npt.NDArray[np.int64]


def epoch_us(at: datetime) -> int:
    """``at`` in microseconds since the epoch (an aware UTC datetime)."""
    delta = at - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def split_by_credits(
    amount: Int64Array, before: Int64Array, rollover: int, grant: int
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """``(from rollover, from grant, overage)`` of pieces served after ``before`` in a period."""
    after = before + amount
    r = np.minimum(after, rollover) - np.minimum(before, rollover)
    g = np.clip(after - rollover, 0, grant) - np.clip(before - rollover, 0, grant)
    return r, g, amount - r - g


class LaneLedger:
    """Rollover blocks and the grant of one lane, in micro-CCU (see the module docs)."""

    def __init__(self, state: AccountState, keep_log: bool = True) -> None:
        plan = state.plan
        ledger = state.ledger
        self.plan = plan
        self.pool = to_micro(plan.pool)
        self.keep_log = keep_log
        self.blocks: list[list[int]] = []  # [id, created, expires, amount, remaining]
        self.grant_block: Block | None = None
        grant_left = 0
        for block in ledger.blocks:
            if block.kind is BlockKind.ROLLOVER:
                self.blocks.append(
                    [
                        block.id,
                        epoch_us(block.created),
                        epoch_us(block.expires),
                        to_micro(block.amount),
                        to_micro(block.remaining),
                    ]
                )
            else:
                self.grant_block = block
                grant_left += to_micro(block.remaining)
        self.grant_id = self.grant_block.id if self.grant_block else 0
        self.grant_in = grant_left
        self.rollover_in = sum(b[4] for b in self.blocks)
        self.granted = to_micro(ledger.granted)
        self.spent = to_micro(ledger.spent)
        self.expired_total = to_micro(ledger.expired)
        self.overage_total = to_micro(ledger.overage)
        self.next_id = ledger.next_id
        self.log = ledger.log

    @property
    def credits_in(self) -> int:
        """Rollover plus grant at the start of the open period."""
        return self.rollover_in + self.grant_in

    def split(self, consumed: int) -> tuple[int, int, int]:
        """``(from rollover, from grant, overage)`` of a period that consumed ``consumed``."""
        r = min(consumed, self.rollover_in)
        g = min(consumed - r, self.grant_in)
        return r, g, consumed - r - g

    def _entry(self, at: datetime, kind: EntryKind, micro: int, block: int | None) -> None:
        if self.keep_log:
            log: EntryLog = self.log
            self.log = log.append(
                LedgerEntry(
                    seq=len(log) + 1, at=at, kind=kind, amount=from_micro(micro), block=block
                )
            )

    def close_period(self, period: BillingPeriod, consumed: int) -> tuple[int, int]:
        """Settle ``period`` and open the next; returns ``(expired, rollover balance)``."""
        plan = self.plan
        end_us = epoch_us(period.end)
        from_rollover, from_grant, overage = self.split(consumed)
        self.spent += from_rollover + from_grant
        self.overage_total += overage
        if from_rollover:
            self._entry(period.end, EntryKind.SPEND, from_rollover, None)
        if from_grant:
            self._entry(period.end, EntryKind.SPEND, from_grant, self.grant_id)
        if overage:
            self._entry(period.end, EntryKind.OVERAGE, overage, None)
        use = from_rollover
        for block in self.blocks:
            take = min(block[4], use)
            block[4] -= take
            use -= take
        expired = 0
        keep: list[list[int]] = []
        for block in self.blocks:
            if block[2] > end_us:
                keep.append(block)
            elif block[4]:
                expired += block[4]
                self._entry(period.end, EntryKind.EXPIRE, block[4], block[0])
        leftover = self.grant_in - from_grant
        rolled = 0
        expiry = plan.rollover_expiry(period)
        if expiry is not None and leftover > 0:
            balance = sum(b[4] for b in keep)
            rolled = min(leftover, max(to_micro(plan.rollover_cap) - balance, 0))
            if rolled > 0:
                keep.append([self.next_id, end_us, epoch_us(expiry), rolled, rolled])
                self._entry(period.end, EntryKind.ROLLOVER, rolled, self.next_id)
                self.next_id += 1
        if leftover - rolled:
            self._entry(period.end, EntryKind.EXPIRE, leftover - rolled, None)
        expired += leftover - rolled
        self.expired_total += expired
        self.blocks = sorted((b for b in keep if b[4]), key=lambda b: (b[2], b[0]))
        nxt = period_at(plan.anchor, period.index + 1)
        self.grant_id = self.next_id
        self.next_id += 1
        self.grant_block = Block(
            id=self.grant_id,
            kind=BlockKind.GRANT,
            created=nxt.start,
            expires=nxt.end,
            amount=plan.pool,
            remaining=plan.pool,
        )
        self._entry(nxt.start, EntryKind.GRANT, self.pool, self.grant_id)
        self.granted += self.pool
        self.grant_in = self.pool
        self.rollover_in = sum(b[4] for b in self.blocks)
        return expired, self.rollover_in

    def ledger(self) -> Ledger:
        """The ledger after the last close (the next period opened)."""
        blocks = [
            Block(
                id=b[0],
                kind=BlockKind.ROLLOVER,
                created=_dt(b[1]),
                expires=_dt(b[2]),
                amount=from_micro(b[3]),
                remaining=from_micro(b[4]),
            )
            for b in self.blocks
        ]
        assert self.grant_block is not None
        blocks.append(self.grant_block)
        return Ledger(
            blocks=tuple(blocks),
            granted=from_micro(self.granted),
            spent=from_micro(self.spent),
            expired=from_micro(self.expired_total),
            overage=from_micro(self.overage_total),
            next_id=self.next_id,
            log=self.log,
        )
