"""Benchmark: the engine on quiet and saturated traces, side by side with an older release.

Every case is timed best of ``--repeat`` in this process (the current engine) and, when
``--old-src`` names the ``src`` directory of another release (for example one unpacked
with ``git archive <commit> src | tar -x -C /tmp/old``), in a subprocess running that
release on the same generated usage, with a time limit per case. The ratio old / new is
printed per case. Cases:

* ``year``: ``simulate`` over a year on one pro seat, plain and with five project budgets,
  at 1,000,000 and 5,000,000 events (load 1: the 5M trace rate limits about a quarter of
  its requests) and 5,000,000 events at the CCU of 1,000,000 (``load`` 0.2);
* ``month``: one pro seat, one month, 20k / 40k / 80k requests of about 1 CCU
  (``MONTH_LOAD``), deferring: from fitting to a backlog that never clears;
* ``compare``: ``compare_tiers`` on 10k / 20k / 40k such requests (the small tiers saturate);
* ``scale``: time against events at a fixed load (the CCU of 1M events) and against the
  load at 1,000,000 events, so that a superlinear term shows;
* ``reference``: the per-event state machine (``engine="reference"``) on the first month
  of the 1M trace, against the kernel on the same events (equal results checked).
* ``extended`` (``--extended``): budgets with windows of their own and a hierarchy
  (``EXTENDED``: an organisation budget per week, two team budgets per day and a user
  budget per 14-day sprint under it, a project queue per billing period) on a year of
  1,000,000 and 5,000,000 events with ten users: the kernel on the whole year, and the
  kernel against the state machine on the same first month (equal results checked),
  with their ratio (the state machine is what such budgets ran on before).

    PYTHONPATH=src python3 benchmarks/bench_engine.py [--cases year,month] [--old-src DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from workloads import PROJECTS, START, busy_year, log_from_columns, per_event_load

from codex_credits import (
    Budget,
    BudgetWindow,
    Control,
    SimulationResult,
    UsageLog,
    compare_tiers,
    simulate,
)

MONTH_LOAD = 12.0
"""Month cases: requests of about 1 CCU, so 40k of them saturate one pro seat."""
CONTROLS = (
    Control.HARD_STOP,
    Control.SOFT_LIMIT,
    Control.QUEUE,
    Control.DEGRADED,
    Control.SOFT_LIMIT,
)
BUDGETS = [
    Budget(
        name=f"{p}-budget",
        scope="project",
        value=p,
        amount=Decimal(2000),
        control=c,
        alert_at=(Decimal("0.5"), Decimal("0.9")),
    )
    for p, c in zip(PROJECTS, CONTROLS, strict=True)
]
USERS = tuple(f"u{i}" for i in range(10))
EXTENDED = [
    Budget(
        name="org",
        scope="organisation",
        value="acme",
        amount=Decimal(1500),
        window=BudgetWindow(every="week"),
        alert_at=(Decimal("0.5"), Decimal("0.9")),
    ),
    Budget(
        name="team:core",
        scope="team",
        value="core",
        members=USERS[:4],
        amount=Decimal(120),
        control=Control.HARD_STOP,
        parent="org",
        window=BudgetWindow(every="day"),
        alert_at=(Decimal("0.8"),),
    ),
    Budget(
        name="team:apps",
        scope="team",
        value="apps",
        members=USERS[4:7],
        amount=Decimal(80),
        control=Control.HARD_STOP,
        parent="org",
        window=BudgetWindow(every="day"),
    ),
    Budget(
        name="user:u0",
        scope="user",
        value="u0",
        amount=Decimal(300),
        control=Control.HARD_STOP,
        parent="team:core",
        window=BudgetWindow(every="sprint", days=14, start=START),
    ),
    Budget(
        name="web",
        scope="project",
        value="web",
        amount=Decimal(2000),
        control=Control.QUEUE,
        parent="org",
    ),
]


def team_year(events: int) -> UsageLog:
    """``busy_year(events)`` with one of ten users on every event."""
    log = busy_year(events, 1.0)
    users = np.random.default_rng(3).integers(1, len(USERS) + 1, size=events).astype(np.int32)
    return log_from_columns(
        log.timestamps_us,
        log.column("ccu_micro"),
        {"project_id": (log.column("project_id"), PROJECTS), "user_id": (users, USERS)},
    )


def with_extended(log: UsageLog, months: int, engine: str = "batch") -> SimulationResult:
    """``simulate`` on one pro seat from ``START`` with the ``EXTENDED`` budgets."""
    return simulate(log, "pro", start=START, months=months, budgets=EXTENDED, engine=engine)  # type: ignore[arg-type]


def extended(repeat: int) -> list[str]:
    """Extended budgets: the kernel on a year, and against the state machine on a month."""
    lines = []
    month_end = int(START.timestamp()) * 1_000_000 + 31 * 86_400_000_000
    for n in (1_000_000, 5_000_000):
        log = team_year(n)
        year = best(lambda log=log: with_extended(log, 12), repeat)  # type: ignore[misc]
        sample = log[: int(np.searchsorted(log.timestamps_us, month_end))]
        fast = with_extended(sample, 1)
        t_new = best(lambda s=sample: with_extended(s, 1), repeat)  # type: ignore[misc]
        t0 = CLOCK()
        ref = with_extended(sample, 1, "reference")
        t_ref = CLOCK() - t0
        assert ref.periods == fast.periods
        assert ref.outcomes == fast.outcomes
        assert ref.alerts == fast.alerts
        blocked = fast.totals.blocked_ccu / (fast.totals.consumed + fast.totals.blocked_ccu)
        lines.append(
            f"extended budgets, {n / 1e6:g}M events: kernel {year:.3f} s for the year; "
            f"first month ({len(sample):,} events, {blocked:.0%} of its CCU blocked by "
            f"budgets, {len(fast.alerts)} alerts): kernel {t_new:.4f} s, state machine "
            f"{t_ref:.2f} s, {t_ref / t_new:,.0f}x (equal results checked)"
        )
    return lines


CLOCK = time.perf_counter
"""Wall time; ``--cpu`` switches to the process's CPU time (steadier on a busy machine)."""


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return min(times)


