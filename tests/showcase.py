"""One of every result, built once from the bundled sample (for frame, repr and plot tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import codex_credits as cc
from codex_credits.check import check, load_policy
from codex_credits.data import sample_usage_path

ROOT = Path(__file__).resolve().parents[1]

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
CUT = datetime(2026, 6, 15, tzinfo=UTC)


@cache
def every_result() -> dict[str, Any]:
    """Name -> result; every value a notebook user meets."""
    log = cc.read_usage(sample_usage_path())
    card = cc.RateCard.default()
    result = cc.simulate(log, "pro", seats=2, start=ANCHOR)
    forecast = cc.forecast_period(log, tier="pro", seats=2, anchor=ANCHOR, at=CUT, paths=200)
    fan = cc.forecast_fan(log, tier="pro", seats=2, anchor=ANCHOR, at=CUT, paths=200)
    return {
        "usage": log,
        "simulation": result,
        "statement": result.totals,
        "timeline": result.timeline,
        "outcomes": result.outcomes,
        "comparison": cc.compare_tiers(log, start=ANCHOR, max_seats=1, tolerance="0.01"),
        "forecast": forecast,
        "fan": fan,
        "report": cc.build_report(log, card, by="project"),
        "chargeback": cc.chargeback(log, result, by="user"),
        "usage_report": cc.period_usage_report(log, result),
        "breakdown": cc.estimate(reasoning_tokens=12_000, tool_calls=20),
        "state": result.final_state,
        "alerts": cc.scan_alerts(log, card, task_threshold=5),
        "check": check(load_policy(ROOT / "examples" / "codex-credits.toml"), log, at=CUT),
    }
