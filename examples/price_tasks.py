"""Price a handful of tasks on both built-in cards.

Run: python examples/price_tasks.py
"""

from __future__ import annotations

from codex_credits import TOKEN_CARD, RateCard, estimate

ccu_card = RateCard.default()
token_card = RateCard.builtin(TOKEN_CARD)

tasks = {
    "well-scoped bug fix": {"reasoning_tokens": 2_500, "tool_calls": 4, "sandbox_minutes": 1.5},
    "test suite run": {"reasoning_tokens": 8_000, "tool_calls": 25, "sandbox_minutes": 12},
    "big refactor": {
        "reasoning_tokens": 40_000,
        "tool_calls": 60,
        "sandbox_minutes": 30,
        "sandbox_class": "large",
        "output_tokens": 9_000,
    },
}

print(f"{'task':<22} {'CCU':>12}")
for name, meters in tasks.items():
    breakdown = estimate(ccu_card, **meters)  # type: ignore[arg-type]
    print(f"{name:<22} {breakdown.total:>12}")

print()
print(f"{'model':<20} {'credits':>12} {'USD':>8}")
for model in ("gpt-5.5", "gpt-5.3-codex", "gpt-5.1-codex-mini"):
    breakdown = estimate(
        token_card,
        model=model,
        input_tokens=250_000,
        cached_input_tokens=180_000,
        output_tokens=6_000,
    )
    print(f"{model:<20} {breakdown.total:>12} {breakdown.usd:>8}")
