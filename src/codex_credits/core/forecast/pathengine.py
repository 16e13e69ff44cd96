"""The credit rules of one account, run over many demand paths at once.

Theory of operation (docs/forecasts.md, "Monte Carlo"; the rules themselves are
docs/credits.md and the engine's): a forecast runs thousands of sampled demand
paths through the same hourly rules as the credit engine in *fluid* mode, so
one step handles every path with NumPy arrays of shape ``(paths,)`` holding
integer micro-CCU. Each UTC hour, for every path:

1. Work deferred by the rate limit is retried first, then the hour's own work.
2. **Balance**: a tier with an overage rate can always pay (rollover blocks,
   then the grant, then overage); a tier without one (free) serves only what
   its credits cover and blocks the rest (blocked work is not deferred).
3. **Throughput**: what can be paid is served up to what is left of the hour's
   allowance ``L = rate_limit_multiple x H``, then from the savings reserve; the
   rest is rate limited and deferred to the next hour (or dropped). Work is
   counted as rate limited once, at its first refusal.
4. **Reserve**: at the end of the hour, if served CCU is below
   ``T = threshold x H``, the reserve grows by ``efficiency x (T - served)``
   (quantized to the micro-CCU, half-even), capped at ``reserve_cap_hours x H``.

The hour itself is the kernel's
(:class:`~codex_credits.core.kernel.fluid.FluidLanes`, every path a lane); this
module states the account's figures, the start and the outcome; the period close
is the kernel's too (:func:`~codex_credits.core.kernel.ledgers.settle`).

Within one billing period the rollover blocks cannot expire, so the period's
credits are one number per path; how much each block gave is settled at the
period end (soonest expiry first), when expiring blocks lapse and what is left of
the grant rolls over, truncated at the cap (:func:`close_period`).

The figures (``L``, ``T``, the reserve cap, the rollover cap) are the credit
engine's own (:class:`~codex_credits.core.ratelimit.HourlyLimits`,
:class:`~codex_credits.core.account.Plan`), turned into micro-CCU. The optional
trailing-window rule of the reserve is not modelled here;
:meth:`HourlyRules.for_account` and :meth:`HourlyRules.from_plan` refuse a card
that enables it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import Plan
from codex_credits.core.kernel.fluid import FluidLanes
from codex_credits.core.kernel.ledgers import settle
from codex_credits.core.kernel.rules import accrual
from codex_credits.core.ratecard import RateCard
from codex_credits.core.ratelimit import HourlyLimits
from codex_credits.core.units import quantize_ccu, to_micro
from codex_credits.errors import ConfigError

__all__ = [
    "HourlyRules",
    "PathOutcome",
    "PathStart",
    "close_period",
    "run_path",
    "run_paths",
]

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class HourlyRules:
    """One account's credit rules as integer micro-CCU figures.

    Attributes:
        pool: the grant of every period.
        allowance: ``L``, the most an hour may serve before the reserve.
        threshold: ``T``; an hour serving less adds to the reserve.
        reserve_cap: the reserve's ceiling (0 when the tier has none).
        efficiency: the reserve efficiency as an exact fraction ``(num, den)``.
        overage_rate: USD per CCU, or None for a hard stop.
        rollover_periods: how many periods a rolled-over block lives.
        rollover_cap: the most the rollover balance may hold.
        defer: True to retry rate-limited work next hour, False to drop it.
    """

    pool: int
    allowance: int
    threshold: int
    reserve_cap: int
    efficiency: tuple[int, int]
    overage_rate: Decimal | None
    rollover_periods: int
    rollover_cap: int
    defer: bool = True

    @classmethod
    def for_account(
        cls,
        card: RateCard,
        tier: str,
        seats: int = 1,
        *,
        on_rate_limit: Literal["defer", "drop"] = "defer",
    ) -> HourlyRules:
        """Derive the figures from a card, a tier and a seat count."""
        spec = card.tier(tier)
        spec.check_seats(seats, tier)
        pool = spec.pool(seats)
        return cls._from_terms(
            pool=pool,
            limits=HourlyLimits.for_tier(card, tier, seats),
            overage_rate=spec.overage_usd_per_ccu,
            rollover_periods=spec.rollover_periods,
            rollover_cap=quantize_ccu(spec.rollover_cap_pools * pool),
            on_rate_limit=on_rate_limit,
        )

    @classmethod
    def from_plan(
        cls, plan: Plan, *, on_rate_limit: Literal["defer", "drop"] = "defer"
    ) -> HourlyRules:
        """The figures of the credit engine's :class:`~codex_credits.core.account.Plan`."""
        return cls._from_terms(
            pool=plan.pool,
            limits=plan.limits,
            overage_rate=plan.overage_usd_per_ccu,
            rollover_periods=plan.rollover_periods,
            rollover_cap=plan.rollover_cap,
            on_rate_limit=on_rate_limit,
        )

    @classmethod
    def _from_terms(
        cls,
        *,
        pool: Decimal,
        limits: HourlyLimits,
        overage_rate: Decimal | None,
        rollover_periods: int,
        rollover_cap: Decimal,
        on_rate_limit: Literal["defer", "drop"],
    ) -> HourlyRules:
        if limits.window_hours is not None:
            raise ConfigError(
                "the forecast path engine does not model the reserve's trailing-window rule "
                "(reserve_window_hours); forecast with a card that leaves it unset"
            )
        eff = limits.efficiency.as_integer_ratio()
        return cls(
            pool=to_micro(pool),
            allowance=to_micro(limits.limit),
            threshold=to_micro(limits.threshold),
            reserve_cap=to_micro(limits.reserve_cap),
            efficiency=(int(eff[0]), int(eff[1])),
            overage_rate=overage_rate,
            rollover_periods=rollover_periods,
            rollover_cap=to_micro(rollover_cap),
            defer=on_rate_limit == "defer",
        )

    def accrual(self, served: Int64Array) -> Int64Array:
        """What an hour that served ``served`` adds to the reserve (before the cap).

        The kernel's rule (:func:`codex_credits.core.kernel.rules.accrual`), over paths.
        """
        return accrual(self.threshold, self.efficiency, served)


