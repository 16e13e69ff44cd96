"""Benchmark: ``what_if`` with three levers over a year of 1,000,000 metered events.

The log is built column by column (a team of 40 on 8 repositories and 5 task
types, busy weekday hours in US Eastern time). The levers are
``Batch`` (tests and docs, 5 per batch, 30 minutes at most), ``CacheContext``
(hit rate 0.6) and ``ShiftOffPeak`` (docs and review, into 02:00-07:00
America/New_York with sandbox 40% off, at most 12 hours later), on 20 pro
seats for 12 billing periods. ``what_if`` replays the log twice (before and
after); the baseline in the same run is one plain ``simulate`` of the same
log, so the ratio says what the levers add on top of two replays.

    PYTHONPATH=src python3 benchmarks/bench_what_if.py [--events N] [--repeat N]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from codex_credits.core.ratecard import RateCard
from codex_credits.core.simulate import simulate
from codex_credits.core.timeofday import PricingWindow
from codex_credits.core.usage import DIMENSIONS, UsageLog
from codex_credits.whatif import Batch, CacheContext, ShiftOffPeak, what_if

START = datetime(2026, 1, 1, tzinfo=UTC)
PROJECTS = ("api", "web", "mobile", "infra", "data", "auth", "billing", "search")
TASKS = ("review", "tests", "docs", "bugfix", "feature")
CLASSES = ("small", "medium", "large")


def build_log(events: int, seed: int = 7) -> UsageLog:
    """A year of metered tasks as columns (no per-row Python)."""
    rng = np.random.default_rng(seed)
    hours = 365 * 24
    index = np.arange(hours)
    weekday = ((index // 24) + 3) % 7 < 5  # 2026-01-01 is a Thursday
    local = (index - 5) % 24
    weight = np.where(weekday & (local >= 8) & (local < 19), 10.0, 1.0)
    chosen = rng.choice(hours, size=events, p=weight / weight.sum())
    start_us = int(START.timestamp()) * 1_000_000
    ts = np.sort(
        start_us + chosen.astype(np.int64) * 3_600_000_000 + rng.integers(0, 3_600_000_000, events)
    )
    columns: dict[str, npt.NDArray[Any]] = {
        "ts_us": ts.astype(np.int64),
        "ccu_micro": np.zeros(events, dtype=np.int64),
        "has_ccu": np.zeros(events, dtype=np.bool_),
        "sandbox_micro_minutes": (rng.exponential(1.0, events) * 10).astype(np.int64) * 100_000,
        "fast": rng.random(events) < 0.05,
        "reasoning_tokens": rng.integers(200, 3000, events).astype(np.int64),
        "tool_calls": rng.integers(0, 6, events).astype(np.int64),
        "output_tokens": rng.integers(100, 2000, events).astype(np.int64),
        "input_tokens": np.zeros(events, dtype=np.int64),
        "cached_input_tokens": np.zeros(events, dtype=np.int64),
    }
    labels: dict[str, tuple[str | None, ...]] = {}
    for name in DIMENSIONS:
        columns[name] = np.zeros(events, dtype=np.int32)
        labels[name] = (None,)
    for name, values in (
        ("project_id", PROJECTS),
        ("task_type", TASKS),
        ("sandbox_class", CLASSES),
    ):
        columns[name] = rng.integers(1, len(values) + 1, events).astype(np.int32)
        labels[name] = (None, *values)
    users = tuple(f"u{i}" for i in range(40))
    columns["user_id"] = rng.integers(1, 41, events).astype(np.int32)
    labels["user_id"] = (None, *users)
    return UsageLog(columns, labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    log = build_log(args.events)
    window = PricingWindow(
        name="night",
        time_zone="America/New_York",
        start_hour=2,
        end_hour=7,
        meters=("sandbox",),
        discount=Decimal("0.4"),
    )
    card = RateCard.default().with_windows(window)
    changes = [
        Batch(size=5, max_wait=timedelta(minutes=30), where={"task_type": ("tests", "docs")}),
        CacheContext(hit_rate="0.6"),
        ShiftOffPeak(max_delay=timedelta(hours=12), where={"task_type": ("docs", "review")}),
    ]
    options: dict[str, Any] = {"seats": 20, "card": card, "start": START, "months": 12}
    base_times, times = [], []
    result = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        simulate(log, "pro", **options)
        base_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = what_if(log, "pro", changes, **options)
        times.append(time.perf_counter() - t0)
    assert result is not None
    best, base = min(times), min(base_times)
    print(f"events: {len(log):,}; levers: {len(changes)}; 20 pro seats, 12 periods")
    print(f"simulate (baseline, one replay): best of {args.repeat}: {base:.3f} s")
    print(f"what_if (3 levers, two replays):  best of {args.repeat}: {best:.3f} s")
    print(f"ratio what_if / simulate: {best / base:.1f}x")
    for saving in result.savings:
        print(f"  {saving.change}: saved {saving.saved} CCU on {saving.events:,} tasks")
    print(
        f"total cost before {result.before.totals.total_cost} USD, after {result.after.totals.total_cost} USD"
    )


if __name__ == "__main__":
    main()
