"""Fuzzing the input parsers: a clean error naming file, line and field, or a correct result.

Usage CSV and JSON Lines files and Codex rollout logs are built from good rows
mixed with hostile values (deep nesting, fields over the CSV field limit,
bytes that are not UTF-8, lone surrogates, timestamps outside the years 1 to
9999 in UTC, numbers past 64 bits, amounts finer than a millionth). Never an
uncaught exception; whatever is read can be shown (every label encodes, every
instant is a datetime).

The budget is small by default; a longer run on demand:

    FUZZ_EXAMPLES=5000 python3 -m pytest -q -p no:cacheprovider tests/io/test_fuzz_parsers.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_credits import read_codex_logs, read_usage
from codex_credits.core.usage import DIMENSIONS, UsageLog
from codex_credits.errors import UsageDataError
from codex_credits.io.usagecolumns import read_columns
from codex_credits.io.usagerows import read_rows_reference

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

HOSTILE_TEXT = [
    "",
    " ",
    "-1",
    "1e999999999",
    "1e-999999999",
    "NaN",
    "Infinity",
    "0.0000004",
    "0.1234567",
    "9223372036854.775808",
    "9223372036854775808",
    "18446744073709551616",
    "9" * 5000,
    "0001-01-01T00:00:00+00:01",
    "9999-12-31T23:59:59-00:01",
    "0000-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-06-01T00:00:00",
    "2026-06-01T00:00:00.1234567Z",
    "\x00",
    "x" * 140_000,
    "tr\u00fce",
    "\u202e",
]
GOOD_TIME = st.sampled_from(
    ["2026-06-01T00:00:00Z", "2026-06-01T09:30:00.123+02:00", "2026-06-01T23:59:59.999999-05:00"]
)
GOOD_AMOUNT = st.sampled_from(["0", "1", "0.25", "0.000001", "12.5", "7"])
CELL = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    GOOD_AMOUNT,
)
COLUMNS = ["timestamp", "ccu", "tool_calls", "sandbox_minutes", "fast", "project_id", "event_id"]


def check_log(log: UsageLog) -> None:
    """What a reader returns can be shown: labels encode, instants are datetimes."""
    summary = log.summary
    assert summary.rows == summary.events + summary.skipped + summary.duplicates
    for name in (*DIMENSIONS, "sandbox_class"):
        for label in log.labels(name):
            if label is not None:
                label.encode("utf-8")
    if len(log):
        assert log.start <= log.end
        assert all(e.timestamp.year >= 1 for e in log)


def check_read(path: Path, fmt: str) -> None:
    error: UsageDataError | None = None
    try:
        check_log(read_usage(path))
    except UsageDataError as exc:
        error = exc
    if error is not None:
        assert error.path == str(path)
        assert str(error).startswith(str(path))
        assert error.line is None or error.field is not None
    lenient = read_usage(path, strict=False)
    check_log(lenient)
    fast = read_columns(path, "csv" if fmt == "csv" else "jsonl", strict=False)
    if fast is not None:  # both readers agree on whatever the fast one reads
        reference = read_rows_reference(path, "csv" if fmt == "csv" else "jsonl", strict=False)
        assert fast.summary == reference.summary
        assert list(fast) == list(reference)


def encode(text: str, raw: bool) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    return data.replace(b"@@", b"\xff\xfe") if raw else data


@FUZZ
@given(
    rows=st.lists(
        st.tuples(GOOD_TIME, GOOD_AMOUNT, *[CELL] * (len(COLUMNS) - 2)), min_size=1, max_size=8
    ),
    mutate=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 6), CELL), max_size=4),
    quoted=st.booleans(),
    raw=st.booleans(),
)
def test_usage_csv_is_read_or_refused_cleanly(
    tmp_path_factory: Any,
    rows: list[tuple[str, ...]],
    mutate: list[tuple[int, int, str]],
    quoted: bool,
    raw: bool,
) -> None:
    grid = [list(r) for r in rows]
    for row, column, cell in mutate:
        grid[row % len(grid)][column] = cell
    if raw:
        grid[0][5] = "p@@"  # bytes that are not UTF-8 in a label
    quote = (lambda c: '"' + c.replace('"', '""') + '"') if quoted else (lambda c: c)
    text = ",".join(COLUMNS) + "\n" + "".join(",".join(map(quote, r)) + "\n" for r in grid)
    path = tmp_path_factory.mktemp("csv") / "usage.csv"
    path.write_bytes(encode(text, raw))
    check_read(path, "csv")


JSON_VALUE = st.one_of(
    CELL,
    st.integers(-(2**70), 2**70),
    st.decimals(allow_nan=False, allow_infinity=False, places=8).map(lambda d: d),
    st.none(),
    st.booleans(),
    st.sampled_from(["\ud800", "a\udcff"]),
)
RAW_LINES = [
    "[" * 5000 + "]" * 5000,
    '{"timestamp": "2026-06-01T00:00:00Z", "ccu": ' + "1" * 5000 + "}",
    '{"timestamp": "2026-06-01T00:00:00Z", "ccu": 1e400}',
    '{"timestamp": "2026-06-01T00:00:00Z", "ccu": "1", "project_id": "\\ud800"}',
    '{"timestamp": "2026-06-01T00:00:00Z", "ccu": "1", "project_id": "@@"}',
    '{"timestamp": "2026-06-01T00:00:00Z", "ccu": "1"',
    '{"a": {"b": ' * 3000 + "1" + "}}" * 3000,
    "[]",
    "",
]


@FUZZ
@given(
    rows=st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from(COLUMNS), JSON_VALUE, max_size=6).map(
                lambda d: {"timestamp": "2026-06-01T00:00:00Z", "ccu": "1", **d}
            ),
            st.sampled_from(RAW_LINES),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_usage_jsonl_is_read_or_refused_cleanly(
    tmp_path_factory: Any, rows: list[dict[str, Any] | str]
) -> None:
    def dump(row: dict[str, Any] | str) -> str:
        if isinstance(row, str):
            return row
        return json.dumps(row, default=str)

    text = "".join(dump(r) + "\n" for r in rows)
    path = tmp_path_factory.mktemp("jsonl") / "usage.jsonl"
    path.write_bytes(encode(text, True))
    check_read(path, "jsonl")


ROLLOUT_VALUE = st.one_of(
    st.integers(-(2**65), 2**65),
    st.floats(allow_nan=False),
    st.sampled_from([10**15, 2**63, 1e300, 1e308, -1, "5", None, [], {}]),
)
ROLLOUT_RAW = [
    "[" * 5000 + "]" * 5000,
    '{"timestamp": "2026-06-01T00:00:05Z", "type": "turn_context", "payload": {"model": "\\ud800"}}',
    '{"timestamp": "2026-06-01T00:00:05Z", "type": "turn_context", "payload": {"model": "@@"}}',
    '{"timestamp": "2026-06-01T00:00:05Z", "type": "event_msg", "payload": {"type": "token_co',
    '{"timestamp": "0001-01-01T00:00:00+05:00", "type": "event_msg", "payload": {}}',
]


def token_count(ts: int, usage: dict[str, Any], limits: dict[str, Any]) -> str:
    info = {"total_token_usage": usage, "last_token_usage": usage}
    payload = {"type": "token_count", "info": info, "rate_limits": limits}
    return json.dumps(
        {"timestamp": f"2026-06-01T00:00:{ts:02d}Z", "type": "event_msg", "payload": payload}
    )


@FUZZ
@given(
    lines=st.lists(
        st.one_of(
            st.builds(
                lambda i, o, used, resets, minutes: (i, o, used, resets, minutes),
                ROLLOUT_VALUE,
                ROLLOUT_VALUE,
                ROLLOUT_VALUE,
                ROLLOUT_VALUE,
                ROLLOUT_VALUE,
            ),
            st.sampled_from(ROLLOUT_RAW),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_rollout_logs_never_fail_and_never_lose_a_good_line(
    tmp_path_factory: Any, lines: list[Any]
) -> None:
    folder = tmp_path_factory.mktemp("codex")
    body = []
    for ts, item in enumerate(lines):
        if isinstance(item, str):
            body.append(item)
            continue
        inp, out, used, resets, minutes = item
        usage = {"input_tokens": inp, "cached_input_tokens": 0, "output_tokens": out}
        window = {"used_percent": used, "resets_at": resets, "window_minutes": minutes}
        body.append(token_count(ts, usage, {"primary": window}))
    good = {"input_tokens": 7, "cached_input_tokens": 0, "output_tokens": 1}
    (folder / "rollout-good.jsonl").write_text(token_count(59, good, {}) + "\n")
    (folder / "rollout-fuzz.jsonl").write_bytes(encode("\n".join(body) + "\n", True))
    result = read_codex_logs(folder)
    summary = result.summary
    assert summary.files == 2
    # the good file is always read, and no request total wraps around
    assert 7 <= int(result.log.column("input_tokens").sum()) == summary.input_tokens
    for window in result.plan_windows:
        assert window.resets_at is None or 1 <= window.resets_at.year <= 9999
        assert 0 <= window.used_percent <= 1000
    for event in result.log:
        assert event.model is None or event.model.encode("utf-8")
