"""A sweep's statements, totals and table, made from the kernel's integer counters.

The trusted constructor (no validation) must give the validated statement field
for field, exponents included; a lane's totals the sum of its statements; the
column-wise table the statements' rows, on every tier and seat count of the card.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits import RateCard, UsageEvent, compare_tiers_many, simulate_many, to_dataframe
from codex_credits.core.account import Plan, open_account
from codex_credits.core.compare import tier_candidates
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.replaysetup import periods_between
from codex_credits.core.statement import (
    MICRO_FIELDS,
    STATEMENT_FIELDS,
    PeriodStatement,
    PeriodTally,
    period_costs,
    trusted_statement,
)
from codex_credits.core.sweeptable import ROW_FIELDS, LaneBlock
from tests.properties.strategies import START

CARD = RateCard.resolve(None)
OPTIONS = [(tier, seats) for _, tier, seats in tier_candidates(CARD, 3, None)]
COUNTER = st.integers(0, 10**15) | st.sampled_from([0, 1, 5, 499_999, 500_000, 10**6])


def _plan(option: tuple[str, int]) -> Plan:
    return open_account(CARD, option[0], option[1], START).plan


def _periods(months: int) -> tuple[BillingPeriod, ...]:
    state = open_account(CARD, "pro", 1, START)
    return tuple(periods_between(state.period, months, START))


def _same(got: PeriodStatement, want: PeriodStatement) -> None:
    """Equal, and every Decimal with the same digits and exponent."""
    assert got == want
    for name in STATEMENT_FIELDS:
        assert str(getattr(got, name)) == str(getattr(want, name)), name
    assert got.model_dump_json() == want.model_dump_json()


@given(
    option=st.sampled_from(OPTIONS),
    micro=st.lists(COUNTER, min_size=len(MICRO_FIELDS), max_size=len(MICRO_FIELDS)),
    events=st.integers(0, 10**6),
)
def test_the_trusted_statement_is_the_validated_one(
    option: tuple[str, int], micro: list[int], events: int
) -> None:
    plan = _plan(option)
    period = _periods(1)[0]
    tally = PeriodTally(
        start=period.start,
        end=period.end,
        micro=dict(zip(MICRO_FIELDS, micro, strict=True)),
        rate_limited_events=events,
    )
    costs = period_costs(plan, micro[MICRO_FIELDS.index("overage_ccu")])
    _same(trusted_statement(period.start, period.end, micro, events, costs), tally.statement(plan))


@settings(max_examples=60)
@given(
    options=st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=4),
    months=st.integers(1, 4),
    data=st.data(),
)
def test_lane_totals_and_statements_are_the_validated_ones(
    options: list[tuple[str, int]], months: int, data: st.DataObject
) -> None:
    periods = _periods(months)
    width = len(MICRO_FIELDS)
    counters = st.lists(COUNTER, min_size=width * months, max_size=width * months)
    micro = np.array([data.draw(counters) for _ in options], dtype=np.int64).reshape(
        len(options), months, width
    )
    events = np.array(
        [
            data.draw(st.lists(st.integers(0, 999), min_size=months, max_size=months))
            for _ in options
        ],
        dtype=np.int64,
    ).reshape(len(options), months)
    plans = tuple(_plan(o) for o in options)
    block = LaneBlock(plans, periods, micro, events)
    for lane, plan in enumerate(plans):
        want = tuple(
            PeriodTally(
                start=p.start,
                end=p.end,
                micro=dict(zip(MICRO_FIELDS, micro[lane, k].tolist(), strict=True)),
                rate_limited_events=int(events[lane, k]),
            ).statement(plan)
            for k, p in enumerate(periods)
        )
        got = block.statements(lane)
        for g, w in zip(got, want, strict=True):
            _same(g, w)
        _same(block.totals(lane), PeriodStatement.total(want))
        done = LaneBlock(plans, periods, done={lane: want})
        _same(done.totals(lane), PeriodStatement.total(want))
        assert np.array_equal(done.counters(lane)[0], micro[lane])
        assert np.array_equal(done.counters(lane)[1], events[lane])


@st.composite
def org_usage(draw: st.DrawFn) -> list[UsageEvent]:
    """Busy hours of three accounts over two months (some past the rate limits)."""
    return [
        UsageEvent(
            timestamp=START + timedelta(hours=draw(st.integers(0, 24 * 59))),
            ccu=Decimal(draw(st.integers(1, 40_000))) / 4,
            account_id=draw(st.sampled_from(["a", "b", "c"])),
        )
        for _ in range(draw(st.integers(1, 60)))
    ]


def _rows(result: Any) -> list[dict[str, Any]]:
    return [s.row() for s in result.statements]


@settings(max_examples=25, deadline=None)
@given(events=org_usage(), compare=st.booleans())
def test_the_table_by_column_is_the_statements_rows(
    events: list[UsageEvent], compare: bool
) -> None:
    if compare:
        result = compare_tiers_many(events, start=START, months=2, max_seats=2)
    else:
        result = simulate_many(events, start=START, months=2)
    rows = _rows(result)
    table = result.table()
    assert table == rows
    for got, want in zip(table, rows, strict=True):
        assert list(got) == list(ROW_FIELDS)
        assert [str(v) for v in got.values()] == [str(v) for v in want.values()]
    columns = result.columns()
    assert list(columns) == list(ROW_FIELDS)
    for kind, values in columns.values():
        assert len(values) == len(rows)
        if kind == "micro":
            assert values.dtype == np.int64
    for account, block, lane in result._lanes:
        plan = block.plans[lane]
        totals = result.totals(account, plan.tier, plan.seats)
        _same(totals, PeriodStatement.total(block.statements(lane)))


def test_the_frame_holds_numbers_and_exact_amounts_on_request() -> None:
    pd = pytest.importorskip("pandas")
    log = [
        UsageEvent(timestamp=START, ccu=Decimal("3.25"), account_id="a"),
        UsageEvent(timestamp=START + timedelta(days=40), ccu=Decimal(7), account_id="b"),
    ]
    result = compare_tiers_many(log, start=START, months=2, max_seats=1)
    frame: Any = result.to_pandas()
    exact: Any = result.to_pandas(exact=True)
    rows = result.table()
    assert list(frame.columns) == list(ROW_FIELDS) == list(exact.columns)
    assert frame["consumed"].dtype == np.float64
    assert frame["start"].dt.tz is not None
    assert list(exact["consumed"]) == [r["consumed"] for r in rows]
    assert list(exact["total_cost"]) == [r["total_cost"] for r in rows]
    assert list(frame["start"]) == [pd.Timestamp(r["start"]) for r in rows]
    assert list(frame["account_id"]) == [r["account_id"] for r in rows]
    assert list(frame["seats"]) == [r["seats"] for r in rows]
    assert to_dataframe(result, exact=True).equals(exact)
