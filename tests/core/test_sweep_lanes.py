"""The lane kernel of sweeps equals one simulation per account, on busy and overloaded orgs.

Accounts pack many requests into a few hours (the rate limit refuses most of them,
work waits across hours and period ends, small pieces are served past larger
refused ones), on every tier, with seats, opening rollover credit, an opening
reserve and their own billing anchors; request and fluid mode, defer and drop.
Each account's statements must equal ``simulate`` on its events alone, to the
micro-CCU, and so must a comparison's options.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits import (
    AccountPlan,
    RateCard,
    UsageEvent,
    compare_tiers,
    compare_tiers_many,
    simulate,
)
from codex_credits import simulate_many as sweep_many
from codex_credits.core import sweep
from codex_credits.core.kernel.crowd import decide_crowd, segment_starts
from codex_credits.core.kernel.pieces import HourRooms, serve_hour
from codex_credits.core.kernel.rules import LaneRules
from tests.properties.strategies import START, amounts

ACCOUNTS = ("acme", "bolt", "core", "dash")
SEATS = {"free": 1, "go": 1, "plus": 2, "pro": 3}
CAPS = {"free": 0, "go": 0, "plus": 5, "pro": 55}


@st.composite
def busy_org(draw: st.DrawFn) -> list[UsageEvent]:
    """Up to 160 requests of four accounts in a few hours, some near period ends."""
    hours = draw(
        st.lists(
            st.sampled_from([0, 1, 2, 3, 9, 24 * 27 - 1, 24 * 30 - 2, 24 * 31, 24 * 45, 24 * 59]),
            min_size=1,
            max_size=5,
        )
    )
    top = draw(st.sampled_from([1, 8, 40, 200]))
    return [
        UsageEvent(
            timestamp=START
            + timedelta(hours=draw(st.sampled_from(hours)), seconds=draw(st.integers(0, 3599))),
            ccu=draw(amounts(top=top)),
            account_id=draw(st.sampled_from(ACCOUNTS)),
        )
        for _ in range(draw(st.integers(0, 160)))
    ]


@st.composite
def plans(draw: st.DrawFn) -> list[AccountPlan]:
    """A plan per account: tier, seats, anchor, opening rollover and reserve."""
    found = []
    for name in ACCOUNTS:
        tier = draw(st.sampled_from(sorted(SEATS)))
        reserve = draw(st.sampled_from([None, Decimal(0), Decimal(CAPS[tier])]))
        found.append(
            AccountPlan(
                account_id=name,
                tier=tier,
                seats=draw(st.integers(1, SEATS[tier])),
                anchor=draw(st.sampled_from([None, START + timedelta(days=2)])),
                rollover_balance=draw(st.sampled_from([None, Decimal(0), Decimal("1500.5")])),
                reserve=reserve,
            )
        )
    return found


def _alone(events: list[UsageEvent], plan: AccountPlan, **options: Any) -> Any:
    return simulate(
        [e for e in events if e.account_id == plan.account_id],
        plan.tier,
        seats=plan.seats,
        start=plan.anchor or START,
        rollover_balance=plan.rollover_balance,
        reserve=plan.reserve,
        **options,
    )


@settings(max_examples=60, deadline=None)
@given(
    events=busy_org(),
    org=plans(),
    mode=st.sampled_from(["request", "fluid"]),
    policy=st.sampled_from(["defer", "drop"]),
    months=st.integers(1, 3),
    crowded=st.booleans(),
)
def test_busy_orgs_equal_one_simulation_per_account(
    events: list[UsageEvent],
    org: list[AccountPlan],
    mode: str,
    policy: str,
    months: int,
    crowded: bool,
) -> None:
    """``crowded``: lanes leave the sweep at the first waiting piece and run alone."""
    options: dict[str, Any] = {"months": months, "mode": mode, "on_rate_limit": policy}
    with mock.patch.object(sweep, "MAX_WAITING", 0 if crowded else sweep.MAX_WAITING):
        result = sweep_many(events, org, start=START, **options)
    for plan in org:
        alone = _alone(events, plan, **options)
        got = tuple(s.statement for s in result.statements if s.account_id == plan.account_id)
        assert got == alone.periods


@settings(max_examples=30, deadline=None)
@given(events=busy_org(), mode=st.sampled_from(["request", "fluid"]))
def test_busy_comparisons_equal_one_comparison_per_account(
    events: list[UsageEvent], mode: str
) -> None:
    result = compare_tiers_many(events, start=START, months=2, max_seats=2, mode=mode)
    for account, comparison in result.comparisons.items():
        alone = compare_tiers(
            [e for e in events if e.account_id == account],
            start=START,
            months=2,
            max_seats=2,
            mode=mode,
        )
        assert comparison == alone


@settings(max_examples=200)
@given(
    pieces=st.lists(
        st.lists(st.integers(0, 12_000_000), min_size=1, max_size=12), min_size=1, max_size=6
    ),
    rooms=st.lists(st.integers(0, 30_000_000), min_size=6, max_size=6),
)
def test_a_crowd_serves_what_one_lane_serves(pieces: list[list[int]], rooms: list[int]) -> None:
    """Request mode: the rounds over many lanes serve what one lane's rounds serve."""
    rules = LaneRules(
        pool=0, limit=1, threshold=0, reserve_cap=10**12, efficiency=(0, 1), overage=True
    )
    amount = np.array([a for lane in pieces for a in lane], dtype=np.int64)
    seg = np.repeat(np.arange(len(pieces)), [len(lane) for lane in pieces]).astype(np.int64)
    room = np.array(rooms[: len(pieces)], dtype=np.int64)
    most = np.full(len(pieces), 10**12, dtype=np.int64)
    credits = np.full(len(pieces), 1 << 62, dtype=np.int64)
    crowd = decide_crowd(amount, seg, segment_starts(seg), room, credits, most, fluid=False)
    for j, lane in enumerate(pieces):
        one = np.array(lane, dtype=np.int64)
        served = serve_hour(rules, one, HourRooms(int(room[j]), None, [], [], []))
        assert crowd.served[seg == j].tolist() == served.tolist()


