"""``forecast`` and ``alerts`` on the command line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from codex_credits.cli import ExitCode, main
from codex_credits.data import sample_usage_path

SAMPLE = str(sample_usage_path())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("method", ["linear", "seasonal", "montecarlo"])
def test_forecast_json_carries_the_figures(capsys: pytest.CaptureFixture[str], method: str) -> None:
    code, out, _ = run(
        capsys, "forecast", "--usage", SAMPLE, "--tier", "pro", "--anchor", "2026-06-01",
        "--at", "2026-06-15T00:00:00Z", "--method", method, "--paths", "300",
        "--format", "json",
    )  # fmt: skip
    assert code == ExitCode.OK
    data = json.loads(out)
    p10, p50, p90 = (Decimal(data[k]) for k in ("p10", "p50", "p90"))
    assert Decimal(data["consumed"]) <= p10 <= p50 <= p90
    assert isinstance(data["linear_projection"], str)
    assert Decimal(data["linear_projection"]) > 0
    assert 0 <= data["probability_overage"] <= 1
    assert isinstance(data["expected_overage_cost"], str)
    assert set(data["exhaustion"]) >= {"probability_before_end", "p10", "p50", "p90"}
    assert set(data["rollover"]["formula"]) >= {"new_rollover", "cap_headroom"}


def test_forecast_table_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("table", "markdown"):
        code, out, _ = run(
            capsys, "forecast", "--usage", SAMPLE, "--tier", "pro", "--anchor", "2026-06-01",
            "--at", "2026-06-10", "--paths", "200", "--format", fmt,
        )  # fmt: skip
        assert code == ExitCode.OK
        assert "P50 period-end consumption" in out
        assert "P50 weights: pace / run rate / seasonal" in out  # auto, the default


def test_forecast_json_of_auto_reports_its_weights(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "forecast", "--usage", SAMPLE, "--tier", "pro", "--anchor", "2026-06-01",
        "--at", "2026-06-10", "--paths", "200", "--format", "json",
    )  # fmt: skip
    assert code == ExitCode.OK
    quality = json.loads(out)["quality"]
    pace = 1 - quality["run_rate_share"] - quality["seasonal_share"]
    assert min(pace, quality["run_rate_share"], quality["seasonal_share"]) >= -1e-9
    assert json.loads(out)["method"] == "auto"


def test_forecast_user_mistakes_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "forecast", "--usage", SAMPLE, "--tier", "gold", "--anchor", "2026-06-01",
        "--at", "2026-06-10",
    )  # fmt: skip
    assert code == ExitCode.USAGE_ERROR and "gold" in err and "Traceback" not in err
    code, _, err = run(capsys, "forecast", "--tier", "pro", "--anchor", "2026-06-01", "--at", "x")
    assert code == ExitCode.USAGE_ERROR


def test_alerts_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys, "alerts", "--usage", SAMPLE, "--task-threshold", "45", "--format", "json",
    )  # fmt: skip
    assert code == ExitCode.OK
    data = json.loads(out)
    assert data["count"] == len(data["alerts"]) > 0
    rules = {a["rule"] for a in data["alerts"]}
    assert "task_above_threshold" in rules
    for alert in data["alerts"]:
        assert isinstance(alert["value"], str) and alert["message"]


def test_alerts_need_tier_and_start_together(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "alerts", "--usage", SAMPLE, "--tier", "pro")
    assert code == ExitCode.USAGE_ERROR and "--anchor" in err


def test_forecast_starts_from_the_rollover_balance_and_reserve(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = (
        "forecast", "--usage", SAMPLE, "--tier", "pro", "--anchor", "2026-06-01",
        "--at", "2026-06-15T00:00:00Z", "--method", "linear", "--format", "json",
    )  # fmt: skip
    code, out, _ = run(capsys, *base)
    assert code == ExitCode.OK
    plain = json.loads(out)
    code, out, _ = run(capsys, *base, "--rollover-balance", "8000", "--reserve", "10")
    assert code == ExitCode.OK
    data = json.loads(out)
    assert plain["credits_at_period_start"] == "10000.000000"
    assert data["credits_at_period_start"] == "18000.000000"
    projected = Decimal(data["linear_projection"])
    assert Decimal(data["expected_overage_ccu"]) == max(Decimal(0), projected - 18000)
    unused = max(Decimal(0), 10000 - projected)
    assert Decimal(data["rollover"]["formula"]["new_rollover"]) == min(8000 + unused, 30000)
    code, _, err = run(capsys, *base, "--reserve", "1000")
    assert code == ExitCode.USAGE_ERROR
    assert "reserve must be between 0" in err and len(err.strip().splitlines()) == 1


def test_start_still_means_the_anchor_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", "--usage", SAMPLE, "--max-seats", "1", "--format", "json"]
    code, new, err = run(capsys, *argv, "--anchor", "2026-06-01")
    assert code == ExitCode.OK and err == ""
    code, old, err = run(capsys, *argv, "--start", "2026-06-01")
    assert code == ExitCode.OK and old == new
    assert "--start is deprecated" in err and "--anchor" in err
