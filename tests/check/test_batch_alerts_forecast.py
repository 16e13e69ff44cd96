"""The batch, alert and forecast rules, against figures computed by hand.

One pro seat: H = 10000 / 720 = 13.888889, L = 10 x H = 138.888890, reserve cap
4 x H = 55.555556. The go tier: H = 0.694444, L = 6.944440, overage 0.025 USD/CCU.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from codex_credits import UsageEvent
from codex_credits.check import Status, check
from codex_credits.check.policy import policy_from_data

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)


def policy(tier: str = "pro", **tables: Any) -> Any:
    account = {"tier": tier, "anchor": "2026-06-01T00:00:00Z", **tables.pop("account", {})}
    return policy_from_data({"account": account, **tables})


def hourly(ccu: str, hours: int, start: datetime = ANCHOR, **labels: str) -> list[UsageEvent]:
    return [
        UsageEvent(timestamp=start + timedelta(hours=h), ccu=Decimal(ccu), **labels)
        for h in range(hours)
    ]


def rule(result: Any, name: str) -> Any:
    return next(r for r in result.rules if r.name == name)


AT = ANCHOR + timedelta(days=5)


def test_batch_within_the_hour_allowance_passes() -> None:
    p = policy(batch=[{"name": "b", "count": 4, "ccu": 30}])
    outcome = rule(check(p, [], at=AT), "batch:b")
    assert outcome.status is Status.PASS
    assert outcome.figures["total"] == Decimal(120)
    assert outcome.figures["credits_left_after"] == Decimal(10000 - 120)


def test_batch_past_the_allowance_needs_the_reserve() -> None:
    # 5 x 30 = 150 > L = 138.888890: the fifth task needs 11.111110 from the reserve.
    no_reserve = policy(batch=[{"name": "b", "count": 5, "ccu": 30}])
    outcome = rule(check(no_reserve, [], at=ANCHOR), "batch:b")
    assert outcome.status is Status.FAIL
    assert outcome.figures["tasks_that_fit"] == 4
    assert "rate limit" in outcome.message
    with_reserve = policy(
        account={"reserve": "11.11111"}, batch=[{"name": "b", "count": 5, "ccu": 30}]
    )
    assert rule(check(with_reserve, [], at=ANCHOR), "batch:b").status is Status.PASS


def test_batch_task_larger_than_any_hour() -> None:
    p = policy(batch=[{"name": "huge", "ccu": "194.444447"}])
    outcome = rule(check(p, [], at=AT), "batch:huge")
    assert outcome.status is Status.FAIL
    assert "more than any hour can hold (194.444446)" in outcome.message


def test_usage_earlier_in_the_hour_counts() -> None:
    usage = [UsageEvent(timestamp=AT, ccu=Decimal(100))]
    p = policy(batch=[{"name": "b", "count": 2, "ccu": 30}])
    # 100 served this hour + 30 fits (130 <= 138.88889); the next 30 needs 21.11111 of reserve,
    # and the reserve has grown over 120 idle hours to its cap of 55.555556.
    outcome = rule(check(p, usage, at=AT + timedelta(minutes=30)), "batch:b")
    assert outcome.status is Status.PASS
    assert outcome.figures["reserve_at_hour_start"] == Decimal("55.555556")


def test_free_tier_without_credits_fails() -> None:
    usage = hourly("0.6", 83)  # 49.8 of the 50 CCU, within L = 0.694440 each hour
    p = policy("free", batch=[{"name": "b", "ccu": "0.5"}])
    outcome = rule(check(p, usage, at=AT), "batch:b")
    assert outcome.status is Status.FAIL
    assert outcome.figures["credits_left_before"] == Decimal("0.2")
    assert "no overage" in outcome.message


def test_overage_warns_with_its_cost() -> None:
    usage = hourly("6", 83)  # 498 of 500 on go, 6 <= L = 6.944440 each hour
    p = policy("go", batch=[{"name": "b", "ccu": 5, "at": "2026-06-10T00:00:00Z"}])
    outcome = rule(check(p, usage, at=AT), "batch:b")
    assert outcome.status is Status.WARN
    assert outcome.figures["overage_ccu"] == Decimal(3)
    assert outcome.figures["overage_cost"] == Decimal("0.08")  # 0.075 rounds half-even to 0.08


def test_hard_stop_budget_refuses_batch_tasks() -> None:
    usage = hourly("9", 10, project_id="api")  # 90 spent
    p = policy(
        budgets=[{"name": "api", "scope": "project", "value": "api", "amount": 100}],
        batch=[{"name": "b", "count": 2, "ccu": 6, "project": "api"}],
    )
    result = check(p, usage, at=AT)
    outcome = rule(result, "batch:b")
    assert outcome.status is Status.FAIL
    assert outcome.figures["tasks_that_fit"] == 1
    assert "budget api (hard_stop) has 4" in outcome.message
    other = policy(
        budgets=[{"name": "api", "scope": "project", "value": "api", "amount": 100}],
        batch=[{"name": "b", "count": 2, "ccu": 6, "project": "web"}],
    )
    assert rule(check(other, usage, at=AT), "batch:b").status is Status.PASS


def test_batch_entries_share_what_is_left() -> None:
    p = policy(
        batch=[
            {"name": "first", "count": 4, "ccu": 30},
            {"name": "second", "ccu": 30},
        ]
    )
    result = check(p, [], at=ANCHOR)
    assert rule(result, "batch:first").status is Status.PASS
    assert rule(result, "batch:second").status is Status.FAIL


def test_task_alert_fires_on_the_planted_task_only() -> None:
    clean = hourly("5", 48)
    planted = [
        *clean,
        UsageEvent(timestamp=ANCHOR + timedelta(hours=50), ccu=Decimal(80), event_id="runaway"),
    ]
    p = policy(alerts={"task_threshold": 50})
    at = ANCHOR + timedelta(days=3)
    assert rule(check(p, clean, at=at), "alerts:task").status is Status.PASS
    outcome = rule(check(p, planted, at=at), "alerts:task")
    assert outcome.status is Status.WARN
    assert outcome.figures["alerts"] == 1
    assert "runaway" in outcome.message


def test_burn_alert_fires_on_a_burst_and_not_on_a_flat_trace() -> None:
    clean = hourly("20", 72)
    burst = [*clean, UsageEvent(timestamp=ANCHOR + timedelta(hours=72), ccu=Decimal(60))]
    p = policy(alerts={"burn_factor": 2, "burn_window_hours": 24})
    at = ANCHOR + timedelta(days=4)
    assert rule(check(p, clean, at=at), "alerts:burn").status is Status.PASS
    assert rule(check(p, burst, at=at), "alerts:burn").status is Status.WARN


def test_alerts_never_fail_a_check() -> None:
    usage = [*hourly("20", 72), UsageEvent(timestamp=ANCHOR + timedelta(hours=72), ccu=Decimal(90))]
    p = policy(alerts={"task_threshold": 1})
    result = check(p, usage, at=ANCHOR + timedelta(days=4))
    assert result.passed
    assert {r.status for r in result.rules} == {Status.WARN}


@pytest.mark.parametrize("fail_flag", [True, False])
def test_forecast_p90_over_the_balance(fail_flag: bool) -> None:
    # Free tier: 50 CCU of credits; 0.5 CCU every hour for 5 days is 60 already.
    usage = hourly("0.5", 120)
    p = policy(
        "free",
        forecast={"method": "linear", "fail_if_p90_over_balance": fail_flag},
    )
    outcome = rule(check(p, usage, at=AT), "forecast:p90")
    assert outcome.figures["balance"] == Decimal(50)
    assert outcome.figures["p90"] > Decimal(50)
    assert outcome.status is (Status.FAIL if fail_flag else Status.WARN)


def test_forecast_within_the_balance_passes_and_overage_limit() -> None:
    usage = hourly("1", 120)  # pro: 120 CCU in 5 days, nowhere near 10,000
    p = policy(forecast={"method": "montecarlo", "paths": 200, "max_expected_overage_usd": 0})
    result = check(p, usage, at=AT)
    assert rule(result, "forecast:p90").status is Status.PASS
    assert rule(result, "forecast:overage").status is Status.PASS
    heavy = hourly("100", 120)  # 12,000 CCU in 5 days: overage certain on one pro seat
    result = check(p, heavy, at=AT)
    overage = rule(result, "forecast:overage")
    assert overage.status is Status.FAIL
    assert overage.figures["expected_overage_cost"] > 0


def test_forecast_counts_the_policy_rollover_balance() -> None:
    # Pro: 12,000 CCU in the first 5 days of June. With 3,000 rolled over the
    # period holds 13,000 CCU of credit, which the forecast compares with.
    usage = hourly("100", 120)
    plain = policy(forecast={"method": "linear"})
    rolled = policy(account={"rollover_balance": "3000"}, forecast={"method": "linear"})
    assert rule(check(plain, usage, at=AT), "forecast:p90").figures["balance"] == Decimal(10000)
    assert rule(check(rolled, usage, at=AT), "forecast:p90").figures["balance"] == Decimal(13000)
