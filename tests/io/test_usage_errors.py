"""Golden tests: a bad row in a large file is named exactly, whichever reader reads it.

Each file holds many good rows (so the columnar reader reads it) and a few bad
rows at known lines; every expected message is written out by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from codex_credits import UsageDataError, read_usage
from codex_credits.io.usagerows import read_rows_reference

GOOD_ROWS = 1500
HEADER = "timestamp,ccu,tool_calls,input_tokens,cached_input_tokens,fast,project_id"

# (row index among the data rows, the bad row as CSV, field, message)
BAD_CSV = [
    (10, "2026-06-01T10:00:00,1,,,,,p", "timestamp", None),
    (200, "yesterday,1,,,,,p", "timestamp", None),
    (300, ",1,,,,,p", "timestamp", "missing timestamp"),
    (400, "2026-06-01T10:00:00Z,-1,,,,,p", "ccu", "must be >= 0, found '-1'"),
    (500, "2026-06-01T10:00:00Z,abc,,,,,p", "ccu", "'abc' is not a decimal number"),
    (600, "2026-06-01T10:00:00Z,,1.5,,,,p", "tool_calls", "'1.5' is not a whole number"),
    (
        700,
        "2026-06-01T10:00:00Z,,,400,500,,p",
        "cached_input_tokens",
        "500 cached tokens exceed input_tokens (400), which include them",
    ),
    (
        800,
        "2026-06-01T10:00:00Z,,,,,,p",
        "ccu",
        "a row needs 'ccu' or at least one meter (tokens, tool_calls, ...)",
    ),
    (900, "2026-06-01T10:00:00Z,1,,,,maybe,p", "fast", "expected true/false, found 'maybe'"),
    (1000, "2026-06-01T10:00:00Z,1,,,,,p,extra", "(row)", "expected 7 columns, found 8"),
]
MESSAGES = {
    10: "'2026-06-01T10:00:00' has no timezone offset; add one, e.g. 2026-06-01T10:00:00Z",
    200: "'yesterday' is not an ISO 8601 instant (e.g. 2026-06-01T09:00:00Z)",
}


def good_row(i: int) -> str:
    return f"2026-06-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z,0.{i:06d},{i % 3},,,,p{i % 4}"


def csv_text(ending: str) -> str:
    rows = [good_row(i) for i in range(GOOD_ROWS)]
    for index, row, _, _ in BAD_CSV:
        rows.insert(index, row)
    return ending.join([HEADER, *rows]) + ending


def expected_problems(path: Path) -> list[str]:
    return [
        f"{path}:{index + 2}: field {field!r}: {message or MESSAGES[index]}"
        for index, _, field, message in BAD_CSV
    ]


@pytest.mark.parametrize(("ending", "bom"), [("\n", False), ("\r\n", False), ("\r\n", True)])
def test_csv_bad_rows_are_named_by_line_and_field(tmp_path: Path, ending: str, bom: bool) -> None:
    path = tmp_path / "usage.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + csv_text(ending).encode())
    problems = expected_problems(path)
    with pytest.raises(UsageDataError) as caught:
        read_usage(path)
    assert str(caught.value) == problems[0]
    assert (caught.value.line, caught.value.field) == (12, "timestamp")
    log = read_usage(path, strict=False)
    assert list(log.summary.problems) == problems
    assert (log.summary.rows, log.summary.skipped, len(log)) == (1510, 10, 1500)
    assert log.summary == read_rows_reference(path, "csv", strict=False).summary


def test_csv_quoted_fields_name_the_physical_line(tmp_path: Path) -> None:
    # A quoted field may hold a line break: the bad row after it is on line 4, not 3.
    rows = [good_row(i) for i in range(GOOD_ROWS)]
    rows[0] = '2026-06-01T00:00:00Z,1,0,,,,"two\nlines"'
    rows[1] = "2026-06-01T00:00:00Z,1,0,,,,p,extra"
    path = tmp_path / "usage.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    with pytest.raises(UsageDataError, match=r"usage\.csv:4: field '\(row\)': expected 7"):
        read_usage(path)
    log = read_usage(path, strict=False)
    assert "two\nlines" in log.dimension_values("project_id")


def test_jsonl_bad_lines_are_named(tmp_path: Path) -> None:
    lines = [
        json.dumps({"timestamp": f"2026-06-01T00:00:{i % 60:02d}Z", "ccu": f"0.{i:06d}"})
        for i in range(GOOD_ROWS)
    ]
    lines[99] = "nope"
    lines[199] = "[1, 2]"
    lines[299] = '{"timestamp": "2026-06-01T00:00:00+02:00", "ccu": -0.5}'
    lines.insert(400, "")  # a blank line is skipped, and still counted as a line
    lines[599] = '{"timestamp": "2026-06-01T00:00:00Z", "tool_calls": true}'
    path = tmp_path / "usage.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = [
        f"{path}:100: field '(row)': not valid JSON (Expecting value at column 1)",
        f"{path}:200: field '(row)': expected a JSON object, found list",
        f"{path}:300: field 'ccu': must be >= 0, found -0.5",
        f"{path}:600: field 'tool_calls': expected a whole number, found True",
    ]
    with pytest.raises(UsageDataError) as caught:
        read_usage(path)
    assert str(caught.value) == problems[0]
    log = read_usage(path, strict=False)
    assert list(log.summary.problems) == problems
    assert (log.summary.rows, log.summary.skipped, len(log)) == (1500, 4, 1496)


def test_jsonl_numbers_with_fractions_are_exact(tmp_path: Path) -> None:
    rows = [
        '{"timestamp": "2026-06-01T00:00:00Z", "ccu": 0.123456, "tool_calls": 2.0}',
        '{"timestamp": "2026-06-01T00:00:01Z", "ccu": 0.12345700}',
        '{"timestamp": "2026-06-01T00:00:02Z", "ccu": 1e-6, "sandbox_minutes": 0.5}',
        '{"timestamp": "2026-06-01T00:00:03Z", "ccu": 0.1}',
        '{"timestamp": "2026-06-01T00:00:04Z", "ccu": 18446744073709551615}',
    ]
    path = tmp_path / "usage.jsonl"
    path.write_text("\n".join(rows), encoding="utf-8")
    too_large = "18446744073709551615 is too large (at most 9223372036854.775807)"
    with pytest.raises(UsageDataError, match=re.escape(f":5: field 'ccu': {too_large}")):
        read_usage(path)  # beyond 64-bit micro-units
    path.write_text("\n".join(rows[:-1]), encoding="utf-8")
    log = read_usage(path)
    assert log.column("ccu_micro").tolist() == [123_456, 123_457, 1, 100_000]
    assert log.column("tool_calls").tolist() == [2, 0, 0, 0]
    assert log.column("sandbox_micro_minutes").tolist() == [0, 0, 500_000, 0]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize(
    ("cell", "field"),
    [("0.0000004", "ccu"), ("1e-7", "ccu"), ("0.1234565", "ccu"), ("0.0000001", "sandbox_minutes")],
)
def test_amounts_finer_than_a_micro_unit_are_refused(
    tmp_path: Path, suffix: str, cell: str, field: str
) -> None:
    # Ten rows of 0.0000004 must not total 0: each is refused, with its line and field.
    path = tmp_path / f"usage{suffix}"
    if suffix == ".csv":
        body = "".join(f"2026-06-01T00:00:0{i}Z,1,{cell}\n" for i in range(10))
        path.write_text(f"timestamp,tool_calls,{field}\n{body}", encoding="utf-8")
        line = 2
    else:
        body = "".join(
            f'{{"timestamp": "2026-06-01T00:00:0{i}Z", "tool_calls": 1, "{field}": "{cell}"}}\n'
            for i in range(10)
        )
        path.write_text(body, encoding="utf-8")
        line = 1
    with pytest.raises(UsageDataError, match=rf":{line}: field '{field}': .*finer than") as info:
        read_usage(path)
    assert (info.value.line, info.value.field) == (line, field)
    log = read_usage(path, strict=False)
    assert (log.summary.skipped, len(log)) == (10, 0)


def test_line_ends_and_bom_read_alike(tmp_path: Path) -> None:
    rows = ["2026-06-01T09:30:00.5+02:00,0.25", "2026-06-01T00:00:00.123-00:30,7"]
    logs = []
    for name, data in [
        ("lf.csv", "timestamp,ccu\n" + "\n".join(rows)),
        ("crlf.csv", "timestamp,ccu\r\n" + "\r\n".join(rows) + "\r\n"),
        ("bom.csv", "\ufefftimestamp,ccu\r\n" + "\r\n".join(rows) + "\r\n\r\n"),
    ]:
        path = tmp_path / name
        path.write_bytes(data.encode("utf-8"))
        logs.append(read_usage(path))
    june_1 = 1_780_272_000  # 2026-06-01T00:00:00Z in seconds since the epoch
    expected = [
        (june_1 + 30 * 60) * 10**6 + 123_000,
        (june_1 + 7 * 3600 + 30 * 60) * 10**6 + 500_000,
    ]
    for log in logs:
        assert log.timestamps_us.tolist() == expected
        assert log.column("ccu_micro").tolist() == [7_000_000, 250_000]
