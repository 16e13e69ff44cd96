"""``auto``'s combination: weights chosen on the account's past, an interval from its own errors."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits.core.account import open_account
from codex_credits.core.forecast.calibration import (
    FALLBACK_LOG_SPREAD,
    MIN_PERIODS,
    SHORT_CALIBRATION,
)
from codex_credits.core.forecast.combination import (
    COMBINATION_PERIODS,
    CUT_OFFSETS_DAYS,
    DEFAULT_WEIGHTS,
    PACE_RULE,
    WEIGHT_SHRINK,
    WEIGHT_STEP,
    PastCuts,
    choose_weights,
    combine,
    combined_forecast,
    past_cuts,
    weight_grid,
)
from codex_credits.core.forecast.forecaster import forecast_series
from codex_credits.core.forecast.hourly import hour_count
from codex_credits.core.forecast.points import Cuts, UsageSeries, point_forecasts
from codex_credits.core.forecast.seasonal import SeasonalModel, fit_seasonal
from codex_credits.core.periods import period_at, period_containing
from codex_credits.core.ratecard import RateCard

CARD = RateCard.default()
ANCHOR = datetime(2025, 1, 1, tzinfo=UTC)
Int64Array = npt.NDArray[np.int64]


def _series(daily: list[float], seed: int) -> Int64Array:
    """Hourly micro-CCU: each day's total spread over working hours with noise."""
    rng = np.random.default_rng(seed)
    shape = np.zeros(24)
    shape[8:18] = 1.0
    hourly = np.concatenate([d * shape / shape.sum() * rng.uniform(0.5, 1.5, 24) for d in daily])
    return np.rint(hourly * 1e6).astype(np.int64)


def _model(hourly: Int64Array, cut: datetime) -> SeasonalModel:
    since = period_containing(ANCHOR, cut).start
    return fit_seasonal(hourly[: hour_count(ANCHOR, cut)], ANCHOR, cut, since=since)


def _cuts(period: list[int], forecasts: list[tuple[float, float, float]], real: float) -> PastCuts:
    return PastCuts(
        period=np.array(period, dtype=np.int64),
        forecasts=np.array(forecasts, dtype=np.float64),
        realised=np.full(len(period), real),
    )


def test_the_weight_grid_is_every_step_multiple_summing_to_one() -> None:
    grid = weight_grid()
    k = round(1 / WEIGHT_STEP)
    assert len(grid) == (k + 1) * (k + 2) // 2
    assert len(set(grid)) == len(grid)
    for w in grid:
        assert sum(w) == pytest.approx(1.0)
        assert all(x >= 0 and (x * k) == pytest.approx(round(x * k)) for x in w)
    assert {(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)} <= set(grid)


@pytest.mark.parametrize("right", [0, 1, 2])
def test_the_forecast_that_was_right_gets_all_the_weight(right: int) -> None:
    # Four past periods: the ``right`` forecast hit 100 every time, the others missed by 30%.
    row = (
        100.0 if right == 0 else 130.0,
        100.0 if right == 1 else 130.0,
        100.0 if right == 2 else 130.0,
    )
    cuts = _cuts([0, 0, 1, 1, 2, 3], [row] * 6, 100.0)
    chosen = [1.0 if j == right else 0.0 for j in range(3)]
    expected = [(1 - WEIGHT_SHRINK) * w + WEIGHT_SHRINK / 3 for w in chosen]  # half-way
    assert choose_weights(cuts, 4) == pytest.approx(expected)
    # Chosen only on the periods before: before period 3 there are three, before 2 only two.
    assert choose_weights(cuts, 3) == pytest.approx(expected)
    assert choose_weights(cuts, 2) == DEFAULT_WEIGHTS


def test_the_default_weights_stay_unless_another_choice_is_clearly_better() -> None:
    # The run rate alone is 3% better than the thirds: not enough (5%) to leave them.
    cuts = _cuts([0, 1, 2, 3], [(102.0, 101.9, 102.0)] * 4, 100.0)
    assert choose_weights(cuts, 4) == DEFAULT_WEIGHTS
    assert combine(DEFAULT_WEIGHTS, cuts.forecasts)[0] == pytest.approx(305.9 / 3)
    # 11% better: it is.
    cuts = _cuts([0, 1, 2, 3], [(103.0, 102.5, 103.0)] * 4, 100.0)
    assert choose_weights(cuts, 4) == pytest.approx((1 / 6, 2 / 3, 1 / 6))


