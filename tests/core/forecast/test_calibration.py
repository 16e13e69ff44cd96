"""Calibration on the account's own past: point rules, conformal intervals, calibrated paths."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits.core.account import open_account
from codex_credits.core.forecast.calibration import (
    CANDIDATES,
    FALLBACK_LOG_SPREAD,
    HORIZON_WINDOW_DAYS,
    MIN_PERIODS,
    SHORT_CALIBRATION,
    calibrate,
    error_record,
)
from codex_credits.core.forecast.combination import combined_forecast
from codex_credits.core.forecast.forecaster import forecast_series
from codex_credits.core.forecast.hourly import day_floor, hour_count, hourly_totals
from codex_credits.core.forecast.montecarlo import calibrate_demand
from codex_credits.core.forecast.points import Cuts, UsageSeries, point_forecasts
from codex_credits.core.forecast.seasonal import fit_seasonal
from codex_credits.core.periods import period_at, period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.io.usagefile import read_usage

CARD = RateCard.default()
ANCHOR = datetime(2025, 1, 1, tzinfo=UTC)
RHYTHMS = Path(__file__).resolve().parents[2] / "data" / "team-rhythms"


def _series(daily: list[float], seed: int) -> npt.NDArray[np.int64]:
    """Hourly micro-CCU: each day's total spread over working hours with noise."""
    rng = np.random.default_rng(seed)
    shape = np.zeros(24)
    shape[8:18] = 1.0
    hourly = np.concatenate([d * shape / shape.sum() * rng.uniform(0.5, 1.5, 24) for d in daily])
    return np.rint(hourly * 1e6).astype(np.int64)


def test_every_rule_forecasts_a_steady_usage_exactly() -> None:
    # 100 CCU every day: every rule sees the same rate everywhere.
    hourly = np.full(24 * 200, round(100 / 24 * 1e6), dtype=np.int64)
    series = UsageSeries.of(hourly, ANCHOR)
    period = period_at(ANCHOR, 5)
    s, e = hour_count(ANCHOR, period.start), hour_count(ANCHOR, period.end)
    cuts = Cuts(np.array([s + 24 * 9]), np.array([s]), np.array([e]))
    per_day = float(hourly[0]) * 24 / 1e6
    for name, value in point_forecasts(series, cuts).items():
        assert value[0] == pytest.approx(per_day * period.days, rel=1e-9), name


def test_blend_is_the_documented_formula() -> None:
    # 28 days at 10 CCU/day, then a period at 40 CCU/day; cut 7 days in.
    days = [10.0] * 28 + [40.0] * 7
    start = ANCHOR - timedelta(days=28)
    hourly = np.concatenate([np.full(24, round(d / 24 * 1e6), dtype=np.int64) for d in days])
    series = UsageSeries.of(hourly, start)
    period = period_containing(ANCHOR, ANCHOR)
    cuts = Cuts(np.array([35 * 24]), np.array([28 * 24]), np.array([(28 + period.days) * 24]))
    done = float(hourly[28 * 24 :].sum()) / 1e6
    last28 = float(hourly[7 * 24 :].sum()) / 1e6
    left = period.days - 7
    expected = done + left * (done + 14 / 28 * last28) / (7 + 14)
    assert point_forecasts(series, cuts)["blend"][0] == pytest.approx(expected, rel=1e-12)


def test_weekday_rule_forecasts_less_when_the_rest_is_weekends() -> None:
    # Weekdays busy, weekends idle: the weekday rule counts the remaining weekdays.
    start = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
    daily = [100.0 if (start + timedelta(days=d)).weekday() < 5 else 0.0 for d in range(120)]
    hourly = _series(daily, 1)
    series = UsageSeries.of(hourly, start)
    # A 7-day "period" cut on Friday evening: Saturday and Sunday are left.
    cut = hour_count(start, datetime(2025, 4, 26, tzinfo=UTC))
    cuts = Cuts(np.array([cut]), np.array([cut - 5 * 24]), np.array([cut + 2 * 24]))
    f = point_forecasts(series, cuts)
    done = float(series.total[cut] - series.total[cut - 5 * 24])
    assert f["weekday"][0] == pytest.approx(done, rel=1e-9)
    assert f["runrate"][0] > done * 1.2


