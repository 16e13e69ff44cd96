"""Forecast quality on synthetic team histories: P50 error against the linear projection.

Run: ``python3 benchmarks/forecast_quality.py [--seeds N] [--paths N] [--method M]``.
Prints, per rhythm and pooled, the mean absolute percentage error (MAPE) of the
method's P50 and of the linear projection, the reduction, and the share of
realised period-end consumptions inside the P10-P90 interval.
"""

from __future__ import annotations

import argparse
import time

from codex_credits.evaluation import evaluate, standard_scenarios


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--method", default="montecarlo")
    parser.add_argument("--months", type=int, default=5)
    args = parser.parse_args()
    scenarios = [
        s for seed in range(args.seeds) for s in standard_scenarios(seed * 10, args.months)
    ]
    started = time.perf_counter()
    result = evaluate(scenarios, args.method, paths=args.paths)
    elapsed = time.perf_counter() - started
    print(f"method {result.method.value}, {len(result.cases)} cases, {elapsed:.1f} s")
    print(f"{'scenario':<14}{'MAPE':>8}{'linear':>9}{'cut by':>9}{'coverage':>10}")
    for name, (mape, linear, coverage, n) in result.by_scenario.items():
        cut = 1 - mape / linear
        print(f"{name:<14}{mape:>7.2f}%{linear:>8.2f}%{cut:>8.0%}{coverage:>10.0%}  ({n})")
    print(
        f"{'pooled':<14}{result.mape:>7.2f}%{result.linear_mape:>8.2f}%"
        f"{result.reduction:>8.0%}{result.coverage:>10.0%}"
    )


if __name__ == "__main__":
    main()
