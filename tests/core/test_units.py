from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits.core.units import (
    amount,
    from_micro,
    quantity,
    quantize_ccu,
    reject_float,
    round_cents,
    to_micro,
)
from codex_credits.errors import AmountTypeError


def test_quantize_is_half_even_at_the_micro() -> None:
    assert quantize_ccu(Decimal("0.0000005")) == Decimal("0.000000")
    assert quantize_ccu(Decimal("0.0000015")) == Decimal("0.000002")
    assert quantize_ccu(Decimal("2.0000025")) == Decimal("2.000002")


def test_round_cents_is_half_even() -> None:
    assert round_cents(Decimal("0.125")) == Decimal("0.12")
    assert round_cents(Decimal("0.135")) == Decimal("0.14")


def test_float_amount_is_refused_with_what_to_pass() -> None:
    with pytest.raises(AmountTypeError, match=r"pass Decimal, int or str"):
        amount(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        reject_float(1.5)


def test_text_and_int_amounts_are_exact() -> None:
    assert amount("0.1") + amount("0.2") == Decimal("0.3")
    assert amount(3) == Decimal(3)
    with pytest.raises(ValueError, match="not a decimal"):
        amount("abc")
    with pytest.raises(ValueError, match="finite"):
        amount("NaN")


def test_quantity_accepts_float_from_its_decimal_text() -> None:
    assert quantity(2.5) == Decimal("2.5")
    assert quantity(0.1) == Decimal("0.1")  # not 0.1000000000000000055...


@given(st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False, allow_infinity=False))
def test_micro_round_trip(value: Decimal) -> None:
    assert from_micro(to_micro(value)) == value