def test_short_history_falls_back_to_the_documented_prior_and_says_so() -> None:
    hourly = _series([50.0] * 70, 2)
    cut = datetime(2025, 3, 8, tzinfo=UTC)
    c = calibrate(hourly, ANCHOR, ANCHOR, cut)
    assert c.periods < MIN_PERIODS
    assert SHORT_CALIBRATION in c.warnings
    left = (datetime(2025, 4, 1, tzinfo=UTC) - cut) / timedelta(days=1)
    spread = FALLBACK_LOG_SPREAD * math.sqrt(left / 31)
    assert (c.log_lo, c.log_hi) == pytest.approx((-spread, spread))
    assert c.coverage is None
    assert c.mape is None


def _own_errors(hourly: npt.NDArray[np.int64], cut: datetime, rule: str) -> npt.NDArray[np.float64]:
    """Brute force: log(realised / forecast) of ``rule`` on every past period, one cut at a time,
    at days left within the window of the cut's, with each period's samples weighted 1/n."""
    series = UsageSeries.of(hourly[: hour_count(ANCHOR, cut)], ANCHOR)
    current = period_containing(ANCHOR, cut)
    left = (current.end - cut) / timedelta(days=1)
    values, weights = [], []
    for index in range(current.index):
        p = period_at(ANCHOR, index)
        if p.start < ANCHOR + timedelta(days=7):
            continue
        s, e = hour_count(ANCHOR, p.start), hour_count(ANCHOR, p.end)
        mine = []
        for day in range(1, p.days):
            c = s + 24 * day
            if abs((e - c) / 24 - left) > HORIZON_WINDOW_DAYS:
                continue
            f = point_forecasts(series, Cuts(np.array([c]), np.array([s]), np.array([e])))[rule]
            mine.append(math.log((series.total[e] - series.total[s]) / f[0]))
        values += mine
        weights += [1 / len(mine)] * len(mine)
    order = np.argsort(values)
    v, w = np.array(values)[order], np.array(weights)[order]
    cumulative = np.cumsum(w) / w.sum()
    return np.array([v[np.searchsorted(cumulative, q)] for q in (0.1, 0.9)])


