"""The limits every reader checks at the boundary, stated once.

Columns hold 64-bit integers and instants are datetimes of years 1 to 9999
(UTC), so a value outside these limits is a bad row or a bad line, named with
its file, line and field, never a crash later (docs/usage-files.md, "Limits").
"""

from __future__ import annotations

__all__ = [
    "MAX_INT64",
    "MAX_SECONDS",
    "MAX_US",
    "MIN_SECONDS",
    "MIN_US",
    "in_range_us",
    "surrogate_free",
]

MAX_INT64 = 2**63 - 1
"""The largest value of a 64-bit column (counts, micro-CCU, running totals)."""

MIN_US = -62_135_596_800_000_000
"""0001-01-01T00:00:00Z in microseconds since the Unix epoch."""
MAX_US = 253_402_300_799_999_999
"""9999-12-31T23:59:59.999999Z in microseconds since the Unix epoch."""
MIN_SECONDS = MIN_US // 1_000_000
MAX_SECONDS = MAX_US // 1_000_000


def in_range_us(us: int) -> bool:
    """Whether ``us`` (µs since the epoch) is an instant of UTC years 1 to 9999."""
    return MIN_US <= us <= MAX_US


def surrogate_free(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogate, which no output can encode)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