@dataclass(frozen=True)
class PathStart:
    """The account at the start of an hour inside billing period ``period_index``.

    Attributes:
        period_index: the billing period the next hour belongs to.
        consumed: CCU served so far in that period.
        rollover: rollover blocks as ``(amount left, index of the period at whose end
            it expires)``, soonest expiry first.
        grant_left: what is left of this period's grant.
        overage: overage CCU so far in the period.
        reserve: the savings reserve.
        backlog: deferred work waiting for the next hour.
        pieces: the deferred work as the pieces the engine retries, in order (they
            sum to ``backlog``); empty means one piece. Only a tier without
            overage needs them: each piece is checked against the balance on its own.
    """

    period_index: int
    consumed: int
    rollover: tuple[tuple[int, int], ...]
    grant_left: int
    overage: int
    reserve: int
    backlog: int = 0
    pieces: tuple[int, ...] = ()

    def backlog_pieces(self) -> tuple[int, ...]:
        """The deferred pieces in retry order (one piece when only the total is known)."""
        if self.pieces:
            if sum(self.pieces) != self.backlog:
                raise ValueError("the deferred pieces must sum to the backlog")
            return self.pieces
        return (self.backlog,) if self.backlog else ()

    @property
    def credits_left(self) -> int:
        """Rollover plus grant still unspent."""
        return sum(a for a, _ in self.rollover) + self.grant_left


@dataclass(frozen=True)
class PathOutcome:
    """What the rest of the period gave on every path (arrays of shape ``(paths,)``)."""

    consumed: Int64Array
    overage: Int64Array
    credits_left: Int64Array
    reserve: Int64Array
    backlog: Int64Array
    rate_limited: Int64Array
    blocked: Int64Array
    unserved: Int64Array
    exhausted_hour: Int64Array
    """Index of the hour in which the credits ran out; -1 if they did not."""
    served_by_hour: Int64Array | None = field(default=None)
    """``(paths, hours)`` served per hour, when asked for."""
    pieces: Int64Array | None = field(default=None)
    """``(paths, k)`` deferred pieces in retry order (zeros are gaps), on a tier without
    overage that defers; they sum to ``backlog``."""


