"""The rollover ledger: blocks of credit with an expiry, spent in a fixed order.

Theory of operation (docs/engine.md, "The rollover ledger"):

* The ledger is append-only: every change is an entry in its log
  (:meth:`Ledger.entries`), and balances only move through :func:`grant`,
  :func:`spend` and :func:`close_period`.
* At each period start the pool is granted as one block expiring at the
  period's end. A starting rollover balance is a rollover block too.
* Spending draws rollover blocks first (soonest expiry first, then the oldest),
  then the current grant, then overage. Overage is tracked apart and never
  makes the balance negative; a tier without overage gets a NO_CREDITS refusal.
* At a period's end, blocks expiring then are expired; what is left of the
  grant becomes a rollover block expiring ``N`` periods later, truncated so the
  rollover balance never exceeds the cap; the truncated part expires. A tier
  without rollover expires the whole leftover.
* Invariant, always: ``granted = spent + expired + balance``.

>>> from datetime import datetime, UTC
>>> t0, t1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
>>> ledger = grant(Ledger(), Decimal(100), at=t0, expires=t1)
>>> ledger, split = spend(ledger, Decimal(130), at=t0, allow_overage=True)
>>> split.from_grant, split.overage, ledger.balance
(Decimal('100'), Decimal('30'), Decimal('0'))
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, final

from pydantic import ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import core_schema

from codex_credits.core.events import Reason, Refusal
from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import ZERO, Ccu

__all__ = [
    "Block",
    "BlockKind",
    "Closing",
    "EntryKind",
    "EntryLog",
    "Ledger",
    "LedgerEntry",
    "SpendSplit",
    "close_period",
    "grant",
    "spend",
]


class BlockKind(StrEnum):
    """A block is a period's grant or credit rolled over from an earlier period."""

    GRANT = "grant"
    ROLLOVER = "rollover"


class EntryKind(StrEnum):
    """Kinds of ledger entries."""

    GRANT = "grant"
    SPEND = "spend"
    OVERAGE = "overage"
    ROLLOVER = "rollover"
    EXPIRE = "expire"


@final
class Block(Frozen):
    """Credit usable until ``expires``; ``remaining`` of the original ``amount`` is left."""

    id: int
    kind: BlockKind
    created: UtcDatetime
    expires: UtcDatetime
    amount: Ccu = Field(ge=0)
    remaining: Ccu = Field(ge=0)


@final
class LedgerEntry(Frozen):
    """One line of the append-only log. ``block`` is None for overage."""

    seq: int
    at: UtcDatetime
    kind: EntryKind
    amount: Ccu
    block: int | None = None


@final
class EntryLog:
    """An immutable, shareable log: appending returns a new log in O(1)."""

    __slots__ = ("_entry", "_prev", "_size")

    def __init__(self, entry: LedgerEntry | None = None, prev: EntryLog | None = None) -> None:
        self._entry = entry
        self._prev = prev
        self._size: int = 0 if entry is None else (len(prev) if prev else 0) + 1

    def append(self, entry: LedgerEntry) -> EntryLog:
        """A new log with ``entry`` at the end."""
        return EntryLog(entry, self if self._size else None)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[LedgerEntry]:
        entries: list[LedgerEntry] = []
        node: EntryLog | None = self
        while node is not None and node._entry is not None:
            entries.append(node._entry)
            node = node._prev
        return reversed(entries)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntryLog):
            return NotImplemented
        if self is other:
            return True
        return self._size == other._size and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EntryLog({self._size} entries)"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.is_instance_schema(cls)


@final
class SpendSplit(Frozen):
    """Where one spend came from."""

    from_rollover: Ccu = ZERO
    from_grant: Ccu = ZERO
    overage: Ccu = ZERO


@final
class Closing(Frozen):
    """What closing a period did: ``expired`` includes the truncated part."""

    expired: Ccu
    rolled_over: Ccu
    truncated: Ccu