def cases(groups: set[str]) -> dict[str, Callable[[], object]]:
    """Every case of the chosen groups, as a name and a zero-argument call."""
    found: dict[str, Callable[[], object]] = {}

    def year(n: int, load: float, budgets: bool) -> Callable[[], object]:
        log = busy_year(n, load)
        extra = {"budgets": BUDGETS} if budgets else {}
        return lambda: simulate(log, "pro", start=START, months=12, **extra)  # type: ignore[arg-type]

    if "year" in groups:
        for n, load, label in (
            (1_000_000, 1.0, "1M"),
            (5_000_000, 1.0, "5M"),
            (5_000_000, 0.2, "5M@1M-load"),
        ):
            found[f"year {label} plain"] = year(n, load, False)
            found[f"year {label} 5 budgets"] = year(n, load, True)
    if "month" in groups:
        for n in (20_000, 40_000, 80_000):
            log = busy_year(n, MONTH_LOAD, days=31)
            found[f"month {n // 1000}k defer"] = lambda log=log: simulate(
                log, "pro", start=START, months=1
            )
    if "compare" in groups:
        for n in (10_000, 20_000, 40_000):
            log = busy_year(n, MONTH_LOAD, days=31)
            found[f"compare_tiers {n // 1000}k"] = lambda log=log: compare_tiers(log, start=START)
    if "scale" in groups:
        for n in (250_000, 500_000, 1_000_000, 2_000_000, 4_000_000):
            found[f"scale events {n / 1e6:g}M fixed load"] = year(n, per_event_load(n), False)
        for load in (0.5, 1.0, 2.0, 4.0):
            found[f"scale load x{load:g} at 1M events"] = year(1_000_000, load, False)
    return found


def measure(groups: set[str], repeat: int, only: str | None = None) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, fn in cases(groups).items():
        if only is not None and name != only:
            continue
        fn()  # warm up (and build any cache) once
        out[name] = best(fn, repeat)
    return out


def old_times(old_src: str, groups: set[str], limit: float, repeat: int) -> dict[str, float | None]:
    env = {**os.environ, "PYTHONPATH": old_src}
    found: dict[str, float | None] = {}
    for name in cases(groups):
        try:
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--json",
                    "--cases",
                    ",".join(groups),
                    "--only",
                    name,
                    "--repeat",
                    str(repeat),
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=limit,
                check=True,
            )
            found.update(json.loads(done.stdout.strip().splitlines()[-1]))
        except subprocess.TimeoutExpired:
            found[name] = None
    return found


def reference_ratio() -> str:
    log = busy_year(1_000_000, 1.0)
    month_end = int(START.timestamp()) * 1_000_000 + 31 * 86_400_000_000
    sample = log[: int(np.searchsorted(log.timestamps_us, month_end))]
    t0 = time.perf_counter()
    ref = simulate(sample, "pro", start=START, months=1, engine="reference")
    t_ref = time.perf_counter() - t0
    t_new = best(lambda: simulate(sample, "pro", start=START, months=1), 3)
    fast = simulate(sample, "pro", start=START, months=1)
    assert ref.periods == fast.periods
    assert ref.outcomes == fast.outcomes
    return (
        f"reference state machine on {len(sample):,} events (first month): {t_ref:.2f} s; "
        f"kernel {t_new:.4f} s (equal results checked), {t_ref / t_new:,.0f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", default="year,month,compare,scale")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old-src", help="the src directory of a release to compare with")
    parser.add_argument("--old-limit", type=float, default=120.0, help="seconds per old case")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("--reference", action="store_true", help="also time the state machine")
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of wall time")
    parser.add_argument(
        "--extended", action="store_true", help="also time budget hierarchies and windows"
    )
    args = parser.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    groups = set(args.cases.split(","))
    if args.json:
        print(json.dumps(measure(groups, args.repeat, args.only)))
        return
    new = measure(groups, args.repeat)
    old = old_times(args.old_src, groups, args.old_limit, 1) if args.old_src else {}
    print(f"{'case':40} {'now (s)':>9} {'old (s)':>9} {'old/now':>8}   best of {args.repeat}")
    for name, t in new.items():
        if name in old:
            o = old[name]
            cell = f"> {args.old_limit:.0f}" if o is None else f"{o:.3f}"
            ratio = f"> {args.old_limit / t:.0f}x" if o is None else f"{o / t:.1f}x"
        else:
            cell, ratio = "", ""
        print(f"{name:40} {t:9.3f} {cell:>9} {ratio:>8}")
    if args.reference:
        print(reference_ratio())
    if args.extended:
        print("\n".join(extended(args.repeat)))


if __name__ == "__main__":
    main()
