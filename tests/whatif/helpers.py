"""Small logs and cards for the what-if tests (hand-computable figures)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from codex_credits import RateCard, UsageEvent, UsageLog
from codex_credits.core.timeofday import PricingWindow

D = Decimal
JUNE = datetime(2026, 6, 1, tzinfo=UTC)

NIGHT = PricingWindow(
    name="night",
    time_zone="America/New_York",
    start_hour=2,
    end_hour=7,
    meters=("sandbox",),
    discount=D("0.4"),
)


def lever_card() -> RateCard:
    """The default CCU card with the night window and two model tiers."""
    data = RateCard.default().to_data()
    data["name"] = "levers"
    data["windows"] = [NIGHT.model_dump()]
    data["model_tiers"] = {
        "codex": {"multiplier": D(1)},
        "codex-mini": {"multiplier": D("0.25"), "description": "simple tasks"},
    }
    return RateCard.from_data(data)


def task(at: datetime, **fields: Any) -> UsageEvent:
    """A metered task (no amount) at ``at``."""
    return UsageEvent(timestamp=at, **fields)


def log_of(*events: UsageEvent) -> UsageLog:
    """A log of ``events``."""
    return UsageLog.from_events(events)