def run_paths(
    rules: HourlyRules,
    start: PathStart,
    demand: Int64Array,
    *,
    record: bool = False,
) -> PathOutcome:
    """Run ``demand`` (shape ``(paths, hours)``, micro-CCU of new work per hour) from ``start``.

    The hours must all lie in ``start.period_index``; call :func:`close_period`
    at the period end. Every path is a lane of the kernel's fluid mode
    (:class:`~codex_credits.core.kernel.fluid.FluidLanes`).
    """
    demand = np.asarray(demand, dtype=np.int64)
    if demand.ndim != 2:
        raise ValueError("demand must have shape (paths, hours)")
    paths, n_hours = demand.shape
    hard = rules.overage_rate is None
    pieces = start.backlog_pieces() if hard and rules.defer else (start.backlog,)
    lanes = FluidLanes(
        rules=(rules.allowance, rules.threshold, rules.reserve_cap, rules.efficiency),
        hard=hard,
        defer=rules.defer,
        credits=np.full(paths, start.credits_left, dtype=np.int64),
        reserve=np.full(paths, start.reserve, dtype=np.int64),
        queue=np.tile(np.array(pieces, dtype=np.int64), (paths, 1)),
    )
    served_log = np.zeros((paths, n_hours), dtype=np.int64) if record else None
    rows = np.ascontiguousarray(demand.T)  # one contiguous row per hour
    for h in range(n_hours):
        served = lanes.step(h, rows[h])
        if served_log is not None:
            served_log[:, h] = served
    return PathOutcome(
        consumed=lanes.consumed + start.consumed,
        overage=lanes.overage + start.overage,
        credits_left=lanes.credits,
        reserve=lanes.reserve,
        backlog=lanes.queue.sum(axis=1),
        rate_limited=lanes.limited,
        blocked=lanes.blocked,
        unserved=lanes.unserved,
        exhausted_hour=lanes.exhausted,
        served_by_hour=served_log,
        pieces=lanes.queue if hard and rules.defer else None,
    )


def close_period(
    rules: HourlyRules, start: PathStart, credits_left: Int64Array
) -> tuple[Int64Array, Int64Array, tuple[Int64Array, ...]]:
    """Settle the period end on every path.

    Args:
        rules: the account's rules.
        start: the state the period's remaining hours started from.
        credits_left: credits unspent at the period end, per path.

    Returns:
        ``(new rollover balance, expired, surviving block amounts)`` where the
        surviving blocks are those of ``start.rollover`` that do not expire now,
        followed by the new block rolled over from the grant.
    """
    paths = len(credits_left)
    blocks = start.rollover
    left, _, _, expired, rolled = settle(
        np.tile(np.array([a for a, _ in blocks], dtype=np.int64).reshape(1, -1), (paths, 1)),
        np.array([e <= start.period_index for _, e in blocks], dtype=np.bool_),
        start.credits_left - credits_left,  # drawn from credits since ``start``
        start.grant_left,
        rules.rollover_cap,
        rules.rollover_periods > 0,
    )
    kept = [left[:, j] for j, (_, e) in enumerate(blocks) if e > start.period_index]
    return left.sum(axis=1) + rolled, expired, (*kept, rolled)


def run_path(rules: HourlyRules, start: PathStart, demand: Sequence[int]) -> PathOutcome:
    """The same rules as :func:`run_paths` for one path, in plain Python integers.

    It is the reference the vectorised engine is checked against, and the
    benchmark's baseline. Deferred work is kept as the engine keeps it: pieces
    retried in order, each one a request checked on its own.
    """
    credits = start.credits_left
    consumed = start.consumed
    overage = start.overage
    reserve = start.reserve
    queue = list(start.backlog_pieces()) if rules.defer else []
    limited = blocked = unserved = 0
    exhausted = 0 if credits <= 0 else -1
    hard_stop = rules.overage_rate is None
    allowance = rules.allowance
    threshold = rules.threshold
    eff_num, eff_den = rules.efficiency
    cap = max(rules.reserve_cap, 0)
    served_log = []
    for h, new in enumerate([*demand]):
        room = allowance + reserve
        served = 0
        waiting = []
        pieces = [*queue, new]  # deferred pieces first, in order, then the hour's own work
        for i, piece in enumerate(pieces):
            pay = min(piece, credits - min(served, credits)) if hard_stop else piece
            blocked += piece - pay
            serve = min(pay, room - served)
            refused = pay - serve
            served += serve
            if i == len(queue) and refused:
                limited += refused  # counted once, at the first refusal
                if not rules.defer:
                    unserved += refused
                    refused = 0
            if refused:
                waiting.append(refused)
        queue = waiting
        reserve -= max(served - allowance, 0)
        paid = min(served, credits)
        overage += served - paid
        if exhausted < 0 and credits > 0 and credits == paid:
            exhausted = h
        credits -= paid
        consumed += served
        gained = int(accrual(threshold, (eff_num, eff_den), np.array([served]))[0])
        reserve = min(reserve + gained, cap)
        served_log.append(served)

    def one(value: int) -> Int64Array:
        return np.array([value], dtype=np.int64)

    return PathOutcome(
        consumed=one(consumed),
        overage=one(overage),
        credits_left=one(credits),
        reserve=one(reserve),
        backlog=one(sum(queue)),
        rate_limited=one(limited),
        blocked=one(blocked),
        unserved=one(unserved),
        exhausted_hour=one(exhausted),
        served_by_hour=np.array([served_log], dtype=np.int64),
        pieces=np.array([queue], dtype=np.int64).reshape(1, len(queue)),
    )
