"""Alerts fire on planted anomalies and stay quiet on the clean versions of the same traces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from codex_credits.core.alerts import (
    AlertRule,
    burn_alerts,
    exhaustion_alerts,
    scan_alerts,
    task_alerts,
)
from codex_credits.core.ratecard import RateCard
from codex_credits.core.usage import UsageEvent, UsageLog

CARD = RateCard.default()
START = datetime(2026, 6, 1, tzinfo=UTC)


def steady(days: int, per_hour: str = "10", planted: dict[int, str] | None = None) -> UsageLog:
    """One task an hour of ``per_hour`` CCU; ``planted`` overrides given hours."""
    planted = planted or {}
    return UsageLog.from_events(
        UsageEvent(
            timestamp=START + timedelta(hours=h, minutes=30),
            ccu=Decimal(planted.get(h, per_hour)),
            event_id=f"t{h}",
        )
        for h in range(days * 24)
    )


def test_task_threshold() -> None:
    assert task_alerts(steady(3), CARD, 50) == ()
    alerts = task_alerts(steady(3, planted={40: "75.5"}), CARD, 50)
    assert [(a.rule, a.event_id, a.value, a.limit) for a in alerts] == [
        (AlertRule.TASK_ABOVE_THRESHOLD, "t40", Decimal("75.500000"), Decimal(50))
    ]
    assert "t40" in alerts[0].message and "75.5" in alerts[0].message


def test_burn_spike_against_the_rolling_average() -> None:
    assert burn_alerts(steady(3), CARD) == ()
    alerts = burn_alerts(steady(3, planted={30: "25"}), CARD)
    assert len(alerts) == 1
    spike = alerts[0]
    assert spike.at == START + timedelta(hours=30)
    assert spike.value == Decimal("25.000000")
    assert spike.limit == Decimal("20.000000")  # 2 x the previous 24 hours' 10 an hour
    assert "2 x the 24-hour average of 10.000000" in spike.message


def test_burn_floor_silences_a_near_idle_baseline() -> None:
    # 0.01 an hour, then one 0.05 hour: five times the average, but noise.
    trace = steady(3, per_hour="0.01", planted={50: "0.05"})
    assert len(burn_alerts(trace, CARD)) == 1
    assert burn_alerts(trace, CARD, floor_ccu="1") == ()
    # scan_alerts' default floor is one hour of the tier's allocation (pro: 13.888889).
    assert scan_alerts(trace, CARD, tier="pro", anchor=START) == ()


def test_daily_rate_exhausting_the_balance() -> None:
    # Pro, 10,000 CCU: 10 an hour is 240 a day, 7,200 in 30 days: no alert.
    assert exhaustion_alerts(steady(10), CARD, tier="pro", anchor=START) == ()
    # A day at 50 an hour (1,200 a day) would need 36,000 for the month: alert that day.
    planted = {h: "50" for h in range(72, 96)}
    alerts = exhaustion_alerts(steady(10, planted=planted), CARD, tier="pro", anchor=START)
    assert [(a.rule, a.at) for a in alerts] == [
        (AlertRule.BALANCE_EXHAUSTED_EARLY, START + timedelta(days=3))
    ]
    assert alerts[0].value == Decimal("1200.000000")
    assert "before the period ends on 2026-07-01" in alerts[0].message


def test_scan_orders_alerts_in_time() -> None:
    trace = steady(5, planted={30: "25", 100: "80"})
    alerts = scan_alerts(trace, CARD, task_threshold=70, tier="pro", anchor=START)
    assert [a.at for a in alerts] == sorted(a.at for a in alerts)
    assert {a.rule for a in alerts} == {
        AlertRule.TASK_ABOVE_THRESHOLD,
        AlertRule.HOUR_ABOVE_ROLLING_AVERAGE,
    }