@final
class Ledger(Frozen):
    """Live blocks (in burn order) and running totals, plus the entry log."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    blocks: tuple[Block, ...] = ()
    granted: Ccu = ZERO
    spent: Ccu = ZERO
    expired: Ccu = ZERO
    overage: Ccu = ZERO
    next_id: int = 1
    log: EntryLog = Field(default_factory=EntryLog)

    @property
    def balance(self) -> Decimal:
        """Credit left in every live block."""
        return sum((b.remaining for b in self.blocks), ZERO)

    @property
    def rollover_balance(self) -> Decimal:
        """Credit left in rollover blocks."""
        return sum((b.remaining for b in self.blocks if b.kind is BlockKind.ROLLOVER), ZERO)

    def entries(self) -> tuple[LedgerEntry, ...]:
        """The whole log, oldest first (export it with ``[e.model_dump() for e in ...]``)."""
        return tuple(self.log)


def _burn_key(block: Block) -> tuple[int, datetime, int]:
    return (0 if block.kind is BlockKind.ROLLOVER else 1, block.expires, block.id)


def _rebuild(
    ledger: Ledger,
    blocks: list[Block],
    log: EntryLog,
    *,
    granted: Decimal | None = None,
    spent: Decimal | None = None,
    expired: Decimal | None = None,
    overage: Decimal | None = None,
    next_id: int | None = None,
) -> Ledger:
    return Ledger(
        blocks=tuple(sorted(blocks, key=_burn_key)),
        granted=ledger.granted if granted is None else granted,
        spent=ledger.spent if spent is None else spent,
        expired=ledger.expired if expired is None else expired,
        overage=ledger.overage if overage is None else overage,
        next_id=ledger.next_id if next_id is None else next_id,
        log=log,
    )


def grant(
    ledger: Ledger,
    amount: Decimal,
    *,
    at: datetime,
    expires: datetime,
    kind: BlockKind = BlockKind.GRANT,
) -> Ledger:
    """Add a block of ``amount`` usable until ``expires`` (a grant, or opening rollover)."""
    if amount < 0:
        raise ValueError(f"cannot grant a negative amount ({amount})")
    block = Block(
        id=ledger.next_id, kind=kind, created=at, expires=expires, amount=amount, remaining=amount
    )
    entry = LedgerEntry(
        seq=len(ledger.log) + 1, at=at, kind=EntryKind.GRANT, amount=amount, block=block.id
    )
    return _rebuild(
        ledger,
        [*ledger.blocks, block],
        ledger.log.append(entry),
        granted=ledger.granted + amount,
        next_id=ledger.next_id + 1,
    )


def spend(
    ledger: Ledger, amount: Decimal, *, at: datetime, allow_overage: bool
) -> tuple[Ledger, SpendSplit] | Refusal:
    """Spend ``amount`` in burn order; past the balance, bill overage or refuse.

    Returns:
        The new ledger and the split, or a NO_CREDITS :class:`Refusal` when the
        balance is short and overage is not allowed (nothing is spent then).
    """
    if amount < 0:
        raise ValueError(f"cannot spend a negative amount ({amount})")
    balance = ledger.balance
    if amount > balance and not allow_overage:
        return Refusal(
            reason=Reason.NO_CREDITS,
            amount=amount,
            detail=f"{balance} CCU of credit left, {amount} needed, and the tier has no overage",
        )
    left = amount
    blocks: list[Block] = []
    log = ledger.log
    seq = len(log)
    from_rollover = from_grant = ZERO
    for block in ledger.blocks:
        take = min(block.remaining, left)
        if take > 0:
            left -= take
            if block.kind is BlockKind.ROLLOVER:
                from_rollover += take
            else:
                from_grant += take
            seq += 1
            log = log.append(
                LedgerEntry(seq=seq, at=at, kind=EntryKind.SPEND, amount=take, block=block.id)
            )
            block = Block(
                id=block.id,
                kind=block.kind,
                created=block.created,
                expires=block.expires,
                amount=block.amount,
                remaining=block.remaining - take,
            )
        blocks.append(block)
    if left > 0:
        seq += 1
        log = log.append(LedgerEntry(seq=seq, at=at, kind=EntryKind.OVERAGE, amount=left))
    split = SpendSplit(from_rollover=from_rollover, from_grant=from_grant, overage=left)
    new = _rebuild(
        ledger,
        blocks,
        log,
        spent=ledger.spent + from_rollover + from_grant,
        overage=ledger.overage + left,
    )
    return new, split


def close_period(
    ledger: Ledger,
    *,
    at: datetime,
    rollover_expires: datetime | None,
    rollover_cap: Decimal,
) -> tuple[Ledger, Closing]:
    """Close the period ending at ``at``.

    Args:
        ledger: the ledger before the close.
        at: the period's end; blocks expiring at or before it end now.
        rollover_expires: when the grant's leftover, rolled over, expires
            (``None``: the tier has no rollover and the leftover expires).
        rollover_cap: the most the rollover balance may hold after the close.
    """
    log = ledger.log
    seq = len(log)
    keep: list[Block] = []
    leftover = ZERO
    expired = ZERO
    for block in ledger.blocks:
        if block.expires > at:
            keep.append(block)
        elif block.kind is BlockKind.GRANT:
            leftover += block.remaining
        elif block.remaining > 0:
            expired += block.remaining
            seq += 1
            log = log.append(
                LedgerEntry(
                    seq=seq, at=at, kind=EntryKind.EXPIRE, amount=block.remaining, block=block.id
                )
            )
    rolled = ZERO
    next_id = ledger.next_id
    if rollover_expires is not None and leftover > 0:
        balance = sum((b.remaining for b in keep if b.kind is BlockKind.ROLLOVER), ZERO)
        rolled = min(leftover, max(rollover_cap - balance, ZERO))
        if rolled > 0:
            block = Block(
                id=next_id,
                kind=BlockKind.ROLLOVER,
                created=at,
                expires=rollover_expires,
                amount=rolled,
                remaining=rolled,
            )
            next_id += 1
            keep.append(block)
            seq += 1
            log = log.append(
                LedgerEntry(seq=seq, at=at, kind=EntryKind.ROLLOVER, amount=rolled, block=block.id)
            )
    truncated = leftover - rolled
    if truncated > 0:
        seq += 1
        log = log.append(LedgerEntry(seq=seq, at=at, kind=EntryKind.EXPIRE, amount=truncated))
    expired += truncated
    keep = [b for b in keep if b.remaining > 0]
    new = _rebuild(ledger, keep, log, expired=ledger.expired + expired, next_id=next_id)
    return new, Closing(expired=expired, rolled_over=rolled, truncated=leftover - rolled)