def test_past_cuts_are_the_three_forecasts_at_todays_days_left() -> None:
    rng = np.random.default_rng(3)
    daily = [100.0 * (1.6 if d % 7 < 5 else 0.3) * rng.uniform(0.8, 1.2) for d in range(240)]
    hourly = _series(daily, 3)
    cut = datetime(2025, 8, 20, 15, tzinfo=UTC)
    cuts = past_cuts(hourly, ANCHOR, ANCHOR, cut)
    assert cuts is not None
    left = period_containing(ANCHOR, cut).end - cut
    series = UsageSeries.of(hourly[: hour_count(ANCHOR, cut)], ANCHOR)
    # Brute force, newest period first: one cut at a time.
    expected = []
    for back in range(1, COMBINATION_PERIODS + 1):
        p = period_at(ANCHOR, period_containing(ANCHOR, cut).index - back)
        if p.start < ANCHOR + timedelta(days=7):
            break
        s, e = hour_count(ANCHOR, p.start), hour_count(ANCHOR, p.end)
        for offset in CUT_OFFSETS_DAYS:
            at = p.end - left + timedelta(days=offset)
            c = hour_count(ANCHOR, at)
            rules = point_forecasts(series, Cuts(np.array([c]), np.array([s]), np.array([e])))
            model = fit_seasonal(hourly[:c], ANCHOR, at, since=p.start)
            seasonal = series.total[c] - series.total[s] + model.expected_hourly(at, p.end).sum()
            real = series.total[e] - series.total[s]
            expected.append((back, rules[PACE_RULE][0], rules["runrate"][0], seasonal, real))
    expected.sort(key=lambda row: -row[0])  # oldest period first, as numbered
    assert cuts.periods == len({row[0] for row in expected})
    assert cuts.forecasts.ravel().tolist() == pytest.approx(
        [float(x) for row in expected for x in row[1:4]]
    )
    assert cuts.realised.tolist() == pytest.approx([float(row[4]) for row in expected])
    assert np.all(np.diff(cuts.period) >= 0)
    # Usage from the cut on is never read.
    later = hourly.copy()
    later[hour_count(ANCHOR, cut) :] *= 7
    again = past_cuts(later, ANCHOR, ANCHOR, cut)
    assert again is not None
    assert again.forecasts.tolist() == cuts.forecasts.tolist()


def _walk_forward_quantiles(cuts: PastCuts) -> tuple[float, float]:
    """Brute force: the 10th and 90th percentiles of log(realised / combination), each past
    period forecast with the weights chosen on the periods before it, each period weighing 1."""
    values, weights = [], []
    for k in range(cuts.periods):
        mine = cuts.period == k
        f = combine(choose_weights(cuts, k), cuts.forecasts[mine])
        values += list(np.log(cuts.realised[mine] / f))
        weights += [1 / int(mine.sum())] * int(mine.sum())
    order = np.argsort(values)
    v, w = np.array(values)[order], np.array(weights)[order]
    cumulative = np.cumsum(w) / w.sum()
    return float(v[np.searchsorted(cumulative, 0.1)]), float(v[np.searchsorted(cumulative, 0.9)])


