"""The columnar reader equals the row-by-row reference on any file, good or bad."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits import UsageDataError, read_usage
from codex_credits.core.usage import DIMENSIONS, UsageLog
from codex_credits.io.usagecolumns import read_columns
from codex_credits.io.usagerows import INT_FIELDS, read_rows_reference

COLUMNS = (
    "ts_us",
    "ccu_micro",
    "has_ccu",
    "sandbox_micro_minutes",
    "fast",
    *INT_FIELDS,
    *DIMENSIONS,
    "sandbox_class",
)

digits = st.text("0123456789", min_size=1, max_size=4)
good_stamp = st.builds(
    lambda y, mo, d, h, mi, s, frac, tz: (
        f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{tz}"
    ),
    st.integers(1, 9999),
    st.integers(1, 12),
    st.integers(1, 31),  # day 29..31 of a short month is a bad row
    st.integers(0, 24),  # hour 24 is a bad row
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from(["", ".123", ".000450", ".5", ".1234567", "."]),
    st.sampled_from(["Z", "+00:00", "-00:00", "+05:30", "-08:00", "+23:59", "+24:00", "", "z"])
    | st.sampled_from(["+0530", "+05:30:15", " Z"]),
)
stamp = good_stamp | st.sampled_from(
    ["", "yesterday", " 2026-06-01T10:00:00Z", "2026-06-01 10:00:00Z", "2026-02-29T00:00:00Z"]
)
decimal_text = (
    st.builds(lambda a, b: f"{a}.{b}", digits, st.text("0123456789", min_size=0, max_size=8))
    | digits
    | st.sampled_from(["", "-1", "-0", "abc", " 1.5", "+2", ".5", "1e2", "1E-7", "NaN", "Infinity"])
    | st.sampled_from(["1.0000005", "0.0000025", "1234567890123.5", "9" * 20, "٣"])
)
whole_text = digits | st.sampled_from(["", "0", "1.0", "1.5", "-3", "1e3", " 7", "x", "9" * 19])
bool_text = st.sampled_from(["", "true", "1", "no", "F", " T ", "maybe", "0"])
label = st.sampled_from(["", "a", "b", " a", "a ", "  ", "β", "b,c", 'say "hi"', "x\ny"])
event_id = st.sampled_from(["", "e1", "e2", "e3", " e1", "e4"])

CELLS: dict[str, st.SearchStrategy[str]] = {
    "timestamp": stamp,
    "ccu": decimal_text,
    **{name: whole_text for name in INT_FIELDS},
    "sandbox_minutes": decimal_text,
    "sandbox_class": label,
    "fast": bool_text,
    "event_id": event_id,
    "user_id": label,
    "project_id": label,
    "model": st.sampled_from(["", "m1", " m2"]),
    "other": label,
}


def outcome(read: Any) -> tuple[Any, ...]:
    """Everything a reader gives: every column and label table and the summary, or the error."""
    try:
        log: UsageLog | None = read()
    except UsageDataError as exc:
        return ("error", str(exc), exc.path, exc.line, exc.field)
    if log is None:  # the columnar reader handed the file to the reference
        return ("none",)
    columns = {}
    for name in COLUMNS:
        column = log.column(name)
        columns[name] = (str(column.dtype), column.tolist())
    labels = {name: log.labels(name) for name in (*DIMENSIONS, "sandbox_class")}
    return ("log", columns, labels, log.summary)


def assert_same(path: Path, fmt: Any) -> None:
    for strict in (True, False):
        fast = outcome(lambda: read_columns(path, fmt, strict=strict))  # noqa: B023
        reference = outcome(lambda: read_rows_reference(path, fmt, strict=strict))  # noqa: B023
        assert fast in (reference, ("none",))
        assert outcome(lambda: read_usage(path, strict=strict)) == reference  # noqa: B023


@st.composite
def csv_files(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(sorted(CELLS)), min_size=1, max_size=9, unique=True))
    if "timestamp" not in names:
        names.insert(draw(st.integers(0, len(names))), "timestamp")
    if draw(st.booleans()):  # mostly good rows, or anything at all
        cells = {
            **{name: st.sampled_from(["", "0.25", "3", "12.000001"]) for name in names},
            "timestamp": st.sampled_from(["2026-06-01T10:00:00Z", "2026-06-01T09:30:00.5+02:00"])
            | good_stamp,
            "event_id": event_id,
        }
    else:
        cells = CELLS
    out = io.StringIO()
    ending = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))  # "\r" alone ends a record too
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    writer = csv.writer(out, lineterminator=ending, quoting=quoting)
    writer.writerow(names)
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["row"] * 8 + ["blank", "short", "long"]))
        if kind == "blank":
            out.write(draw(st.sampled_from(["", "  ", "\t"])) + ending)
            continue
        values = [draw(cells.get(name, label)) for name in names]
        if kind == "short":
            values = values[: max(0, len(values) - 1)] or ["2026-06-01T10:00:00Z", "x"]
        elif kind == "long":
            values.append("extra")
        writer.writerow(values)
    text = out.getvalue()
    if draw(st.booleans()):
        text = text.removesuffix(ending)  # no line end after the last record
    return text


def write(path: Path, text: str, bom: bool) -> None:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


@given(csv_files(), st.booleans())
def test_csv_columns_equal_reference(
    tmp_path_factory: pytest.TempPathFactory, text: str, bom: bool
) -> None:
    path = tmp_path_factory.mktemp("csv") / "usage.csv"
    write(path, text, bom)
    assert_same(path, "csv")


json_value = (
    st.none()
    | st.booleans()
    | st.integers(-5, 10**6)
    | st.sampled_from([2**70, -(2**70)])
    | decimal_text
    | stamp
    | label
    | st.lists(st.integers(0, 3), max_size=2)
)
RAW_NUMBERS = ["0.1", "1.5e2", "2.0", "1E400", "NaN", "-0.5", "0.1234567"]


@st.composite
def jsonl_files(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(["row"] * 7 + ["blank", "bad", "list"]))
        if kind == "blank":
            lines.append("")
            continue
        if kind == "bad":
            lines.append(draw(st.sampled_from(['{"timestamp": ', "nope", '{"a": NaN}'])))
            continue
        if kind == "list":
            lines.append("[1, 2]")
            continue
        keys = draw(st.lists(st.sampled_from(sorted(CELLS)), max_size=6, unique=True))
        row = {"timestamp": draw(good_stamp)} if draw(st.booleans()) else {}
        for key in keys:
            row[key] = draw(json_value)
        text = json.dumps(row)
        if row and draw(st.booleans()):  # a bare number with a fraction, e.g. "ccu": 0.1
            key = draw(st.sampled_from(["ccu", "sandbox_minutes", "tool_calls", "user_id"]))
            number = draw(st.sampled_from(RAW_NUMBERS))
            text = text[:-1] + f', "{key}": {number}}}'
        lines.append(text)
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return ending.join(lines) + draw(st.sampled_from([ending, ""]))


@given(jsonl_files(), st.booleans())
def test_jsonl_columns_equal_reference(
    tmp_path_factory: pytest.TempPathFactory, text: str, bom: bool
) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "usage.jsonl"
    write(path, text, bom)
    assert_same(path, "jsonl")


EPOCH_2026 = datetime(2026, 1, 1, tzinfo=UTC)
UNIFORM_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "ccu": st.sampled_from(["0.25", "3", "12.000001", "0.000001"]),
    "tool_calls": st.integers(0, 50),
    "reasoning_tokens": st.integers(0, 10**6),
    "sandbox_minutes": st.sampled_from(["1.5", "2", "0.25"]),
    "sandbox_class": st.sampled_from(["small", "large"]),
    "fast": st.booleans(),
    "event_id": st.sampled_from(["e1", "e2", "e3", "e4", "e5"]),
    "user_id": st.sampled_from(["u1", "u2", "β"]),
    "project_id": st.sampled_from(["web", "api"]),
}
plain_stamp = st.builds(
    lambda s, us, zone: (
        (EPOCH_2026 + timedelta(seconds=s, microseconds=us)).astimezone(zone).isoformat()
    ),
    st.integers(0, 3 * 10**7),
    st.sampled_from([0, 0, 500_000, 123_456]),
    st.sampled_from(
        [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)
AMOUNT_KEYS = ("ccu",)
METER_KEYS = ("tool_calls", "reasoning_tokens", "sandbox_minutes", "sandbox_class", "fast")
LABEL_KEYS = ("event_id", "user_id", "project_id")


@st.composite
def uniform_jsonl_files(draw: st.DrawFn) -> str:
    """Good rows with one key order, as one program writes them; maybe one row reordered."""
    pool = draw(st.sampled_from([AMOUNT_KEYS, METER_KEYS]))
    chosen = [pool[0], *draw(st.lists(st.sampled_from(pool[1:] or pool), unique=True))]
    chosen = list(dict.fromkeys(chosen))
    chosen += draw(st.lists(st.sampled_from(LABEL_KEYS), unique=True))
    keys = draw(st.permutations(["timestamp", *chosen]))
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        values = {"timestamp": draw(plain_stamp)}
        values.update({key: draw(UNIFORM_VALUES[key]) for key in chosen})
        rows.append({key: values[key] for key in keys})
    if draw(st.booleans()):
        i = draw(st.integers(0, len(rows) - 1))
        rows[i] = dict(reversed(rows[i].items()))
    return "".join(json.dumps(row) + "\n" for row in rows)


@given(uniform_jsonl_files())
def test_uniform_jsonl_columns_equal_reference(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "usage.jsonl"
    write(path, text, False)
    assert read_columns(path, "jsonl") is not None  # good rows take the columnar path
    assert_same(path, "jsonl")


@pytest.mark.parametrize(
    ("stamp", "expected_us"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("2026-06-01T09:00:00.5+02:00", (1_780_304_400 - 7_200) * 10**6 + 500_000),
        ("2024-02-29T23:59:59.000001-00:30", (1_709_251_199 + 1_800) * 10**6 + 1),
        ("0001-01-01T00:00:00Z", -62_135_596_800 * 10**6),
    ],
)
def test_fast_timestamps_are_exact(tmp_path: Path, stamp: str, expected_us: int) -> None:
    path = tmp_path / "u.csv"
    path.write_text(f"timestamp,ccu\n{stamp},1.5\n", encoding="utf-8")
    log = read_columns(path, "csv")
    assert log is not None
    assert log.timestamps_us.tolist() == [expected_us]


def test_fast_amounts_are_exact_micro_units(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    rows = ["0.1", "0.000001", "123456789012.123456", "7", "0.0000010", "0.0000020", "5e-1"]
    body = "".join(f"2026-06-01T00:00:{i:02d}Z,{r}\n" for i, r in enumerate(rows))
    path.write_text("timestamp,ccu\n" + body)
    log = read_columns(path, "csv")
    assert log is not None
    expected = [100_000, 1, 123_456_789_012_123_456, 7_000_000, 1, 2, 500_000]
    assert log.column("ccu_micro").tolist() == expected


def test_a_large_plain_file_matches_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    rng = np.random.default_rng(3)
    micro = rng.integers(0, 5_000_000, size=3000)
    body = "".join(
        f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:07.{i:06d}Z,"
        f"{m // 10**6}.{m % 10**6:06d},p{i % 7},e{i % 2900}\n"
        for i, m in enumerate(micro.tolist())
    )
    path.write_text("timestamp,ccu,project_id,event_id\n" + body, encoding="utf-8")
    assert_same(path, "csv")
    log = read_usage(path)
    assert (len(log), log.summary.duplicates) == (2900, 100)
