"""Task pricing on both built-in cards, checked against hand computation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from codex_credits import ConfigError, RateCard, UnknownModelError, estimate

TOKENS = RateCard.builtin("codex-tokens-2026-04")


def test_issue_example_ccu_card() -> None:
    b = estimate(
        reasoning_tokens=12_000,
        tool_calls=20,
        sandbox_minutes=10,
        sandbox_class="large",
        output_tokens=2_000,
    )
    assert b.categories == {
        "reasoning": Decimal("9.6"),
        "tool_calls": Decimal("6"),
        "sandbox": Decimal("10"),
        "output": Decimal("0.3"),
    }
    assert b.total == Decimal("25.9")
    assert b.unit == "CCU"


def test_issue_example_token_card() -> None:
    b = estimate(
        TOKENS,
        model="gpt-5.3-codex",
        input_tokens=1_000_000,
        cached_input_tokens=400_000,
        output_tokens=10_000,
    )
    assert b.categories == {
        "uncached_input": Decimal("26.25"),
        "cached_input": Decimal("1.75"),
        "output": Decimal("3.5"),
    }
    assert b.total == Decimal("31.5")
    assert b.usd == Decimal("1.26")
    assert b.unit == "credits"


def test_default_sandbox_class_is_medium() -> None:
    assert estimate(sandbox_minutes=3).categories["sandbox"] == Decimal("1.5")


@pytest.mark.parametrize(
    ("cls", "rate"), [("small", "0.1"), ("medium", "0.5"), ("large", "1.0"), ("xlarge", "2.0")]
)
def test_sandbox_classes(cls: str, rate: str) -> None:
    assert estimate(sandbox_minutes="1.5", sandbox_class=cls).total == Decimal(rate) * Decimal(
        "1.5"
    )


def test_float_minutes_read_from_decimal_text() -> None:
    assert estimate(sandbox_minutes=0.1, sandbox_class="small").total == Decimal("0.01")


def test_categories_are_quantized_one_by_one() -> None:
    # 1 reasoning token = 0.0008; 1 output token = 0.00015 -> 0.000150; 3 of them: 0.00045
    b = estimate(reasoning_tokens=1, output_tokens=3)
    assert b.categories["reasoning"] == Decimal("0.000800")
    assert b.categories["output"] == Decimal("0.000450")
    b = estimate(output_tokens=1, card=RateCard.default())
    # 0.00015 has six places exactly; a category below half a micro rounds to zero
    assert (
        estimate(
            TOKENS,
            model="gpt-5.1-codex-mini",
            cached_input_tokens=0,
            input_tokens=0,
            output_tokens=0,
        ).total
        == 0
    )
    tiny = estimate(TOKENS, model="gpt-5.1-codex-mini", input_tokens=1, cached_input_tokens=1)
    assert tiny.categories["cached_input"] == Decimal("0.000001")  # 0.000000625 -> 0.000001


def test_fast_mode_doubles_every_category() -> None:
    slow = estimate(
        TOKENS, model="gpt-5.5", input_tokens=2_000, cached_input_tokens=500, output_tokens=300
    )
    fast = estimate(
        TOKENS,
        model="gpt-5.5",
        input_tokens=2_000,
        cached_input_tokens=500,
        output_tokens=300,
        fast=True,
    )
    assert fast.total == 2 * slow.total
    assert all(fast.categories[k] == 2 * v for k, v in slow.categories.items())


def test_reasoning_is_not_added_on_the_token_card() -> None:
    with_reasoning = estimate(TOKENS, model="gpt-5.4", output_tokens=1000, reasoning_tokens=800)
    assert with_reasoning.total == Decimal("0.375")


def test_unknown_model_is_an_error_listing_known_models() -> None:
    with pytest.raises(UnknownModelError) as info:
        estimate(TOKENS, model="gpt-9", output_tokens=1)
    assert "gpt-5.5" in str(info.value) and "gpt-9" in str(info.value)
    with pytest.raises(UnknownModelError, match="without a model"):
        estimate(TOKENS, output_tokens=1)


def test_bad_inputs() -> None:
    with pytest.raises(ValidationError, match="cannot exceed"):
        estimate(TOKENS, model="gpt-5.5", input_tokens=1, cached_input_tokens=2)
    with pytest.raises(ValidationError):
        estimate(tool_calls=-1)
    with pytest.raises(ConfigError, match="unknown sandbox class"):
        estimate(sandbox_minutes=1, sandbox_class="huge")


counts = st.integers(min_value=0, max_value=10**8)


@given(
    counts,
    counts,
    st.decimals(min_value=0, max_value=10**5, places=3, allow_nan=False, allow_infinity=False),
    st.sampled_from(["small", "medium", "large", "xlarge"]),
    counts,
    st.booleans(),
)
def test_ccu_breakdown_sums_to_total(
    reasoning: int, tools: int, minutes: Decimal, cls: str, output: int, fast: bool
) -> None:
    b = estimate(
        reasoning_tokens=reasoning,
        tool_calls=tools,
        sandbox_minutes=minutes,
        sandbox_class=cls,
        output_tokens=output,
        fast=fast,
    )
    assert sum(b.categories.values()) == b.total
    assert all(v == v.quantize(Decimal("0.000001")) for v in b.categories.values())


@given(st.sampled_from(sorted(TOKENS.models)), counts, counts, counts, st.booleans())
def test_token_breakdown_sums_to_total(model: str, a: int, b: int, out: int, fast: bool) -> None:
    inp, cached = max(a, b), min(a, b)
    result = estimate(
        TOKENS,
        model=model,
        input_tokens=inp,
        cached_input_tokens=cached,
        output_tokens=out,
        fast=fast,
    )
    assert sum(result.categories.values()) == result.total
    rates = TOKENS.models[model]
    factor = 2 if fast else 1
    exact = (
        (
            (inp - cached) * rates.input_per_1m
            + cached * rates.cached_input_per_1m
            + out * rates.output_per_1m
        )
        * factor
        / Decimal(10**6)
    )
    assert abs(result.total - exact) <= Decimal("0.0000015")
