"""The batch processor: the account's rules on integer micro-CCU, quiet hours at once.

Theory of operation (docs/engine.md, "How simulate is fast"): the rules are
those of :mod:`codex_credits.core.account`, restated on plain integers.

* Within an hour the rate limit only depends on what the hour has served:
  a request fits when ``S + a <= L + R`` (``R``: the reserve when the hour
  began). So an hour whose whole demand fits, with nothing carried into it,
  no request too large, credits enough (free tier) and no budget reaching a
  limit or an alert threshold, serves every event whole, in order, with no
  per-event work: :meth:`BatchProcessor.try_batch`. Other ("hot") hours are
  decided piece by piece in :meth:`BatchProcessor.attempt`.
* Which credits paid for each piece (rollover, grant, overage) and how much
  came from the reserve follow from cumulative sums of what was served, in
  serve order, within each period and each hour; they are computed once, at
  the end, over all pieces (:meth:`BatchProcessor.finish`).
* Rollover blocks are burned per period in the ledger's order (soonest
  expiry, then oldest), which gives the same blocks as burning per spend.

Property tests replay random traces through this processor and through the
reference (:class:`~codex_credits.core.replay.ReferenceProcessor`) and
require equal results, event for event and period for period.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import AccountState
from codex_credits.core.budgets import BudgetState, Control
from codex_credits.core.events import BudgetAlert, Mode, Reason
from codex_credits.core.ledger import (
    Block,
    BlockKind,
    EntryKind,
    EntryLog,
    Ledger,
    LedgerEntry,
)
from codex_credits.core.periods import period_at
from codex_credits.core.replay import HOUR_US, Attempt, Piece, Setup, _Out
from codex_credits.core.reserve import ReserveState
from codex_credits.core.statement import EPOCH, REASON_CODES, PeriodTally
from codex_credits.core.units import from_micro, quantize_ccu, to_micro

__all__ = ["BatchProcessor"]

_CODE = {reason: code for code, reason in enumerate(REASON_CODES)}
_RL = _CODE[Reason.RATE_LIMITED]
_TOO_LARGE = _CODE[Reason.TOO_LARGE]
_NO_CREDITS = _CODE[Reason.NO_CREDITS]
_HARD = _CODE[Reason.BUDGET_HARD_STOP]
_QUEUED = _CODE[Reason.BUDGET_QUEUED]


def _us(at: datetime) -> int:
    delta = at - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _clamp(
    values: npt.NDArray[np.int64], top: npt.NDArray[np.int64] | int
) -> npt.NDArray[np.int64]:
    result: npt.NDArray[np.int64] = np.minimum(np.maximum(values, 0), top)
    return result


class _Block:
    __slots__ = ("amount", "created", "expires", "id", "remaining")

    def __init__(self, id: int, created: int, expires: int, amount: int, remaining: int) -> None:
        self.id = id
        self.created = created
        self.expires = expires
        self.amount = amount
        self.remaining = remaining


class BatchProcessor:
    """Integer micro-CCU processor with whole-hour batches (see the module docs)."""

    splits = False

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        plan = setup.plan
        limits = plan.limits
        state = setup.state
        self.alerts: list[BudgetAlert] = []
        self.fluid = setup.mode is Mode.FLUID
        self.overage = plan.has_overage
        self.L = to_micro(limits.limit)
        self.C = to_micro(limits.reserve_cap)
        self.T = to_micro(limits.threshold)
        self.most = self.L + self.C
        self.eff_num, self.eff_den = limits.efficiency.as_integer_ratio()
        self.window = limits.window_hours
        self.window_cap = to_micro(limits.window_cap) if limits.window_cap is not None else None
        self.recent: deque[int] = deque(to_micro(x) for x in state.reserve.recent)
        self.level = to_micro(state.reserve.level)
        self.level_start = self.level
        self.S = 0
        self.G = to_micro(plan.pool)
        # ledger
        ledger = state.ledger
        self.blocks: list[_Block] = []
        self.grant_block: Block | None = None
        self.grant_left = 0
        for block in ledger.blocks:
            if block.kind is BlockKind.ROLLOVER:
                self.blocks.append(
                    _Block(
                        block.id,
                        _us(block.created),
                        _us(block.expires),
                        to_micro(block.amount),
                        to_micro(block.remaining),
                    )
                )
            else:
                self.grant_block = block
                self.grant_left += to_micro(block.remaining)
        self.grant_id = self.grant_block.id if self.grant_block else 0
        self.grant_in = self.grant_left
        self.rb_left = sum(b.remaining for b in self.blocks)
        self.rb_in = self.rb_left
        self.granted = to_micro(ledger.granted)
        self.spent = to_micro(ledger.spent)
        self.expired_total = to_micro(ledger.expired)
        self.overage_total = to_micro(ledger.overage)
        self.next_id = ledger.next_id
        self.log = ledger.log
        self.c = 0
        self.period_rollover_in: list[int] = [self.rb_in]
        self.period_split: list[tuple[int, int, int]] = []
        self.drawing_hours: list[int] = []
        # demand per hour
        amounts = setup.amounts
        lo, hi = setup.lo, setup.hi
        csum = np.concatenate(([0], np.cumsum(amounts, dtype=np.int64)))
        self.demand: list[int] = (csum[hi] - csum[lo]).tolist()
        self.too_large: list[int] | None = None
        if not self.fluid:
            big = np.concatenate(([0], np.cumsum(amounts > self.most, dtype=np.int64)))
            self.too_large = (big[hi] - big[lo]).tolist()
        # budgets
        budgets = setup.budgets
        self.nb = len(budgets)
        self.names = [b.name for b in budgets]
        self.controls = [b.control for b in budgets]
        self.fractions = [b.alert_at for b in budgets]
        self.base_limit = [to_micro(b.amount) for b in budgets]
        self.limit = list(self.base_limit)
        self.extra = [0] * self.nb
        self.spend = [0] * self.nb
        self.fired: list[set[Decimal]] = [set() for _ in budgets]
        self.next_threshold: list[int | None] = [self._next(b) for b in range(self.nb)]
        self.match = setup.matches
        self.degraded = [b for b in range(self.nb) if self.controls[b] is Control.DEGRADED]
        self.limiting = [
            b for b in range(self.nb) if self.controls[b] in (Control.HARD_STOP, Control.QUEUE)
        ]
        self.budget_demand: list[list[int]] = []
        for mask in setup.matches:
            masked = np.concatenate(([0], np.cumsum(np.where(mask, amounts, 0), dtype=np.int64)))
            self.budget_demand.append((masked[hi] - masked[lo]).tolist())

    # -- budgets -----------------------------------------------------------------------------

    def _threshold(self, b: int, fraction: Decimal) -> int:
        return to_micro(quantize_ccu(fraction * from_micro(self.limit[b])))

    def _next(self, b: int) -> int | None:
        for fraction in self.fractions[b]:
            if fraction not in self.fired[b]:
                return self._threshold(b, fraction)
        return None

    def _record_spend(self, idx: int, served: int, at_us: int) -> None:
        for b in range(self.nb):
            if not self.match[b][idx]:
                continue
            self.spend[b] += served
            nt = self.next_threshold[b]
            if nt is None or self.spend[b] < nt:
                continue
            for fraction in self.fractions[b]:
                if fraction not in self.fired[b] and self.spend[b] >= self._threshold(b, fraction):
                    self.fired[b].add(fraction)
                    self.alerts.append(
                        BudgetAlert(
                            budget=self.names[b],
                            threshold=fraction,
                            at=_dt(at_us),
                            spend=from_micro(self.spend[b]),
                            amount=from_micro(self.limit[b]),
                            period_start=self.setup.periods[len(self.period_split)].start,
                        )
                    )
            self.next_threshold[b] = self._next(b)

    def override(self, j: int) -> None:
        override = self.setup.overrides[j]
        b = self.names.index(override.budget)
        self.extra[b] += to_micro(override.amount)
        self.limit[b] = self.base_limit[b] + self.extra[b]
        self.next_threshold[b] = self._next(b)

    # -- pieces ------------------------------------------------------------------------------

    def attempt(self, idx: int, amount: int, sandbox: int, at_us: int) -> Attempt:
        waived = rate_limited = blocked = queued = 0
        reason = 0
        queue_budget = -1
        fit = amount
        if self.nb:
            for b in self.degraded:
                if self.match[b][idx] and self.spend[b] + amount > self.limit[b]:
                    waived = sandbox
                    break
            amount -= waived
            fit = amount
            binding = -1
            for b in self.limiting:
                if self.match[b][idx]:
                    room = self.limit[b] - self.spend[b]
                    if room < 0:
                        room = 0
                    allowed = amount if amount <= room else (room if self.fluid else 0)
                    if allowed < fit:
                        fit = allowed
                        binding = b
            if fit < amount:
                if self.controls[binding] is Control.QUEUE:
                    queued, reason, queue_budget = amount - fit, _QUEUED, binding
                else:
                    blocked, reason = amount - fit, _HARD
        payable = fit
        if not self.overage:
            balance = self.rb_left + self.grant_left
            if payable > balance:
                payable = balance if self.fluid else 0
                blocked += fit - payable
                reason = reason or _NO_CREDITS
        served = 0
        if payable > 0:
            if not self.fluid and payable > self.most:
                blocked += payable
                reason = reason or _TOO_LARGE
            else:
                room = self.L + self.level_start - self.S
                if payable <= room:
                    served = payable
                elif self.fluid and room > 0:
                    served = room
                    rate_limited += payable - room
                    reason = reason or _RL
                else:
                    rate_limited += payable
                    reason = reason or _RL
        if served:
            s = self.S
            before = s - self.L if s > self.L else 0
            s += served
            after = s - self.L if s > self.L else 0
            self.S = s
            self.level -= after - before
            self.c += served
            take = served if served < self.rb_left else self.rb_left
            self.rb_left -= take
            rest = served - take
            take = rest if rest < self.grant_left else self.grant_left
            self.grant_left -= take
            if self.nb:
                self._record_spend(idx, served, at_us)
        return (
            served,
            0,
            0,
            0,
            0,
            waived,
            rate_limited,
            blocked,
            queued,
            reason,
            queue_budget,
        )

    def try_batch(self, h: int, lo: int, hi: int, out: _Out) -> int | None:
        if lo == hi:
            return 0
        demand = self.demand[h]
        if demand > self.L + self.level_start - self.S:
            return None
        if self.too_large is not None and self.too_large[h]:
            return None
        if not self.overage and demand > self.rb_left + self.grant_left:
            return None
        for b in range(self.nb):
            d = self.budget_demand[b][h]
            if not d:
                continue
            if self.controls[b] is not Control.SOFT_LIMIT and self.spend[b] + d > self.limit[b]:
                return None
            nt = self.next_threshold[b]
            if nt is not None and self.spend[b] + d >= nt:
                return None
        out.serve_range(lo, hi)
        s = self.S
        before = s - self.L if s > self.L else 0
        s += demand
        after = s - self.L if s > self.L else 0
        self.S = s
        self.level -= after - before
        self.c += demand
        take = min(demand, self.rb_left)
        self.rb_left -= take
        self.grant_left -= min(demand - take, self.grant_left)
        for b in range(self.nb):
            self.spend[b] += self.budget_demand[b][h]
        return demand

    def hot_hour(
        self,
        h: int,
        retry: list[Piece],
        lo: int,
        hi: int,
        out: _Out,
        tally: PeriodTally,
        deferred: list[Piece],
        defer: bool,
        timeline: dict[str, npt.NDArray[np.int64]],
    ) -> int | None:
        """A busy hour without budgets on a tier with overage: a tight loop.

        Only the rate limit can refuse here, so each piece needs one
        comparison; the bookkeeping is the driver's, done in bulk.
        """
        if self.nb or not self.overage:
            return None
        fluid = self.fluid
        most = self.most
        capacity = self.L + self.level_start
        s = self.S
        served_idx: list[int] = []
        served_amt: list[int] = []
        reason = out.reason
        for idx, seq, amount, _ in retry:  # without budgets, retried work was counted
            room = capacity - s
            if amount <= room:
                s += amount
                served_idx.append(idx)
                served_amt.append(amount)
                continue
            part = room if fluid and room > 0 else 0
            if part:
                s += part
                served_idx.append(idx)
                served_amt.append(part)
            reason[idx] = _RL
            deferred.append((idx, seq, amount - part, True))
        rate_limited = blocked = unserved = events = 0
        counted_set = out.counted
        amounts = self.setup.amounts[lo:hi]
        # the events that fit before the first refusal are served in bulk
        prefix = int(np.searchsorted(np.cumsum(amounts), capacity - s, side="right"))
        if prefix:
            s += int(amounts[:prefix].sum())
        tail_idx: list[int] = []
        tail_amt: list[int] = []
        for j, amount in enumerate(amounts[prefix:].tolist()):
            i = lo + prefix + j
            if not fluid and amount > most:
                blocked += amount
                out.blocked[i] += amount
                reason[i] = _TOO_LARGE
                continue
            room = capacity - s
            if amount <= room:
                s += amount
                tail_idx.append(i)
                tail_amt.append(amount)
                continue
            part = room if fluid and room > 0 else 0
            if part:
                s += part
                tail_idx.append(i)
                tail_amt.append(part)
            rest = amount - part
            rate_limited += rest
            out.rate_limited[i] += rest
            reason[i] = _RL
            if i not in counted_set:
                counted_set.add(i)
                events += 1
            if defer:
                deferred.append((i, 0, rest, True))
            else:
                unserved += rest
                out.unserved[i] += rest
        idx_arr = np.concatenate(
            (
                np.array(served_idx, dtype=np.int64),
                np.arange(lo, lo + prefix, dtype=np.int64),
                np.array(tail_idx, dtype=np.int64),
            )
        )
        if len(idx_arr):
            amt_arr = np.concatenate(
                (
                    np.array(served_amt, dtype=np.int64),
                    amounts[:prefix],
                    np.array(tail_amt, dtype=np.int64),
                )
            )
            out.served[idx_arr] += amt_arr
            out.segments.append((2, idx_arr, amt_arr, h))
        total = s - self.S
        before = self.S - self.L if self.S > self.L else 0
        after = s - self.L if s > self.L else 0
        self.S = s
        self.level -= after - before
        self.c += total
        take = min(total, self.rb_left)
        self.rb_left -= take
        self.grant_left -= min(total - take, self.grant_left)
        micro = tally.micro
        micro["rate_limited_ccu"] += rate_limited
        micro["blocked_ccu"] += blocked
        micro["unserved_ccu"] += unserved
        tally.rate_limited_events += events
        timeline["rate_limited"][h] += rate_limited
        timeline["blocked"][h] += blocked
        return total

    # -- time --------------------------------------------------------------------------------

    def close_hour(self, h: int) -> tuple[int, int, int]:
        s = self.S
        drawn = s - self.L if s > self.L else 0
        if drawn:
            self.drawing_hours.append(h)
        growth = 0
        if s < self.T and self.level < self.C:
            num = (self.T - s) * self.eff_num
            q, r = divmod(num, self.eff_den)
            if 2 * r > self.eff_den or (2 * r == self.eff_den and q % 2 == 1):
                q += 1
            growth = min(q, self.C - self.level)
            if self.window_cap is not None:
                room = self.window_cap - sum(self.recent)
                growth = min(growth, max(room, 0))
        self.level += growth
        if self.window is not None:
            if self.window > 1:
                self.recent.append(growth)
                while len(self.recent) > self.window - 1:
                    self.recent.popleft()
            else:
                self.recent.clear()
        self.S = 0
        self.level_start = self.level
        return s, drawn, self.level

    def close_period(self, k: int) -> tuple[int, int]:
        setup = self.setup
        plan = setup.plan
        period = setup.periods[k]
        end_us = _us(period.end)
        from_rollover = self.rb_in - self.rb_left
        from_grant = self.grant_in - self.grant_left
        overage = self.c - from_rollover - from_grant
        self.period_split.append((from_rollover, from_grant, overage))
        self.spent += from_rollover + from_grant
        self.overage_total += overage
        log = self.log
        if from_rollover:
            log = log.append(self._entry(log, period.end, EntryKind.SPEND, from_rollover, None))
        if from_grant:
            log = log.append(
                self._entry(log, period.end, EntryKind.SPEND, from_grant, self.grant_id)
            )
        if overage:
            log = log.append(self._entry(log, period.end, EntryKind.OVERAGE, overage, None))
        use = from_rollover
        for block in self.blocks:
            take = min(block.remaining, use)
            block.remaining -= take
            use -= take
        expired = 0
        keep: list[_Block] = []
        for block in self.blocks:
            if block.expires > end_us:
                keep.append(block)
            elif block.remaining:
                expired += block.remaining
                log = log.append(
                    self._entry(log, period.end, EntryKind.EXPIRE, block.remaining, block.id)
                )
        leftover = self.grant_left
        rolled = 0
        expiry = plan.rollover_expiry(period)
        if expiry is not None and leftover > 0:
            balance = sum(b.remaining for b in keep)
            rolled = min(leftover, max(to_micro(plan.rollover_cap) - balance, 0))
            if rolled > 0:
                keep.append(_Block(self.next_id, end_us, _us(expiry), rolled, rolled))
                log = log.append(
                    self._entry(log, period.end, EntryKind.ROLLOVER, rolled, self.next_id)
                )
                self.next_id += 1
        if leftover - rolled:
            log = log.append(
                self._entry(log, period.end, EntryKind.EXPIRE, leftover - rolled, None)
            )
        expired += leftover - rolled
        self.expired_total += expired
        self.blocks = sorted((b for b in keep if b.remaining), key=lambda b: (b.expires, b.id))
        # the next period opens with a grant of the pool
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
        log = log.append(self._entry(log, nxt.start, EntryKind.GRANT, self.G, self.grant_id))
        self.log = log
        self.granted += self.G
        self.grant_left = self.grant_in = self.G
        self.rb_left = self.rb_in = sum(b.remaining for b in self.blocks)
        self.period_rollover_in.append(self.rb_in)
        self.c = 0
        self.spend = [0] * self.nb
        self.extra = [0] * self.nb
        self.limit = list(self.base_limit)
        self.fired = [set() for _ in range(self.nb)]
        self.next_threshold = [self._next(b) for b in range(self.nb)]
        return expired, self.rb_in

    @staticmethod
    def _entry(
        log: EntryLog, at: datetime, kind: EntryKind, micro: int, block: int | None
    ) -> LedgerEntry:
        return LedgerEntry(
            seq=len(log) + 1, at=at, kind=kind, amount=from_micro(micro), block=block
        )

    def rollover_balance(self) -> int:
        return self.rb_left

    # -- the end -----------------------------------------------------------------------------

    def finish(self, out: _Out, tallies: list[PeriodTally]) -> AccountState:
        for tally, (r, g, o) in zip(tallies, self.period_split, strict=True):
            tally.micro["consumed_from_rollover"] = r
            tally.micro["consumed_from_grant"] = g
            tally.micro["overage_ccu"] = o
        self._split_pieces(out)
        return self._final_state()

    def _split_pieces(self, out: _Out) -> None:
        setup = self.setup
        if not out.segments:
            return
        ts = setup.log.timestamps_us
        idx_parts: list[npt.NDArray[np.int64]] = []
        amt_parts: list[npt.NDArray[np.int64]] = []
        hour_parts: list[npt.NDArray[np.int64]] = []
        p_idx: list[int] = []
        p_amt: list[int] = []
        p_hour: list[int] = []

        def flush() -> None:
            if p_idx:
                idx_parts.append(np.array(p_idx, dtype=np.int64))
                amt_parts.append(np.array(p_amt, dtype=np.int64))
                hour_parts.append(np.array(p_hour, dtype=np.int64))
                p_idx.clear()
                p_amt.clear()
                p_hour.clear()

        for kind, a, b, h in out.segments:
            if kind == 1:
                p_idx.append(a)
                p_amt.append(b)
                p_hour.append(h)
                continue
            flush()
            if kind == 0:
                out.served[a:b] = setup.amounts[a:b]
                idx_parts.append(np.arange(a, b, dtype=np.int64))
                amt_parts.append(setup.amounts[a:b])
                hour_parts.append((ts[a:b] - setup.start_us) // HOUR_US)
            else:
                idx_parts.append(a)
                amt_parts.append(b)
                hour_parts.append(np.full(len(a), h, dtype=np.int64))
        flush()
        idx = np.concatenate(idx_parts)
        amt = np.concatenate(amt_parts).astype(np.int64)
        hour = np.concatenate(hour_parts)
        csum = np.cumsum(amt)
        fluid = self.fluid

        def add(column: npt.NDArray[np.int64], sel: npt.NDArray[np.int64], values: Any) -> None:
            if fluid:  # an event may have several pieces
                np.add.at(column, sel, values)
            else:
                column[sel] += values

        # the reserve: only hours that served more than L drew from it
        limit = self.L
        for h in self.drawing_hours:
            lo, hi = (int(x) for x in np.searchsorted(hour, [h, h + 1]))
            part = amt[lo:hi]
            after = csum[lo:hi] - (csum[lo] - part[0])
            drawn = np.maximum(after - limit, 0) - np.maximum(after - part - limit, 0)
            add(out.from_reserve, idx[lo:hi], drawn)
        # the ledger: rollover, then grant, then overage, per period in serve order;
        # everything is grant first, then the rollover and overage stretches move
        add(out.from_grant, idx, amt)
        firsts = np.array(setup.period_first_hour, dtype=np.int64)
        cuts = [*np.searchsorted(hour, firsts).tolist(), len(amt)]
        grant = self.G
        for k, rb in enumerate(self.period_rollover_in[: len(firsts)]):
            lo, hi = cuts[k], cuts[k + 1]
            if lo == hi:
                continue
            base = int(csum[lo] - amt[lo])
            total = int(csum[hi - 1]) - base
            if total <= 0 or (rb == 0 and total <= grant):
                continue
            c_after = csum[lo:hi] - base
            j1 = lo + int(np.searchsorted(c_after, rb, side="right"))
            j2 = lo + int(np.searchsorted(c_after, rb + grant, side="right"))
            if j1 > lo:
                add(out.from_grant, idx[lo:j1], -amt[lo:j1])
                add(out.from_rollover, idx[lo:j1], amt[lo:j1])
            if j2 + 1 < hi:
                add(out.from_grant, idx[j2 + 1 : hi], -amt[j2 + 1 : hi])
                add(out.from_overage, idx[j2 + 1 : hi], amt[j2 + 1 : hi])
            for j in sorted({j1, j2}):
                if j < hi:
                    piece = int(amt[j])
                    after = int(csum[j]) - base
                    before = after - piece
                    r = min(max(after, 0), rb) - min(max(before, 0), rb)
                    g = min(max(after - rb, 0), grant) - min(max(before - rb, 0), grant)
                    event = int(idx[j])
                    out.from_rollover[event] += r
                    out.from_grant[event] += g - piece
                    out.from_overage[event] += piece - r - g

    def _final_state(self) -> AccountState:
        setup = self.setup
        plan = setup.plan
        last = setup.periods[-1]
        nxt = period_at(plan.anchor, last.index + 1)
        blocks = [
            Block(
                id=b.id,
                kind=BlockKind.ROLLOVER,
                created=_dt(b.created),
                expires=_dt(b.expires),
                amount=from_micro(b.amount),
                remaining=from_micro(b.remaining),
            )
            for b in self.blocks
        ]
        assert self.grant_block is not None
        blocks.append(self.grant_block)
        ledger = Ledger(
            blocks=tuple(blocks),
            granted=from_micro(self.granted),
            spent=from_micro(self.spent),
            expired=from_micro(self.expired_total),
            overage=from_micro(self.overage_total),
            next_id=self.next_id,
            log=self.log,
        )
        return AccountState(
            plan=plan,
            period=nxt,
            hour=nxt.start,
            as_of=nxt.start,
            reserve=ReserveState(
                level=from_micro(self.level), recent=tuple(from_micro(x) for x in self.recent)
            ),
            ledger=ledger,
            budgets=tuple(BudgetState(budget=b) for b in setup.budgets),
        )
