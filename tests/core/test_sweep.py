"""Organisation sweeps equal one simulation (or comparison) per account, figure for figure."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import (
    AccountPlan,
    UsageEvent,
    UsageLog,
    compare_tiers,
    compare_tiers_many,
    simulate,
    simulate_many,
    split_by_account,
)
from codex_credits.errors import ConfigError
from tests.properties.strategies import START, TIERS, amounts

ACCOUNTS = ("acme", "bolt", "core")


@st.composite
def org_usage(draw: st.DrawFn) -> list[UsageEvent]:
    """Bursty usage of up to three accounts (and a few unlabelled events)."""
    hours = draw(st.lists(st.integers(0, 40 * 24 - 1), min_size=1, max_size=5))
    return [
        UsageEvent(
            timestamp=START
            + timedelta(hours=draw(st.sampled_from(hours)), seconds=draw(st.integers(0, 3599))),
            ccu=draw(amounts(top=draw(st.sampled_from([2, 60, 200])))),
            account_id=draw(st.sampled_from([*ACCOUNTS, None])),
        )
        for _ in range(draw(st.integers(0, 80)))
    ]


@given(
    events=org_usage(),
    tiers=st.lists(st.sampled_from(TIERS), min_size=3, max_size=3),
    mode=st.sampled_from(["request", "fluid"]),
    policy=st.sampled_from(["defer", "drop"]),
    months=st.integers(1, 2),
)
def test_simulate_many_equals_simulate_per_account(
    events: list[UsageEvent], tiers: list[str], mode: str, policy: str, months: int
) -> None:
    plans = {a: t for a, t in zip(ACCOUNTS, tiers, strict=True)}
    sweep = simulate_many(
        events, plans, start=START, months=months, mode=mode, on_rate_limit=policy
    )
    mine = [e for e in events if e.account_id == "acme"]
    assert len(sweep.statements) == 3 * months
    for account, tier in plans.items():
        alone = simulate(
            [e for e in events if e.account_id == account],
            tier,
            start=START,
            months=months,
            mode=mode,
            on_rate_limit=policy,
        )
        got = [s.statement for s in sweep.statements if s.account_id == account]
        assert tuple(got) == alone.periods
        assert sweep.totals(account) == alone.totals
    assert len(mine) == sum(1 for e in events if e.account_id == "acme")


@given(events=org_usage(), tolerance=st.sampled_from(["0", "0.05", "1"]))
def test_compare_tiers_many_equals_compare_tiers_per_account(
    events: list[UsageEvent], tolerance: str
) -> None:
    sweep = compare_tiers_many(events, start=START, tolerance=tolerance, max_seats=2)
    for account, comparison in sweep.comparisons.items():
        alone = compare_tiers(
            [e for e in events if e.account_id == account],
            start=START,
            tolerance=tolerance,
            max_seats=2,
        )
        assert comparison == alone
        assert sweep.recommended[account] == alone.recommended
        for option in alone.options:
            assert sweep.totals(account, option.tier, option.seats) == option.totals


def test_a_sweep_by_hand() -> None:
    """Two accounts: pro serves 120 from its grant; free blocks what passes its 50 CCU."""
    log = [
        UsageEvent(timestamp=START + timedelta(hours=2), ccu=Decimal(120), account_id="acme"),
        UsageEvent(timestamp=START + timedelta(hours=2), ccu=Decimal("0.5"), account_id="bolt"),
        UsageEvent(timestamp=START + timedelta(hours=3), ccu=Decimal(60), account_id="bolt"),
        UsageEvent(timestamp=START + timedelta(hours=3), ccu=Decimal(7), account_id=None),
    ]
    sweep = simulate_many(
        log,
        [AccountPlan(account_id="acme"), AccountPlan(account_id="bolt", tier="free")],
        start=START,
    )
    rows = {r["account_id"]: r for r in sweep.table()}
    assert rows["acme"]["consumed"] == Decimal(120)
    assert rows["acme"]["total_cost"] == Decimal("200.00")
    # free: 0.5 fits (L = 0.694440); 60 is more than any hour can hold: blocked
    assert rows["bolt"]["consumed"] == Decimal("0.5")
    assert rows["bolt"]["blocked_ccu"] == Decimal(60)
    assert rows["bolt"]["total_cost"] == Decimal("0.00")
    assert set(split_by_account(UsageLog.from_events(log))) == {"acme", "bolt"}


def test_every_account_of_the_usage_by_default_and_plan_checks() -> None:
    log = [UsageEvent(timestamp=START, ccu=Decimal(1), account_id=a) for a in ("b", "a")]
    sweep = simulate_many(log, start=START)
    assert [s.account_id for s in sweep.statements] == ["a", "b"]
    assert {s.tier for s in sweep.statements} == {"pro"}
    with pytest.raises(ConfigError):
        simulate_many(log, ["a", "a"], start=START)
    with pytest.raises(ConfigError):
        simulate_many(log, {"a": AccountPlan(account_id="b")}, start=START)


def test_to_pandas_is_the_table() -> None:
    pd = pytest.importorskip("pandas")
    log = [UsageEvent(timestamp=START, ccu=Decimal(3), account_id="a")]
    frame: Any = simulate_many(log, start=START, months=2).to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["period"]) == [0, 1]
    assert frame.loc[0, "consumed"] == Decimal(3)


@given(events=org_usage(), mode=st.sampled_from(["request", "fluid"]))
def test_every_compared_option_equals_its_own_simulation(
    events: list[UsageEvent], mode: str
) -> None:
    comparison = compare_tiers(events, start=START, months=2, max_seats=2, mode=mode)
    for option in comparison.options:
        alone = simulate(events, option.tier, seats=option.seats, start=START, months=2, mode=mode)
        assert option.totals == alone.totals
