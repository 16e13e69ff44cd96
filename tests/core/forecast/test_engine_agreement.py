"""The forecast's path engine runs the credit engine's rules: same hourly trace, same figures.

Each example builds an hourly demand trace (one usage event per busy hour,
carrying its CCU), simulates it with the credit engine in fluid mode, and runs
the same hours through the path engine period by period. Every period's
consumption, overage, rate-limited, blocked and unserved amounts, the hours'
service, the reserve at the period end and the rollover carried out must agree
to the micro-CCU.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from codex_credits.core.account import OpeningBlock
from codex_credits.core.forecast.pathengine import HourlyRules, PathStart, close_period, run_path
from codex_credits.core.periods import period_at
from codex_credits.core.ratecard import RateCard
from codex_credits.core.simulate import simulate
from codex_credits.core.units import from_micro, to_micro
from codex_credits.core.usage import UsageLog, UsageLogBuilder

CARD = RateCard.default()
HOUR_US = 3_600_000_000


def hourly_log(start: datetime, demand: list[int]) -> UsageLog:
    """One event per busy hour, at the hour's start, carrying the hour's CCU."""
    builder = UsageLogBuilder()
    base = int(start.timestamp()) * 1_000_000
    for i, amount in enumerate(demand):
        if amount:
            builder.add(base + i * HOUR_US, ccu_micro=amount)
    return builder.build()


def trace(rules: HourlyRules, hours: int, seed: int, busy: float, burst: float) -> list[int]:
    """Quiet hours, ordinary hours around the allowance and bursts well past it."""
    rng = np.random.default_rng(seed)
    scale = rules.allowance
    kind = rng.random(hours)
    ordinary = rng.integers(0, scale + 1, hours)
    bursts = rng.integers(scale, 4 * scale + 1, hours)
    values = np.where(kind < busy, ordinary, 0)
    values = np.where(kind > 1 - burst, bursts, values)
    return [int(v) for v in values]


@st.composite
def anchors(draw: st.DrawFn) -> datetime:
    day = draw(st.sampled_from([1, 15, 28, 29, 30, 31]))
    month = draw(st.sampled_from([1, 3, 5, 7, 8, 10, 12]))  # months with 31 days
    hour = draw(st.integers(0, 23))
    return datetime(2025, month, day, hour, tzinfo=UTC)


@given(
    tier=st.sampled_from(["free", "go", "plus", "pro"]),
    seats=st.integers(1, 4),
    anchor=anchors(),
    months=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    busy=st.floats(0.0, 1.0),
    burst=st.floats(0.0, 0.3),
    rollover=st.integers(0, 4),
    reserve=st.integers(0, 4),
    drop=st.booleans(),
)
def test_path_engine_agrees_with_the_credit_engine(
    tier: str,
    seats: int,
    anchor: datetime,
    months: int,
    seed: int,
    busy: float,
    burst: float,
    rollover: int,
    reserve: int,
    drop: bool,
) -> None:
    spec = CARD.tier(tier)
    if spec.max_seats is not None:
        seats = min(seats, spec.max_seats)
    policy = "drop" if drop else "defer"
    rules = HourlyRules.for_account(CARD, tier, seats, on_rate_limit=policy)
    periods = [period_at(anchor, k) for k in range(months)]
    hours = int((periods[-1].end - anchor) / timedelta(hours=1))
    demand = trace(rules, hours, seed, busy, burst)
    # Starting rollover: a quarter of the pool per step, one block ending with the first period.
    opening = rules.pool * rollover // 4
    start_reserve = max(rules.reserve_cap, 0) * reserve // 4
    result = simulate(
        hourly_log(anchor, demand),
        tier,
        seats=seats,
        card=CARD,
        start=anchor,
        months=months,
        mode="fluid",
        on_rate_limit=policy,
        rollover_balance=(
            [OpeningBlock(amount=from_micro(opening), expires=periods[0].end)] if opening else []
        ),
        reserve=from_micro(start_reserve),
    )

    state = PathStart(
        period_index=0,
        consumed=0,
        rollover=((opening, 0),) if opening else (),
        grant_left=rules.pool,
        overage=0,
        reserve=start_reserve,
    )
    offset = 0
    for k, period in enumerate(periods):
        n = int((period.end - period.start) / timedelta(hours=1))
        out = run_path(rules, state, demand[offset : offset + n])
        statement = result.periods[k]
        waiting = int(out.backlog[0]) if k == months - 1 else 0
        got = {
            "consumed": int(out.consumed[0]),
            "overage_ccu": int(out.overage[0]),
            "rate_limited_ccu": int(out.rate_limited[0]),
            "blocked_ccu": int(out.blocked[0]),
            "unserved_ccu": int(out.unserved[0]) + waiting,
        }
        want = {name: to_micro(getattr(statement, name)) for name in got}
        assert got == want, f"period {k}"
        assert out.served_by_hour is not None
        served = result.timeline.served[offset : offset + n]
        assert out.served_by_hour[0].tolist() == served.tolist(), f"period {k}"
        assert int(out.reserve[0]) == int(result.timeline.reserve[offset + n - 1]), f"period {k}"
        assert int(out.backlog[0]) == int(result.timeline.waiting[offset + n - 1]), f"period {k}"
        balance, expired, surviving = close_period(rules, state, out.credits_left)
        assert int(balance[0]) == to_micro(statement.rollover_out), f"period {k}"
        assert int(expired[0]) == to_micro(statement.expired), f"period {k}"
        expiries = [e for _, e in state.rollover if e > k] + [k + rules.rollover_periods]
        blocks = tuple(
            (int(a[0]), e) for a, e in zip(surviving, expiries, strict=True) if int(a[0]) > 0
        )
        state = PathStart(
            period_index=k + 1,
            consumed=0,
            rollover=blocks,
            grant_left=rules.pool,
            overage=0,
            reserve=int(out.reserve[0]),
            backlog=int(out.backlog[0]),
        )
        offset += n
    final = result.final_state
    assert to_micro(final.reserve.level) == state.reserve
    assert to_micro(final.ledger.rollover_balance) == sum(a for a, _ in state.rollover)
