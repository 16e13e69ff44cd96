"""Card fields as data: windows, model tiers, cached context; validation and round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import ConfigError, RateCard, UsageEvent, UsageLog
from codex_credits.core.logpricing import price_log
from codex_credits.core.meters import Usage, price_usage
from codex_credits.core.ratecard import TOKEN_CARD
from codex_credits.core.timeofday import in_window, next_opening
from codex_credits.core.timeutil import epoch_us
from codex_credits.data import sample_usage_path
from codex_credits.io.usagefile import read_usage
from tests.whatif.helpers import NIGHT, D, lever_card


def test_default_card_prices_the_sample_as_before() -> None:
    log = read_usage(sample_usage_path())
    card = RateCard.default()
    prices = price_log(log, card)
    assert np.array_equal(prices.total, log.amounts_micro(card))
    assert sum(prices.sums().values()) == int(prices.total.sum())


def test_token_card_prices_like_price_usage() -> None:
    card = RateCard.builtin(TOKEN_CARD)
    at = datetime(2026, 6, 1, 9, tzinfo=UTC)
    events = [
        UsageEvent(
            timestamp=at, model=m, input_tokens=i, cached_input_tokens=c, output_tokens=o, fast=f
        )
        for m, i, c, o, f in [
            ("gpt-5.3-codex", 1_000_000, 400_000, 10_000, False),
            ("gpt-5.4-mini", 12_345, 999, 777, True),
            ("gpt-5.5", 3, 1, 1, False),
        ]
    ]
    log = UsageLog.from_events(events)
    assert price_log(log, card).total.tolist() == log.amounts_micro(card).tolist()


def test_a_card_with_the_new_fields_round_trips(tmp_path: object) -> None:
    card = lever_card()
    for fmt in ("toml", "json"):
        text = card.to_text(fmt)  # type: ignore[arg-type]
        assert RateCard.from_text(text, fmt) == card  # type: ignore[arg-type]
    assert "[[windows]]" in card.to_text("toml")
    assert card.windows[0].time_zone == "America/New_York"
    assert card.model_multiplier("codex-mini") == D("0.25")
    assert card.model_multiplier("unknown") == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "windows.0.time_zone"),
        ({"meters": ["sandbox", "teleport"]}, "windows.0.meters: unknown category teleport"),
        ({"discount": "1.5"}, "windows.0.discount"),
        ({"start_hour": 5, "end_hour": 5}, "start_hour and end_hour are equal"),
        ({"end_hour": 25}, "windows.0.end_hour"),
    ],
)
def test_bad_windows_are_named(change: dict[str, object], message: str) -> None:
    data = RateCard.default().to_data()
    data["windows"] = [{**NIGHT.model_dump(), **change}]
    with pytest.raises(ConfigError) as info:
        RateCard.from_data(data, source="contract.toml")
    assert message in str(info.value)


def test_bad_model_tiers_are_named() -> None:
    data = RateCard.default().to_data()
    data["model_tiers"] = {"mini": {"multiplier": "0"}}
    with pytest.raises(ConfigError, match=r"model_tiers\.mini\.multiplier"):
        RateCard.from_data(data)
    tokens = RateCard.builtin(TOKEN_CARD).to_data()
    tokens["model_tiers"] = {"mini": {"multiplier": "0.5"}}
    with pytest.raises(ConfigError, match="model_tiers need meters"):
        RateCard.from_data(tokens)


def test_default_ccu_card_has_a_cached_context_price() -> None:
    meters = RateCard.default().meters
    assert meters is not None
    assert meters.cached_context_per_1k_tokens == D("0.26")


@pytest.mark.parametrize(
    ("utc", "inside"),
    [
        # 8 March 2026: clocks jump 02:00 EST -> 03:00 EDT; the window is 07:00-11:00 UTC.
        (datetime(2026, 3, 8, 6, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), True),
        (datetime(2026, 3, 8, 10, 59, tzinfo=UTC), True),
        (datetime(2026, 3, 8, 11, 0, tzinfo=UTC), False),
        # 9 March (EDT): 06:00-11:00 UTC.
        (datetime(2026, 3, 9, 6, 0, tzinfo=UTC), True),
        # 7 March (EST): 07:00-12:00 UTC.
        (datetime(2026, 3, 7, 6, 30, tzinfo=UTC), False),
        (datetime(2026, 3, 7, 11, 30, tzinfo=UTC), True),
        # 1 November 2026: 02:00 EST is 07:00 UTC; the window is 07:00-12:00 UTC.
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), False),
        (datetime(2026, 11, 1, 11, 30, tzinfo=UTC), True),
        # 31 October (EDT): 06:00-11:00 UTC.
        (datetime(2026, 10, 31, 6, 30, tzinfo=UTC), True),
        (datetime(2026, 10, 31, 11, 30, tzinfo=UTC), False),
    ],
)
def test_window_follows_daylight_saving(utc: datetime, inside: bool) -> None:
    ts = np.array([epoch_us(utc)], dtype=np.int64)
    assert bool(in_window(NIGHT, ts)[0]) is inside


def test_next_opening_across_the_spring_gap() -> None:
    at = datetime(2026, 3, 8, 5, tzinfo=UTC)  # 00:00 EST
    ts = np.array([epoch_us(at)], dtype=np.int64)
    assert int(next_opening(NIGHT, ts)[0]) == epoch_us(datetime(2026, 3, 8, 7, tzinfo=UTC))


def test_window_across_midnight() -> None:
    data = {**NIGHT.model_dump(), "start_hour": 22, "end_hour": 6, "time_zone": "UTC"}
    card = RateCard.from_data({**RateCard.default().to_data(), "windows": [data]})
    window = card.windows[0]
    for hour, inside in ((21, False), (22, True), (23, True), (0, True), (5, True), (6, False)):
        at = datetime(2026, 6, 2, hour, tzinfo=UTC)
        assert bool(in_window(window, np.array([epoch_us(at)]))[0]) is inside, hour


@given(
    minutes=st.integers(0, 60 * 24 * 400),
    sandbox=st.integers(0, 600),
    reasoning=st.integers(0, 50_000),
    fast=st.booleans(),
    model=st.sampled_from([None, "codex", "codex-mini", "other"]),
)
def test_price_log_equals_price_usage_at_the_event_time(
    minutes: int, sandbox: int, reasoning: int, fast: bool, model: str | None
) -> None:
    card = lever_card()
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    minutes_used = D(sandbox) / 10
    event = UsageEvent(
        timestamp=at,
        reasoning_tokens=reasoning,
        sandbox_minutes=minutes_used,
        tool_calls=3,
        output_tokens=1234,
        fast=fast,
        model=model,
    )
    log = UsageLog.from_events([event])
    usage = Usage(
        reasoning_tokens=reasoning,
        sandbox_minutes=minutes_used,
        tool_calls=3,
        output_tokens=1234,
        fast=fast,
        model=model,
    )
    expected = price_usage(usage, card, at=at)
    prices = price_log(log, card)
    assert prices.total.tolist() == [int(expected.total * 1_000_000)]
    for name, value in expected.categories.items():
        assert int(prices.categories[name][0]) == int(value * 1_000_000), name
    assert event.amount(card) == expected.total
