"""Draw the forecast fan of one real team rhythm: docs/img/forecast-fan.png.

Run: ``python3 benchmarks/fan_chart.py [--usage FILE] [--at ISO] [--out PNG]`` (needs
matplotlib, the ``plot`` extra). It forecasts the billing period containing
``--at`` with the default method (``auto``) from the usage before ``--at`` and
draws the P10-P90 band and the P50 of cumulative consumption day by day, the
seed's linear projection, and what the period really consumed.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from codex_credits.core.forecast.forecaster import forecast_fan, forecast_period
from codex_credits.core.ratecard import RateCard
from codex_credits.io.usagefile import read_usage

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--usage", type=Path, default=ROOT / "tests/data/team-rhythms/prefect.csv")
    parser.add_argument("--anchor", default="2024-09-01T00:00:00+00:00")
    parser.add_argument("--at", default="2026-07-10T00:00:00+00:00")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/img/forecast-fan.png")
    args = parser.parse_args()
    card = RateCard.default()
    log = read_usage(args.usage)
    anchor = datetime.fromisoformat(args.anchor).astimezone(UTC)
    at = datetime.fromisoformat(args.at).astimezone(UTC)
    history = log.between(None, at)
    f = forecast_period(history, tier="pro", anchor=anchor, at=at, paths=2000)
    fan = forecast_fan(history, tier="pro", anchor=anchor, at=at, paths=2000)
    period = f.period

    days, actual = [], []
    day = period.start
    while day <= period.end:
        days.append(day)
        actual.append(float(sum(log.between(period.start, day).amounts(card), 0)))
        day += timedelta(days=1)
    known = [(d, a) for d, a in zip(days, actual, strict=True) if d <= at]
    when = [at] + [p.at for p in fan]
    consumed = float(f.consumed)
    p10 = [consumed] + [float(p.p10) for p in fan]
    p50 = [consumed] + [float(p.p50) for p in fan]
    p90 = [consumed] + [float(p.p90) for p in fan]

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.fill_between(when, p10, p90, color="tab:blue", alpha=0.2, label="P10-P90 (calibrated)")
    ax.plot(when, p50, color="tab:blue", label="P50")
    ax.plot(days, actual, color="black", linestyle=":", label="what the period consumed")
    ax.plot([d for d, _ in known], [a for _, a in known], color="black", label="known at the cut")
    if f.linear_projection is not None:
        ax.plot(
            [period.start, period.end],
            [0, float(f.linear_projection.projected)],
            color="tab:red",
            linestyle="--",
            label="linear projection",
        )
    q = f.quality
    rule = ""
    if q is not None and q.run_rate_share is not None and q.seasonal_share is not None:
        pace = 1 - q.run_rate_share - q.seasonal_share
        rule = f" (pace/run rate/seasonal {pace:.2f}/{q.run_rate_share:.2f}/{q.seasonal_share:.2f}"
    elif q is not None:
        rule = f" (rule {q.rule}"
    if q is not None and q.coverage is not None and q.mape is not None:
        rule += f"; backtest MAPE {q.mape:.0f}%, coverage {q.coverage:.0%})"
    elif q is not None:
        rule += ")"
    ax.set_title(f"{args.usage.stem}: forecast at {at.date()}{rule}", fontsize=9)
    ax.set_ylabel("CCU consumed in the period")
    ax.axvline(at, color="grey", linewidth=0.8)
    ax.legend(fontsize=8, loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}: P10/P50/P90 {f.p10} / {f.p50} / {f.p90}, realised {actual[-1]:.1f}")


if __name__ == "__main__":
    main()