@settings(max_examples=8, deadline=None)
@given(
    level=st.floats(20, 500),
    swing=st.floats(0, 0.6),
    seed=st.integers(0, 1000),
    cut_day=st.integers(1, 27),
)
def test_the_interval_is_never_narrower_than_the_combinations_own_errors(
    level: float, swing: float, seed: int, cut_day: int
) -> None:
    rng = np.random.default_rng(seed)
    months = rng.uniform(1 - swing, 1 + swing, 9)
    daily = [level * months[d // 31] * rng.uniform(0.6, 1.4) for d in range(9 * 31)]
    hourly = _series(daily, seed)
    cut = datetime(2025, 8, 1, tzinfo=UTC) + timedelta(days=cut_day)
    combination = combined_forecast(hourly, ANCHOR, ANCHOR, cut, _model(hourly, cut))
    c = combination.calibration
    cuts = past_cuts(hourly, ANCHOR, ANCHOR, cut)
    assert cuts is not None and cuts.periods >= MIN_PERIODS
    assert not c.warnings and c.rule == PACE_RULE
    shrunk = {
        tuple(round((1 - WEIGHT_SHRINK) * x + WEIGHT_SHRINK / 3, 12) for x in w)
        for w in weight_grid()
    }
    allowed = {*shrunk, tuple(round(x, 12) for x in DEFAULT_WEIGHTS)}
    assert tuple(round(x, 12) for x in combination.weights) in allowed
    assert sum(combination.weights) == pytest.approx(1.0)
    q10, q90 = _walk_forward_quantiles(cuts)
    assert c.log_lo <= q10 + 1e-9
    assert c.log_hi >= q90 - 1e-9
    assert c.samples == len(cuts.period) and c.periods == cuts.periods
    assert c.coverage is not None and 0 <= c.coverage <= 1
    lo, mid, hi = c.interval()
    assert c.consumed <= lo <= mid <= hi


def test_with_two_months_of_history_the_prior_sets_the_interval_and_says_so() -> None:
    hourly = _series([80.0] * 70, 4)
    cut = datetime(2025, 3, 10, tzinfo=UTC)
    combination = combined_forecast(hourly, ANCHOR, ANCHOR, cut, _model(hourly, cut))
    c = combination.calibration
    assert combination.weights == DEFAULT_WEIGHTS
    assert SHORT_CALIBRATION in c.warnings
    spread = FALLBACK_LOG_SPREAD * math.sqrt(22 / 31)
    assert (c.log_lo, c.log_hi) == pytest.approx((-spread, spread))
    f = forecast_series(
        hourly,
        ANCHOR,
        opening=open_account(CARD, "pro", 1, ANCHOR),
        card=CARD,
        at=cut,
        paths=200,
    )
    assert SHORT_CALIBRATION in f.warnings
    assert f.quality is not None and not f.quality.calibrated and f.quality.coverage is None
    assert f.consumed <= f.p10 < f.p50 < f.p90


def _three_forecasts(hourly: Int64Array, cut: datetime) -> list[float]:
    period = period_containing(ANCHOR, cut)
    series = UsageSeries.of(hourly[: hour_count(ANCHOR, cut)], ANCHOR)
    s, c, e = (hour_count(ANCHOR, t) for t in (period.start, cut, period.end))
    rules = point_forecasts(series, Cuts(np.array([c]), np.array([s]), np.array([e])))
    seasonal = (
        series.total[c]
        - series.total[s]
        + _model(hourly, cut).expected_hourly(cut, period.end).sum()
    )
    return [float(rules[PACE_RULE][0]), float(rules["runrate"][0]), float(seasonal)]


def test_a_month_that_doubles_pulls_the_forecast_above_the_old_rate() -> None:
    rng = np.random.default_rng(8)
    daily = [100.0 * rng.uniform(0.8, 1.2) for _ in range(243)]  # January to August
    daily += [200.0 * rng.uniform(0.8, 1.2) for _ in range(12)]  # September doubles
    hourly = _series(daily, 8)
    cut = datetime(2025, 9, 13, tzinfo=UTC)
    combination = combined_forecast(hourly, ANCHOR, ANCHOR, cut, _model(hourly, cut))
    c = combination.calibration
    three = _three_forecasts(hourly, cut)
    assert min(three) - 1e-6 <= c.raw_p50 <= max(three) + 1e-6
    assert c.raw_p50 == pytest.approx(float(combine(combination.weights, np.array(three))))
    assert c.raw_p50 > c.consumed + 18 * 110  # more than the old rate for the 18 days left
    lo, mid, hi = c.interval()
    assert c.consumed <= lo <= mid <= hi


def test_a_quiet_month_is_forecast_quiet_and_a_past_one_widens_the_interval() -> None:
    rng = np.random.default_rng(9)
    steady = [100.0 * rng.uniform(0.8, 1.2) for _ in range(273)]  # January to September
    quiet_now = [*steady, *(30.0 * rng.uniform(0.8, 1.2) for _ in range(10))]
    hourly = _series(quiet_now, 9)
    cut = datetime(2025, 10, 11, tzinfo=UTC)
    now = combined_forecast(hourly, ANCHOR, ANCHOR, cut, _model(hourly, cut)).calibration
    assert now.raw_p50 < 0.8 * 100 * 31
    assert now.consumed <= now.interval()[0]
    # The same history with a quiet August: the errors of that month widen the interval.
    quiet_before = list(steady)
    quiet_before[212:243] = [0.3 * d for d in quiet_before[212:243]]
    calm = _series(steady, 9)
    bumpy = _series(quiet_before, 9)
    later = datetime(2025, 10, 1, tzinfo=UTC) - timedelta(days=20)
    a = combined_forecast(calm, ANCHOR, ANCHOR, later, _model(calm, later)).calibration
    b = combined_forecast(bumpy, ANCHOR, ANCHOR, later, _model(bumpy, later)).calibration
    assert b.log_hi - b.log_lo > a.log_hi - a.log_lo


def test_auto_reports_the_weights_and_the_combinations_record() -> None:
    rng = np.random.default_rng(11)
    daily = [100.0 * (2.0 if d % 14 < 3 else 1.0) * rng.uniform(0.9, 1.1) for d in range(300)]
    hourly = _series(daily, 11)
    cut = datetime(2025, 10, 10, 9, tzinfo=UTC)
    combination = combined_forecast(hourly, ANCHOR, ANCHOR, cut, _model(hourly, cut))
    f = forecast_series(
        hourly,
        ANCHOR,
        opening=open_account(CARD, "pro", 1, ANCHOR),
        card=CARD,
        at=cut,
        paths=300,
        seed=2,
    )
    q = f.quality
    assert q is not None and q.calibrated
    assert (q.run_rate_share, q.seasonal_share) == combination.weights[1:]
    c = combination.calibration
    assert (q.mape, q.coverage, q.periods) == (c.mape, c.coverage, c.periods)
    lo, mid, hi = c.interval(consumed=float(f.consumed))
    assert float(f.p50) == pytest.approx(mid, abs=1e-5)
    assert float(f.p10) <= lo + 1e-5 and float(f.p90) >= hi - 1e-5
