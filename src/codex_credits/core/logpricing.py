"""Pricing a whole usage log per category, with model tiers, windows and cached context.

Theory of operation (docs/rate-cards.md): an event's price in one category is
``quantize(quantity x rate x factor / divisor)`` (0.000001, half-even), the
categories are quantized one by one and summed, exactly as
:func:`~codex_credits.core.meters.price_usage` prices one task. ``factor`` is
the product of

* the fast-mode factor (fast events),
* the model tier's multiplier (a CCU card with ``model_tiers``; a model not
  listed has multiplier 1),
* ``1 - discount`` of the time-of-day window the event's timestamp falls in,
  for the categories that window discounts (the largest discount when windows
  overlap).

The log may carry one extra column, ``cached_context_tokens``: reasoning tokens
of a CCU task whose context was served from a cache (what-if transformations
write it). They are charged at ``meters.cached_context_per_1k_tokens`` in the
``cached_context`` category instead of at the reasoning rate.

Events that carry an amount (``ccu``) keep it, undiscounted, in the category
``amount``. Everything is integer micro-units, vectorised over the log's
columns: the distinct combinations of rate and factor are few, so each is
turned into one exact fraction and applied to every event that has it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, final

import numpy as np
import numpy.typing as npt

from codex_credits.core.halfeven import div_half_even
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeofday import in_window
from codex_credits.core.units import MICRO
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError

if TYPE_CHECKING:
    from codex_credits.core.usage import UsageLog

__all__ = ["CACHED_CONTEXT", "LogPrices", "price_log"]

CACHED_CONTEXT = "cached_context_tokens"
"""The optional log column of reasoning tokens served from a context cache."""

Int64Array = npt.NDArray[np.int64]
_LIMIT = 1 << 62


@final
@dataclass(frozen=True, eq=False, repr=False)
class LogPrices(Displayed):
    """Per-event prices in micro-units: one array per category, and their sum."""

    categories: dict[str, Int64Array]
    total: Int64Array

    def sums(self) -> dict[str, int]:
        """Each category summed over the log, in micro-units."""
        return {name: int(values.sum()) for name, values in self.categories.items()}


def _column(log: UsageLog, name: str) -> Int64Array:
    try:
        return np.asarray(log.column(name), dtype=np.int64)
    except KeyError:
        return np.zeros(len(log), dtype=np.int64)


def _apply(qty: Int64Array, num: Int64Array, den: Int64Array) -> Int64Array:
    """``half_even(qty x num / den)`` exactly; Python integers when int64 would overflow."""
    if not qty.size:
        return np.zeros(0, dtype=np.int64)
    top = int(np.abs(qty).max()) * int(np.abs(num).max())
    if top < _LIMIT:
        return div_half_even(qty * num, den)
    exact = [
        _round_fraction(Fraction(q * n, d))
        for q, n, d in zip(qty.tolist(), num.tolist(), den.tolist(), strict=True)
    ]
    return np.array(exact, dtype=np.int64)


def _scaled(qty: Int64Array, nums: Int64Array, dens: Int64Array, inverse: Int64Array) -> Int64Array:
    """Price ``qty`` at each event's combination rate ``nums / dens``.

    Over one common denominator when that fits, so the division is by a
    scalar; otherwise per event.
    """
    common = math.lcm(*(int(d) for d in dens.tolist()))
    scaled = nums * (common // dens) if common < _LIMIT else None
    if scaled is not None and int(np.abs(scaled).max()) < _LIMIT:
        top = int(np.abs(qty).max()) * int(np.abs(scaled).max()) if qty.size else 0
        if top < _LIMIT:
            return div_half_even(qty * scaled[inverse], common)
    return _apply(qty, nums[inverse], dens[inverse])


def _round_fraction(value: Fraction) -> int:
    return round(value)  # Fraction rounds half to even


def _frac(value: Decimal) -> Fraction:
    return Fraction(value)


class _Combos:
    """Distinct (fast, model, sandbox class, window mask) combinations of a log's events."""

    def __init__(self, log: UsageLog, card: RateCard) -> None:
        n = len(log)
        fast = np.asarray(log.column("fast"), dtype=np.int64)
        model = np.asarray(log.column("model"), dtype=np.int64)
        sandbox = np.asarray(log.column("sandbox_class"), dtype=np.int64)
        mask = np.zeros(n, dtype=np.int64)
        ts = log.timestamps_us
        for bit, window in enumerate(card.windows):
            mask |= in_window(window, ts).astype(np.int64) << bit
        n_model = len(log.labels("model"))
        n_sandbox = len(log.labels("sandbox_class"))
        key = ((mask * 2 + fast) * n_model + model) * n_sandbox + sandbox
        # The key space is small: a lookup table replaces sorting a million keys.
        seen = np.bincount(key, minlength=1) > 0
        self.keys = np.nonzero(seen)[0].astype(np.int64)
        lookup = np.zeros(seen.size, dtype=np.int64)
        lookup[self.keys] = np.arange(self.keys.size, dtype=np.int64)
        self.inverse = lookup[key]
        self.n_model = n_model
        self.n_sandbox = n_sandbox

    def parts(self, i: int) -> tuple[int, bool, int, int]:
        """``(window mask, fast, model code, sandbox code)`` of combination ``i``."""
        key = int(self.keys[i])
        sandbox = key % self.n_sandbox
        key //= self.n_sandbox
        model = key % self.n_model
        key //= self.n_model
        return key // 2, bool(key % 2), model, sandbox


