"""The quality bar, on a small sample of the synthetic rhythms (the full run is a script:
benchmarks/forecast_quality.py)."""

from __future__ import annotations

from codex_credits.evaluation import evaluate, standard_scenarios


def test_seasonal_p50_beats_linear_and_its_interval_is_honest() -> None:
    result = evaluate(standard_scenarios(seed=0), "seasonal", cut_days=(3, 9, 16, 23))
    assert result.reduction >= 0.40, result.by_scenario
    assert 0.65 <= result.coverage <= 0.95, result.by_scenario
