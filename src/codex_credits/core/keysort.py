"""Sorting rows by many integer keys: pack the keys into a few 64-bit words, then sort.

A stable sort by ten keys (``np.lexsort``) costs ten stable sorts of every row. Keys
of small span (flags, labels' ranks, counters) take few bits: :func:`pack_keys` turns
every key into its offset from its least value and packs them, most significant
first, into as few 64-bit words as hold them; the words compare as the keys do.
:func:`sort_words` then sorts by the first word and re-sorts only the rows still
tied on it by the next word, and so on. The order is exactly ``np.lexsort`` of the
keys (stable: rows equal on every key keep their order).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["pack_keys", "sort_words"]

Int64Array = npt.NDArray[np.int64]


def pack_keys(keys: list[npt.NDArray[Any]]) -> list[npt.NDArray[np.uint64]]:
    """Integer sort keys (most significant first) packed into 64-bit words, most
    significant first, that sort the same way: each key becomes its offset from its
    least value, in as many bits as its span needs (keys of one value are dropped)."""
    words: list[npt.NDArray[np.uint64]] = []
    used = 64
    for key in keys:
        values = key.astype(np.int64, copy=False)
        lo, hi = int(values.min()), int(values.max())
        bits = (hi - lo).bit_length()
        if not bits:
            continue
        offset = (values - values.dtype.type(lo)).view(np.uint64)  # exact modulo 2**64
        if used + bits > 64:
            words.append(offset)
            used = bits
        else:
            words[-1] <<= np.uint64(bits)
            words[-1] |= offset
            used += bits
    return words or [np.zeros(len(keys[0]), dtype=np.uint64)]


def sort_words(words: list[npt.NDArray[np.uint64]]) -> Int64Array:
    """The stable order of rows by ``words`` (most significant first), as
    ``np.lexsort(words[::-1])``: by the first word (the run of a timestamp comes first,
    so it is nearly sorted already), then only the rows still tied by the next."""
    order: Int64Array = words[0].argsort(kind="stable")
    first = words[0][order]
    tie = first[1:] == first[:-1]  # row i and i + 1 (in order) equal on every word so far
    for word in words[1:]:
        if not tie.any():
            break
        tied = np.zeros(len(order), dtype=np.bool_)
        tied[1:] |= tie
        tied[:-1] |= tie
        at = np.flatnonzero(tied)
        group = np.zeros(len(order), dtype=np.int64)
        np.cumsum(~tie, out=group[1:])
        rows = order[at]
        order[at] = rows[np.lexsort((word[rows], group[at]))]
        now = word[order]
        tie &= now[1:] == now[:-1]
    return order
