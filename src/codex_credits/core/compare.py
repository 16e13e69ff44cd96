"""Comparing tiers: the same demand through every tier and seat count.

Theory of operation (docs/engine.md, "Comparing tiers"): the usage log is
replayed with :func:`~codex_credits.core.simulate.simulate` once per tier of
the card and per seat count from 1 up to ``max_seats`` (and the tier's own
maximum). Options are ranked by total cost (then by refused demand, then by
card order and seats). Refused demand is what the rate limit refused at
first plus what was blocked; the recommendation is the cheapest option whose
refused share of the demand stays at or under the caller's tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import final

from pydantic import Field

from codex_credits.core.budgets import Budget
from codex_credits.core.events import Mode, Policy, Status
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.simulate import simulate
from codex_credits.core.statement import STATUS_CODES, PeriodStatement
from codex_credits.core.units import ZERO, Ccu, amount, from_micro
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError

__all__ = ["TierComparison", "TierOption", "compare_tiers"]

_IGNORED = STATUS_CODES.index(Status.IGNORED)


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
    tolerance = amount(tolerance)
    if not ZERO <= tolerance <= 1:
        raise ConfigError(f"tolerance must be between 0 and 1, got {tolerance}")
    if max_seats < 1:
        raise ConfigError(f"max_seats must be at least 1, got {max_seats}")
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    if not rate_card.tiers:
        raise ConfigError(f"card {rate_card.name} has no tiers to compare")
    log = events if isinstance(events, UsageLog) else UsageLog.from_events(events)
    names = list(tiers) if tiers is not None else list(rate_card.tiers)
    replays: list[tuple[int, int, str, PeriodStatement, Decimal]] = []
    for order, name in enumerate(names):
        spec = rate_card.tier(name)
        top = max_seats if spec.max_seats is None else min(max_seats, spec.max_seats)
        for seats in range(1, top + 1):
            result = simulate(
                log,
                name,
                seats=seats,
                card=rate_card,
                start=start,
                months=months,
                mode=mode,
                on_rate_limit=on_rate_limit,
                budgets=budgets,
            )
            outcomes = result.outcomes
            inside = outcomes.status != _IGNORED
            demand = from_micro(int(outcomes.requested[inside].sum()))
            replays.append((order, seats, name, result.totals, demand))
    options: list[TierOption] = []
    ranked = sorted(
        replays,
        key=lambda r: (r[3].total_cost, r[3].rate_limited_ccu + r[3].blocked_ccu, r[0], r[1]),
    )
    for rank, (_, seats, name, totals, demand) in enumerate(ranked, start=1):
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
