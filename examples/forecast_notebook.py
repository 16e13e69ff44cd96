"""Forecasting a billing period, step by step (each block works as a notebook cell).

Run: ``python3 examples/forecast_notebook.py``. It uses the bundled June 2026
sample (two pro seats, anchor 1 June) and a synthetic history for the backtest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from codex_credits import (
    backtest,
    estimate_overage,
    forecast_fan,
    forecast_period,
    read_usage,
    scan_alerts,
)
from codex_credits.core.ratecard import RateCard
from codex_credits.data import sample_usage_path
from codex_credits.synthetic import team_usage

# %% 1. Load the usage and choose the cut: halfway through June.
log = read_usage(sample_usage_path())
anchor = datetime(2026, 6, 1, tzinfo=UTC)
at = anchor + timedelta(days=15)
print(f"{len(log)} tasks from {log.start.date()} to {log.end.date()}")

# %% 2. The seed's linear projection, then the seasonal and Monte Carlo forecasts.
for method in ("linear", "seasonal", "montecarlo"):
    f = forecast_period(log, tier="pro", seats=2, anchor=anchor, at=at, method=method, seed=1)
    print(f"{method:>10}: P10 {f.p10}  P50 {f.p50}  P90 {f.p90} CCU")
print(f"consumed by {at.date()}: {f.consumed} CCU of {f.credits_at_period_start}")
print(
    f"probability of overage {f.probability_overage:.0%}, of rate limiting "
    f"{f.probability_rate_limited:.0%}; new rollover (P50) {f.rollover.p50} CCU"
)

# %% 3. The fan: where cumulative consumption may be at each day's end.
print("day end        P10          P50          P90")
for point in forecast_fan(log, tier="pro", seats=2, anchor=anchor, at=at, paths=1000, seed=1):
    print(f"{point.at.date()}  {point.p10:>11}  {point.p50:>11}  {point.p90:>11}")

# %% 4. On one seat the same month overruns: when do the credits run out?
one = forecast_period(log, tier="pro", seats=1, anchor=anchor, at=at, seed=1)
ex = one.exhaustion
print(
    f"one seat: P(out of credits) {ex.probability_before_end:.0%}, median date "
    f"{ex.p50.date() if ex.p50 else '-'}; expected overage cost {one.expected_overage_cost} USD"
)

# %% 5. The usage report's overage estimate (the seed's formula): a worked figure.
print(
    "25,000 CCU on one pro seat with 8,000 rolled over costs",
    estimate_overage(25_000, allocation=10_000, rollover=8_000, rate="0.012").cost_usd,
    "USD",
)

# %% 6. Alerts over the sample: large tasks and burn-rate spikes.
alerts = scan_alerts(log, RateCard.default(), task_threshold=50, tier="pro", anchor=anchor, seats=2)
print(f"{len(alerts)} alert(s); first: {alerts[0].message if alerts else '-'}")

# %% 7. Which method to trust? Walk forward over four months of synthetic history.
history = team_usage(datetime(2026, 1, 5, tzinfo=UTC), 122, seed=3)
for method in ("linear", "seasonal"):
    report = backtest(
        history,
        tier="pro",
        anchor=datetime(2026, 1, 5, tzinfo=UTC),
        method=method,
        cut_days=(4, 11, 18, 25),
    )
    print(f"backtest {method:>8}: MAPE {report.mape:.1f}%, P10-P90 coverage {report.coverage:.0%}")
