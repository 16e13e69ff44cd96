"""The forecast's path engine runs the credit engine's rules: same hourly trace, same figures.

Each example builds an hourly demand trace (one usage event per busy hour,
carrying its CCU) and an opening account (rollover blocks with their expiries, a
reserve), simulates it with the credit engine in fluid mode, and runs the same
hours through the path engine. Every period's consumption, overage, rate-limited,
blocked and unserved amounts, the hours' service, the reserve and the deferred
work at the period end, the credit expired and the rollover carried out must
agree to the micro-CCU. A second property cuts a period in the middle: the state
the forecast starts from (the engine's, at the cut) followed by the path engine
must end the period exactly where the engine does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from codex_credits.core.account import Account, OpeningBlock, open_account
from codex_credits.core.forecast.pathengine import HourlyRules, PathStart, close_period, run_paths
from codex_credits.core.forecast.state import path_start_from_state, state_at
from codex_credits.core.periods import period_at
from codex_credits.core.ratecard import RateCard
from codex_credits.core.simulate import simulate
from codex_credits.core.statement import PeriodStatement
from codex_credits.core.units import from_micro, to_micro
from codex_credits.core.usage import UsageLog
from codex_credits.core.usagebuilder import UsageLogBuilder

CARD = RateCard.default()
HOUR_US = 3_600_000_000
Int64Array = np.ndarray


def hourly_log(start: datetime, demand: list[int]) -> UsageLog:
    """One event per busy hour, at the hour's start, carrying the hour's CCU."""
    builder = UsageLogBuilder()
    base = int(start.timestamp()) * 1_000_000
    for i, amount in enumerate(demand):
        if amount:
            builder.add(base + i * HOUR_US, ccu_micro=amount)
    return builder.build()


def trace(
    rules: HourlyRules, hours: int, seed: int, busy: float, burst: float, big: bool = False
) -> list[int]:
    """Quiet hours, ordinary hours around the allowance and bursts well past it.

    With ``big``, bursts reach half the pool: deferred work then outgrows the
    credits left, where a tier without overage checks each deferred piece alone.
    """
    rng = np.random.default_rng(seed)
    scale = rules.allowance
    kind = rng.random(hours)
    ordinary = rng.integers(0, scale + 1, hours)
    top = max(rules.pool // 2, 4 * scale) if big else 4 * scale
    bursts = rng.integers(scale, top + 1, hours)
    values = np.where(kind < busy, ordinary, 0)
    values = np.where(kind > 1 - burst, bursts, values)
    return [int(v) for v in values]


@st.composite
def anchors(draw: st.DrawFn) -> datetime:
    day = draw(st.sampled_from([1, 15, 28, 29, 30, 31]))
    month = draw(st.sampled_from([1, 3, 5, 7, 8, 10, 12]))  # months with 31 days
    hour = draw(st.integers(0, 23))
    return datetime(2025, month, day, hour, tzinfo=UTC)


# (quarters of the pool, the period at whose end it expires, hours before that end)
blocks = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 47)), max_size=3)


def opening_blocks(
    rules: HourlyRules, anchor: datetime, drawn: list[tuple[int, int, int]]
) -> tuple[list[OpeningBlock], tuple[tuple[int, int], ...]]:
    """The blocks for the engine, and the same blocks as the path engine holds them."""
    made = []
    for quarters, index, hours_before in drawn:
        amount = rules.pool * quarters // 4
        expires = period_at(anchor, index).end - timedelta(hours=hours_before)
        if index == 0:
            expires = period_at(anchor, 0).end  # must lie after the start
        if amount:
            made.append((expires, len(made), amount, index))
    made.sort()
    engine = [OpeningBlock(amount=from_micro(a), expires=e) for e, _, a, _ in made]
    return engine, tuple((a, i) for _, _, a, i in made)


def figures(statement: PeriodStatement) -> dict[str, int]:
    names = ("consumed", "overage_ccu", "rate_limited_ccu", "blocked_ccu", "unserved_ccu")
    return {name: to_micro(getattr(statement, name)) for name in names}


def rules_for(tier: str, seats: int, drop: bool) -> tuple[int, HourlyRules]:
    spec = CARD.tier(tier)
    if spec.max_seats is not None:
        seats = min(seats, spec.max_seats)
    policy = "drop" if drop else "defer"
    return seats, HourlyRules.for_account(CARD, tier, seats, on_rate_limit=policy)


@given(
    tier=st.sampled_from(["free", "go", "plus", "pro"]),
    seats=st.integers(1, 4),
    anchor=anchors(),
    months=st.integers(1, 3),
    seeds=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    busy=st.floats(0.0, 1.0),
    burst=st.floats(0.0, 0.3),
    big=st.booleans(),
    drawn=blocks,
    reserve=st.integers(0, 4),
    drop=st.booleans(),
)
def test_path_engine_agrees_with_the_credit_engine(
    tier: str,
    seats: int,
    anchor: datetime,
    months: int,
    seeds: tuple[int, int],
    busy: float,
    burst: float,
    big: bool,
    drawn: list[tuple[int, int, int]],
    reserve: int,
    drop: bool,
) -> None:
    seats, rules = rules_for(tier, seats, drop)
    periods = [period_at(anchor, k) for k in range(months)]
    hours = int((periods[-1].end - anchor) / timedelta(hours=1))
    demands = [trace(rules, hours, seed, busy, burst, big) for seed in seeds]
    engine_blocks, path_blocks = opening_blocks(rules, anchor, drawn)
    start_reserve = max(rules.reserve_cap, 0) * reserve // 4
    results = [
        simulate(
            hourly_log(anchor, demand),
            tier,
            seats=seats,
            card=CARD,
            start=anchor,
            months=months,
            mode="fluid",
            on_rate_limit="drop" if drop else "defer",
            rollover_balance=engine_blocks,
            reserve=from_micro(start_reserve),
        )
        for demand in demands
    ]
    first = PathStart(
        period_index=0,
        consumed=0,
        rollover=path_blocks,
        grant_left=rules.pool,
        overage=0,
        reserve=start_reserve,
    )
    # The first period runs both paths at once, as a forecast does; later ones path by path.
    n0 = int((periods[0].end - periods[0].start) / timedelta(hours=1))
    together = run_paths(rules, first, np.array([d[:n0] for d in demands]), record=True)
    for p, (demand, result) in enumerate(zip(demands, results, strict=True)):
        state = first
        offset = 0
        for k, period in enumerate(periods):
            n = int((period.end - period.start) / timedelta(hours=1))
            if k == 0:
                out = together
                row = p
            else:
                out = run_paths(rules, state, np.array([demand[offset : offset + n]]), record=True)
                row = 0
            statement = result.periods[k]
            waiting = int(out.backlog[row]) if k == months - 1 else 0
            got = {
                "consumed": int(out.consumed[row]),
                "overage_ccu": int(out.overage[row]),
                "rate_limited_ccu": int(out.rate_limited[row]),
                "blocked_ccu": int(out.blocked[row]),
                "unserved_ccu": int(out.unserved[row]) + waiting,
            }
            assert got == figures(statement), f"path {p}, period {k}"
            assert out.served_by_hour is not None
            served = result.timeline.served[offset : offset + n]
            assert out.served_by_hour[row].tolist() == served.tolist(), f"period {k}"
            end = offset + n - 1
            assert int(out.reserve[row]) == int(result.timeline.reserve[end]), f"period {k}"
            assert int(out.backlog[row]) == int(result.timeline.waiting[end]), f"period {k}"
            balance, expired, surviving = close_period(
                rules, state, out.credits_left[row : row + 1]
            )
            assert int(balance[0]) == to_micro(statement.rollover_out), f"period {k}"
            assert int(expired[0]) == to_micro(statement.expired), f"period {k}"
            expiries = [e for _, e in state.rollover if e > k] + [k + rules.rollover_periods]
            carried = tuple(
                (int(a[0]), e) for a, e in zip(surviving, expiries, strict=True) if int(a[0]) > 0
            )
            pieces = () if out.pieces is None else tuple(int(v) for v in out.pieces[row] if v)
            state = PathStart(
                period_index=k + 1,
                consumed=0,
                rollover=carried,
                grant_left=rules.pool,
                overage=0,
                reserve=int(out.reserve[row]),
                backlog=int(out.backlog[row]),
                pieces=pieces,
            )
            offset += n
        final = result.final_state
        assert to_micro(final.reserve.level) == state.reserve
        assert to_micro(final.ledger.rollover_balance) == sum(a for a, _ in state.rollover)


@given(
    tier=st.sampled_from(["free", "go", "plus", "pro"]),
    seats=st.integers(1, 3),
    anchor=anchors(),
    period=st.integers(0, 1),
    cut_hours=st.integers(0, 27 * 24),
    seed=st.integers(0, 2**32 - 1),
    busy=st.floats(0.0, 1.0),
    burst=st.floats(0.0, 0.3),
    drawn=blocks,
    reserve=st.integers(0, 4),
    drop=st.booleans(),
)
def test_the_forecast_starts_from_the_engine_state_at_the_cut(
    tier: str,
    seats: int,
    anchor: datetime,
    period: int,
    cut_hours: int,
    seed: int,
    busy: float,
    burst: float,
    drawn: list[tuple[int, int, int]],
    reserve: int,
    drop: bool,
) -> None:
    seats, rules = rules_for(tier, seats, drop)
    policy = "drop" if drop else "defer"
    target = period_at(anchor, period)
    cut = target.start + timedelta(hours=cut_hours)
    hours = int((target.end - anchor) / timedelta(hours=1))
    demand = trace(rules, hours, seed, busy, burst)
    engine_blocks, _ = opening_blocks(rules, anchor, drawn)
    start_reserve = from_micro(max(rules.reserve_cap, 0) * reserve // 4)
    opening = open_account(
        CARD, tier, seats, anchor, rollover_balance=engine_blocks, reserve=start_reserve
    )
    whole = simulate(
        hourly_log(anchor, demand),
        opening,
        card=CARD,
        months=period + 1,
        mode="fluid",
        on_rate_limit=policy,
    )
    hourly = np.array(demand, dtype=np.int64)
    start = state_at(opening, CARD, hourly, anchor, cut, on_rate_limit=policy)
    # Without overage, deferred pieces are checked one by one; the state at a cut
    # knows their total only, which is exact while the credits left cover it.
    assume(rules.overage_rate is not None or start.backlog <= start.credits_left)
    assert start.period_index == period
    h = int((cut - anchor) / timedelta(hours=1))
    rest = np.array([demand[h:]], dtype=np.int64)
    out = run_paths(rules, start, rest)
    statement = whole.periods[period]
    before = slice(int((target.start - anchor) / timedelta(hours=1)), h)
    got = {
        "consumed": int(out.consumed[0]),
        "overage_ccu": int(out.overage[0]),
        "rate_limited_ccu": int(whole.timeline.rate_limited[before].sum() + out.rate_limited[0]),
        "blocked_ccu": int(whole.timeline.blocked[before].sum() + out.blocked[0]),
    }
    want = figures(statement)
    del want["unserved_ccu"]
    assert got == want
    balance, expired, _ = close_period(rules, start, out.credits_left)
    assert int(balance[0]) == to_micro(statement.rollover_out)
    assert int(expired[0]) == to_micro(statement.expired)
    assert int(out.reserve[0]) == int(whole.timeline.reserve[-1])
    assert int(out.backlog[0]) == int(whole.timeline.waiting[-1])


def test_a_live_account_mid_period_becomes_the_forecast_start() -> None:
    anchor = datetime(2026, 4, 1, tzinfo=UTC)
    account = Account("pro", 1, anchor, CARD, rollover_balance=Decimal(100))
    outcome = account.apply(Decimal(120), at=anchor + timedelta(days=2, hours=9, minutes=10))
    assert outcome.served == Decimal(120)
    account.advance(anchor + timedelta(days=2, hours=10))
    start = path_start_from_state(account.state)
    # The 100 of rollover is spent first, then 20 of the 10,000 grant.
    assert start.period_index == 0
    assert start.consumed == to_micro(Decimal(120))
    assert start.rollover == ()
    assert start.grant_left == to_micro(Decimal(9980))
    assert start.overage == 0
    assert start.reserve == to_micro(account.state.reserve.level)


def test_the_engine_checks_each_deferred_piece_against_the_balance() -> None:
    # The hand-computed trace of test_pathengine's free-tier case, in the engine:
    # after three hours 27.916680 and 30 wait (57.916680, more than the 47.916680
    # of credit left) and nothing is blocked, since each piece alone can be paid.
    anchor = datetime(2026, 4, 1, tzinfo=UTC)
    thirty = to_micro(Decimal(30))
    result = simulate(
        hourly_log(anchor, [thirty, thirty]), "free", card=CARD, start=anchor, mode="fluid"
    )
    timeline = result.timeline
    assert [from_micro(int(v)) for v in timeline.served[:3]] == [Decimal("0.694440")] * 3
    assert from_micro(int(timeline.waiting[2])) == Decimal("57.916680")
    assert int(timeline.blocked[:3].sum()) == 0
