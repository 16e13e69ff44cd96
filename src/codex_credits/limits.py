"""The documented limits on what codex-credits accepts, checked where input enters.

Every limit here is named in the error that enforces it, so a refused value says
which bound it broke (docs/limits.md):

==========================  ==================  ==========================================
limit                       value               why
==========================  ==================  ==========================================
:data:`MAX_AMOUNT`          10**12 CCU or USD   micro-units of a sum stay within 64 bits
:data:`MAX_SEATS`           100,000             pools stay within 64-bit micro-units
:data:`MAX_MONTHS`          1,200 (100 years)   billing periods of one simulation
:data:`MAX_SEAT_SWEEP`      100                 seat counts one ``compare`` tries per tier
:data:`MAX_PATHS`           100,000             Monte Carlo paths (about 3 KB each)
:data:`MAX_BATCH_COUNT`     100,000             planned tasks in one ``[[batch]]`` entry
:data:`MAX_COUNT`           2**53               token and tool-call counts of one task
:data:`MAX_SEED`            2**63 - 1           random seeds (and at least 0)
:data:`MIN_YEAR` ..         1970 .. 9000        years of an anchor or any instant given
:data:`MAX_YEAR`                                as an option (room for 100 years of periods)
:data:`MAX_NESTING`         32                  nesting of a policy, card or baseline file
==========================  ==================  ==========================================

Amounts (budgets, balances, thresholds) must also be whole micro-units: a value
finer than 0.000001 is refused with its field named, never rounded silently
(:func:`check_amount`). Every check raises
:class:`~codex_credits.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator

from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import CCU_QUANTUM, Ccu, Quantity
from codex_credits.errors import ConfigError

__all__ = [
    "MAX_AMOUNT",
    "MAX_BATCH_COUNT",
    "MAX_COUNT",
    "MAX_MONTHS",
    "MAX_NESTING",
    "MAX_PATHS",
    "MAX_SEATS",
    "MAX_SEAT_SWEEP",
    "MAX_SEED",
    "MAX_YEAR",
    "MIN_YEAR",
    "BoundedCcu",
    "BoundedInstant",
    "BoundedQuantity",
    "check_amount",
    "check_instant",
    "check_int",
    "check_magnitudes",
    "check_nesting",
    "int_limit",
    "plain",
]

MAX_AMOUNT = Decimal(10**12)
"""Largest amount of CCU, credits or USD accepted (10**12 is 10**18 micro-units)."""
MAX_SEATS = 100_000
"""Most seats of one account."""
MAX_MONTHS = 1_200
"""Most billing periods one simulation or report covers (100 years)."""
MAX_SEAT_SWEEP = 100
"""Most seat counts ``compare`` tries for each tier."""
MAX_PATHS = 100_000
"""Most Monte Carlo paths of one forecast."""
MAX_BATCH_COUNT = 100_000
"""Most planned tasks in one batch entry of a policy."""
MAX_COUNT = 2**53
"""Largest token or tool-call count of one task."""
MAX_SEED = 2**63 - 1
"""Largest random seed."""
MIN_YEAR = 1970
"""Earliest year of an anchor or an instant given as an option."""
MAX_YEAR = 9000
"""Latest year of an anchor or an instant given as an option."""
MAX_NESTING = 32
"""Deepest nesting of lists and tables in a policy, card or baseline file."""


def plain(value: Decimal) -> str:
    """A Decimal in plain notation: ``0.0000001``, never ``1E-7``; ``1000``, never ``1E+3``."""
    return format(value, "f")


def _shown(value: Decimal) -> str:
    """A refused value for a message: plain unless it would run past 30 digits."""
    return plain(value) if value.is_finite() and -30 < value.adjusted() < 30 else str(value)


def check_int(value: int, field: str, *, high: int, low: int = 0, limit: str = "") -> int:
    """``value`` if ``low <= value <= high``; else a ConfigError naming ``field`` and the bound."""
    if value < low:
        raise ConfigError(f"{field}: {value} is below the minimum of {low}")
    if value > high:
        name = f" ({limit})" if limit else ""
        raise ConfigError(f"{field}: {value} is above the limit of {high:,}{name}")
    return value


def check_amount(value: Decimal, field: str, *, exact: bool = True) -> Decimal:
    """An amount within :data:`MAX_AMOUNT`, in whole micro-units when ``exact``.

    Returns the value in plain form (``Decimal("1E+3")`` becomes ``Decimal("1000")``).

    Raises:
        ConfigError: naming ``field``: not finite, larger than the limit, or finer
            than 0.000001 (it would be rounded silently otherwise).
    """
    if not value.is_finite():
        raise ConfigError(f"{field}: {value} is not a finite number")
    if abs(value) > MAX_AMOUNT:
        raise ConfigError(
            f"{field}: {_shown(value)} is above the limit of {plain(MAX_AMOUNT)} (MAX_AMOUNT)"
        )
    if exact and value != value.quantize(CCU_QUANTUM):
        raise ConfigError(
            f"{field}: {_shown(value)} is finer than the micro-unit 0.000001; "
            "amounts are exact to six decimal places, so it would be rounded"
        )
    return Decimal(plain(value))


def check_instant(value: datetime, field: str) -> datetime:
    """``value`` if its year lies within :data:`MIN_YEAR` .. :data:`MAX_YEAR`."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ConfigError(
            f"{field}: {value.isoformat()} is outside the supported years "
            f"{MIN_YEAR}..{MAX_YEAR} (MIN_YEAR, MAX_YEAR)"
        )
    return value


