"""The ROI case, against hand computation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from codex_credits import ConfigError, UsageEvent, UsageLog, simulate
from codex_credits.whatif import roi, roi_for_plan
from tests.whatif.helpers import JUNE, D


def test_break_even_for_one_pro_seat_is_0_235_hours_per_1000_ccu() -> None:
    result = roi_for_plan("pro")
    # 200 / 85 = 2.352941 hours for the month's 10,000 CCU: 0.235294 per 1,000 (not 2.35).
    assert result.break_even_hours == D("2.352941")
    assert result.break_even_hours_per_1000_ccu == D("0.235294")
    assert f"{result.break_even_hours_per_1000_ccu:.3f}" == "0.235"


def test_payback_and_value_of_a_plan() -> None:
    result = roi_for_plan("pro", engineer_hour_usd=85, hours_saved_per_1000_ccu=10)
    # 10 h x 10 x 85 = 8,500 USD a month of 720 / 168 weeks; payback = 200 / (8,500 / 4.2857).
    assert result.value_usd == D("8500.00") and result.net_usd == D("8300.00")
    assert result.weeks == D("4.29")
    assert result.payback_weeks == D("0.10")
    plus = roi_for_plan("plus", seats=2, hours_saved_per_1000_ccu="0.5")
    # 40 USD for 4,000 CCU: 40 / 85 / 4 = 0.117647; value 0.5 x 4 x 85 = 170.
    assert plus.break_even_hours_per_1000_ccu == D("0.117647")
    assert plus.value_usd == D("170.00")
    assert plus.payback_weeks == (D(40) / (D(170) / (D(720) / 168))).quantize(D("0.01"))


def test_roi_of_a_simulated_month_and_cost_per_feature() -> None:
    events = [
        UsageEvent(timestamp=JUNE + timedelta(hours=i), ccu=D(100), feature="f1" if i % 4 else "f2")
        for i in range(200)
    ]
    log = UsageLog.from_events(events)
    result = simulate(log, "pro", start=JUNE)
    # 20,000 CCU on one pro seat: 10,000 overage x 0.012 = 120; bill 320.
    bill = roi(result, log=log, hours_saved_per_1000_ccu=2)
    assert bill.cost_usd == D("320.00") and bill.ccu == D("20000")
    assert bill.break_even_hours_per_1000_ccu == (D(320) / 85 / 20).quantize(D("0.000001"))
    assert bill.value_usd == D("3400.00")  # 2 x 20 x 85
    assert bill.weeks == D("4.29")  # June: 30 days
    assert sum(f.cost_usd for f in bill.features) == D("320.00")
    assert {f.feature: f.tasks for f in bill.features} == {"f1": 150, "f2": 50}
    again = roi(log, account="pro", hours_saved_per_1000_ccu=2)
    assert again.model_dump(exclude={"features"}) == bill.model_dump(exclude={"features"})


def test_roi_of_one_statement() -> None:
    log = UsageLog.from_events(
        [UsageEvent(timestamp=datetime(2026, 6, 2, tzinfo=UTC), ccu=D(5000))]
    )
    statement = simulate(log, "plus", start=JUNE, mode="fluid").periods[0]
    result = roi(statement)
    assert result.cost_usd == statement.total_cost
    assert result.features == ()


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ConfigError, match="engineer_hour_usd"):
        roi_for_plan("pro", engineer_hour_usd=0)
    with pytest.raises(ConfigError, match="hours_saved_per_1000_ccu"):
        roi_for_plan("pro", hours_saved_per_1000_ccu=-1)
