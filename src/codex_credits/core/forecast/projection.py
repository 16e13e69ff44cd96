"""The seed's forecast formulas, exactly: linear projection, rollover forecast, overage estimate.

Theory of operation (docs/forecasts.md, "The simple formulas"):

* **Linear month-end projection.** The daily rate is what was consumed so far
  divided by the days elapsed in the period; the projection is that rate times
  the days in the period. Days elapsed may be fractional (a cut at noon on day
  3 is 2.5 days).
* **Rollover forecast.** ``unused = max(0, allocation - projected)``,
  ``new rollover = min(current + unused, cap)``, ``headroom = cap - new``.
* **Usage-report overage estimate.** Over a report window of ``period_days``,
  ``budget = (allocation + rollover) x period_days / 30`` and
  ``estimated overage = max(0, consumed - budget) x rate``.

Every derived CCU amount is quantized to 0.000001 CCU, half-even; money is
rounded to cents once. The worked figures of docs/forecasts.md:

>>> estimate_overage(Decimal(25_000), allocation=Decimal(10_000),
...                  rollover=Decimal(8_000), rate=Decimal("0.012")).cost_usd
Decimal('84.00')
>>> project_linear(Decimal(3_000), days_elapsed=Decimal(9), days_total=30).projected
Decimal('10000.000000')
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import final

from pydantic import Field

from codex_credits.core.model import Frozen
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.timeutil import require_utc
from codex_credits.core.units import ZERO, Ccu, Usd, amount, quantize_ccu, round_cents
from codex_credits.errors import ConfigError

__all__ = [
    "LinearProjection",
    "OverageEstimate",
    "RolloverForecast",
    "days_elapsed",
    "estimate_overage",
    "forecast_rollover",
    "project_linear",
]

_SECONDS_PER_DAY = Decimal(86_400)


@final
class LinearProjection(Frozen):
    """The seed's month-end projection: a constant daily rate carried to period end."""

    consumed: Ccu
    days_elapsed: Ccu
    days_total: Ccu
    daily_rate: Ccu
    projected: Ccu


@final
class RolloverForecast(Frozen):
    """Credits expected to roll over, the new rollover balance and the room left under the cap."""

    allocation: Ccu
    projected: Ccu
    current_rollover: Ccu
    cap: Ccu
    credits_to_roll_over: Ccu
    new_rollover: Ccu
    cap_headroom: Ccu


@final
class OverageEstimate(Frozen):
    """The usage report's overage estimate over a window of ``period_days``."""

    consumed: Ccu
    period_days: Ccu
    period_budget: Ccu
    overage_ccu: Ccu
    rate_usd_per_ccu: Usd
    cost_usd: Usd = Field(description="rounded to cents once")


def days_elapsed(period: BillingPeriod, at: datetime) -> Decimal:
    """Days from the period start to ``at``, exact (``at`` is clamped into the period)."""
    at = require_utc(at)
    at = min(max(at, period.start), period.end)
    delta = at - period.start
    seconds = Decimal(delta.days * 86_400 + delta.seconds) + Decimal(delta.microseconds) / 10**6
    return seconds / _SECONDS_PER_DAY


def project_linear(
    consumed: Decimal | int | str,
    *,
    days_elapsed: Decimal | int | str,
    days_total: Decimal | int | str,
) -> LinearProjection:
    """``consumed / days_elapsed x days_total``.

    Args:
        consumed: CCU consumed since the period start.
        days_elapsed: days since the period start (> 0; may be fractional).
        days_total: days in the period.

    Raises:
        ConfigError: when ``days_elapsed`` is not positive or ``days_total`` is negative.
    """
    used = amount(consumed)
    elapsed = amount(days_elapsed)
    total = amount(days_total)
    if elapsed <= 0:
        raise ConfigError(f"days_elapsed must be > 0 for a linear projection, got {elapsed}")
    if total < 0 or used < 0:
        raise ConfigError("consumed and days_total must be >= 0")
    rate = quantize_ccu(used / elapsed)
    # The projection is computed from the exact quotient, then quantized once.
    projected = quantize_ccu(used * total / elapsed)
    return LinearProjection(
        consumed=used,
        days_elapsed=elapsed,
        days_total=total,
        daily_rate=rate,
        projected=projected,
    )


def forecast_rollover(
    *,
    allocation: Decimal | int | str,
    projected: Decimal | int | str,
    current_rollover: Decimal | int | str,
    cap: Decimal | int | str,
) -> RolloverForecast:
    """The seed's rollover forecast.

    ``unused = max(0, allocation - projected)``; ``new = min(current + unused, cap)``;
    ``headroom = cap - new``.
    """
    alloc = amount(allocation)
    proj = amount(projected)
    current = amount(current_rollover)
    limit = amount(cap)
    unused = quantize_ccu(max(ZERO, alloc - proj))
    new = quantize_ccu(min(current + unused, limit))
    return RolloverForecast(
        allocation=alloc,
        projected=proj,
        current_rollover=current,
        cap=limit,
        credits_to_roll_over=unused,
        new_rollover=new,
        cap_headroom=quantize_ccu(limit - new),
    )


def estimate_overage(
    consumed: Decimal | int | str,
    *,
    allocation: Decimal | int | str,
    rollover: Decimal | int | str,
    rate: Decimal | int | str,
    period_days: Decimal | int | str = 30,
) -> OverageEstimate:
    """The usage report's estimate: ``max(0, consumed - budget) x rate``.

    Args:
        consumed: CCU consumed in the report window.
        allocation: the monthly allocation (the pool).
        rollover: the rollover balance.
        rate: overage price in USD per CCU.
        period_days: the report window in days (30 is a whole month).
    """
    used = amount(consumed)
    days = amount(period_days)
    price = amount(rate)
    budget = quantize_ccu((amount(allocation) + amount(rollover)) * days / 30)
    over = quantize_ccu(max(ZERO, used - budget))
    return OverageEstimate(
        consumed=used,
        period_days=days,
        period_budget=budget,
        overage_ccu=over,
        rate_usd_per_ccu=price,
        cost_usd=round_cents(over * price),
    )
