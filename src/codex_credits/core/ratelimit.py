"""The hourly rate limiter: how much an account may consume in one UTC hour.

Theory of operation (docs/engine.md, "Throughput"):

* ``H = pool / hours_per_month`` (720 by default), quantized to 0.000001 CCU.
  Every other hourly figure is derived from this quantized H and quantized
  again: ``L = rate_limit_multiple x H`` (the hour's allowance),
  ``T = reserve_threshold x H`` and ``cap = reserve_cap_hours x H``.
* In one hour the account may serve ``L`` plus what the savings reserve holds
  at the start of the hour. Because the allowance is always used before the
  reserve, after ``S`` CCU served in an hour the reserve has given
  ``max(0, S - L)``; a request of ``a`` fits exactly when ``S + a <= L + R``,
  where ``R`` is the level at the start of the hour.
* Request mode is all or nothing: a request that does not fit is refused as a
  whole (RATE_LIMITED), and one larger than ``L + cap`` (more than any hour can
  ever hold) is refused as TOO_LARGE. Fluid mode serves the part that fits.

>>> from codex_credits.core.ratecard import RateCard
>>> limits = HourlyLimits.for_tier(RateCard.default(), "pro", seats=1)
>>> limits.hourly_allocation, limits.limit, limits.threshold, limits.reserve_cap
(Decimal('13.888889'), Decimal('138.888890'), Decimal('9.722222'), Decimal('55.555556'))
"""

from __future__ import annotations

from decimal import Decimal
from typing import final

from pydantic import Field

from codex_credits.core.events import Mode, Reason, Refusal
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.reserve import ReserveTerms
from codex_credits.core.units import ZERO, Ccu, quantize_ccu

__all__ = ["Admission", "HourlyLimits", "admit"]


@final
class HourlyLimits(Frozen):
    """The hourly figures of one account (tier and seats on a card)."""

    hourly_allocation: Ccu = Field(ge=0, description="H = pool / hours_per_month")
    limit: Ccu = Field(ge=0, description="L = rate_limit_multiple x H")
    threshold: Ccu = Field(ge=0, description="T = reserve_threshold x H")
    reserve_cap: Ccu = Field(ge=0, description="reserve_cap_hours x H")
    efficiency: Ccu = Field(ge=0, le=1)
    window_hours: int | None = None
    window_cap: Ccu | None = None

    @classmethod
    def for_tier(cls, card: RateCard, tier: str, seats: int = 1) -> HourlyLimits:
        """Derive the figures from ``card`` for ``seats`` seats of ``tier``."""
        spec = card.tier(tier)
        spec.check_seats(seats, tier)
        options = card.options
        h = card.hourly_allocation(tier, seats)
        window_cap = None
        window_hours = None
        if (
            options.reserve_window_hours is not None
            and options.reserve_window_cap_hours is not None
        ):
            window_hours = options.reserve_window_hours
            window_cap = quantize_ccu(options.reserve_window_cap_hours * h)
        return cls(
            hourly_allocation=h,
            limit=quantize_ccu(spec.rate_limit_multiple * h),
            threshold=quantize_ccu(options.reserve_threshold * h),
            reserve_cap=quantize_ccu(spec.reserve_cap_hours * h),
            efficiency=options.reserve_efficiency,
            window_hours=window_hours,
            window_cap=window_cap,
        )

    @property
    def most_per_hour(self) -> Decimal:
        """The most any hour can serve: ``L`` plus a full reserve."""
        return self.limit + self.reserve_cap

    @property
    def reserve_terms(self) -> ReserveTerms:
        """The reserve's part of these figures."""
        return ReserveTerms(
            threshold=self.threshold,
            efficiency=self.efficiency,
            cap=self.reserve_cap,
            window_hours=self.window_hours,
            window_cap=self.window_cap,
        )


@final
class Admission(Frozen):
    """What the limiter lets through: ``served`` (allowance first, then reserve)."""

    served: Ccu
    from_allowance: Ccu
    from_reserve: Ccu
    refused: Ccu = ZERO


def admit(
    limits: HourlyLimits,
    served_in_hour: Decimal,
    reserve_at_hour_start: Decimal,
    amount: Decimal,
    mode: Mode = Mode.REQUEST,
) -> Admission | Refusal:
    """Check ``amount`` against the hour's allowance, then the reserve.

    Args:
        limits: the account's hourly figures.
        served_in_hour: CCU already served in this hour.
        reserve_at_hour_start: the reserve level when the hour began.
        amount: the CCU asked for.
        mode: all or nothing (request) or the part that fits (fluid).

    Returns:
        An :class:`Admission`, or a :class:`Refusal` (TOO_LARGE, RATE_LIMITED)
        when nothing is let through.
    """
    if mode is Mode.REQUEST and amount > limits.most_per_hour:
        return Refusal(
            reason=Reason.TOO_LARGE,
            amount=amount,
            detail=f"{amount} CCU is more than any hour can hold ({limits.most_per_hour})",
        )
    room = max(limits.limit + reserve_at_hour_start - served_in_hour, ZERO)
    if amount <= room:
        served = amount
    elif mode is Mode.FLUID and room > 0:
        served = room
    else:
        return Refusal(
            reason=Reason.RATE_LIMITED,
            amount=amount,
            detail=f"{room} CCU left in this hour, {amount} needed",
        )
    allowance_left = max(limits.limit - served_in_hour, ZERO)
    from_allowance = min(served, allowance_left)
    return Admission(
        served=served,
        from_allowance=from_allowance,
        from_reserve=served - from_allowance,
        refused=amount - served,
    )
