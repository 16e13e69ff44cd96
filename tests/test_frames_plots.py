from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import RateCard, UsageEvent, UsageLog, build_report
from codex_credits.frames import to_dataframe, to_polars
from codex_credits.tabular import tabulate
from tests.showcase import every_result

pd = pytest.importorskip("pandas")

T0 = datetime(2026, 6, 1, tzinfo=UTC)
LOG = UsageLog.from_events(
    [
        UsageEvent(timestamp=T0, ccu=Decimal("1.5"), project_id="a"),
        UsageEvent(
            timestamp=T0.replace(hour=2),
            reasoning_tokens=1000,
            sandbox_minutes=Decimal("2.5"),
            sandbox_class="large",
            project_id="b",
        ),
    ]
)
RESULTS = every_result()
AMOUNTS = {
    "usage": ["ccu", "sandbox_minutes"],
    "simulation": ["consumed", "total_cost"],
    "statement": ["granted", "overage_cost"],
    "timeline": ["served", "reserve"],
    "outcomes": ["requested", "from_grant"],
    "comparison": ["total_cost", "refused_share"],
    "forecast": ["p10", "p50", "p90", "credits_at_period_start"],
    "fan": ["p10", "p50", "p90"],
    "report": ["total", "share"],
    "chargeback": ["total", "allocated_usd"],
    "usage_report": ["consumed", "allocation"],
    "breakdown": ["CCU"],
    "state": ["plan_pool"],
    "alerts": ["value", "limit"],
    "check": ["figures_spent", "figures_amount"],
}


@pytest.mark.parametrize("name", sorted(AMOUNTS))
def test_every_result_has_numeric_amounts_by_default(name: str) -> None:
    frame = to_dataframe(RESULTS[name])
    assert len(frame) == len(tabulate(RESULTS[name])) > 0
    for column in AMOUNTS[name]:
        assert frame[column].dtype == "float64", column
    assert not frame.select_dtypes("number").empty
    frame.describe()  # needs numeric columns


@pytest.mark.parametrize("name", sorted(AMOUNTS))
def test_exact_amounts_on_request(name: str) -> None:
    frame = to_dataframe(RESULTS[name], exact=True)
    for column in AMOUNTS[name]:
        assert all(v is None or isinstance(v, Decimal) for v in frame[column]), column


@pytest.mark.parametrize("name", sorted(AMOUNTS))
def test_polars_has_the_same_rows_and_columns(name: str) -> None:
    pytest.importorskip("polars")
    frame = to_dataframe(RESULTS[name])
    polars = to_polars(RESULTS[name])
    assert polars.columns == list(frame.columns) and polars.height == len(frame)
    exact = to_polars(RESULTS[name], exact=True)
    assert all(str(exact[c].dtype).startswith("Decimal") for c in AMOUNTS[name])


def test_one_row_per_thing() -> None:
    r = RESULTS["simulation"]
    assert len(to_dataframe(r)) == len(r.periods)
    assert len(to_dataframe(RESULTS["timeline"])) == len(r.timeline)
    assert len(to_dataframe(RESULTS["outcomes"])) == len(RESULTS["usage"])
    assert len(to_dataframe(RESULTS["comparison"])) == len(RESULTS["comparison"].options)
    fan = to_dataframe(RESULTS["fan"])
    assert list(fan.columns) == ["at", "p10", "p50", "p90"] and len(fan) == len(RESULTS["fan"])
    assert str(fan["at"].dtype) == "datetime64[us, UTC]"


def test_exact_frames_add_up_to_the_library_totals() -> None:
    r = RESULTS["simulation"]
    served = sum(to_dataframe(r.timeline, exact=True)["served"], Decimal(0))
    assert served == r.totals.consumed
    allocated = sum(to_dataframe(RESULTS["chargeback"], exact=True)["allocated_usd"], Decimal(0))
    assert allocated == r.totals.total_cost
    floats = to_dataframe(r.timeline)["served"].sum()
    assert floats == pytest.approx(float(r.totals.consumed), rel=1e-12)


