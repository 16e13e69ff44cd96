"""Monte Carlo forecast speed: 10,000 paths over the rest of a 30-day period, one account.

Run: ``python3 benchmarks/bench_montecarlo.py [--paths N]``. The history is 90
days of synthetic team usage; the cut is the start of a 30-day billing period,
so each path runs 720 hours through the credit rules. It prints the time of
the whole forecast (fitting, sampling and the rules), the rules alone, paths
per second, and the ratio against the plain per-path Python loop (``run_path``)
timed on a sample of the same paths.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import numpy as np

from codex_credits.core.account import open_account
from codex_credits.core.forecast.forecaster import forecast_period
from codex_credits.core.forecast.hourly import day_floor, hourly_totals
from codex_credits.core.forecast.montecarlo import sample_demand
from codex_credits.core.forecast.pathengine import HourlyRules, run_path, run_paths
from codex_credits.core.forecast.seasonal import fit_seasonal
from codex_credits.core.forecast.state import state_at
from codex_credits.core.periods import period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.synthetic import team_usage


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--baseline-paths", type=int, default=200)
    args = parser.parse_args()
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    at = datetime(2026, 4, 1, tzinfo=UTC)  # April: a 30-day period
    log = team_usage(anchor, 90, seed=1)
    card = RateCard.default()

    started = time.perf_counter()
    result = forecast_period(log, tier="pro", anchor=anchor, at=at, paths=args.paths, seed=1)
    whole = time.perf_counter() - started
    hours = (result.period.end - result.period.start).days * 24
    print(
        f"forecast of {args.paths:,} paths x {hours} hours: {whole:.3f} s "
        f"({args.paths / whole:,.0f} paths/s); P10/P50/P90 = "
        f"{result.p10} / {result.p50} / {result.p90} CCU"
    )

    rules = HourlyRules.for_account(card, "pro", 1)
    first = day_floor(log.start)
    hourly = hourly_totals(log, card, first, at)
    start = state_at(open_account(card, "pro", 1, anchor), card, hourly, first, at)
    model = fit_seasonal(hourly, first, at)
    period = period_containing(anchor, at)
    demand = sample_demand(model, period.end, args.paths, np.random.default_rng(1))
    started = time.perf_counter()
    run_paths(rules, start, demand)
    vectorised = time.perf_counter() - started
    sample = demand[: args.baseline_paths].tolist()
    started = time.perf_counter()
    for row in sample:
        run_path(rules, start, row)
    plain = (time.perf_counter() - started) / len(sample) * args.paths
    print(f"rules alone, vectorised: {vectorised:.3f} s ({args.paths / vectorised:,.0f} paths/s)")
    print(
        f"rules alone, plain Python loop (timed on {len(sample)} paths, scaled): {plain:.3f} s "
        f"({args.paths / plain:,.0f} paths/s)"
    )
    print(f"ratio (plain / vectorised): {plain / vectorised:.1f}x")


if __name__ == "__main__":
    main()
