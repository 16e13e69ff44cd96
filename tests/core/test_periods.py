from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import ConfigError, NaiveDatetimeError, period_at, period_containing


def test_anchor_on_the_31st_clamps_and_does_not_drift() -> None:
    anchor = datetime(2026, 1, 31, tzinfo=UTC)
    starts = [period_at(anchor, k).start.date().isoformat() for k in range(4)]
    assert starts == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]
    assert period_at(anchor, 1).days == 31


def test_leap_year() -> None:
    assert period_at(datetime(2028, 1, 31, tzinfo=UTC), 1).start.day == 29


def test_anchor_must_be_on_a_whole_hour_and_aware() -> None:
    with pytest.raises(ConfigError, match="whole UTC hour"):
        period_at(datetime(2026, 1, 1, 0, 30, tzinfo=UTC), 0)
    with pytest.raises(NaiveDatetimeError, match="no timezone"):
        period_at(datetime(2026, 1, 1), 0)


def test_offsets_are_normalised_to_utc() -> None:
    anchor = datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert period_at(anchor, 0).start == datetime(2026, 1, 1, tzinfo=UTC)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
)
def test_period_containing_contains(anchor: datetime, at: datetime) -> None:
    anchor = anchor.replace(minute=0, second=0, microsecond=0)
    period = period_containing(anchor, at)
    assert period.start <= at < period.end
    assert period == period_at(anchor, period.index)
    assert 28 <= period.days <= 31