@settings(max_examples=15, deadline=None)
@given(
    level=st.floats(20, 500),
    swing=st.floats(0, 0.6),
    seed=st.integers(0, 1000),
    cut_day=st.integers(1, 27),
)
def test_interval_is_never_narrower_than_the_accounts_own_errors(
    level: float, swing: float, seed: int, cut_day: int
) -> None:
    rng = np.random.default_rng(seed)
    months = rng.uniform(1 - swing, 1 + swing, 9)
    daily = [level * months[d // 31] * rng.uniform(0.6, 1.4) for d in range(9 * 31)]
    hourly = _series(daily, seed)
    cut = datetime(2025, 8, 1, tzinfo=UTC) + timedelta(days=cut_day)
    c = calibrate(hourly, ANCHOR, ANCHOR, cut)
    assert c.periods >= MIN_PERIODS and c.rule in CANDIDATES
    q10, q90 = _own_errors(hourly, cut, c.rule)
    assert c.log_lo <= q10 + 1e-9
    assert c.log_hi >= q90 - 1e-9
    lo, mid, hi = c.interval()
    assert c.consumed <= lo <= mid <= hi
    assert lo <= mid * math.exp(q10) + 1e-6 or lo == c.consumed
    assert hi >= mid * math.exp(q90) - 1e-6


@settings(max_examples=12, deadline=None)
@given(
    level=st.floats(5, 300),
    days=st.integers(20, 200),
    cut_hours=st.integers(1, 24 * 30),
    seed=st.integers(0, 100),
    method=st.sampled_from(["auto", "seasonal", "montecarlo"]),
)
def test_forecasts_are_ordered_above_consumed_reproducible_and_calibrated(
    level: float, days: int, cut_hours: int, seed: int, method: str
) -> None:
    rng = np.random.default_rng(seed)
    hourly = _series(list(level * rng.uniform(0.2, 1.8, days)), seed)
    at = ANCHOR + timedelta(days=days) - timedelta(hours=cut_hours % (24 * days))
    opening = open_account(CARD, "pro", 1, ANCHOR)

    def run() -> object:
        return forecast_series(
            hourly, ANCHOR, opening=opening, card=CARD, at=at, method=method, paths=60, seed=seed
        )

    f = run()
    assert f == run()
    assert f.consumed <= f.p10 <= f.p50 <= f.p90
    assert f.quality is not None
    if method == "auto":  # never narrower than the calibration's interval around its P50
        upto = hour_count(ANCHOR, at)
        model = fit_seasonal(hourly[:upto], ANCHOR, at, since=period_containing(ANCHOR, at).start)
        c = combined_forecast(hourly, ANCHOR, ANCHOR, at, model).calibration
        lo, _, hi = c.interval(p50=float(f.p50), consumed=float(f.consumed))
        assert float(f.p10) <= lo + 1e-6
        assert float(f.p90) >= hi - 1e-6


@settings(max_examples=25, deadline=None)
@given(
    paths=st.integers(20, 400),
    t50=st.floats(1e3, 1e9),
    down=st.floats(0.0, 0.9),
    up=st.floats(0.0, 3.0),
    seed=st.integers(0, 100),
)
def test_calibrated_paths_hold_the_target_quantiles(
    paths: int, t50: float, down: float, up: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    demand = rng.integers(0, 10**6, (paths, 48)).astype(np.int64)
    targets = (t50 * (1 - down), t50, t50 * (1 + up))
    totals = calibrate_demand(demand, targets).sum(axis=1).astype(np.float64)
    ranks = np.sort(totals)
    # The path at rank quantile u has the target distribution's value at u.
    for q, t in zip((0.1, 0.5, 0.9), targets, strict=True):
        below = ranks[max(0, math.floor(q * paths - 0.5))]
        above = ranks[min(paths - 1, math.ceil(q * paths - 0.5))]
        assert below - 48 <= t <= above + 48
    assert calibrate_demand(demand, targets).tolist() == calibrate_demand(demand, targets).tolist()


def test_on_a_real_rhythm_auto_beats_linear_and_reports_an_honest_coverage() -> None:
    log = read_usage(RHYTHMS / "vite.csv")
    first = day_floor(log.start)
    anchor = datetime(2024, 9, 1, tzinfo=UTC)
    end = datetime(2026, 8, 1, tzinfo=UTC)
    hourly = hourly_totals(log, CARD, first, end)
    series = UsageSeries.of(hourly, first)
    errors, linear, covered, reported = [], [], [], []
    for index in range(15, 23):
        p = period_at(anchor, index)
        s, e = hour_count(first, p.start), hour_count(first, p.end)
        realised = series.total[e] - series.total[s]
        for day in (7, 12, 18, 24):
            c = calibrate(hourly, first, anchor, p.start + timedelta(days=day))
            lo, mid, hi = c.interval()
            errors.append(abs(mid / realised - 1))
            linear.append(abs(c.consumed * p.days / day / realised - 1))
            covered.append(lo <= realised <= hi)
            assert c.coverage is not None
            reported.append(c.coverage)
    assert np.mean(errors) < np.mean(linear)
    assert 0.6 <= np.mean(covered) <= 1.0
    assert abs(np.mean(covered) - np.mean(reported)) <= 0.15


def test_reported_coverage_holds_each_period_out_against_the_others() -> None:
    # One cut per period, log ratios known. With 3 other periods the levels are
    # 0.9 x (1 + 0.5/3) > 1: the interval spans the others' extremes (and 0).
    ratios = np.array([0.1, -0.2, 0.3, 0.05])
    period = np.arange(4, dtype=np.int64)
    use = np.ones(4, dtype=bool)
    record = error_record(np.ones(4), np.exp(ratios), period, use)
    # 0.1 in [-0.2, 0.3]; -0.2 not in [0, 0.3]; 0.3 not in [-0.2, 0.1]; 0.05 in [-0.2, 0.3].
    assert record.coverage == pytest.approx(0.5)
    assert (record.log_lo, record.log_hi) == pytest.approx((-0.2, 0.3))
    assert record.mape == pytest.approx(np.mean(np.abs(1 / np.exp(ratios) - 1)) * 100)
    # Three periods: too few to hold one out against the others.
    assert error_record(np.ones(3), np.exp(ratios[:3]), period[:3], use[:3]).coverage is None
