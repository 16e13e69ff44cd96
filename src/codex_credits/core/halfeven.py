"""Integer division rounded half-even, element by element: the one rounding rule of
every vectorised pass (pricing a log, the kernel's reserve accrual, the paths' costs).

It is what ``Decimal.quantize(..., ROUND_HALF_EVEN)`` does to one exact quotient,
applied to integer NumPy arrays without leaving integers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["div_half_even"]

Int64Array = npt.NDArray[np.int64]


def div_half_even(num: Int64Array, den: int | Int64Array) -> Int64Array:
    """``num / den`` rounded half-even to an integer, element by element (``den > 0``;
    one denominator, or one per element)."""
    if isinstance(den, int):
        if den == 1:
            return np.asarray(num, dtype=np.int64)
        q, r = np.divmod(num + den // 2, den)
        if den % 2:
            return q  # an odd divisor has no exact halves
        q -= (r == 0) & (q % 2 == 1)  # a tie rounded up to an odd number goes back down
        return q
    q = num // den
    r = num - q * den
    twice = 2 * r
    up = (twice > den) | ((twice == den) & (q % 2 == 1))
    result: Int64Array = (q + up.astype(np.int64)).astype(np.int64)
    return result