def test_usage_frame_keeps_every_column() -> None:
    frame = to_dataframe(LOG, RateCard.default())
    assert {"ccu", "sandbox_minutes", "sandbox_class", "fast", "project_id", "amount"} <= set(
        frame.columns
    )
    assert list(frame["project_id"]) == ["a", "b"]
    assert frame["ccu"].iloc[0] == 1.5 and pd.isna(frame["ccu"].iloc[1])
    assert frame["sandbox_class"].isna().tolist() == [True, False]
    assert frame["sandbox_class"].iloc[1] == "large"
    exact = to_dataframe(LOG, RateCard.default(), exact=True)
    assert list(exact["amount"]) == LOG.amounts(RateCard.default())
    assert list(exact["sandbox_minutes"]) == [Decimal(0), Decimal("2.5")]
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"


def test_report_frame_has_no_empty_columns() -> None:
    frame = to_dataframe(build_report(LOG, by="project"))
    assert not frame.isna().all().any()
    assert list(frame["key"]) == ["a", "b"] or set(frame["key"]) == {"a", "b"}


@pytest.mark.parametrize("value", [42, "usage.csv", [1, 2], object(), None])
def test_anything_else_is_a_type_error_naming_the_supported_types(value: Any) -> None:
    with pytest.raises(TypeError, match=r"supported: UsageLog.*SimulationResult.*TierComparison"):
        to_dataframe(value)


events = st.lists(
    st.builds(
        UsageEvent,
        timestamp=st.integers(0, 24 * 60).map(lambda m: T0 + timedelta(minutes=m)),
        ccu=st.one_of(st.none(), st.decimals("0", "1000", places=6)),
        reasoning_tokens=st.integers(0, 50_000),
        tool_calls=st.integers(0, 50),
        sandbox_minutes=st.decimals("0", "60", places=3),
        sandbox_class=st.sampled_from(["small", "large"]),
        project_id=st.sampled_from(["a", "b", None]),
    ),
    max_size=30,
)


@given(events)
def test_usage_frames_match_the_events(sample: list[UsageEvent]) -> None:
    log = UsageLog.from_events(sample)
    card = RateCard.default()
    exact = to_dataframe(log, card, exact=True)
    floats = to_dataframe(log, card)
    assert len(exact) == len(log)
    for i, event in enumerate(log):
        assert exact["ccu"].iloc[i] == event.ccu
        assert exact["sandbox_minutes"].iloc[i] == event.sandbox_minutes
        assert exact["amount"].iloc[i] == event.amount(card)
        assert floats["amount"].iloc[i] == pytest.approx(float(event.amount(card)))
        project = exact["project_id"].iloc[i]
        assert project == event.project_id or (event.project_id is None and pd.isna(project))


def test_missing_extra_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"codex-credits\[pandas\]"):
        to_dataframe(LOG)
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match=r"codex-credits\[polars\]"):
        to_polars(LOG)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    from codex_credits.plots import plot_spend

    with pytest.raises(ImportError, match=r"codex-credits\[plot\]"):
        plot_spend(build_report(LOG, by="project"))


@pytest.fixture
def agg() -> Any:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _saves(ax: Any) -> None:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


def _concise_dates(ax: Any) -> None:
    from matplotlib.dates import ConciseDateFormatter

    assert isinstance(ax.xaxis.get_major_formatter(), ConciseDateFormatter)


def test_forecast_fan_marks_pool_rollover_and_exhaustion(agg: Any) -> None:
    from codex_credits.plots import plot_forecast

    forecast, fan = RESULTS["forecast"], RESULTS["fan"]
    ax = plot_forecast(fan, forecast)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"P10-P90", "P50", "pool", "so far", "period end"} <= set(labels)
    assert any("rollover" in t.get_text() for t in ax.texts)
    p50 = next(line for line in ax.get_lines() if line.get_label() == "P50")
    assert list(p50.get_ydata()) == [float(p.p50) for p in fan]
    pool = next(line for line in ax.get_lines() if line.get_label() == "pool")
    assert pool.get_ydata()[0] == float(forecast.credits_at_period_start)
    assert ax.get_title() and ax.get_ylabel()
    _concise_dates(ax)
    _saves(ax)


