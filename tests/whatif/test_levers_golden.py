"""Each lever on a small log, against figures computed by hand (docs/levers/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from codex_credits import RateCard, UsageEvent, UsageLog, simulate
from codex_credits.core.ratecard import TOKEN_CARD
from codex_credits.core.timeutil import from_epoch_us
from codex_credits.whatif import (
    Batch,
    CacheContext,
    RouteModels,
    Scope,
    ShiftOffPeak,
    ThrottleBefore,
    estimate_shared_share,
    find_throttle,
    what_if,
)
from tests.whatif.helpers import JUNE, D, lever_card, log_of, task

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def _times(log: UsageLog) -> list[datetime]:
    return [from_epoch_us(int(t)) for t in log.timestamps_us]


# -- CacheContext ------------------------------------------------------------------------------


def test_cache_context_on_reasoning_plus_tier() -> None:
    # 263 tasks of 10,000 reasoning tokens (8 CCU), one an hour: 2,104 CCU on a 2,000 pool.
    log = log_of(*(task(JUNE + i * HOUR, reasoning_tokens=10_000) for i in range(263)))
    result = what_if(log, "plus", [CacheContext(hit_rate="0.6")], start=JUNE)
    # After: 4,000 tokens at 0.8 = 3.2 and 6,000 cached at 0.26 = 1.56, so 4.76 a task.
    before, after = result.periods[0].before, result.periods[0].after
    assert before.consumed == D("2104") and after.consumed == D("1251.88")
    assert before.overage_ccu == D("104") and after.overage_ccu == 0
    assert before.overage_cost == D("1.87")  # 104 x 0.018 = 1.872
    assert before.total_cost == D("21.87") and after.total_cost == D("20.00")
    assert result.periods[0].change["consumed"] == D("-852.12")
    assert result.savings[0].saved == D("852.12") and result.savings[0].events == 263
    meters = {d.key: d for d in result.by_meter}
    assert meters["reasoning"].after == D("841.6")  # 263 x 3.2
    assert meters["cached_context"].after == D("410.28")  # 263 x 1.56
    assert result.saved_usd == D("1.87")


def test_cache_context_on_input_tokens_of_a_token_card() -> None:
    card = RateCard.builtin(TOKEN_CARD)
    log = log_of(task(JUNE, model="gpt-5.3-codex", input_tokens=1_000_000, output_tokens=0))
    applied = CacheContext(hit_rate="0.6").apply(log, Scope(card=card, anchor=JUNE))
    # 43.75 before; 400,000 x 43.75 / 1M + 600,000 x 4.375 / 1M = 17.5 + 2.625 = 20.125 after.
    assert applied.saving.saved == D("23.625")
    assert applied.log.column("cached_input_tokens").tolist() == [600_000]


def test_cache_context_keeps_a_higher_existing_hit_rate() -> None:
    card = RateCard.builtin(TOKEN_CARD)
    log = log_of(task(JUNE, model="gpt-5.4", input_tokens=1000, cached_input_tokens=900))
    applied = CacheContext(hit_rate="0.5").apply(log, Scope(card=card, anchor=JUNE))
    assert applied.saving.saved == 0 and applied.saving.events == 0


# -- Batch ------------------------------------------------------------------------------------


def test_batch_full_batches_dispatch_at_the_last_arrival() -> None:
    start = JUNE + 9 * HOUR
    log = log_of(
        *(
            task(start + k * MINUTE, reasoning_tokens=10_000, project_id="api", task_type="tests")
            for k in range(10)
        )
    )
    change = Batch(size=5, max_wait=timedelta(minutes=30), shared_share="0.3")
    result = what_if(log, "pro", [change], start=JUNE)
    times = _times(result.log_after)
    assert times[:5] == [start + 4 * MINUTE] * 5 and times[5:] == [start + 9 * MINUTE] * 5
    # 8 later tasks lose round(10,000 x 0.3) = 3,000 reasoning tokens = 2.4 CCU each.
    assert result.savings[0].saved == D("19.2")
    assert result.periods[0].after.consumed == D("60.8")
    assert result.periods[0].change["total_cost"] == 0  # inside one pro seat's pool
    assert "2 batches" in result.savings[0].note


def test_batch_timer_keys_and_selection() -> None:
    at = JUNE + 9 * HOUR
    log = log_of(
        task(at, reasoning_tokens=10_000, project_id="api", task_type="tests", event_id="a"),
        task(at + 10 * MINUTE, reasoning_tokens=10_000, project_id="api", task_type="tests"),
        task(at + 40 * MINUTE, reasoning_tokens=10_000, project_id="api", task_type="tests"),
        task(at + 41 * MINUTE, reasoning_tokens=10_000, project_id="api", task_type="tests"),
        task(at + MINUTE, reasoning_tokens=10_000, project_id="web", task_type="tests"),
        task(at + 2 * MINUTE, reasoning_tokens=10_000, project_id="api", task_type="bugfix"),
    )
    change = Batch(
        key=("repository", "task_type"),
        size=5,
        max_wait=timedelta(minutes=30),
        where={"task_type": "tests"},
        shared_share="0.3",
    )
    applied = change.apply(log, Scope(card=RateCard.default(), anchor=JUNE))
    moved = sorted(_times(applied.log))
    # api/tests: {09:00, 09:10} dispatched by the timer at 09:30; {09:40, 09:41} at 10:10.
    # web/tests alone at 09:31; the bugfix task is not selected and stays at 09:02.
    assert moved == sorted(
        [at + 30 * MINUTE] * 2 + [at + 70 * MINUTE] * 2 + [at + 31 * MINUTE, at + 2 * MINUTE]
    )
    assert applied.saving.saved == D("4.8")  # two later tasks x 2.4
    assert applied.saving.events == 5


def test_batch_on_input_tokens_and_the_estimated_share() -> None:
    card = RateCard.builtin(TOKEN_CARD)
    fields = {"model": "gpt-5.3-codex", "project_id": "api", "task_type": "tests"}
    log = log_of(
        task(JUNE, input_tokens=100_000, cached_input_tokens=50_000, **fields),
        task(JUNE + MINUTE, input_tokens=100_000, cached_input_tokens=50_000, **fields),
    )
    assert estimate_shared_share(log) == D("0.5")
    wait = timedelta(minutes=5)
    applied = Batch(max_wait=wait, shared_share="0.3").apply(log, Scope(card=card, anchor=JUNE))
    # The second task loses 30,000 input tokens, uncached first: 30,000 x 43.75 / 1M.
    assert applied.saving.saved == D("1.3125")
    # Both now open at the dispatch time, so the log orders them by content.
    assert sorted(applied.log.column("input_tokens").tolist()) == [70_000, 100_000]
    estimated = Batch(max_wait=wait).apply(log, Scope(card=card, anchor=JUNE))
    assert "0.5" in estimated.saving.note and "estimated" in estimated.saving.note
    # 50,000 removed: 50,000 uncached gone (43.75/1M) -> 2.1875.
    assert estimated.saving.saved == D("2.1875")


def test_batch_prior_when_the_log_cannot_tell() -> None:
    log = log_of(task(JUNE, reasoning_tokens=1000), task(JUNE, reasoning_tokens=1000))
    assert estimate_shared_share(log) is None
    applied = Batch(key=("task_type",)).apply(log, Scope(card=RateCard.default(), anchor=JUNE))
    assert "prior" in applied.saving.note
    assert applied.saving.saved == D("0.24")  # 300 tokens x 0.8 / 1000


# -- ShiftOffPeak ------------------------------------------------------------------------------


def _sandbox(at: datetime, minutes: int = 10, **fields: object) -> UsageEvent:
    return task(at, sandbox_minutes=minutes, sandbox_class="medium", **fields)  # type: ignore[arg-type]


def test_shift_off_peak_in_march_across_the_dst_change() -> None:
    march = datetime(2026, 3, 1, tzinfo=UTC)
    log = log_of(
        _sandbox(datetime(2026, 3, 8, 5, tzinfo=UTC)),  # 00:00 EST -> opens 07:00 UTC (03:00 EDT)
        _sandbox(datetime(2026, 3, 9, 5, tzinfo=UTC)),  # 01:00 EDT -> opens 06:00 UTC
        _sandbox(datetime(2026, 3, 10, 8, tzinfo=UTC)),  # 04:00 EDT: inside, stays
        _sandbox(datetime(2026, 3, 10, 12, tzinfo=UTC)),  # 08:00 EDT: next opening 18 h away
    )
    change = ShiftOffPeak(max_delay=timedelta(hours=12))
    result = what_if(log, "pro", [change], card=lever_card(), start=march)
    assert _times(result.log_after) == [
        datetime(2026, 3, 8, 7, tzinfo=UTC),
        datetime(2026, 3, 9, 6, tzinfo=UTC),
        datetime(2026, 3, 10, 8, tzinfo=UTC),
        datetime(2026, 3, 10, 12, tzinfo=UTC),
    ]
    # 10 min x 0.5 = 5 CCU; 40% off inside the window = 3 CCU.
    assert result.periods[0].before.consumed == D("18")  # 5 + 5 + 3 + 5
    assert result.periods[0].after.consumed == D("14")  # 3 + 3 + 3 + 5
    assert result.savings[0].saved == D("4") and result.savings[0].moved == 2


def test_shift_off_peak_in_november_across_the_dst_change() -> None:
    october = datetime(2026, 10, 1, tzinfo=UTC)
    log = log_of(
        _sandbox(datetime(2026, 10, 31, 5, 30, tzinfo=UTC)),  # 01:30 EDT -> 06:00 UTC
        _sandbox(datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),  # 01:30 EDT -> 02:00 EST = 07:00 UTC
    )
    result = what_if(log, "pro", [ShiftOffPeak()], card=lever_card(), start=october, months=2)
    assert _times(result.log_after) == [
        datetime(2026, 10, 31, 6, tzinfo=UTC),
        datetime(2026, 11, 1, 7, tzinfo=UTC),
    ]
    assert [p.change["consumed"] for p in result.periods] == [D("-2"), D("-2")]


def test_shift_off_peak_meets_the_rate_limit_at_the_new_time() -> None:
    # 40 tasks of 20 sandbox minutes (10 CCU) spread over 00:00-05:59 UTC on 10 March;
    # shifted, all 40 arrive at 06:00 UTC at 6 CCU each: 240 CCU in one hour.
    march = datetime(2026, 3, 1, tzinfo=UTC)
    night = datetime(2026, 3, 10, tzinfo=UTC)
    log = log_of(*(_sandbox(night + i * 9 * MINUTE, minutes=20) for i in range(40)))
    card = lever_card()
    result = what_if(log, "pro", [ShiftOffPeak()], card=card, start=march)
    before, after = result.periods[0].before, result.periods[0].after
    assert before.rate_limited_events == 0 and before.reserve_drawn == 0
    h = card.hourly_allocation("pro")
    limit = 10 * h
    cap = 4 * h  # the reserve is full after a quiet week
    served = 0
    while (served + 1) * 6 <= limit + cap:
        served += 1
    assert served == 32
    assert after.reserve_drawn == served * 6 - limit
    assert after.rate_limited_events == 40 - served
    assert after.rate_limited_ccu == (40 - served) * 6
    assert after.consumed == 240  # deferred work is served the next hour


# -- RouteModels -------------------------------------------------------------------------------


def test_route_models_on_model_tiers() -> None:
    log = log_of(
        task(JUNE, reasoning_tokens=10_000, model="codex", task_type="docs"),
        task(JUNE, reasoning_tokens=10_000, model="codex", task_type="bugfix"),
        task(JUNE, reasoning_tokens=10_000, task_type="docs"),
    )
    change = RouteModels({"docs": "codex-mini"})
    result = what_if(log, "pro", [change], card=lever_card(), start=JUNE)
    # Two docs tasks: 8 CCU -> 8 x 0.25 = 2 CCU each.
    assert result.savings[0].saved == D("12") and result.savings[0].events == 2
    assert result.periods[0].after.consumed == D("12")
    after = result.log_after
    routed = zip(after.dimension_values("task_type"), after.dimension_values("model"), strict=True)
    assert sorted(routed) == [("bugfix", "codex"), ("docs", "codex-mini"), ("docs", "codex-mini")]


def test_route_models_on_the_token_card() -> None:
    card = RateCard.builtin(TOKEN_CARD)
    log = log_of(task(JUNE, model="gpt-5.5", input_tokens=1_000_000, task_type="docs"))
    applied = RouteModels({"docs": "gpt-5.4-mini"}).apply(log, Scope(card=card, anchor=JUNE))
    assert applied.saving.saved == D("106.25")  # 125 - 18.75


# -- ThrottleBefore ------------------------------------------------------------------------------


def _heavy_year() -> UsageLog:
    events = []
    for month in (1, 2, 3):  # 9,000 CCU a month in 50 CCU tasks
        for day in range(1, 21):
            events += [
                UsageEvent(timestamp=datetime(2026, month, day, h, tzinfo=UTC), ccu=D(50))
                for h in range(9)
            ]
    for day in range(1, 26):  # April: 25,000 CCU
        events += [
            UsageEvent(timestamp=datetime(2026, 4, day, h, tzinfo=UTC), ccu=D(50))
            for h in range(20)
        ]
    return UsageLog.from_events(events)


def test_throttle_before_stacks_rollover_for_the_heavy_month() -> None:
    january = datetime(2026, 1, 1, tzinfo=UTC)
    change = ThrottleBefore("2026-04", cap=3000, months_before=2)
    result = what_if(_heavy_year(), "pro", [change], start=january, months=4)
    feb, mar, apr = result.periods[1], result.periods[2], result.periods[3]
    assert feb.after.consumed == mar.after.consumed == D("3000")  # 60 tasks of 50 kept
    assert result.savings[0].displaced == D("12000") and result.savings[0].displaced_events == 240
    # Before: 1,000 rolls over each month, 3,000 in April; 25,000 - 10,000 - 3,000 = 12,000 overage.
    assert apr.before.overage_ccu == D("12000") and apr.before.total_cost == D("344.00")
    # After: 1,000 + 7,000 + 7,000 = 15,000 rolled over covers April exactly.
    assert apr.after.rollover_in == D("15000") and apr.after.overage_ccu == 0
    assert apr.after.total_cost == D("200.00")


def test_find_throttle_finds_the_least_throttle() -> None:
    january = datetime(2026, 1, 1, tzinfo=UTC)
    plan = find_throttle(_heavy_year(), "pro", "2026-04", months_before=2, start=january)
    # Keeping k tasks of 50 a month: 1,000 + 2 x (10,000 - 50k) >= 15,000 needs k <= 60,
    # so any cap in [3,000, 3,050) works and 3,049 is the largest whole one.
    assert plan.cap == D("3049")
    assert plan.heavy_cost_before == D("344.00") and plan.heavy_cost_after == D("200.00")
    assert plan.displaced == D("12000")


# -- No change, several changes -----------------------------------------------------------------


def test_no_change_gives_identical_statements() -> None:
    log = log_of(*(task(JUNE + i * HOUR, reasoning_tokens=9_000, tool_calls=3) for i in range(50)))
    result = what_if(log, "plus", [], start=JUNE)
    plain = simulate(log, "plus", start=JUNE)
    assert result.before.periods == result.after.periods == plain.periods
    assert all(v == 0 for v in result.totals.change.values())
    assert result.savings == ()
    # A card with windows and model tiers: the engine prices the log the same way.
    card = lever_card()
    windowed = log_of(
        *(
            task(JUNE + i * HOUR, reasoning_tokens=9_000, sandbox_minutes=7, model="codex-mini")
            for i in range(50)
        )
    )
    result = what_if(windowed, "plus", [], card=card, start=JUNE)
    assert result.after.periods == simulate(windowed, "plus", card=card, start=JUNE).periods


def test_three_levers_add_up() -> None:
    at = JUNE + 14 * HOUR  # 10:00 EDT: the night window next opens at 06:00 UTC
    log = log_of(
        *(
            task(
                at + k * MINUTE,
                reasoning_tokens=10_000,
                sandbox_minutes=10,
                project_id="api",
                task_type="docs",
            )
            for k in range(5)
        )
    )
    changes = [
        Batch(size=5, max_wait=timedelta(minutes=30), shared_share="0.3"),
        CacheContext(hit_rate="0.5"),
        ShiftOffPeak(max_delay=timedelta(hours=24)),
    ]
    result = what_if(log, "pro", changes, card=lever_card(), start=JUNE)
    # Batch: 4 x 3,000 tokens x 0.8 / 1000 = 9.6. Cache: 5 tasks, 10,000 then 7,000 tokens:
    # 5,000 x 0.54 / 1000 = 2.7 and 4 x 3,500 x 0.54 / 1000 = 7.56. Shift: 5 x 5 x 0.4 = 10.
    # (0.54 = 0.8 reasoning - 0.26 cached context per 1,000 tokens.)
    assert [s.saved for s in result.savings] == [D("9.6"), D("10.26"), D("10")]
    before = 5 * (8 + 5)
    assert result.periods[0].after.consumed == before - D("9.6") - D("10.26") - D("10")


def test_batch_without_waiting_keeps_every_task_alone() -> None:
    log = log_of(*(task(JUNE + k * MINUTE, reasoning_tokens=1000) for k in range(3)))
    applied = Batch(max_wait=timedelta(0), shared_share="0.5").apply(
        log, Scope(card=RateCard.default(), anchor=JUNE)
    )
    assert applied.saving.saved == 0 and "3 batches" in applied.saving.note
    assert applied.log.timestamps_us.tolist() == log.timestamps_us.tolist()


def test_rank_levers_orders_by_money_saved() -> None:
    from codex_credits.whatif import example_card, rank_levers

    log = log_of(
        *(
            task(JUNE + i * HOUR, reasoning_tokens=20_000, task_type="docs", model="codex")
            for i in range(100)
        )
    )
    ranking = rank_levers(log, "plus", card=example_card(), start=JUNE)
    assert [r.rank for r in ranking] == [1, 2, 3, 4]
    assert [r.saved_usd for r in ranking] == sorted((r.saved_usd for r in ranking), reverse=True)
    route = next(r for r in ranking if r.lever == "route")
    assert route.saved == D("1200")  # 100 tasks x 16 CCU x (1 - 0.25)


def _seed_rollover_year() -> UsageLog:
    """10,000 CCU in each of January to March, 25,000 in April (50 CCU tasks)."""
    events = []
    for month, days in ((1, 10), (2, 10), (3, 10), (4, 25)):
        for day in range(1, days + 1):
            events += [
                UsageEvent(timestamp=datetime(2026, month, day, h, tzinfo=UTC), ccu=D(50))
                for h in range(20)
            ]
    return UsageLog.from_events(events)


def test_the_seeds_rollover_figures() -> None:
    # Seed 000: 25,000 CCU on one pro seat is 15,000 CCU of overage, 180 USD; with 8,000 CCU
    # rolled over 84 USD, with 12,000 36 USD (53% and 80% less).
    january = datetime(2026, 1, 1, tzinfo=UTC)
    log = _seed_rollover_year()
    for cap, rolled, overage_usd in (("6000", "8000", "84.00"), ("4000", "12000", "36.00")):
        change = ThrottleBefore("2026-04", cap=cap, months_before=2)
        result = what_if(log, "pro", [change], start=january, months=4)
        april = result.periods[3]
        assert april.before.overage_ccu == D("15000")
        assert april.before.overage_cost == D("180.00")
        assert april.after.rollover_in == D(rolled)
        assert april.after.overage_cost == D(overage_usd)