def _window_factor(card: RateCard, mask: int, category: str) -> Fraction:
    best = Decimal(0)
    for bit, window in enumerate(card.windows):
        if mask >> bit & 1 and category in window.meters:
            best = max(best, window.discount)
    return 1 - _frac(best)


def price_log(log: UsageLog, card: RateCard) -> LogPrices:
    """Every event of ``log`` priced on ``card``, per category, in micro-units.

    Raises:
        ConfigError: an unknown sandbox class, or cached context on a card
            without ``cached_context_per_1k_tokens``.
        UnknownModelError: a token card does not price an event's model.
    """
    n = len(log)
    has_ccu = np.asarray(log.column("has_ccu"), dtype=np.bool_)
    metered = ~has_ccu
    combos = _Combos(log, card)
    fast_factor = _frac(card.options.fast_mode_factor)
    models = log.labels("model")
    classes = log.labels("sandbox_class")
    present = np.zeros(len(combos.keys), dtype=np.bool_)
    present[combos.inverse[metered]] = True

    # (category, quantity column, rate of a combination before factors, divisor)
    if card.meters is not None:
        meters = card.meters
        reasoning = _column(log, "reasoning_tokens")
        cached_ctx = np.minimum(_column(log, CACHED_CONTEXT), reasoning)
        if np.any(cached_ctx[metered] > 0) and meters.cached_context_per_1k_tokens is None:
            raise ConfigError(
                f"card {card.name} has no cached_context_per_1k_tokens to price cached context"
            )
        cached_rate = meters.cached_context_per_1k_tokens or Decimal(0)

        def sandbox_rate(code: int) -> Decimal:
            name = classes[code] or meters.default_sandbox_class
            try:
                return meters.sandbox_per_minute[name]
            except KeyError:
                raise ConfigError(
                    f"unknown sandbox class {name!r}; card {card.name} has "
                    f"{', '.join(meters.sandbox_per_minute)}"
                ) from None

        uncached_in = _column(log, "input_tokens") - _column(log, "cached_input_tokens")
        specs: list[tuple[str, Int64Array, object, int]] = [
            ("reasoning", reasoning - cached_ctx, meters.reasoning_per_1k_tokens, 1000),
            ("tool_calls", _column(log, "tool_calls"), meters.tool_call, 1),
            ("sandbox", _column(log, "sandbox_micro_minutes"), sandbox_rate, MICRO),
            ("output", _column(log, "output_tokens"), meters.output_per_1k_tokens, 1000),
            ("input", uncached_in, meters.input_per_1k_tokens, 1000),
            (
                "cached_input",
                _column(log, "cached_input_tokens"),
                meters.cached_input_per_1k_tokens,
                1000,
            ),
            ("cached_context", cached_ctx, cached_rate, 1000),
        ]
    else:

        def model_rates(code: int) -> tuple[Decimal, Decimal, Decimal]:
            _, rates, _ = card.model_rates(models[code])
            return rates.input_per_1m, rates.cached_input_per_1m, rates.output_per_1m

        uncached_in = _column(log, "input_tokens") - _column(log, "cached_input_tokens")
        specs = [
            ("uncached_input", uncached_in, lambda m: model_rates(m)[0], MICRO),
            (
                "cached_input",
                _column(log, "cached_input_tokens"),
                lambda m: model_rates(m)[1],
                MICRO,
            ),
            ("output", _column(log, "output_tokens"), lambda m: model_rates(m)[2], MICRO),
        ]

    categories: dict[str, Int64Array] = {}
    total = np.where(has_ccu, _column(log, "ccu_micro"), 0).astype(np.int64)
    for name, qty, rate, divisor in specs:
        nums = np.zeros(len(combos.keys), dtype=np.int64)
        dens = np.ones(len(combos.keys), dtype=np.int64)
        any_rate = False
        for i in np.nonzero(present)[0].tolist():
            mask, fast, model, sandbox = combos.parts(i)
            if callable(rate):
                base = rate(sandbox if name == "sandbox" else model)
            else:
                assert isinstance(rate, Decimal)
                base = rate
            if not base:
                continue
            any_rate = True
            value = _frac(base) * MICRO / divisor * _window_factor(card, mask, name)
            if fast:
                value *= fast_factor
            if card.meters is not None:
                value *= _frac(card.model_multiplier(models[model]))
            nums[i], dens[i] = value.numerator, value.denominator
        if not any_rate or not qty[metered].any():
            categories[name] = np.zeros(n, dtype=np.int64)
            continue
        priced = _scaled(qty, nums, dens, combos.inverse)
        priced = np.where(metered, priced, 0).astype(np.int64)
        categories[name] = priced
        total = total + priced
    categories["amount"] = np.where(has_ccu, _column(log, "ccu_micro"), 0).astype(np.int64)
    return LogPrices(categories=categories, total=total)
