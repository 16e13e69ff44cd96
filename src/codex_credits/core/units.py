"""Exact amounts: CCU, credits and USD.

Theory of operation (docs/credits.md, "Units and rounding"):

* Amounts are :class:`~decimal.Decimal`, never binary floats. A float passed as an
  amount is refused (:class:`~codex_credits.errors.AmountTypeError`) because
  ``0.1`` as a float is not one tenth.
* Every derived amount (a product or a quotient) is quantized to 0.000001
  (one micro-unit) with ROUND_HALF_EVEN: :func:`quantize_ccu`.
* Money is rounded to cents once per statement line: :func:`round_cents`.
* The engine's hot paths keep amounts as integer micro-units
  (:func:`to_micro` / :func:`from_micro`), which are exact too.

A meter *quantity* (minutes of sandbox time) may be a float: it is converted
from its shortest decimal text, so ``2.5`` becomes ``Decimal("2.5")``
(:func:`quantity`).

>>> quantize_ccu(Decimal("1.0000005"))
Decimal('1.000000')
>>> round_cents(Decimal("90.005"))
Decimal('90.00')
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from codex_credits.errors import AmountTypeError

__all__ = [
    "CCU_QUANTUM",
    "CENT",
    "MICRO",
    "ZERO",
    "Ccu",
    "Quantity",
    "Usd",
    "amount",
    "from_micro",
    "quantity",
    "quantize_ccu",
    "reject_float",
    "round_cents",
    "to_micro",
]

ZERO = Decimal(0)
CCU_QUANTUM = Decimal("0.000001")
CENT = Decimal("0.01")
MICRO = 1_000_000

# A local context, wide enough for any amount we handle; the global one is never touched.
_CTX = Context(prec=60, rounding=ROUND_HALF_EVEN)

_FLOAT_MESSAGE = (
    "floats are not accepted for {what}; pass Decimal, int or str "
    '(for example Decimal("{example}") or "{example}")'
)


def reject_float(value: Any, what: str = "amounts of credit or money") -> Any:
    """Refuse binary floats; pass everything else through for pydantic to check."""
    if isinstance(value, float):
        raise AmountTypeError(_FLOAT_MESSAGE.format(what=what, example=repr(value)))
    if isinstance(value, bool):
        raise AmountTypeError(f"a bool is not an amount: {value!r}")
    return value


def amount(value: Decimal | int | str) -> Decimal:
    """Turn a caller's amount into an exact, finite Decimal.

    Raises:
        AmountTypeError: for a float or a bool.
        ValueError: for text that is not a finite decimal number.
    """
    reject_float(value)
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"amount must be finite, got {value!r}")
    return result


def quantity(value: Decimal | int | float | str) -> Decimal:
    """A meter quantity (minutes, tokens): floats are allowed, read from their decimal text."""
    if isinstance(value, bool):
        raise AmountTypeError(f"a bool is not a quantity: {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"quantity must be finite, got {value!r}")
    return result


def _validate_amount(value: Any) -> Any:
    reject_float(value)
    if isinstance(value, str):
        return amount(value)
    return value


def _validate_quantity(value: Any) -> Any:
    if isinstance(value, float):
        return quantity(value)
    return value


def _decimal_text(value: Decimal) -> str:
    return format(value, "f")


Ccu = Annotated[
    Decimal,
    BeforeValidator(_validate_amount),
    PlainSerializer(_decimal_text, return_type=str, when_used="json"),
]
"""An exact amount of CCU or credits. Floats are refused."""

Usd = Annotated[
    Decimal,
    BeforeValidator(_validate_amount),
    PlainSerializer(_decimal_text, return_type=str, when_used="json"),
]
"""An exact amount of US dollars. Floats are refused."""

Quantity = Annotated[
    Decimal,
    BeforeValidator(_validate_quantity),
    PlainSerializer(_decimal_text, return_type=str, when_used="json"),
]
"""A meter quantity such as sandbox minutes. A float is read from its decimal text."""


def quantize_ccu(value: Decimal) -> Decimal:
    """Quantize a derived amount to 0.000001, rounding half-even."""
    return value.quantize(CCU_QUANTUM, rounding=ROUND_HALF_EVEN, context=_CTX)


def round_cents(value: Decimal) -> Decimal:
    """Round money to cents, half-even. Call it once per statement line."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN, context=_CTX)


def to_micro(value: Decimal) -> int:
    """An amount as integer micro-units, quantizing half-even first."""
    return int(quantize_ccu(value).scaleb(6, context=_CTX))


def from_micro(micro: int) -> Decimal:
    """Integer micro-units back to an exact Decimal with six places."""
    return Decimal(micro).scaleb(-6, context=_CTX).quantize(CCU_QUANTUM, context=_CTX)
