"""Benchmark: simulate one year of 1,000,000 request events on one pro seat.

Prints the time to read the events from CSV with ``read_usage`` (best of 3;
``bench_read_usage.py`` compares it with the row-by-row reference reader), the
time to simulate them with and without five project budgets (events per second), and the ratio against a
straightforward per-event implementation run in the same process: the
reference engine, which calls ``Account``'s frozen state machine
(``codex_credits.core.account.apply``) once per request. The reference is too
slow for the full year, so it runs on the first ``--sample`` events
(one month by default) and its time is extrapolated per event; the output says
so.

    python3 benchmarks/bench_simulate.py [--events N] [--sample N] [--repeat N]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from codex_credits import Budget, Control, read_usage, simulate

START = datetime(2026, 1, 1, tzinfo=UTC)
PROJECTS = ("api", "web", "mobile", "infra", "data")


def generate(path: Path, events: int, seed: int = 7) -> None:
    """A year of work: busy weekday hours, quiet nights, and a few bursts a month."""
    rng = np.random.default_rng(seed)
    hours = 365 * 24
    hour_index = np.arange(hours)
    weekday = ((hour_index // 24) + 3) % 7 < 5  # 2026-01-01 is a Thursday
    local = hour_index % 24
    weight = np.where(weekday & (local >= 8) & (local < 19), 10.0, 1.0)
    weight /= weight.sum()
    bursts = rng.choice(hours, size=120, replace=False)
    burst_events = events // 10
    base = events - burst_events
    chosen = np.concatenate(
        [rng.choice(hours, size=base, p=weight), rng.choice(bursts, size=burst_events)]
    )
    offsets = rng.integers(0, 3_600_000_000, size=events)
    start_us = int(START.timestamp()) * 1_000_000
    ts = np.sort(start_us + chosen.astype(np.int64) * 3_600_000_000 + offsets)
    # (amounts are reordered with the timestamps below)
    # amounts in micro-CCU: mostly small requests, a heavy tail
    mean = np.where(np.isin(chosen, bursts), -1.8, -2.9)  # bursts bring bigger requests
    micro = (rng.lognormal(mean=mean, sigma=0.9) * 1_000_000).astype(np.int64)
    micro = micro[np.argsort(chosen.astype(np.int64) * 3_600_000_000 + offsets, kind="stable")]
    projects = rng.integers(0, len(PROJECTS), size=events)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "ccu", "project_id"])
        for t, m, p in zip(ts.tolist(), micro.tolist(), projects.tolist(), strict=True):
            stamp = (epoch + timedelta(microseconds=t)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            writer.writerow([stamp, f"{m // 1_000_000}.{m % 1_000_000:06d}", PROJECTS[p]])


def best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=0, help="reference sample (0: one month)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the CSV here (reused when it exists)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "usage.csv"
        t0 = time.perf_counter()
        if not path.exists():
            generate(path, args.events)
        gen = time.perf_counter() - t0
        log = read_usage(path)
        read = best(lambda: read_usage(path), 3)
    n = len(log)
    budgets = [
        Budget(
            name=f"{p}-budget",
            scope="project",
            value=p,
            amount=Decimal(2000),
            control=control,
            alert_at=(Decimal("0.5"), Decimal("0.9")),
        )
        for p, control in zip(
            PROJECTS,
            (
                Control.HARD_STOP,
                Control.SOFT_LIMIT,
                Control.QUEUE,
                Control.DEGRADED,
                Control.SOFT_LIMIT,
            ),
            strict=True,
        )
    ]
    kwargs = {"start": START, "months": 12, "seats": 1}

    def plain() -> object:
        return simulate(log, "pro", **kwargs)  # type: ignore[arg-type]

    def with_budgets() -> object:
        return simulate(log, "pro", budgets=budgets, **kwargs)  # type: ignore[arg-type]

    result = plain()
    t_plain = best(plain, args.repeat)
    t_budgets = best(with_budgets, max(1, args.repeat // 2))

    month_end = int(START.timestamp()) * 1_000_000 + 31 * 86_400_000_000
    sample_n = args.sample or int(np.searchsorted(log.timestamps_us, month_end))
    sample = log[:sample_n]
    t0 = time.perf_counter()
    ref = simulate(sample, "pro", start=START, months=1, engine="reference")
    t_ref_sample = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast_sample = simulate(sample, "pro", start=START, months=1)
    t_fast_sample = time.perf_counter() - t0
    assert ref.periods == fast_sample.periods, "the batch engine must equal the reference"
    assert ref.outcomes == fast_sample.outcomes
    t_ref_full = t_ref_sample / max(len(sample), 1) * n

    totals = result.totals  # type: ignore[attr-defined]
    print(f"events: {n:,} over 12 periods on 1 pro seat (generated in {gen:.1f} s)")
    print(f"  consumed {totals.consumed} CCU, rate limited {totals.rate_limited_events:,} events")
    print(f"read_usage (CSV, best of 3): {read:8.3f} s   {n / read:12,.0f} events/s")
    print(f"simulate, no budgets:        {t_plain:8.3f} s   {n / t_plain:12,.0f} events/s")
    print(f"simulate, 5 project budgets: {t_budgets:8.3f} s   {n / t_budgets:12,.0f} events/s")
    print(
        f"reference per-event engine:  {t_ref_sample:8.3f} s on a sample of {len(sample):,} events "
        f"(first month), {len(sample) / t_ref_sample:,.0f} events/s;"
    )
    print(f"  extrapolated to {n:,} events: {t_ref_full:,.1f} s")
    print(
        f"  batch on the same sample: {t_fast_sample:.3f} s (equal results checked); "
        f"ratio on the sample: {t_ref_sample / t_fast_sample:,.0f}x"
    )
    print(f"ratio reference / simulate (no budgets, extrapolated): {t_ref_full / t_plain:,.0f}x")


if __name__ == "__main__":
    main()
