"""The built-in rate cards, as the data a card file would hold.

``codex-ccu-2026-06`` (:data:`DEFAULT_CARD`) is the CCU planning model: meters,
tiers free, go, plus and pro, the savings reserve, rollover and overage.
``codex-tokens-2026-04`` (:data:`TOKEN_CARD`) is Codex's per-token credit card.
:class:`codex_credits.core.ratecard.RateCard` validates them like any other card
(docs/rate-cards.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["BUILTIN_CARDS", "BUILTIN_DATA", "DEFAULT_CARD", "TOKEN_CARD"]

DEFAULT_CARD = "codex-ccu-2026-06"
"""The name of the default card, the CCU planning model."""
TOKEN_CARD = "codex-tokens-2026-04"
"""The name of Codex's per-token credit card."""


def _d(text: str) -> Decimal:
    return Decimal(text)


_CCU_TIERS: dict[str, dict[str, Any]] = {
    "free": {
        "price_per_seat_usd": _d("0"),
        "monthly_ccu_per_seat": _d("50"),
        "max_seats": 1,
        "concurrency": 1,
        "reserve": "none",
        "reserve_cap_hours": _d("0"),
        "rollover_periods": 0,
        "rollover_cap_pools": _d("0"),
        "rate_limit_multiple": _d("10"),
    },
    "go": {
        "price_per_seat_usd": _d("9"),
        "monthly_ccu_per_seat": _d("500"),
        "max_seats": 1,
        "concurrency": 3,
        "reserve": "none",
        "reserve_cap_hours": _d("0"),
        "rollover_periods": 0,
        "rollover_cap_pools": _d("0"),
        "overage_usd_per_ccu": _d("0.025"),
        "rate_limit_multiple": _d("10"),
    },
    "plus": {
        "price_per_seat_usd": _d("20"),
        "monthly_ccu_per_seat": _d("2000"),
        "max_seats": 5,
        "concurrency": 5,
        "reserve": "partial",
        "reserve_cap_hours": _d("2"),
        "rollover_periods": 1,
        "rollover_cap_pools": _d("1"),
        "overage_usd_per_ccu": _d("0.018"),
        "rate_limit_multiple": _d("10"),
    },
    "pro": {
        "price_per_seat_usd": _d("200"),
        "monthly_ccu_per_seat": _d("10000"),
        "reserve": "full",
        "reserve_cap_hours": _d("4"),
        "rollover_periods": 3,
        "rollover_cap_pools": _d("3"),
        "overage_usd_per_ccu": _d("0.012"),
        "rate_limit_multiple": _d("10"),
    },
}

_TOKEN_MODELS: dict[str, tuple[str, str, str]] = {
    "gpt-5.5": ("125", "12.5", "750"),
    "gpt-5.4": ("62.5", "6.25", "375"),
    "gpt-5.4-mini": ("18.75", "1.875", "113"),
    "gpt-5.3-codex": ("43.75", "4.375", "350"),
    "gpt-5.2-codex": ("43.75", "4.375", "350"),
    "gpt-5.2": ("43.75", "4.375", "350"),
    "gpt-5.1-codex-max": ("31.25", "3.125", "250"),
    "gpt-5.1-codex-mini": ("6.25", "0.625", "50"),
}

BUILTIN_DATA: dict[str, dict[str, Any]] = {  # name -> the card as a file would hold it
    DEFAULT_CARD: {
        "name": DEFAULT_CARD,
        "unit": "CCU",
        "description": (
            "The CCU planning model: meters, tiers free/go/plus/pro, savings reserve, "
            "rollover and overage. rate_limit_multiple (10) is this library's assumption."
        ),
        "meters": {
            "reasoning_per_1k_tokens": _d("0.8"),
            "tool_call": _d("0.3"),
            "sandbox_per_minute": {
                "small": _d("0.1"),
                "medium": _d("0.5"),
                "large": _d("1.0"),
                "xlarge": _d("2.0"),
            },
            "default_sandbox_class": "medium",
            "output_per_1k_tokens": _d("0.15"),
            "input_per_1k_tokens": _d("0"),
            "cached_input_per_1k_tokens": _d("0"),
            "cached_context_per_1k_tokens": _d("0.26"),
        },
        "tiers": _CCU_TIERS,
        "options": {},
    },
    TOKEN_CARD: {
        "name": TOKEN_CARD,
        "unit": "credits",
        "description": (
            "Codex's per-token credit card, effective 2026-04-02 for Plus, Pro and Business: "
            "credits per 1,000,000 tokens; fast mode (priority) x2; 25 credits = 1 USD."
        ),
        "models": {
            name: {"input_per_1m": _d(i), "cached_input_per_1m": _d(c), "output_per_1m": _d(o)}
            for name, (i, c, o) in _TOKEN_MODELS.items()
        },
        "options": {},
    },
}

BUILTIN_CARDS: tuple[str, ...] = tuple(BUILTIN_DATA)
"""Names of the built-in cards; the first is the default."""
