"""The one half-even integer division of every vectorised pass, against exact Decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from codex_credits.core.halfeven import div_half_even

NUMS = st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=40)


def exact(num: int, den: int) -> int:
    return int((Decimal(num) / Decimal(den)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@given(NUMS, st.integers(1, 10**6))
def test_one_denominator(nums: list[int], den: int) -> None:
    got = div_half_even(np.array(nums, dtype=np.int64), den)
    assert got.dtype == np.int64
    assert got.tolist() == [exact(n, den) for n in nums]


@given(st.data(), NUMS)
def test_one_denominator_per_element(data: st.DataObject, nums: list[int]) -> None:
    dens = data.draw(st.lists(st.integers(1, 10**6), min_size=len(nums), max_size=len(nums)))
    got = div_half_even(np.array(nums, dtype=np.int64), np.array(dens, dtype=np.int64))
    assert got.dtype == np.int64
    assert got.tolist() == [exact(n, d) for n, d in zip(nums, dens, strict=True)]


def test_ties_go_to_the_even_neighbour() -> None:
    nums = np.array([5, 15, 25, -5, -15, 7], dtype=np.int64)
    assert div_half_even(nums, 10).tolist() == [0, 2, 2, 0, -2, 1]
    assert div_half_even(nums, np.full(6, 10, dtype=np.int64)).tolist() == [0, 2, 2, 0, -2, 1]
