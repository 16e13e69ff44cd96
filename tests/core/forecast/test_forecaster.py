"""Forecast methods: reproducible, ordered, honest about short history, exact in amounts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from codex_credits.core.account import open_account
from codex_credits.core.forecast.backtest import backtest
from codex_credits.core.forecast.forecaster import forecast_fan, forecast_period
from codex_credits.core.forecast.hourly import hourly_totals
from codex_credits.core.forecast.result import PeriodForecast
from codex_credits.core.forecast.seasonal import SHORT_HISTORY, fit_seasonal
from codex_credits.core.forecast.state import state_at
from codex_credits.core.ratecard import RateCard
from codex_credits.core.units import quantize_ccu
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.errors import ConfigError
from codex_credits.synthetic import team_usage

START = datetime(2026, 1, 5, tzinfo=UTC)
CARD = RateCard.default()
HISTORY = team_usage(START, 100, seed=7)
AT = datetime(2026, 4, 12, tzinfo=UTC)


@pytest.mark.parametrize("method", ["auto", "montecarlo"])
def test_same_seed_same_forecast_and_another_seed_differs(method: str) -> None:
    def run(seed: int) -> PeriodForecast:
        return forecast_period(
            HISTORY, tier="pro", anchor=START, at=AT, paths=300, seed=seed, method=method
        )

    a, b, c = run(3), run(3), run(4)
    assert a == b
    # Other paths: the rules' own figures (the new rollover balance) move.
    assert a.rollover != c.rollover
    if method == "montecarlo":  # its P50 is the paths' median
        assert a.p50 != c.p50


@pytest.mark.parametrize("method", ["linear", "seasonal", "montecarlo"])
def test_interval_is_ordered_and_starts_from_what_was_consumed(method: str) -> None:
    f = forecast_period(HISTORY, tier="pro", anchor=START, at=AT, method=method, paths=300)
    assert f.consumed <= f.p10 <= f.p50 <= f.p90
    assert f.linear_projection is not None
    for value in (f.p10, f.p50, f.p90, f.consumed):
        assert value == value.quantize(Decimal("0.000001"))
    # Consumed so far is the period's usage before the cut, exactly.
    period_usage = HISTORY.between(f.period.start, AT)
    assert f.consumed == sum(period_usage.amounts(CARD), Decimal(0))


def test_linear_method_is_the_seed_projection() -> None:
    f = forecast_period(HISTORY, tier="pro", anchor=START, at=AT, method="linear")
    assert f.linear_projection is not None
    elapsed = Decimal((AT - f.period.start).days)
    expected = (f.consumed * f.period.days / elapsed).quantize(Decimal("0.000001"))
    assert f.p10 == f.p50 == f.p90 == f.linear_projection.projected == expected


def test_heavy_use_on_go_runs_out_and_costs_overage() -> None:
    # Go: 500 CCU a month. A team of six spends that within days.
    f = forecast_period(HISTORY, tier="go", anchor=START, at=AT, paths=300)
    assert f.probability_overage == 1.0
    assert f.exhaustion.already_exhausted or f.exhaustion.probability_before_end == 1.0
    assert f.expected_overage_cost is not None and f.expected_overage_cost > 0
    assert f.expected_overage_cost == f.expected_overage_cost.quantize(Decimal("0.01"))


def test_short_history_says_so() -> None:
    short = team_usage(START, 5, seed=1)
    f = forecast_period(short, tier="pro", anchor=START, at=START + timedelta(days=5), paths=200)
    assert SHORT_HISTORY in f.warnings
    assert f.p10 < f.p90  # and is wide


def test_seasonal_model_learns_quiet_weekends_and_shrugs_off_a_missing_day() -> None:
    hourly = hourly_totals(HISTORY, CARD, START, AT)
    model = fit_seasonal(hourly, START, AT)
    # Phases are day ordinals modulo the cycle; ordinal 1 (1 January of year 1) was a
    # Monday, so ordinal % 7 is 6 on Saturdays and 0 on Sundays.
    weekend = [model.factors[p] for p in range(model.cycle) if (p % 7) in (6, 0)]
    weekday = [model.factors[p] for p in range(model.cycle) if (p % 7) not in (6, 0)]
    assert max(weekend) < 0.5 < min(weekday)
    gap = hourly.copy()
    gap[-24 * 5 : -24 * 4] = 0  # a logging outage: one weekday lost
    damaged = fit_seasonal(gap, START, AT)
    assert abs(damaged.level - model.level) / model.level < 0.1


def test_state_replay_rolls_the_first_period_into_the_second() -> None:
    events = [
        UsageEvent(timestamp=START + timedelta(days=2, hours=h), ccu=Decimal("20"))
        for h in range(25)
    ]
    hourly = hourly_totals(UsageLog.from_events(events), CARD, START, START + timedelta(days=40))
    opening = open_account(CARD, "plus", 1, START)
    state = state_at(opening, CARD, hourly, START, START + timedelta(days=35))
    # 500 spent in period 0; 1,500 of the grant rolls over (cap 2,000), expiring a period later.
    assert state.period_index == 1
    assert state.rollover == ((1_500_000_000, 1),)
    assert state.credits_left == 3_500_000_000


def test_backtest_reports_mean_errors_of_its_cases() -> None:
    report = backtest(HISTORY, tier="pro", anchor=START, method="seasonal", cut_days=(5, 15))
    assert report.cases
    assert report.mape == pytest.approx(np.mean([c.abs_pct_error for c in report.cases]))
    assert report.coverage == pytest.approx(np.mean([c.covered for c in report.cases]))
    for case in report.cases:
        assert case.covered == (case.p10 <= case.realised <= case.p90)


def test_backtest_needs_a_complete_period() -> None:
    with pytest.raises(ConfigError, match="no complete billing period"):
        backtest(team_usage(START, 20, seed=1), tier="pro", anchor=START, method="linear")


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown forecast method"):
        forecast_period(HISTORY, tier="pro", anchor=START, at=AT, method="magic")


def test_fan_ends_at_the_forecast_and_never_falls() -> None:
    fan = forecast_fan(HISTORY, tier="pro", anchor=START, at=AT, paths=300, seed=2)
    f = forecast_period(HISTORY, tier="pro", anchor=START, at=AT, paths=300, seed=2)
    assert fan[-1].at == f.period.end
    assert (fan[-1].p10, fan[-1].p50, fan[-1].p90) == (f.p10, f.p50, f.p90)
    for before, after in itertools.pairwise(fan):
        assert after.at - before.at == timedelta(days=1)
        assert before.p50 <= after.p50


@pytest.mark.parametrize(
    ("rollover", "overage", "cost"),
    [
        (None, "15000.000000", "180.00"),
        (8000, "7000.000000", "84.00"),
        (12000, "3000.000000", "36.00"),
    ],
)
def test_the_starting_rollover_balance_counts(
    rollover: int | None, overage: str, cost: str
) -> None:
    # One pro seat on a course for 25,000 CCU in the 30 days of April: 12,500 in the
    # first 15 days (a steady 34.722222 an hour, within the rate limit). The worked
    # figures: 15,000 of overage (180.00) with no rollover, 84.00 with 8,000 rolled
    # over, 36.00 with 12,000.
    anchor = datetime(2026, 4, 1, tzinfo=UTC)
    per_hour = Decimal("12500") / 360
    events = [
        UsageEvent(timestamp=anchor + timedelta(hours=h), ccu=quantize_ccu(per_hour))
        for h in range(359)
    ]
    last = Decimal(12500) - quantize_ccu(per_hour) * 359
    events.append(UsageEvent(timestamp=anchor + timedelta(hours=359), ccu=last))
    f = forecast_period(
        UsageLog.from_events(events),
        tier="pro",
        anchor=anchor,
        at=anchor + timedelta(days=15),
        method="linear",
        rollover_balance=rollover,
    )
    assert f.consumed == Decimal("12500.000000")
    assert f.p50 == Decimal("25000.000000")
    assert f.credits_at_period_start == Decimal(10000 + (rollover or 0))
    assert f.expected_overage_ccu == Decimal(overage)
    assert f.expected_overage_cost == Decimal(cost)


def test_a_given_state_and_a_starting_balance_exclude_each_other() -> None:
    opening = open_account(CARD, "pro", 1, START, rollover_balance=Decimal(500))
    with pytest.raises(ConfigError, match="come from the given account state"):
        forecast_period(HISTORY, tier="pro", anchor=START, at=AT, state=opening, reserve=1)
    with pytest.raises(ConfigError, match="not 2 of pro"):
        forecast_period(HISTORY, tier="pro", seats=2, anchor=START, at=AT, state=opening)


def test_an_opening_state_with_rollover_equals_the_same_balance_given_as_a_number() -> None:
    opening = open_account(CARD, "pro", 1, START, rollover_balance=Decimal(4000), reserve=20)
    at = START + timedelta(days=10)
    a = forecast_period(HISTORY, tier="pro", anchor=START, at=at, paths=200, state=opening)
    b = forecast_period(
        HISTORY, tier="pro", anchor=START, at=at, paths=200, rollover_balance=4000, reserve=20
    )
    c = forecast_period(HISTORY, tier="pro", anchor=START, at=at, paths=200)
    assert a == b
    assert a.credits_at_period_start == Decimal(14000)
    assert c.credits_at_period_start == Decimal(10000)
