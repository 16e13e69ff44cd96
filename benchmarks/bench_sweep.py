"""Benchmark: organisation sweeps (``compare_tiers_many``, ``simulate_many``) and their Dask step.

Generated hourly usage (``workloads.hourly_accounts``: one event per busy account-hour,
accounts from a few CCU to about 40,000 CCU a month, so the small tiers saturate on
the large accounts). Prints, best of ``--repeat``:

* the judged case: ``compare_tiers_many`` over ``--accounts`` accounts x 4 tiers (one
  seat, so 4 lanes an account) for ``--months`` months of hourly usage, how many
  lane-hours were busy (decided piece by piece), and the baseline in the same run: a
  plain loop calling ``compare_tiers`` once per account on a sample of accounts,
  scaled to all, with the ratio;
* end to end: the sweep, then ``.recommended`` and ``.to_pandas()`` read (best of
  ``--repeat``, with its ratio to the loop); then, once each on one result, the
  recommendations, the frame, ``table()`` (exact Decimal rows) and the Decimal
  statements (``.statements``), all made from the kernel's counters on first read;
* the same lanes with every amount divided by 1,000 (almost every lane-hour quiet:
  the cost of the vectorised hourly step alone);
* the same lanes with every lane that ever has work waiting sent alone through the
  one-lane kernel (the exact per-lane path, timed once);
* ``simulate_many`` (every account on pro) for the same usage;
* growth: the time per lane-hour at a quarter, a half and all of the accounts, and at
  1, 6 and 12 months;
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
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from workloads import START, hourly_accounts

from codex_credits import compare_tiers, compare_tiers_many, simulate_many, split_by_account
from codex_credits.core import sweep

BUSY: list[int] = []


def _counting(*args: Any, **kwargs: Any) -> Any:
    tallies = RUN_LANES(*args, **kwargs)
    BUSY.append(tallies.busy_lane_hours)
    return tallies


RUN_LANES = sweep.run_lanes
MAX_WAITING = sweep.MAX_WAITING
sweep.run_lanes = _counting  # count busy lane-hours (no cost)


CPU: list[float] = []


def best(fn: Callable[[], object], repeat: int) -> float:
    """The best wall time of ``repeat`` runs (the best CPU time goes to ``CPU``)."""
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU.append(min(cpu))
    return min(times)


def _days(months: int) -> int:
    return 31 if months == 1 else round(months * 365 / 12)


def judged(args: argparse.Namespace) -> None:
    n, months = args.accounts, args.months
    log = hourly_accounts(n, days=_days(months))
    hours = _days(months) * 24
    lanes = n * 4
    BUSY.clear()
    t_many = best(
        lambda: compare_tiers_many(log, start=START, months=months, max_seats=1), args.repeat
    )
    busy, cpu_many = BUSY[-1], CPU[-1]

    def end_to_end() -> None:
        result = compare_tiers_many(log, start=START, months=months, max_seats=1)
        result.recommended  # noqa: B018 - the rankings, made on first read
        result.to_pandas()

    t_end = best(end_to_end, args.repeat)
    result = compare_tiers_many(log, start=START, months=months, max_seats=1)
    t0 = time.perf_counter()
    result.recommended  # noqa: B018
    t_rec = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame = result.to_pandas()
    t_frame = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = len(result.table())
    t_rows = time.perf_counter() - t0
    t0 = time.perf_counter()
    made = len(result.statements)
    t_made = time.perf_counter() - t0
    logs = split_by_account(log)
    names = sorted(logs)[: args.sample]
    t0 = time.perf_counter()
    for name in names:
        compare_tiers(logs[name], start=START, months=months, max_seats=1)
    t_loop = (time.perf_counter() - t0) / len(names) * n
    print(
        f"{n:,} accounts x 4 tiers x {months} month(s) ({lanes:,} lanes x {hours:,} hours), "
        f"{len(log):,} events: compare_tiers_many {t_many:.2f} s (CPU {cpu_many:.2f} s) "
        f"({lanes * hours / t_many / 1e6:.1f} M lane-hours/s; {busy:,} busy lane-hours, "
        f"{busy / lanes / hours:.1%}); loop of compare_tiers (sample of {len(names)}, "
        f"scaled) {t_loop:.2f} s, ratio {t_loop / t_many:.1f}x"
    )
    print(
        f"  end to end (the sweep, .recommended and .to_pandas()): {t_end:.2f} s "
        f"(CPU {CPU[-1]:.2f} s), ratio to the loop {t_loop / t_end:.1f}x; once, after "
        f"the sweep: recommendations {t_rec:.2f} s, to_pandas {t_frame:.2f} s "
        f"({len(frame):,} rows), table() of exact rows {t_rows:.2f} s ({rows:,}), "
        f"the {made:,} Decimal statements {t_made:.2f} s"
    )
    quiet = hourly_accounts(n, days=_days(months), load=0.001)
    BUSY.clear()
    t_quiet = best(
        lambda: compare_tiers_many(quiet, start=START, months=months, max_seats=1), args.repeat
    )
    print(
        f"  the same lanes at 1/1,000 of the load ({len(quiet):,} events, "
        f"{BUSY[-1]:,} busy lane-hours): {t_quiet:.2f} s (the hourly step alone)"
    )
    sweep.MAX_WAITING = 0  # every lane that ever has work waiting runs alone
    t0 = time.perf_counter()
    compare_tiers_many(log, start=START, months=months, max_seats=1)
    t_alone = time.perf_counter() - t0
    sweep.MAX_WAITING = MAX_WAITING
    print(
        f"  the same with every lane that ever has work waiting run alone through the "
        f"one-lane kernel (once): {t_alone:.2f} s"
    )
    t_sim = best(lambda: simulate_many(log, start=START, months=months), args.repeat)
    print(f"  simulate_many, every account on pro ({n:,} lanes): {t_sim:.2f} s")


def growth(args: argparse.Namespace) -> None:
    n = args.accounts
    for accounts, months in ((n // 4, 12), (n // 2, 12), (n, 1), (n, 6)):
        log = hourly_accounts(accounts, days=_days(months))
        took = best(
            lambda log=log, months=months: compare_tiers_many(
                log, start=START, months=months, max_seats=1
            ),
            args.repeat,
        )
        cells = accounts * 4 * _days(months) * 24
        print(
            f"  growth: {accounts:,} accounts x 4 tiers x {months} month(s): {took:.2f} s, "
            f"{took / cells * 1e9:.0f} ns per lane-hour"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--sample", type=int, default=50, help="accounts in the loop baseline")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dask-events", type=int, default=500_000)
    parser.add_argument("--dask-only", action="store_true", help="only the Dask partition step")
    parser.add_argument("--no-growth", action="store_true", help="skip the growth sizes")
    args = parser.parse_args()
    n = args.accounts
    if not args.dask_only:
        judged(args)
        if not args.no_growth:
            growth(args)
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
