"""The ROI case: break-even hours per 1,000 CCU, payback in weeks, cost per feature.

Theory of operation (docs/levers/roi.md):

* ``break_even_hours = cost / engineer_hour_usd``: the hours of saved work
  that pay for the bill.
* ``break_even_hours_per_1000_ccu = break_even_hours / (CCU / 1000)``, where
  CCU is what was consumed (a statement) or the pool (a plan). One pro seat:
  200 / 85 / 10 = 0.235 hours per 1,000 CCU. The seed's "2.35 hours per
  1,000 CCU" is a slip by a factor of ten: 2.35 hours is the break-even for the
  whole 10,000 CCU month.
* With ``hours_saved_per_1000_ccu`` (the team's estimate): ``value_usd =
  hours_saved_per_1000_ccu x CCU / 1000 x engineer_hour_usd``, and
  ``payback_weeks = cost / (value_usd / weeks)`` where ``weeks`` is the span's
  length in days / 7 (a plan's month: hours_per_month / 168).
* Cost per feature: the bill allocated to the ``feature`` label of the usage
  (:func:`~codex_credits.core.chargeback.chargeback`), so the rows add up to
  the total cost to the cent.

Hours are quantized to 0.000001, weeks to 0.01 and money to the cent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, final

from pydantic import Field

from codex_credits.core.chargeback import chargeback
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.simulate import simulate
from codex_credits.core.statement import PeriodStatement, SimulationResult
from codex_credits.core.units import ZERO, Ccu, Usd, amount, quantize_ccu, round_cents
from codex_credits.core.usage import UsageLog
from codex_credits.errors import ConfigError

__all__ = ["FeatureCost", "RoiCase", "roi", "roi_for_plan"]

_WEEK = Decimal("0.01")


@final
class FeatureCost(Frozen):
    """The share of the bill one feature's tasks drew."""

    feature: str
    tasks: int
    ccu: Ccu
    cost_usd: Usd


@final
class RoiCase(Frozen):
    """Break-even, value and payback of one bill."""

    cost_usd: Usd
    ccu: Ccu = Field(description="consumed CCU, or the pool for a plan")
    basis: str = Field(description="'consumed' or 'pool'")
    weeks: Decimal
    engineer_hour_usd: Usd
    break_even_hours: Decimal
    break_even_hours_per_1000_ccu: Decimal | None
    hours_saved_per_1000_ccu: Decimal | None = None
    value_usd: Usd | None = None
    net_usd: Usd | None = None
    payback_weeks: Decimal | None = None
    features: tuple[FeatureCost, ...] = ()


def _roi(
    cost: Decimal,
    ccu: Decimal,
    basis: str,
    weeks: Decimal,
    engineer_hour_usd: Decimal | int | str,
    hours_saved_per_1000_ccu: Decimal | int | str | None,
    features: tuple[FeatureCost, ...] = (),
) -> RoiCase:
    rate = amount(engineer_hour_usd)
    if rate <= 0:
        raise ConfigError(f"engineer_hour_usd must be > 0, got {rate}")
    hours = quantize_ccu(cost / rate)
    per_1000 = quantize_ccu(cost / rate / (ccu / 1000)) if ccu > 0 else None
    saved = None if hours_saved_per_1000_ccu is None else amount(hours_saved_per_1000_ccu)
    value = net = payback = None
    if saved is not None:
        if saved < 0:
            raise ConfigError(f"hours_saved_per_1000_ccu must be >= 0, got {saved}")
        value = round_cents(saved * ccu / 1000 * rate)
        net = value - cost
        if value > 0 and weeks > 0:
            payback = (cost / (value / weeks)).quantize(_WEEK)
    return RoiCase(
        cost_usd=cost,
        ccu=ccu,
        basis=basis,
        weeks=weeks.quantize(_WEEK),
        engineer_hour_usd=rate,
        break_even_hours=hours,
        break_even_hours_per_1000_ccu=per_1000,
        hours_saved_per_1000_ccu=saved,
        value_usd=value,
        net_usd=net,
        payback_weeks=payback,
        features=features,
    )


def roi_for_plan(
    tier: str = "pro",
    seats: int = 1,
    *,
    card: RateCard | str | None = None,
    engineer_hour_usd: Decimal | int | str = 85,
    hours_saved_per_1000_ccu: Decimal | int | str | None = None,
) -> RoiCase:
    """The ROI of a plan used exactly to its pool for one month (the seed's framing).

    >>> roi_for_plan("pro").break_even_hours_per_1000_ccu
    Decimal('0.235294')
    """
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    spec = rate_card.tier(tier)
    spec.check_seats(seats, tier)
    cost = round_cents(spec.price_per_seat_usd * seats)
    weeks = Decimal(rate_card.options.hours_per_month) / 168
    return _roi(cost, spec.pool(seats), "pool", weeks, engineer_hour_usd, hours_saved_per_1000_ccu)


def roi(
    source: UsageLog | SimulationResult | PeriodStatement,
    *,
    engineer_hour_usd: Decimal | int | str = 85,
    hours_saved_per_1000_ccu: Decimal | int | str | None = None,
    log: UsageLog | None = None,
    card: RateCard | None = None,
    **simulate_options: Any,
) -> RoiCase:
    """The ROI of a bill: a statement, a simulation, or usage to simulate first.

    Args:
        source: a :class:`PeriodStatement` (one period or totals), a
            :class:`SimulationResult`, or a :class:`UsageLog` replayed with
            ``simulate_options`` (``account``, ``seats``, ``start``, ``months``,
            ``card``...; ``start`` defaults to the first event's month).
        engineer_hour_usd: the fully burdened cost of an engineer hour.
        hours_saved_per_1000_ccu: the team's estimate of hours saved; gives
            the value, the net and the payback.
        log: the usage of a :class:`SimulationResult`, for cost per feature.
        card: the simulation's card (default: resolved from the plan's card name).

    Raises:
        ConfigError: a bad rate or estimate.
    """
    if isinstance(source, UsageLog):
        log = source
        options = dict(simulate_options, card=card)
        account = options.pop("account", "pro")
        if options.get("start") is None and len(source):
            first = source.start
            options["start"] = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        source = simulate(source, account, **options)
    features: tuple[FeatureCost, ...] = ()
    if isinstance(source, SimulationResult):
        if log is not None:
            report = chargeback(log, source, by="feature", card=card)
            features = tuple(
                FeatureCost(
                    feature=row.key,
                    tasks=row.events,
                    ccu=row.total,
                    cost_usd=row.allocated_usd if row.allocated_usd is not None else ZERO,
                )
                for row in report.rows
            )
        statement = source.totals
    else:
        statement = source
    days = Decimal((statement.end - statement.start).total_seconds()) / 86_400
    return _roi(
        statement.total_cost,
        statement.consumed,
        "consumed",
        days / 7,
        engineer_hour_usd,
        hours_saved_per_1000_ccu,
        features,
    )