def test_a_free_tier_running_out_of_credits_mid_hour() -> None:
    """Small pieces on free (50 CCU, L = 0.694440): the credits end inside busy hours,
    with work waiting; every mode and policy equals the account alone."""
    events = [
        UsageEvent(
            timestamp=START + timedelta(hours=h, minutes=m),
            ccu=Decimal(ccu),
            account_id="acme" if h % 3 else "bolt",
        )
        for h in range(150)
        for m, ccu in ((1, "0.3"), (2, "0.25"), (3, "0.4"), (4, "0.05"))
    ]
    org = [AccountPlan(account_id="acme", tier="free"), AccountPlan(account_id="bolt", tier="free")]
    for mode in ("request", "fluid"):
        for policy in ("defer", "drop"):
            options: dict[str, Any] = {"months": 2, "mode": mode, "on_rate_limit": policy}
            result = sweep_many(events, org, start=START, **options)
            for plan in org:
                alone = _alone(events, plan, **options)
                assert plan.account_id == "bolt" or alone.totals.blocked_ccu > 0
                assert result.totals(plan.account_id) == alone.totals


def test_rollover_blocks_roll_and_lapse_over_half_a_year() -> None:
    """Light, uneven use for six months: grants roll over (pro keeps a block three
    periods, plus one), blocks lapse, the cap truncates; every figure equals alone."""
    events = [
        UsageEvent(
            timestamp=START + timedelta(days=day, hours=9),
            ccu=Decimal(ccu),
            account_id=account,
        )
        for day, ccu, account in (
            (1, "900", "acme"),
            (40, "12000", "acme"),
            (70, "15", "acme"),
            (100, "30000", "acme"),
            (2, "300", "bolt"),
            (65, "3500", "bolt"),
            (130, "1", "bolt"),
        )
    ]
    org = [
        AccountPlan(account_id="acme", tier="pro", rollover_balance=Decimal(700)),
        AccountPlan(account_id="bolt", tier="plus", seats=2),
    ]
    result = sweep_many(events, org, start=START, months=6)
    for plan in org:
        alone = _alone(events, plan, months=6)
        assert alone.totals.expired > 0
        assert alone.totals.consumed_from_rollover > 0
        assert result.totals(plan.account_id) == alone.totals


def test_huge_events_too_large_for_a_float_sum() -> None:
    """Events of a billion CCU: the sums set aside stay exact (integer sums)."""
    events = [
        UsageEvent(
            timestamp=START + timedelta(hours=1, seconds=i),
            ccu=Decimal(999_999_999) + Decimal(i).scaleb(-6),
            account_id="acme",
        )
        for i in range(12)
    ]
    events.append(UsageEvent(timestamp=START, ccu=Decimal(1), account_id="acme"))
    result = sweep_many(events, {"acme": "go"}, start=START)
    alone = simulate([e for e in events if e.account_id == "acme"], "go", start=START)
    assert alone.totals.blocked_ccu > Decimal(10**10)
    assert result.totals("acme") == alone.totals


def test_accounts_in_batches_equal_all_at_once() -> None:
    """Accounts split into batches of one (each its own grid) give the same table."""
    events = [
        UsageEvent(
            timestamp=START + timedelta(hours=h % 40, minutes=h),
            ccu=Decimal(h % 17) * 9,
            account_id=ACCOUNTS[h % 4],
        )
        for h in range(300)
    ]
    together = compare_tiers_many(events, start=START, months=2, max_seats=2)
    with mock.patch.object(sweep, "ACCOUNTS_AT_ONCE", 1):
        apart = compare_tiers_many(events, start=START, months=2, max_seats=2)
    assert apart.table() == together.table()
    assert apart.comparisons == together.comparisons


@pytest.mark.parametrize("efficiency", ["0.5", "0.75"])
def test_a_card_whose_reserve_accrual_can_tie(efficiency: str) -> None:
    """An even denominator: accruals can fall on a half micro-CCU (rounded half-even).

    Fluid mode, dropping: every fourth hour asks far more than the hour holds, so what
    it serves is ``L`` plus the reserve to the micro-CCU, after three hours of small
    demand that refill the reserve by accruals that often tie."""
    default = RateCard.default()
    options = default.options.model_copy(update={"reserve_efficiency": Decimal(efficiency)})
    card = default.model_copy(update={"options": options})
    rng = np.random.default_rng(3)
    events = []
    for cycle in range(120):
        for k in range(4):
            ccu = Decimal(400) if k == 0 else Decimal(int(rng.integers(0, 5_000_000))).scaleb(-6)
            for account in ACCOUNTS:
                events.append(
                    UsageEvent(
                        timestamp=START + timedelta(hours=4 * cycle + k, minutes=1),
                        ccu=ccu,
                        account_id=account,
                    )
                )
    tiers = dict(zip(ACCOUNTS, ("pro", "plus", "go", "free"), strict=True))
    given: dict[str, Any] = {"months": 1, "card": card, "on_rate_limit": "drop"}
    for mode in ("request", "fluid"):
        result = sweep_many(events, tiers, start=START, mode=mode, **given)
        for account, tier in tiers.items():
            mine = [e for e in events if e.account_id == account]
            alone = simulate(mine, tier, start=START, mode=mode, **given)
            assert result.totals(account) == alone.totals
