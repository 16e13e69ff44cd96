from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import RateCard, UsageDataError, UsageEvent, UsageLog, read_usage, write_usage

HEADER = (
    "timestamp,ccu,reasoning_tokens,tool_calls,sandbox_minutes,sandbox_class,project_id,event_id\n"
)


def write(tmp_path: Path, text: str, name: str = "usage.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_amounts_and_meters(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "2026-06-01T10:00:00Z,1.5,,,,,api,e1\n"
        + "2026-06-01T09:00:00+02:00,,12000,20,10,large,web,e2\n",
    )
    log = read_usage(path)
    assert len(log) == 2
    first, second = list(log)
    assert first.timestamp == datetime(2026, 6, 1, 7, tzinfo=UTC)  # sorted by time
    assert first.project_id == "web"
    assert first.amount(RateCard.default()) == Decimal("25.6")  # no output column
    assert second.ccu == Decimal("1.5")
    assert log.amounts(RateCard.default()) == [Decimal("25.6"), Decimal("1.5")]


def test_jsonl_numbers_are_exact(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '{"timestamp": "2026-06-01T10:00:00Z", "ccu": 0.1, "user_id": "ann"}\n'
        '{"timestamp": "2026-06-01T10:00:01Z", "ccu": "0.2"}\n',
        "usage.jsonl",
    )
    log = read_usage(path)
    assert sum(log.amounts(RateCard.default())) == Decimal("0.3")
    assert log[0].user_id == "ann"


@pytest.mark.parametrize(
    ("row", "field", "fragment"),
    [
        ("2026-06-01T10:00:00,1,,,,,p,x", "timestamp", "no timezone"),
        ("yesterday,1,,,,,p,x", "timestamp", "ISO 8601"),
        ("2026-06-01T10:00:00Z,abc,,,,,p,x", "ccu", "not a decimal"),
        ("2026-06-01T10:00:00Z,-1,,,,,p,x", "ccu", ">= 0"),
        ("2026-06-01T10:00:00Z,,1.5,,,,p,x", "reasoning_tokens", "whole number"),
        ("2026-06-01T10:00:00Z,,,,,,p,x", "ccu", "needs 'ccu'"),
        ("2026-06-01T10:00:00Z,1,,,", "(row)", "expected 8 columns"),
    ],
)
def test_bad_row_names_file_line_and_field(
    tmp_path: Path, row: str, field: str, fragment: str
) -> None:
    path = write(tmp_path, HEADER + "2026-06-01T09:00:00Z,1,,,,,p,ok\n" + row + "\n")
    with pytest.raises(UsageDataError) as info:
        read_usage(path)
    message = str(info.value)
    assert f"{path}:3:" in message
    assert f"field {field!r}" in message
    assert fragment in message
    assert (info.value.line, info.value.field) == (3, field)


def test_lenient_mode_skips_and_counts(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "2026-06-01T09:00:00Z,1,,,,,p,a\n"
        + "garbage,1,,,,,p,b\n"
        + "2026-06-01T11:00:00Z,2,,,,,p,c\n",
    )
    log = read_usage(path, strict=False)
    assert len(log) == 2
    assert log.summary.skipped == 1
    assert log.summary.rows == 3
    assert ":3:" in log.summary.problems[0]


def test_bad_jsonl_line_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path, '{"timestamp": "2026-06-01T10:00:00Z", "ccu": 1}\n{"timestamp": \n', "u.jsonl"
    )
    with pytest.raises(UsageDataError, match=r"u\.jsonl:2: .*not valid JSON"):
        read_usage(path)
    assert len(read_usage(path, strict=False)) == 1


def test_duplicate_event_ids_are_billed_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "2026-06-01T09:00:00Z,5,,,,,p,same\n"
        + "2026-06-01T09:00:00Z,5,,,,,p,same\n"
        + "2026-06-01T10:00:00Z,5,,,,,p,other\n",
    )
    log = read_usage(path)
    assert len(log) == 2
    assert log.summary.duplicates == 1
    assert sum(log.amounts(RateCard.default())) == Decimal(10)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(UsageDataError, match="cannot read"):
        read_usage(tmp_path / "nope.csv")
    with pytest.raises(UsageDataError, match="format"):
        read_usage(tmp_path / "usage.xlsx")


