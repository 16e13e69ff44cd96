"""The seasonal model's cycle choice: leave-one-out medians, vectorised."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits.core.forecast.seasonal import leave_one_out_errors


def _brute(values: npt.NDArray[np.float64]) -> list[float]:
    """One value at a time: the median of the values not equal to it (itself when alone)."""
    out = []
    for v in values:
        others = values[values != v] if len(values) > 1 else values
        out.append(abs(v - float(np.median(others))) if len(others) else 0.0)
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from([0.0, 0.5, 1.0, 1.25]), st.floats(0, 5, allow_nan=False)),
        max_size=40,
    )
)
def test_leave_one_out_errors_match_one_median_at_a_time(values: list[float]) -> None:
    v = np.array(values, dtype=np.float64)
    assert leave_one_out_errors(v).tolist() == _brute(v)


def test_a_worked_example() -> None:
    # Others of 1: (2, 4, 8) -> 4; of 2: (1, 4, 8) -> 4; of 4: (1, 2, 8) -> 2; of 8: (1, 2, 4) -> 2.
    errors = leave_one_out_errors(np.array([4.0, 1.0, 8.0, 2.0]))
    assert errors.tolist() == [2.0, 3.0, 6.0, 2.0]
