"""What a task costs: meter quantities priced on a rate card.

On a CCU card (one with ``meters``) the categories are (docs/credits.md):

=================  ===========================================
``reasoning``      reasoning tokens x rate per 1,000
``tool_calls``     tool calls x rate per call
``sandbox``        sandbox minutes x rate of the sandbox class
``output``         output tokens x rate per 1,000
``input``          input tokens x rate per 1,000 (0 by default)
``cached_input``   cached input tokens x rate per 1,000 (0 by default)
=================  ===========================================

On a token card (one with ``models`` and no ``meters``) the categories are
``uncached_input`` (input - cached input), ``cached_input`` and ``output``,
at the model's credits per 1,000,000 tokens. Reasoning tokens are already
inside output tokens there and are never added again.

Fast mode multiplies every category by the card's ``fast_mode_factor``. Each
category is quantized to 0.000001 on its own; the total is the sum of the
quantized categories, so a breakdown always adds up.

>>> card = RateCard.default()
>>> b = estimate(card, reasoning_tokens=12_000, tool_calls=20, sandbox_minutes=10,
...              sandbox_class="large", output_tokens=2_000)
>>> b.total, b.categories["sandbox"]
(Decimal('25.900000'), Decimal('10.000000'))
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, final

from pydantic import Field, model_validator

from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeofday import in_window
from codex_credits.core.timeutil import epoch_us
from codex_credits.core.units import ZERO, Ccu, Quantity, Usd, quantity, quantize_ccu, round_cents
from codex_credits.errors import ConfigError

__all__ = ["CostBreakdown", "Usage", "estimate", "price_usage"]

_THOUSAND = Decimal(1000)
_MILLION = Decimal(1_000_000)


@final
class Usage(Frozen):
    """Meter quantities of one task or request."""

    reasoning_tokens: int = Field(default=0, ge=0)
    tool_calls: int = Field(default=0, ge=0)
    sandbox_minutes: Quantity = Field(default=ZERO, ge=0)
    sandbox_class: str | None = None
    output_tokens: int = Field(default=0, ge=0)
    input_tokens: int = Field(default=0, ge=0, description="including cached input")
    cached_input_tokens: int = Field(default=0, ge=0)
    model: str | None = None
    fast: bool = False

    @model_validator(mode="after")
    def _cached_within_input(self) -> Usage:
        if self.cached_input_tokens > self.input_tokens:
            raise ValueError(
                f"cached_input_tokens ({self.cached_input_tokens}) cannot exceed "
                f"input_tokens ({self.input_tokens}), which include cached tokens"
            )
        return self


@final
class CostBreakdown(Frozen):
    """The price of one task, per category, on one card."""

    card: str
    unit: Literal["CCU", "credits"]
    categories: dict[str, Ccu]
    total: Ccu
    model: str | None = None
    model_fallback: bool = False
    fast: bool = False
    usd: Usd | None = Field(default=None, description="token cards: total / credits_per_usd")


def estimate(
    card: RateCard | None = None,
    *,
    reasoning_tokens: int = 0,
    tool_calls: int = 0,
    sandbox_minutes: Decimal | int | float | str = 0,
    sandbox_class: str | None = None,
    output_tokens: int = 0,
    input_tokens: int = 0,
    cached_input_tokens: int = 0,
    model: str | None = None,
    fast: bool = False,
) -> CostBreakdown:
    """Price one task on ``card`` (the default CCU card when omitted).

    Raises:
        pydantic.ValidationError: a negative quantity or more cached than input tokens.
        UnknownModelError: a token card does not price ``model``.
        ConfigError: an unknown sandbox class.
    """
    usage = Usage(
        reasoning_tokens=reasoning_tokens,
        tool_calls=tool_calls,
        sandbox_minutes=quantity(sandbox_minutes),
        sandbox_class=sandbox_class,
        output_tokens=output_tokens,
        input_tokens=input_tokens,
        cached_input_tokens=cached_input_tokens,
        model=model,
        fast=fast,
    )
    return price_usage(usage, card if card is not None else RateCard.default())


def price_usage(usage: Usage, card: RateCard, at: datetime | None = None) -> CostBreakdown:
    """Price :class:`Usage` on ``card``; see the module docs for the categories.

    ``at`` (the task's time) applies the card's time-of-day windows; without
    it no window discount applies.
    """
    factor = card.options.fast_mode_factor if usage.fast else Decimal(1)
    discounts = _window_discounts(card, at)
    if card.meters is not None:
        factor *= card.model_multiplier(usage.model)
        categories = _ccu_categories(usage, card, factor, discounts)
        model, fallback = usage.model, False
    else:
        model, rates, fallback = card.model_rates(usage.model)
        uncached = usage.input_tokens - usage.cached_input_tokens

        def f(name: str) -> Decimal:
            return factor * (1 - discounts.get(name, ZERO))

        categories = {
            "uncached_input": quantize_ccu(
                uncached * rates.input_per_1m * f("uncached_input") / _MILLION
            ),
            "cached_input": quantize_ccu(
                usage.cached_input_tokens * rates.cached_input_per_1m * f("cached_input") / _MILLION
            ),
            "output": quantize_ccu(
                usage.output_tokens * rates.output_per_1m * f("output") / _MILLION
            ),
        }
    total = sum(categories.values(), ZERO)
    usd = round_cents(total / card.options.credits_per_usd) if card.unit == "credits" else None
    return CostBreakdown(
        card=card.name,
        unit=card.unit,
        categories=categories,
        total=total,
        model=model,
        model_fallback=fallback,
        fast=usage.fast,
        usd=usd,
    )


def _window_discounts(card: RateCard, at: datetime | None) -> dict[str, Decimal]:
    """Category -> the largest discount of the card's windows open at ``at``."""
    if at is None or not card.windows:
        return {}
    import numpy as np  # only for a card with windows: the CLI starts without numpy

    instant = np.array([epoch_us(at)], dtype=np.int64)
    found: dict[str, Decimal] = {}
    for window in card.windows:
        if bool(in_window(window, instant)[0]):
            for name in window.meters:
                found[name] = max(found.get(name, ZERO), window.discount)
    return found


def _ccu_categories(
    usage: Usage, card: RateCard, base: Decimal, discounts: dict[str, Decimal]
) -> dict[str, Decimal]:
    meters = card.meters
    assert meters is not None
    sandbox_class = usage.sandbox_class or meters.default_sandbox_class
    try:
        sandbox_rate = meters.sandbox_per_minute[sandbox_class]
    except KeyError:
        raise ConfigError(
            f"unknown sandbox class {sandbox_class!r}; card {card.name} has "
            f"{', '.join(meters.sandbox_per_minute)}"
        ) from None

    def factor(name: str) -> Decimal:
        return base * (1 - discounts.get(name, ZERO))

    categories = {
        "reasoning": quantize_ccu(
            usage.reasoning_tokens
            * meters.reasoning_per_1k_tokens
            * factor("reasoning")
            / _THOUSAND
        ),
        "tool_calls": quantize_ccu(usage.tool_calls * meters.tool_call * factor("tool_calls")),
        "sandbox": quantize_ccu(usage.sandbox_minutes * sandbox_rate * factor("sandbox")),
        "output": quantize_ccu(
            usage.output_tokens * meters.output_per_1k_tokens * factor("output") / _THOUSAND
        ),
    }
    if meters.input_per_1k_tokens or meters.cached_input_per_1k_tokens:
        uncached = usage.input_tokens - usage.cached_input_tokens
        categories["input"] = quantize_ccu(
            uncached * meters.input_per_1k_tokens * factor("input") / _THOUSAND
        )
        categories["cached_input"] = quantize_ccu(
            usage.cached_input_tokens
            * meters.cached_input_per_1k_tokens
            * factor("cached_input")
            / _THOUSAND
        )
    return categories
