"""Benchmark: organisation sweeps (``compare_tiers_many``, ``simulate_many``) and their Dask step.

Generated hourly usage (``workloads.hourly_accounts``: one event per busy account-hour,
accounts from a few CCU to about 40,000 CCU a month, so the small tiers saturate on
the large accounts). Prints, best of ``--repeat``:

* ``compare_tiers_many`` over ``--accounts`` accounts x 4 tiers (one seat) for one
  month and for ``--months`` months, and the baseline in the same run: a loop calling
  ``compare_tiers`` once per account on a sample of accounts, scaled to all;
* ``simulate_many`` (every account on pro) for the same usage;
* the partition function of ``codex_credits.dask`` on a pandas frame: events per
  second per core and the peak memory per million events (``tracemalloc``), to size
  a Dask or Spark cluster.

    PYTHONPATH=src python3 benchmarks/bench_sweep.py [--accounts 1000] [--months 12]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from workloads import START, hourly_accounts

from codex_credits import compare_tiers, compare_tiers_many, simulate_many, split_by_account


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--sample", type=int, default=50, help="accounts in the loop baseline")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dask-events", type=int, default=500_000)
    parser.add_argument("--dask-only", action="store_true", help="only the Dask partition step")
    args = parser.parse_args()
    n = args.accounts
    for months in () if args.dask_only else (1, args.months):
        log = hourly_accounts(n, days=31 if months == 1 else 365)
        names = sorted(split_by_account(log))[: args.sample]
        lanes = n * 4
        t_many = best(
            lambda log=log, months=months: compare_tiers_many(
                log, start=START, months=months, max_seats=1
            ),
            args.repeat,
        )
        t_sim = best(
            lambda log=log, months=months: simulate_many(log, start=START, months=months),
            args.repeat,
        )
        logs = split_by_account(log)
        t0 = time.perf_counter()
        for name in names:
            compare_tiers(logs[name], start=START, months=months, max_seats=1)
        t_loop = (time.perf_counter() - t0) / len(names) * n
        print(
            f"{n:,} accounts x 4 tiers x {months} month(s), {len(log):,} events: "
            f"compare_tiers_many {t_many:.2f} s ({lanes / t_many:,.0f} lanes/s, "
            f"{len(log) * 4 / t_many / 1e6:.2f} M lane-events/s); simulate_many (pro) {t_sim:.2f} s; "
            f"loop of compare_tiers (sample of {len(names)}, scaled) {t_loop:.2f} s, ratio {t_loop / t_many:.2f}x"
        )
    try:
        import pandas as pd

        from codex_credits import dask as cc_dask
    except ImportError:
        print("pandas or dask missing: the Dask partition step is not measured")
        return
    log = hourly_accounts(max(1, n // 10), days=365)
    rows = log[: args.dask_events]
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(rows.timestamps_us, unit="us", utc=True),
            "ccu": [f"{m // 10**6}.{m % 10**6:06d}" for m in rows.column("ccu_micro").tolist()],
            "account_id": rows.dimension_values("account_id"),
        }
    )
    t0 = time.perf_counter()
    out = cc_dask.simulate_partition(frame, start=START, months=12)
    took = time.perf_counter() - t0
    tracemalloc.start()  # a second run for the memory: tracing slows allocations down
    cc_dask.simulate_partition(frame, start=START, months=12)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per_million = 1_000_000 / len(frame)
    print(
        f"dask partition step: {len(frame):,} events of {out.account_id.nunique()} accounts in {took:.2f} s "
        f"({len(frame) / took:,.0f} events/s per core: {took * per_million:.1f} s per million events), "
        f"peak {peak / 2**20 * per_million:,.0f} MiB per million events (frame excluded)"
    )


if __name__ == "__main__":
    main()
