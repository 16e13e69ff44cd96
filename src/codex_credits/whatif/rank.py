"""Ranking levers for a team: each lever alone, on the same usage, by what it saves.

Theory of operation (docs/what-if.md): every lever is replayed on its own with
:func:`~codex_credits.whatif.run.what_if` (same account, card and options), and
the levers are ranked by the money they save, then by the CCU. The example
card (:func:`example_card`) is the default CCU card plus the seed's off-peak
window and two model tiers: a planning assumption, not a published price.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any, final

from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeofday import PricingWindow
from codex_credits.core.units import ZERO, Ccu, Usd
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.display import Rows
from codex_credits.whatif.base import Change
from codex_credits.whatif.batch import Batch
from codex_credits.whatif.changes import CacheContext, RouteModels, ShiftOffPeak
from codex_credits.whatif.run import what_if

__all__ = ["NIGHT_WINDOW", "LeverRank", "example_card", "example_levers", "rank_levers"]

NIGHT_WINDOW = PricingWindow(
    name="night",
    time_zone="America/New_York",
    start_hour=2,
    end_hour=7,
    meters=("sandbox",),
    discount=Decimal("0.4"),
)
"""The seed's telegraphed off-peak window: 2-7 AM US Eastern, sandbox 40% off."""


def example_card(card: RateCard | None = None) -> RateCard:
    """``card`` (default: the CCU card) with the night window and tiers codex / codex-mini."""
    data = (card or RateCard.default()).to_data()
    data["name"] = f"{data['name']}+levers"
    data["windows"] = [*data.get("windows", ()), NIGHT_WINDOW.model_dump()]
    data["model_tiers"] = {
        "codex": {"multiplier": Decimal(1)},
        "codex-mini": {"multiplier": Decimal("0.25"), "description": "simple tasks"},
        **data.get("model_tiers", {}),
    }
    return RateCard.from_data(data, source="example card")


def example_levers() -> dict[str, Change]:
    """One reasonable setting of each lever, for a first ranking."""
    tolerant = {"task_type": ("tests", "docs", "review")}
    return {
        "batch": Batch(max_wait=timedelta(hours=2), where=tolerant),
        "cache": CacheContext(hit_rate="0.6"),
        "off-peak": ShiftOffPeak(max_delay=timedelta(hours=24), where=tolerant),
        "route": RouteModels({"docs": "codex-mini", "review": "codex-mini"}),
    }


@final
class LeverRank(Frozen):
    """One lever, replayed alone."""

    rank: int
    lever: str
    change: str
    demand: Ccu
    saved: Ccu
    saved_share: Decimal
    cost_before: Usd
    cost_after: Usd
    saved_usd: Usd


def rank_levers(
    usage: UsageLog | Iterable[UsageEvent],
    account: str = "pro",
    levers: Mapping[str, Change] | None = None,
    **options: Any,
) -> tuple[LeverRank, ...]:
    """Replay each lever alone and rank them by USD saved, then CCU saved.

    ``options`` go to :func:`~codex_credits.whatif.run.what_if` (``seats``,
    ``card``, ``start``, ``months``...).
    """
    log = usage if isinstance(usage, UsageLog) else UsageLog.from_events(usage)
    rows: list[tuple[Decimal, Decimal, str, str, Decimal, Decimal, Decimal]] = []
    for name, change in (levers if levers is not None else example_levers()).items():
        result = what_if(log, account, [change], **options)
        demand = sum((d.before for d in result.by_meter), ZERO)
        saved = result.savings[0].saved
        rows.append(
            (
                result.saved_usd,
                saved,
                name,
                change.describe(),
                demand,
                result.before.totals.total_cost,
                result.after.totals.total_cost,
            )
        )
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    return Rows(
        LeverRank(
            rank=i,
            lever=name,
            change=text,
            demand=demand,
            saved=saved,
            saved_share=(saved / demand).quantize(Decimal("0.0001")) if demand else ZERO,
            cost_before=before,
            cost_after=after,
            saved_usd=usd,
        )
        for i, (usd, saved, name, text, demand, before, after) in enumerate(rows, start=1)
    )
