"""The seed's forecast and report formulas reproduce the hand-computed figures exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from codex_credits.core.forecast.projection import (
    days_elapsed,
    estimate_overage,
    forecast_rollover,
    project_linear,
)
from codex_credits.core.periods import period_at
from codex_credits.errors import ConfigError

CASES: dict[str, list[dict[str, Any]]] = json.loads(
    (Path(__file__).parent / "data" / "forecast_formulas.json").read_text()
)


def _text(value: Decimal) -> str:
    return format(value, "f")


@pytest.mark.parametrize("case", CASES["overage"], ids=[c["id"] for c in CASES["overage"]])
def test_overage_estimate(case: dict[str, Any]) -> None:
    result = estimate_overage(
        case["consumed"],
        allocation=case["allocation"],
        rollover=case["rollover"],
        rate=case["rate"],
        period_days=case["period_days"],
    )
    assert _text(result.period_budget) == case["budget"]
    assert _text(result.overage_ccu) == case["overage_ccu"]
    assert _text(result.cost_usd) == case["cost_usd"]


@pytest.mark.parametrize("case", CASES["linear"], ids=[c["id"] for c in CASES["linear"]])
def test_linear_projection(case: dict[str, Any]) -> None:
    result = project_linear(
        case["consumed"], days_elapsed=case["days_elapsed"], days_total=case["days_total"]
    )
    assert _text(result.daily_rate) == case["daily_rate"]
    assert _text(result.projected) == case["projected"]


@pytest.mark.parametrize("case", CASES["rollover"], ids=[c["id"] for c in CASES["rollover"]])
def test_rollover_forecast(case: dict[str, Any]) -> None:
    result = forecast_rollover(
        allocation=case["allocation"],
        projected=case["projected"],
        current_rollover=case["current"],
        cap=case["cap"],
    )
    assert _text(result.credits_to_roll_over) == case["unused"]
    assert _text(result.new_rollover) == case["new"]
    assert _text(result.cap_headroom) == case["headroom"]


def test_plus_versus_pro_saving_is_fifteen_percent_of_a_pro_seat() -> None:
    plus = estimate_overage("7000", allocation="2000", rollover="0", rate="0.018")
    pro = estimate_overage("15000", allocation="10000", rollover="0", rate="0.012")
    saved = plus.cost_usd - pro.cost_usd
    assert _text(saved) == "30.00"
    assert _text(saved / Decimal(200) * 100) == "15.00"


def test_days_elapsed_is_exact_and_clamped() -> None:
    period = period_at(datetime(2026, 6, 1, tzinfo=UTC), 0)
    assert days_elapsed(period, datetime(2026, 6, 3, 12, tzinfo=UTC)) == Decimal("2.5")
    assert days_elapsed(period, datetime(2026, 5, 3, tzinfo=UTC)) == 0
    assert days_elapsed(period, datetime(2026, 8, 1, tzinfo=UTC)) == 30


def test_linear_projection_needs_elapsed_time() -> None:
    with pytest.raises(ConfigError, match="days_elapsed must be > 0"):
        project_linear("10", days_elapsed="0", days_total="30")
