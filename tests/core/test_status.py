"""The bridge from the usage API's account status to the engine: hand-computed figures.

Figures below are worked by hand from the rules in docs/engine.md: rollover is
spent before the grant, the grant before overage; pro's pool is 10,000 CCU per
seat, plus's 2,000 (at most 5 seats), the reserve cap is ``cap hours x H`` with
``H = pool / 720`` quantized to 0.000001 CCU.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from codex_credits import (
    Account,
    AccountStatus,
    BlockKind,
    ConfigError,
    FixedClock,
    RateCard,
    UsageEvent,
    account_from_status,
    forecast_period,
    opening_state,
    path_start_from_state,
    period_anchor,
    simulate,
    split_status,
    state_from_status,
)
from codex_credits.core.usage import UsageLog

JUNE = datetime(2026, 6, 1, tzinfo=UTC)
JULY = datetime(2026, 7, 1, tzinfo=UTC)
AT = datetime(2026, 6, 11, 9, 30, tzinfo=UTC)


def status(**fields: Any) -> AccountStatus:
    base: dict[str, Any] = {
        "tier": "pro",
        "seats": 1,
        "period_start": JUNE,
        "period_end": JULY,
        "consumed_ccu": "0",
        "remaining_ccu": "10000",
    }
    return AccountStatus(**{**base, **fields})


# -- the billing anchor from the period's bounds --------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "anchor", "index"),
    [
        ("2026-06-01T00", "2026-07-01T00", "2026-06-01T00", 0),
        ("2026-06-01T09", "2026-07-01T09", "2026-06-01T09", 0),
        ("2026-02-28T00", "2026-03-28T00", "2026-02-28T00", 0),
        ("2026-02-28T00", "2026-03-31T00", "2026-01-31T00", 1),
        ("2026-04-30T00", "2026-05-30T00", "2026-04-30T00", 0),
        ("2026-04-30T00", "2026-05-31T00", "2026-03-31T00", 1),
        ("2024-02-29T00", "2024-03-29T00", "2024-02-29T00", 0),
        ("2024-02-29T00", "2024-03-30T00", "2024-01-30T00", 1),
        ("2024-02-29T00", "2024-03-31T00", "2024-01-31T00", 1),
    ],
)
def test_period_anchor(start: str, end: str, anchor: str, index: int) -> None:
    def utc(text: str) -> datetime:
        return datetime.fromisoformat(text + ":00").replace(tzinfo=UTC)

    found, period = period_anchor(utc(start), utc(end))
    assert found == utc(anchor)
    assert (period.index, period.start, period.end) == (index, utc(start), utc(end))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (JUNE, datetime(2026, 6, 30, tzinfo=UTC), "not one calendar month"),
        (JUNE, datetime(2026, 7, 1, 1, tzinfo=UTC), "not one calendar month"),
        (JUNE + timedelta(minutes=30), JULY, "not on a whole UTC hour"),
        (JULY, JUNE, "not one calendar month"),
    ],
)
def test_inconsistent_period_is_refused(start: datetime, end: datetime, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        period_anchor(start, end)
    with pytest.raises(ConfigError, match=message):
        state_from_status(status(period_start=start, period_end=end), at=AT)


# -- where the consumption came from --------------------------------------------------------------


def test_grant_only() -> None:
    s = status(consumed_ccu="4000", remaining_ccu="6000", reserve_ccu="12.5")
    split = split_status(s)
    assert (split.from_rollover, split.from_grant, split.overage, split.rollover_in) == (
        Decimal(0),
        Decimal(4000),
        Decimal(0),
        Decimal(0),
    )
    state = state_from_status(s, at=AT)
    assert state.plan.tier == "pro"
    assert state.plan.seats == 1
    assert state.plan.anchor == JUNE
    assert (state.period.start, state.period.end) == (JUNE, JULY)
    assert state.as_of == AT
    assert state.hour == datetime(2026, 6, 11, 9, tzinfo=UTC)
    assert state.served_in_hour == 0
    assert state.ledger.balance == Decimal("6000")
    assert state.ledger.rollover_balance == 0
    assert state.reserve.level == Decimal("12.5")
    assert state.ledger.granted == Decimal(10000)
    assert state.ledger.spent == Decimal(4000)


def test_rollover_is_spent_first() -> None:
    # 8,000 CCU of rollover left after 1,500 consumed: the period began with 9,500.
    s = status(consumed_ccu="1500", remaining_ccu="10000", rollover_ccu="8000")
    split = split_status(s)
    assert (split.from_rollover, split.from_grant, split.rollover_in) == (
        Decimal(1500),
        Decimal(0),
        Decimal(9500),
    )
    opening = opening_state(s)
    assert opening.as_of == JUNE
    assert opening.ledger.rollover_balance == Decimal(9500)
    assert opening.ledger.balance == Decimal(19500)
    rollover = [b for b in opening.ledger.blocks if b.kind is BlockKind.ROLLOVER]
    assert [(b.amount, b.expires) for b in rollover] == [(Decimal(9500), JULY)]
    state = state_from_status(s, at=AT)
    assert state.ledger.rollover_balance == Decimal(8000)
    assert state.ledger.balance == Decimal(18000)
    assert state.ledger.granted == state.ledger.spent + state.ledger.expired + state.ledger.balance


def test_past_the_pool_is_overage_unless_told_otherwise() -> None:
    s = status(consumed_ccu="25000", remaining_ccu="0")
    assert split_status(s).overage == Decimal(15000)
    told = split_status(s, rollover_consumed="8000")
    assert (told.from_rollover, told.from_grant, told.overage, told.rollover_in) == (
        Decimal(8000),
        Decimal(10000),
        Decimal(7000),
        Decimal(8000),
    )
    state = state_from_status(s, at=AT, rollover_consumed="8000")
    assert state.ledger.balance == 0
    assert state.ledger.overage == Decimal(7000)


def test_simulating_the_period_from_the_opening_state_gives_the_worked_overage() -> None:
    # docs: one pro seat consuming 25,000 CCU with 8,000 rolled over pays 84.00 of overage.
    s = status(consumed_ccu="25000", remaining_ccu="0")
    events = [UsageEvent(timestamp=JUNE + timedelta(hours=h), ccu=Decimal(100)) for h in range(250)]
    result = simulate(events, opening_state(s, rollover_consumed=8000))
    period = result.periods[0]
    assert period.rollover_in == Decimal("8000")
    assert period.consumed == Decimal("25000")
    assert period.overage_ccu == Decimal("7000")
    assert period.overage_cost == Decimal("84.00")
    assert period.total_cost == Decimal("284.00")


def test_reserve_up_to_the_tier_cap() -> None:
    # plus x3: pool 6,000, H = 8.333333, partial reserve cap 2 x H = 16.666666
    plus = {"tier": "plus", "seats": 3, "remaining_ccu": "6000"}
    state = state_from_status(status(**plus, reserve_ccu="16.666666"), at=AT)
    assert state.plan.pool == Decimal(6000)
    assert state.reserve.level == Decimal("16.666666")
    with pytest.raises(ConfigError, match=r"reserve 16\.666667 CCU is above the cap of 16\.666666"):
        state_from_status(status(**plus, reserve_ccu="16.666667"), at=AT)


# -- what the status may not say ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tier": "enterprise"}, r"tier 'enterprise'.*tiers: free, go, plus, pro"),
        ({"tier": "plus", "seats": 6, "remaining_ccu": "12000"}, r"plus allows at most 5 seat"),
        ({"tier": None}, "has no tier"),
        ({"seats": None, "period_end": None}, "has no seat count, current period end"),
        ({"days_total": 31}, r"says the period has 31 day\(s\).*has 30"),
        ({"days_elapsed": 31}, r"31 day\(s\) of the period have elapsed"),
        ({"monthly_ccu": "20000"}, r"pool is 20000 CCU, but 1 seat\(s\) of pro .* give 10000"),
        ({"overage_usd_per_ccu": "0.018"}, r"overage rate is 0\.018 USD/CCU.*charges 0\.012"),
        ({"remaining_ccu": "10000.5"}, "more than the period's pool"),
        (
            {"consumed_ccu": "100", "remaining_ccu": "9900", "rollover_ccu": "5"},
            "rollover credit is spent first",
        ),
        ({"consumed_ccu": "100", "remaining_ccu": "9800"}, "less than the 200 CCU the grant"),
        ({"rollover_ccu": "30000.000001"}, r"above the cap of 30000\.000000 CCU"),
        ({"reserve_ccu": "56"}, r"above the cap of 55\.555556"),
        (
            {"tier": "free", "consumed_ccu": "60", "remaining_ccu": "0"},
            r"started with 10 CCU of rollover .* above the cap of 0",
        ),
    ],
)
def test_bad_status_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        state_from_status(status(**fields), at=AT)


def test_rollover_consumed_must_agree_with_the_status() -> None:
    s = status(consumed_ccu="1500", remaining_ccu="10000", rollover_ccu="8000")
    assert split_status(s, rollover_consumed="1500").rollover_in == Decimal(9500)
    with pytest.raises(ConfigError, match="disagrees with the status, which implies 1500"):
        split_status(s, rollover_consumed="1000")
    over = status(consumed_ccu="12000", remaining_ccu="0")
    with pytest.raises(ConfigError, match="more than the 2000 CCU consumed past the pool"):
        split_status(over, rollover_consumed="2001")
    with pytest.raises(ConfigError, match=">= 0"):
        split_status(over, rollover_consumed="-1")


def test_at_must_lie_in_the_period() -> None:
    with pytest.raises(ConfigError, match="outside the current period"):
        state_from_status(status(), at=JULY)
    assert state_from_status(status(), at=JUNE).as_of == JUNE


# -- a live account, and the forecasters ----------------------------------------------------------


def test_account_from_status_uses_the_clock_and_checks_the_card() -> None:
    s = status(consumed_ccu="4000", remaining_ccu="6000")
    account = account_from_status(s, clock=FixedClock(AT))
    assert account.state.as_of == AT
    outcome = account.apply(Decimal(100))
    assert outcome.from_grant == Decimal(100)
    assert account.state.ledger.balance == Decimal(5900)
    with pytest.raises(ConfigError, match="but card codex-tokens-2026-04 was given"):
        Account.from_state(account.state, RateCard.builtin("codex-tokens-2026-04"))


def test_path_start_reads_the_bridged_state() -> None:
    s = status(consumed_ccu="1500", remaining_ccu="10000", rollover_ccu="8000", reserve_ccu="3")
    start = path_start_from_state(state_from_status(s, at=AT))
    assert start.period_index == 0
    assert start.consumed == 1_500_000_000
    assert start.rollover == ((8_000_000_000, 0),)
    assert start.grant_left == 10_000_000_000
    assert start.overage == 0
    assert start.reserve == 3_000_000
    assert start.backlog == 0


def test_linear_forecast_from_the_real_state() -> None:
    # 6,000 CCU in 10 days: 600 a day, 18,000 by the period end; 10,000 of credit,
    # so 8,000 CCU of overage at 0.012 = 96.00.
    cut = datetime(2026, 6, 11, tzinfo=UTC)
    s = status(consumed_ccu="6000", remaining_ccu="4000")
    state = state_from_status(s, at=cut)
    forecast = forecast_period(
        UsageLog.from_events([]),
        tier="pro",
        anchor=state.plan.anchor,
        at=cut,
        method="linear",
        state=path_start_from_state(state),
    )
    assert forecast.consumed == Decimal("6000")
    assert forecast.credits_at_period_start == Decimal("10000")
    assert forecast.p50 == Decimal("18000")
    assert forecast.expected_overage_ccu == Decimal("8000")
    assert forecast.expected_overage_cost == Decimal("96.00")


def test_path_start_needs_a_whole_hour() -> None:
    account = account_from_status(status(), at=AT)
    account.apply(Decimal(5), at=AT + timedelta(minutes=1))
    with pytest.raises(ConfigError, match="a forecast starts at a whole hour"):
        path_start_from_state(account.state)
