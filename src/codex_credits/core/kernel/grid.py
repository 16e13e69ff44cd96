"""The events of many accounts on one hour grid: grouped by account, cut into hours.

Theory of operation (docs/engine.md, "Organisation sweeps"): the lanes of a sweep
(:mod:`~codex_credits.core.kernel.lanes`) need, for every hour, each account's demand
and, for a busy lane, where the account's events of that hour are. The events are
grouped by account once (a linear sort: the log is in time order), and a table of
positions per account-hour and a cumulative sum give both; a copy in time order gives
the sum of the events too large for a lane, per account-hour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codex_credits.core.kernel.rules import Int64Array

__all__ = ["HOUR_US", "SweepEvents"]

HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class SweepEvents:
    """The events of many accounts, grouped by account, cut into the hours of one grid.

    ``cut[h, a]`` is the position of account ``a``'s first event at or after hour
    ``h`` (so its events of hour ``h`` are ``cut[h, a]:cut[h + 1, a]``); ``csum`` is
    the cumulative sum of the amounts (``csum[i]``: the events before ``i``).
    """

    amounts: Int64Array
    cut: Int64Array
    csum: Int64Array
    by_time: tuple[Int64Array, Int64Array, Int64Array]
    """The same events in time order: ``(amount, hour x accounts + account, where each
    hour starts)``, for the sums of the events too large for a lane."""

    @property
    def hours(self) -> int:
        """The hours of the grid."""
        return int(self.cut.shape[0]) - 1

    def demand(self, h0: int, h1: int) -> Int64Array:
        """Every account's demand in hours ``h0..h1``: shape ``(h1 - h0, accounts)``."""
        rows = self.csum[self.cut[h0 : h1 + 1]]
        result: Int64Array = rows[1:] - rows[:-1]
        return result

    def larger(self, h0: int, h1: int, most: int) -> Int64Array:
        """What the events larger than ``most`` ask in hours ``h0..h1``, per account-hour."""
        amount, key, starts = self.by_time
        accounts = self.cut.shape[1]
        lo, hi = int(starts[h0]), int(starts[h1])
        big = amount[lo:hi] > most
        keys = key[lo:hi][big] - h0 * accounts
        size = (h1 - h0) * accounts
        if len(keys) and int(amount[lo:hi].max()) * len(keys) >= 2**53:
            exact = np.zeros(size, dtype=np.int64)  # a float sum could round
            np.add.at(exact, keys, amount[lo:hi][big])
            return exact.reshape(h1 - h0, accounts)
        sums = np.bincount(keys, weights=amount[lo:hi][big], minlength=size)
        result: Int64Array = sums.astype(np.int64).reshape(h1 - h0, accounts)
        return result

    @classmethod
    def build(
        cls,
        amounts: Int64Array,
        ts_us: Int64Array,
        account: Int64Array,
        accounts: int,
        start_us: int,
        hours: int,
    ) -> SweepEvents:
        """Group events (in time order) by ``account`` (an index, -1: none) over ``hours``."""
        hour = (ts_us - start_us) // HOUR_US
        keep = (account >= 0) & (ts_us >= start_us) & (hour < hours)
        mine, hour, kept = account[keep], hour[keep], amounts[keep]
        small = np.int16 if accounts < 2**15 else np.int32  # a radix sort: linear
        grouped = np.ascontiguousarray(kept[np.argsort(mine.astype(small), kind="stable")])
        counts = np.bincount(hour * accounts + mine, minlength=hours * accounts).reshape(
            hours, accounts
        )
        cut = np.zeros((hours + 1, accounts), dtype=np.int64)
        np.cumsum(counts, axis=0, out=cut[1:])
        cut += np.cumsum(cut[-1]) - cut[-1]  # where each account's events start
        csum = np.zeros(len(grouped) + 1, dtype=np.int64)
        np.cumsum(grouped, out=csum[1:])
        starts = np.searchsorted(hour, np.arange(hours + 1), side="left").astype(np.int64)
        return cls(grouped, cut, csum, (kept, hour * accounts + mine, starts))

    def account_demand(self) -> Int64Array:
        """Every account's demand over the whole grid."""
        result: Int64Array = self.demand(0, self.hours).sum(axis=0)
        return result
