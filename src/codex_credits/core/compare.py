"""Comparing tiers: the same demand through every tier and seat count.

Theory of operation (docs/engine.md, "Comparing tiers"): the usage log is
priced and cut into hours once; every tier of the card and every seat count
from 1 up to ``max_seats`` (and the tier's own maximum) is one lane of the
kernel over those events (:func:`~codex_credits.core.kernel.simulation.lane_statements`),
with the same rules as :func:`~codex_credits.core.simulate.simulate`. Options are
ranked by total cost (then by refused demand, then by card order and seats).
Refused demand is what the rate limit refused at first plus what was blocked;
the recommendation is the cheapest option whose refused share of the demand
stays at or under the caller's tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import final

from pydantic import Field

from codex_credits.core.account import open_account
from codex_credits.core.budgets import Budget
from codex_credits.core.events import Mode, Policy
from codex_credits.core.kernel.simulation import lane_input, lane_statements
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.replaysetup import Setup
from codex_credits.core.simulate import prepare
from codex_credits.core.statement import PeriodStatement
from codex_credits.core.units import ZERO, Ccu, amount, from_micro
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError

__all__ = [
    "TierComparison",
    "TierOption",
    "check_tolerance",
    "compare_prepared",
    "compare_tiers",
    "rank_options",
    "tier_candidates",
]


@final
class TierOption(Displayed, Frozen):
    """One tier and seat count, replayed."""

    rank: int
    tier: str
    seats: int
    totals: PeriodStatement
    demand: Ccu
    refused: Ccu = Field(description="rate limited (first refusals) plus blocked")
    refused_share: Ccu = Field(description="refused / demand, 0 when there is no demand")

    @property
    def total_cost(self) -> Decimal:
        """Subscription plus overage over the whole comparison."""
        return self.totals.total_cost


@final
class TierComparison(Displayed, Frozen):
    """Every option ranked by total cost, and the recommendation."""

    options: tuple[TierOption, ...]
    tolerance: Ccu
    recommended: TierOption | None = None


def tier_candidates(
    card: RateCard, max_seats: int, tiers: Sequence[str] | None
) -> list[tuple[int, str, int]]:
    """``(card order, tier, seats)`` of every option to try.

    Raises:
        ConfigError: a bad seat limit or tier, or a card without tiers.
    """
    if max_seats < 1:
        raise ConfigError(f"max_seats must be at least 1, got {max_seats}")
    if not card.tiers:
        raise ConfigError(f"card {card.name} has no tiers to compare")
    names = list(tiers) if tiers is not None else list(card.tiers)
    found: list[tuple[int, str, int]] = []
    for order, name in enumerate(names):
        spec = card.tier(name)
        top = max_seats if spec.max_seats is None else min(max_seats, spec.max_seats)
        found.extend((order, name, seats) for seats in range(1, top + 1))
    return found


def rank_options(
    replays: list[tuple[int, int, str, PeriodStatement]], demand: Decimal, tolerance: Decimal
) -> TierComparison:
    """Rank ``(card order, seats, tier, totals)`` replays and pick the recommendation."""
    options: list[TierOption] = []
    ranked = sorted(
        replays,
        key=lambda r: (r[3].total_cost, r[3].rate_limited_ccu + r[3].blocked_ccu, r[0], r[1]),
    )
    for rank, (_, seats, name, totals) in enumerate(ranked, start=1):
        refused = totals.rate_limited_ccu + totals.blocked_ccu
        share = (refused / demand).quantize(Decimal("0.000001")) if demand else ZERO
        options.append(
            TierOption(
                rank=rank,
                tier=name,
                seats=seats,
                totals=totals,
                demand=demand,
                refused=refused,
                refused_share=share,
            )
        )
    recommended = next((o for o in options if o.refused_share <= tolerance), None)
    return TierComparison(options=tuple(options), tolerance=tolerance, recommended=recommended)


def check_tolerance(tolerance: Decimal | int | str) -> Decimal:
    """The tolerance as a Decimal in [0, 1].

    Raises:
        ConfigError: outside [0, 1].
    """
    value = amount(tolerance)
    if not ZERO <= value <= 1:
        raise ConfigError(f"tolerance must be between 0 and 1, got {value}")
    return value


def compare_tiers(
    events: UsageLog | Iterable[UsageEvent],
    *,
    start: datetime,
    months: int = 1,
    card: RateCard | str | None = None,
    max_seats: int = 3,
    tolerance: Decimal | int | str = ZERO,
    tiers: Sequence[str] | None = None,
    mode: Mode | str = Mode.REQUEST,
    on_rate_limit: Policy | str = Policy.DEFER,
    budgets: Sequence[Budget] = (),
) -> TierComparison:
    """Replay ``events`` through every tier (and seat count) and rank the options.

    Args:
        events: the demand.
        start: the billing anchor.
        months: billing periods to replay.
        card: the rate card (default: the built-in CCU card).
        max_seats: the most seats to try (each tier's own maximum also applies).
        tolerance: the largest refused share of demand (0 to 1) a recommendation may have.
        tiers: the tiers to try (default: every tier of the card).
        mode: request or fluid.
        on_rate_limit: defer or drop.
        budgets: budgets applied in every replay.

    Raises:
        ConfigError: a bad tolerance, seat limit or tier.
    """
    tolerance = check_tolerance(tolerance)
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    candidates = tier_candidates(rate_card, max_seats, tiers)
    log = events if isinstance(events, UsageLog) else UsageLog.from_events(events)
    first = candidates[0]
    setup = prepare(
        log,
        first[1],
        seats=first[2],
        card=rate_card,
        start=start,
        months=months,
        mode=mode,
        on_rate_limit=on_rate_limit,
        budgets=budgets,
    )
    return compare_prepared(setup, candidates, tolerance)


def compare_prepared(
    setup: Setup,
    candidates: list[tuple[int, str, int]],
    tolerance: Decimal,
    keep: dict[tuple[str, int], tuple[PeriodStatement, ...]] | None = None,
) -> TierComparison:
    """Run every candidate as a lane over a prepared simulation's events and rank them.

    ``keep``, when given, receives every option's period statements.
    """
    inp = lane_input(setup)
    first, last = int(inp.lo[0]), int(inp.hi[-1])
    demand = from_micro(int(inp.csum[last] - inp.csum[first]))
    budgets = tuple(s.budget for s in setup.state.budgets)
    replays = []
    for order, name, seats in candidates:
        state = open_account(setup.card, name, seats, setup.plan.anchor, budgets=budgets)
        periods = lane_statements(setup, inp, state)
        if keep is not None:
            keep[(name, seats)] = periods
        replays.append((order, seats, name, PeriodStatement.total(periods)))
    return rank_options(replays, demand, tolerance)
