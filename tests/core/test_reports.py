from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import ConfigError, UsageEvent, UsageLog
from codex_credits.core.reports import (
    allocate_cents,
    build_report,
    largest_remainder,
)
from codex_credits.core.usagereport import usage_report

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def ev(hours: float, ccu: str, **dims: str) -> UsageEvent:
    return UsageEvent(timestamp=T0 + timedelta(hours=hours), ccu=Decimal(ccu), **dims)


def test_golden_report_by_project_with_allocation() -> None:
    log = UsageLog.from_events(
        [
            ev(1, "10", project_id="api"),
            ev(2, "20", project_id="web"),
            ev(3, "10", project_id="api"),
        ]
    )
    # overage: 5 CCU drawn by the web request only
    overage = np.array([0, 5_000_000, 0], dtype=np.int64)
    report = build_report(
        log,
        by="project",
        subscription_usd=Decimal("100"),
        overage_micro=overage,
        overage_rate_usd=Decimal("0.012"),
    )
    assert report.total == Decimal("40")
    assert [(r.key, r.total, r.share_pct) for r in report.rows] == [
        ("api", Decimal("20"), Decimal("50")),
        ("web", Decimal("20"), Decimal("50")),
    ]
    # 5 x 0.012 = 0.06 of overage, all of it web's; 100 split 50/50
    assert [r.allocated_usd for r in report.rows] == [Decimal("50.00"), Decimal("50.06")]
    assert report.allocated_usd == Decimal("100.06")


def test_thirds_print_to_exactly_one_hundred() -> None:
    log = UsageLog.from_events([ev(i, "1", user_id=u) for i, u in enumerate("abc")])
    report = build_report(log, by="user", subscription_usd=Decimal("100"))
    assert [r.share_pct for r in report.rows] == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert sum(r.share for r in report.rows) == 1
    assert [r.subscription_usd for r in report.rows] == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]


def test_days_follow_the_time_zone() -> None:
    log = UsageLog.from_events([ev(-0.5, "1"), ev(10, "2")])  # 2026-05-31T23:30Z, 2026-06-01T10:00Z
    utc = build_report(log, by="day")
    assert [r.key for r in utc.rows] == ["2026-05-31", "2026-06-01"]
    tokyo = build_report(log, by="day", tz=ZoneInfo("Asia/Tokyo"))
    assert [(r.key, r.total) for r in tokyo.rows] == [("2026-06-01", Decimal("3"))]
    kathmandu = build_report(log, by="day", tz=ZoneInfo("Asia/Kathmandu"))  # +05:45
    assert [r.key for r in kathmandu.rows] == ["2026-06-01"]
    assert [r.key for r in build_report(log, by="week").rows] == ["2026-W22", "2026-W23"]
    assert [r.key for r in build_report(log, by="month").rows] == ["2026-05", "2026-06"]


def test_missing_labels_and_bad_groupings() -> None:
    log = UsageLog.from_events([ev(1, "1")])
    assert build_report(log, by="feature").rows[0].key == "(none)"
    with pytest.raises(ConfigError, match="cannot group by"):
        build_report(log, by="colour")
    with pytest.raises(ConfigError, match="one value per event"):
        build_report(log, by="day", amounts_micro=np.array([1, 2], dtype=np.int64))


def test_token_columns() -> None:
    log = UsageLog.from_events(
        [
            UsageEvent(
                timestamp=T0,
                input_tokens=100,
                cached_input_tokens=40,
                output_tokens=30,
                reasoning_tokens=10,
                model="gpt-5.4",
            )
        ]
    )
    from codex_credits import RateCard

    report = build_report(log, RateCard.builtin("codex-tokens-2026-04"), by="model", tokens=True)
    row = report.to_data()["rows"][0]
    assert row["input_tokens"] == 100
    assert row["reasoning_output_tokens"] == 10
    # 60 x 62.5 + 40 x 6.25 + 30 x 375 per million = 0.00375 + 0.00025 + 0.01125
    assert report.total == Decimal("0.015250")
    assert report.unit == "credits"


@pytest.mark.parametrize(
    ("rollover", "usd"),
    [("0", "180.00"), ("8000", "84.00"), ("12000", "36.00")],
)
def test_usage_report_worked_figures(rollover: str, usd: str) -> None:
    log = UsageLog.from_events([ev(24 * 9, "25000", project_id="p")])
    report = usage_report(
        log,
        start=T0,
        end=datetime(2026, 7, 1, tzinfo=UTC),
        allocation=Decimal("10000"),
        rollover=Decimal(rollover),
        overage_rate_usd=Decimal("0.012"),
        dimensions=("project",),
    )
    assert report.period_days == 30
    assert report.estimated_overage_usd == Decimal(usd)
    assert report.by_dimension[0].rows[0].key == "p"


def test_usage_report_prorates_a_short_period() -> None:
    log = UsageLog.from_events([ev(1, "6000")])
    report = usage_report(
        log, start=T0, end=T0 + timedelta(days=15), allocation=Decimal("10000"), dimensions=()
    )
    assert report.period_budget == Decimal("5000")
    assert report.estimated_overage == Decimal("1000")
    assert report.estimated_overage_usd is None


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=30), st.integers(0, 10**6))
def test_largest_remainder_sums_and_stays_within_one(weights: list[int], units: int) -> None:
    parts = largest_remainder(weights, units)
    total = sum(weights)
    if total == 0:
        assert parts == [0] * len(weights)
        return
    assert sum(parts) == units
    for w, p in zip(weights, parts, strict=True):
        assert w * units // total <= p <= w * units // total + 1


amounts = st.decimals(min_value=0, max_value=10_000, places=6, allow_nan=False)


@given(
    st.lists(
        st.tuples(st.integers(0, 24 * 60), amounts, st.sampled_from("abcd"), st.integers(0, 9)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["day", "week", "user", "project"]),
    st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False),
)
def test_report_sums_equal_totals_to_the_cent(
    rows: list[tuple[int, Decimal, str, int]], by: str, subscription: Decimal
) -> None:
    log = UsageLog.from_events(
        UsageEvent(timestamp=T0 + timedelta(minutes=m), ccu=a, user_id=u, project_id=f"p{p}")
        for m, a, u, p in rows
    )
    overage = np.array([int(a * 1_000_000) // 3 for _, a, _, _ in rows], dtype=np.int64)
    report = build_report(
        log,
        by=by,
        subscription_usd=subscription,
        overage_micro=overage,
        overage_rate_usd=Decimal("0.018"),
    )
    assert sum(r.total for r in report.rows) == report.total == sum(a for _, a, _, _ in rows)
    assert sum(r.events for r in report.rows) == len(rows)
    assert sum(r.allocated_usd or 0 for r in report.rows) == report.allocated_usd
    assert report.allocated_usd == subscription + report.overage_usd  # type: ignore[operator]
    if report.total:
        assert sum(r.share_pct for r in report.rows) == 100
        assert sum(r.share for r in report.rows) == 1


def test_allocate_cents_rounds_the_amount_once() -> None:
    assert allocate_cents(Decimal("0.005"), [1, 1]) == [Decimal("0.00"), Decimal("0.00")]
    assert allocate_cents(Decimal("0.015"), [1, 1]) == [Decimal("0.01"), Decimal("0.01")]