def test_forecast_alone_or_in_either_order(agg: Any) -> None:
    from codex_credits.plots import plot_forecast

    forecast, fan = RESULTS["forecast"], RESULTS["fan"]
    swapped = plot_forecast(forecast, fan)
    p50 = next(line for line in swapped.get_lines() if line.get_label() == "P50")
    assert list(p50.get_ydata()) == [float(p.p50) for p in fan]
    alone = plot_forecast(forecast)
    p50 = next(line for line in alone.get_lines() if line.get_label() == "P50")
    assert list(p50.get_ydata()) == [float(forecast.consumed), float(forecast.p50)]
    assert list(p50.get_xdata()) == [forecast.at, forecast.period.end]
    _saves(alone)
    with pytest.raises(TypeError, match="one fan and one PeriodForecast"):
        plot_forecast(fan, fan)


def test_exhaustion_is_marked_when_credits_run_out(agg: Any) -> None:
    import codex_credits as cc
    from codex_credits.plots import plot_forecast
    from tests.showcase import ANCHOR, CUT

    log = RESULTS["usage"]
    forecast = cc.forecast_period(log, tier="plus", anchor=ANCHOR, at=CUT, paths=100)
    fan = cc.forecast_fan(log, tier="plus", anchor=ANCHOR, at=CUT, paths=100)
    assert forecast.exhaustion.p50 is not None
    ax = plot_forecast(fan, forecast)
    assert "exhausted (P50)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_tier_comparison_chart(agg: Any) -> None:
    from codex_credits.plots import plot_comparison

    comparison = RESULTS["comparison"]
    ax = plot_comparison(comparison)
    bars = ax.patches
    assert len(bars) == len(comparison.options)
    assert [b.get_width() for b in bars] == [float(o.total_cost) for o in comparison.options]
    refusing = [o.refused_share > comparison.tolerance for o in comparison.options]
    assert [bool(b.get_hatch()) for b in bars] == refusing
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"{o.tier} x{o.seats}" for o in comparison.options
    ]
    assert ax.get_xlabel() == "USD"
    _saves(ax)


def test_burndown_and_reserve_from_a_result(agg: Any) -> None:
    from codex_credits.plots import plot_burndown, plot_reserve

    result = RESULTS["simulation"]
    ax = plot_burndown(result)
    (line,) = ax.get_lines()[:1]
    left = line.get_ydata()
    period = result.periods[0]
    assert left[0] == float(period.rollover_in + period.granted)
    assert left[-1] == pytest.approx(float(period.rollover_in + period.granted - period.consumed))
    _concise_dates(ax)
    _saves(ax)
    ax = plot_reserve(result, ax=ax.twinx())
    reserve = next(line for line in ax.get_lines() if line.get_label() == "reserve")
    assert len(reserve.get_ydata()) == len(result.timeline)
    cap = next(line for line in ax.get_lines() if line.get_label() == "cap")
    assert cap.get_ydata()[0] == float(result.plan.limits.reserve_cap)
    _saves(ax)


def test_older_signatures_still_draw(agg: Any) -> None:
    from codex_credits.plots import plot_burndown, plot_reserve, plot_spend

    ax = plot_burndown(LOG, RateCard.default(), Decimal("10"), start=T0)
    assert ax.get_title() == "Burn-down of the credits"
    plot_reserve([T0], [Decimal("1")], cap=Decimal("4"))
    ax = plot_spend(build_report(LOG, by="project"))
    assert ax.get_title() == "Spend by project" and len(ax.patches) == 2
    _saves(ax)
