"""The account at the instant of a check, from the engine's replay of the usage.

The check replays the usage before ``at`` through the credit engine (request
mode, deferring rate-limited work) from the billing anchor, with the policy's
starting rollover balance and reserve, and reads off what a new request at ``at``
would meet: the credits left in the period, the CCU already served in ``at``'s
hour and the reserve level at that hour's start (docs/check.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from codex_credits.check.policy import Policy
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.ratecard import RateCard
from codex_credits.core.ratelimit import HourlyLimits
from codex_credits.core.simulate import simulate
from codex_credits.core.statement import PeriodStatement
from codex_credits.core.timeutil import epoch_us, hour_floor
from codex_credits.core.units import ZERO, from_micro
from codex_credits.core.usage import UsageLog

__all__ = ["AccountSnapshot", "snapshot_at"]


@dataclass(frozen=True)
class AccountSnapshot:
    """What a request at ``at`` meets."""

    at: datetime
    period: BillingPeriod
    statement: PeriodStatement
    limits: HourlyLimits
    credits_left: Decimal
    has_overage: bool
    overage_rate: Decimal | None
    served_in_hour: Decimal
    reserve_at_hour_start: Decimal


def snapshot_at(
    policy: Policy, card: RateCard, log: UsageLog, at: datetime, period: BillingPeriod
) -> AccountSnapshot:
    """Replay the usage before ``at`` and describe the account at ``at``."""
    account = policy.account
    before = log.between(None, at)
    result = simulate(
        before,
        account.tier,
        seats=account.seats,
        card=card,
        start=account.anchor,
        months=period.index + 1,
        rollover_balance=account.rollover_balance or None,
        reserve=account.reserve or None,
    )
    statement = result.periods[period.index]
    timeline = result.timeline
    hour_us = epoch_us(hour_floor(at))
    i = int(np.searchsorted(timeline.hour_us, hour_us))
    served = from_micro(int(timeline.served[i])) if i < len(timeline) else ZERO
    reserve_start = from_micro(int(timeline.reserve[i - 1])) if i > 0 else account.reserve
    spec = card.tier(account.tier)
    credits_left = (
        statement.rollover_in
        + statement.granted
        - statement.consumed_from_rollover
        - statement.consumed_from_grant
    )
    return AccountSnapshot(
        at=at,
        period=period,
        statement=statement,
        limits=HourlyLimits.for_tier(card, account.tier, account.seats),
        credits_left=max(credits_left, ZERO),
        has_overage=spec.has_overage,
        overage_rate=spec.overage_usd_per_ccu,
        served_in_hour=served,
        reserve_at_hour_start=reserve_start,
    )
