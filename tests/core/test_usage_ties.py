"""Events with equal timestamps are ordered by content, exactly as a lexsort of the keys.

``UsageLog.sorted`` packs the tie keys into one or two 64-bit words before sorting;
the order must be the one of a plain stable lexsort over the timestamp and every key
(``_TIE_KEYS``, labels by text, None first), permutation for permutation, whatever the
keys' spans (one value, booleans, labels, values up to ``2**63 - 1``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits.core.keysort import pack_keys, sort_words
from codex_credits.core.usage import _TIE_KEYS, UsageLog
from codex_credits.core.usagebuilder import UsageLogBuilder

BIG = 2**63 - 1


def values(top: int) -> st.SearchStrategy[int]:
    """Small values mostly (ties within ties), some up to ``top``."""
    return st.one_of(st.integers(0, 3), st.integers(0, top))


@st.composite
def key_columns(draw: st.DrawFn) -> list[npt.NDArray[np.int64]]:
    """One to eight int64 keys over up to 60 rows, each of its own span."""
    n = draw(st.integers(1, 60))
    keys = []
    for _ in range(draw(st.integers(1, 8))):
        lo = draw(st.sampled_from([0, -5, -(2**63), 2**40]))
        span = draw(st.sampled_from([0, 1, 7, 2**20, 2**40, BIG]))
        hi = min(lo + span, BIG)
        value = st.one_of(st.sampled_from([lo, hi]), st.integers(lo, hi))  # ties on every key
        keys.append(np.array(draw(st.lists(value, min_size=n, max_size=n))))
    return keys


@settings(max_examples=300)
@given(keys=key_columns())
def test_packed_words_sort_as_the_keys(keys: list[npt.NDArray[np.int64]]) -> None:
    """Packed words compare as the keys do, and the tie-by-tie sort is the lexsort."""
    words = pack_keys(list(keys))
    assert len(words) <= len(keys)
    want = np.lexsort(keys[::-1]).tolist()
    assert np.lexsort(words[::-1]).tolist() == want
    assert sort_words(words).tolist() == want


@st.composite
def tied_logs(draw: st.DrawFn) -> UsageLog:
    """Up to 40 events at a few timestamps, meters and labels drawn from small sets."""
    builder = UsageLogBuilder()
    stamps = draw(st.lists(st.integers(0, 10**13), min_size=1, max_size=4))
    top = draw(st.sampled_from([10, 10**6, BIG]))
    for i in range(draw(st.integers(1, 40))):
        metered = draw(st.booleans())
        builder.add(
            draw(st.sampled_from(stamps)),
            ccu_micro=None if metered else draw(values(top)),
            reasoning_tokens=draw(values(top)) if metered else 0,
            tool_calls=draw(values(50)) if metered else 0,
            output_tokens=draw(values(top)),
            sandbox_micro_minutes=draw(values(top)),
            sandbox_class=draw(st.sampled_from([None, "small", "large"])),
            fast=draw(st.booleans()),
            event_id=f"e{i}" if draw(st.booleans()) else None,
            project_id=draw(st.sampled_from([None, "web", "api", "Web"])),
            user_id=draw(st.sampled_from(["u1", "u2"])),
        )
    log = builder.build()
    return log.take(np.array(draw(st.permutations(range(len(log))))))


def _lexsort_order(log: UsageLog) -> list[int]:
    """The order of a plain stable lexsort: time, then every tie key."""
    columns: dict[str, Any] = log._columns
    labels = log._labels
    keys = []
    for name in _TIE_KEYS:
        column = np.asarray(columns[name])
        if name in labels:
            table = labels[name]
            ranked = sorted(range(len(table)), key=lambda c: (table[c] is not None, table[c] or ""))
            rank = np.empty(len(table), dtype=np.int64)
            rank[ranked] = np.arange(len(table))
            column = rank[column]
        keys.append(np.broadcast_to(column, columns["ts_us"].shape))
    result: list[int] = np.lexsort((*reversed(keys), columns["ts_us"])).tolist()
    return result


@settings(max_examples=150)
@given(log=tied_logs())
def test_ties_are_ordered_as_a_lexsort(log: UsageLog) -> None:
    """A shuffled log of tied events sorts as the plain lexsort, row for row."""
    ts = log.timestamps_us
    by_time = np.argsort(ts, kind="stable")
    assert log._ties_in_order(by_time).tolist() == _lexsort_order(log)
    again = log.sorted()
    assert [again[i] for i in range(len(again))] == [log[i] for i in _lexsort_order(log)]