def test_header_without_timestamp(tmp_path: Path) -> None:
    with pytest.raises(UsageDataError, match="no 'timestamp' column"):
        read_usage(write(tmp_path, "ccu\n1\n"))


events = st.builds(
    UsageEvent,
    timestamp=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    ccu=st.none() | st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False),
    reasoning_tokens=st.integers(0, 10**7),
    tool_calls=st.integers(0, 1000),
    sandbox_minutes=st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False),
    sandbox_class=st.sampled_from([None, "small", "large"]),
    output_tokens=st.integers(0, 10**6),
    project_id=st.sampled_from([None, "api", "web"]),
    fast=st.booleans(),
    event_id=st.none() | st.text("abcdef", min_size=1, max_size=3),
)


@given(st.lists(events, max_size=30), st.sampled_from(["csv", "jsonl"]))
def test_write_then_read_is_equal_and_dedups(
    tmp_path_factory: pytest.TempPathFactory, items: list[UsageEvent], fmt: str
) -> None:
    path = tmp_path_factory.mktemp("rt") / f"u.{fmt}"
    log = UsageLog.from_events(items)
    write_usage(log, path)
    again = read_usage(path)
    assert list(again) == list(log)
    ids = [e.event_id for e in items if e.event_id is not None]
    assert again.summary.duplicates == 0
    assert log.summary.duplicates == len(ids) - len(set(ids))
    card = RateCard.default()
    assert list(again.amounts_micro(card)) == [
        int(a * 10**6) for a in (e.amount(card) for e in log)
    ]


@given(st.lists(events, min_size=1, max_size=40))
def test_vectorised_pricing_equals_per_event(items: list[UsageEvent]) -> None:
    log = UsageLog.from_events(items)
    card = RateCard.default()
    expected = np.array([int(e.amount(card) * 10**6) for e in log], dtype=np.int64)
    assert np.array_equal(log.amounts_micro(card), expected)


RICH = RateCard.default().model_copy(
    update={
        "meters": RateCard.default().meters.model_copy(  # type: ignore[union-attr]
            update={
                "reasoning_per_1k_tokens": Decimal(600),
                "output_per_1k_tokens": Decimal(600),
                "tool_call": Decimal(600),
            }
        )
    }
)


@pytest.mark.parametrize(
    "meters",
    [
        {"reasoning_tokens": 2**53},  # one category past 64 bits
        {"tool_calls": 2**53},
        {"reasoning_tokens": 2**43, "output_tokens": 2**43},  # each within, their sum past
    ],
)
def test_an_event_costing_past_64_bits_is_a_data_error_naming_it(meters: dict[str, int]) -> None:
    small = UsageEvent(timestamp=datetime(2026, 6, 1, tzinfo=UTC), reasoning_tokens=1000)
    big = UsageEvent(timestamp=datetime(2026, 6, 2, tzinfo=UTC), **meters)
    assert big.amount(RICH) * 10**6 > 2**63  # the exact amount is past what a column holds
    with pytest.raises(UsageDataError, match="2026-06-02T00:00:00"):
        UsageLog.from_events([small, big]).amounts_micro(RICH)


def test_between_and_slicing() -> None:
    log = UsageLog.from_events(
        UsageEvent(timestamp=datetime(2026, 6, d, tzinfo=UTC), ccu=Decimal(d)) for d in range(1, 11)
    )
    part = log.between(datetime(2026, 6, 3, tzinfo=UTC), datetime(2026, 6, 5, tzinfo=UTC))
    assert [e.ccu for e in part] == [Decimal(3), Decimal(4)]
    assert len(log[2:4]) == 2
    assert log[-1].ccu == Decimal(10)


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_account_and_parent_session_labels_round_trip(tmp_path: Path, suffix: str) -> None:
    event = UsageEvent(
        timestamp=datetime(2026, 6, 1, tzinfo=UTC),
        ccu=Decimal("1.5"),
        account_id="acme",
        session_id="child",
        parent_session_id="orchestrator",
    )
    path = tmp_path / f"usage.{suffix}"
    write_usage(UsageLog.from_events([event]), path)
    (back,) = list(read_usage(path))
    assert (back.account_id, back.session_id, back.parent_session_id) == (
        "acme",
        "child",
        "orchestrator",
    )
    assert read_usage(path).dimension_values("account_id") == ["acme"]
