"""Time-of-day windows agree with the local wall clock in every zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from codex_credits.core.timeofday import PricingWindow, in_window, next_opening
from codex_credits.core.timeutil import epoch_us, from_epoch_us

ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")
YEAR = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def windows(draw: st.DrawFn) -> PricingWindow:
    start = draw(st.integers(0, 23))
    end = draw(st.integers(1, 24).filter(lambda e: e != start))
    return PricingWindow(
        name="w",
        time_zone=draw(st.sampled_from(ZONES)),
        start_hour=start,
        end_hour=end,
        meters=("sandbox",),
        discount=Decimal("0.5"),
    )


def _wall_inside(window: PricingWindow, at: datetime) -> bool:
    hour = at.astimezone(ZoneInfo(window.time_zone)).hour
    if window.start_hour < window.end_hour:
        return window.start_hour <= hour < window.end_hour
    return hour >= window.start_hour or hour < window.end_hour


instants = st.integers(0, 366 * 24 * 60).map(lambda m: YEAR + timedelta(minutes=m))


@given(window=windows(), moments=st.lists(instants, min_size=1, max_size=30))
def test_in_window_is_the_local_wall_clock_hour(
    window: PricingWindow, moments: list[datetime]
) -> None:
    ts = np.array([epoch_us(m) for m in moments], dtype=np.int64)
    got = in_window(window, ts).tolist()
    assert got == [_wall_inside(window, m) for m in moments]


@given(window=windows(), moment=instants)
def test_next_opening_is_the_first_inside_minute(window: PricingWindow, moment: datetime) -> None:
    ts = np.array([epoch_us(moment)], dtype=np.int64)
    opening = from_epoch_us(int(next_opening(window, ts)[0]))
    assert opening >= moment
    assert _wall_inside(window, opening)
    if opening > moment:
        assert not _wall_inside(window, opening - timedelta(minutes=1))
        assert opening - moment <= timedelta(days=1, hours=1)