def _walk(data: Any, path: str, depth: int) -> Iterator[tuple[str, Any, int]]:
    stack = [(data, path, depth)]
    while stack:
        node, where, level = stack.pop()
        yield where, node, level
        if isinstance(node, dict):
            stack += [(v, f"{where}.{k}" if where else str(k), level + 1) for k, v in node.items()]
        elif isinstance(node, list | tuple):
            stack += [
                (v, f"{where}.{i}" if where else str(i), level + 1) for i, v in enumerate(node)
            ]


def check_nesting(data: Any, source: str) -> Any:
    """``data`` if no list or table in it nests deeper than :data:`MAX_NESTING`."""
    for where, _node, level in _walk(data, "", 0):
        if level > MAX_NESTING:
            raise ConfigError(
                f"{source}: {where or 'the document'} is nested deeper than "
                f"{MAX_NESTING} levels (MAX_NESTING)"
            )
    return data


def _number(node: Any) -> Decimal | None:
    if isinstance(node, bool):
        return None
    if isinstance(node, int | float | Decimal):
        return Decimal(node)
    if isinstance(node, str) and len(node) < 100:
        try:
            return Decimal(node.strip())
        except ArithmeticError:
            return None
    return None


def check_magnitudes(data: Any, source: str) -> Any:
    """``data`` if every number in it (or text that reads as one) is finite and within
    :data:`MAX_AMOUNT` in size."""
    for where, node, _level in _walk(data, "", 0):
        number = _number(node)
        if number is None:
            continue
        if not number.is_finite():
            raise ConfigError(f"{source}: {where}: {node} is not a finite number")
        if abs(number) > MAX_AMOUNT:
            raise ConfigError(
                f"{source}: {where}: {_shown(number)} is above the limit of "
                f"{plain(MAX_AMOUNT)} (MAX_AMOUNT)"
            )
    return data


def int_limit(high: int, limit: str, low: int = 0) -> AfterValidator:
    """A pydantic validator for ``Annotated[int, ...]``: ``low..high``, the error names ``limit``."""

    def _check(value: int) -> int:
        try:
            return check_int(value, "value", high=high, low=low, limit=limit)
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("value: ")) from None

    return AfterValidator(_check)


def _bounded_ccu(value: Decimal) -> Decimal:
    try:
        return check_amount(value, "amount")
    except ConfigError as exc:  # pydantic names the field; keep only the reason
        raise ValueError(str(exc).removeprefix("amount: ")) from None


BoundedCcu = Annotated[Ccu, AfterValidator(_bounded_ccu)]
"""An exact CCU amount within :data:`MAX_AMOUNT` and in whole micro-units."""


def _bounded_instant(value: datetime) -> datetime:
    try:
        return check_instant(value, "instant")
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("instant: ")) from None


BoundedInstant = Annotated[UtcDatetime, AfterValidator(_bounded_instant)]
"""An aware UTC instant whose year lies within :data:`MIN_YEAR` .. :data:`MAX_YEAR`."""


def _bounded_quantity(value: Decimal) -> Decimal:
    try:
        return check_amount(value, "quantity", exact=False)
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("quantity: ")) from None


BoundedQuantity = Annotated[Quantity, AfterValidator(_bounded_quantity)]
"""A meter quantity (minutes) within :data:`MAX_AMOUNT`; any precision."""
