"""The compiled rollout scanner reads every file as the Python reader does, or declines it.

``codex_credits._rollscan`` (where it is built) reads a file with the reader's
rules; a line it does not handle the same way makes it decline the whole file,
which the Python reader then reads. These tests put one unusual line at a
time between good lines, so that each decision of the scanner (read it, call
it broken, or decline) is checked against the line-by-line reference: JSON at
the edges of the grammar, numbers at the edges of 64 bits, escapes, repeated
keys, timestamps of every form, plan windows, every field of every record
holding every JSON type, and random byte damage to real lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_credits.io import rollout_native
from codex_credits.io.rollout_fields import MAX_TOKENS, stable_key
from codex_credits.io.rollout_parse import parse_rollout_file
from codex_credits.io.rollout_records import FileState
from tests.hardening.test_fuzz_parsers import _paths
from tests.io.test_rollout_types import DATA, KINDS, TYPES, _replace

pytestmark = pytest.mark.skipif(
    not rollout_native.AVAILABLE, reason="the compiled scanner is not built"
)

T = "2026-06-01T10:00:0{}.500Z"


def rec(second: int, kind: str, payload: Any) -> bytes:
    return json.dumps({"timestamp": T.format(second), "type": kind, "payload": payload}).encode()


def usage(inp: int, cached: int, out: int) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": 0,
        "total_tokens": inp + out,
    }


LIMITS = {
    "limit_id": "codex",
    "primary": {"used_percent": 12.5, "window_minutes": 300, "resets_at": 1_780_000_000},
    "secondary": {"used_percent": 3, "window_minutes": 10080, "resets_in_seconds": 4000},
    "plan_type": "plus",
}
BEFORE = [
    rec(0, "session_meta", {"id": "s-1", "cwd": "/home/a/proj", "timestamp": T.format(0)}),
    rec(1, "turn_context", {"model": "gpt-5.4", "cwd": "/home/a/proj"}),
    rec(
        2,
        "event_msg",
        {
            "type": "token_count",
            "info": {"total_token_usage": usage(100, 10, 5), "last_token_usage": usage(100, 10, 5)},
            "rate_limits": LIMITS,
        },
    ),
    rec(2, "response_item", {"type": "function_call", "name": "shell", "arguments": "{}"}),
]
AFTER = [
    rec(
        8,
        "event_msg",
        {
            "type": "token_count",
            "info": {"total_token_usage": usage(300, 20, 9), "last_token_usage": usage(200, 10, 4)},
        },
    ),
    rec(9, "token_usage_record", {"response_id": "r-9", "usage": usage(200, 10, 4)}),
]


def check(folder: Path, *lines: bytes) -> bool:
    """The compiled reading equals the reference; True when the scanner declined the file."""
    path = folder / "rollout-2026-06-01T10-00-00-0199e5c2-7a3b-7c10-9d2e-5f1a2b3c4d5e.jsonl"
    path.write_bytes(b"\n".join([*BEFORE, *lines, *AFTER]) + b"\n")
    expected = parse_rollout_file(path, reference=True).__getstate__()
    assert parse_rollout_file(path).__getstate__() == expected
    return rollout_native.scan_file(FileState(path), path.read_bytes()) is None


def test_good_files_are_read_not_declined(tmp_path: Path) -> None:
    assert not check(tmp_path)
    assert not check(tmp_path, b"", b"  \t", b"\r", rec(5, "future_record", {}))


GRAMMAR = [
    # broken lines: counted as such, never declined
    b'{"type":"event_msg","payload":{"type":"token_count"',
    b'{"type":"event_msg",}',
    b'{"a":01}',
    b'{"a":1.}',
    b'{"a":.5}',
    b'{"a":-}',
    b'{"a":+1}',
    b'{"a":tru}',
    b'{"a":nul}',
    b'{"a":"\x01"}',
    b'{"a":"\x1f"}',
    b'{"a":"\xff"}',
    b'{"a":"\xc0\x80"}',
    b'{"a":"\xed\xa0\x80"}',
    b'{"a":"\xf4\x90\x80\x80"}',
    b'{"a":"\\x"}',
    b'{"a":"\\u12"}',
    b'{"a":"\\ud800"}',
    b'{"a":"\\udc00\\ud800"}',
    b'\xef\xbb\xbf{"a":1}',
    b'{"a":1}\x00',
    b'{"a":1} x',
    b'{"a":1}\x0c',
    b"\x0b",
    b"   ",
    b"[1,2]",
    b'"text"',
    b"42",
    b"null",
    b"[" * 1100 + b"]" * 1100,
    b'{"a":1e400}',
    # valid: read, or declined when the scanner is not sure
    b'{"a":"\\ud83d\\ude00","b":"\xf0\x9f\x98\x80","c":"\\u00e9\\n\\t\\"\\\\\\/"}',
    b'{"a":18446744073709551615,"b":18446744073709551616,"c":-9223372036854775809}',
    b'{"a":123456789012345678,"b":1234567890123456789}',
    b'{"a":0.1e-400,"b":1E+2,"c":-0,"d":-0.0}',
    b'{"a":[' + b"[" * 490 + b"]" * 490 + b"]}",
    b'{"a":[' + b"[" * 600 + b"]" * 600 + b"]}",
    b'{"type":"response_item","type":"turn_context","payload":{}}',
    b'{"typ\\u0065":"turn_context","payload":{"model":"m2"}}',
    b'{"type":"turn_\\u0063ontext","payload":{"model":"m\\u00e9"}}',
    b'{"type":"event_msg","payload":{"type":"token_count","type":"x"}}',
    b'{"type":"response_item","payload":{"type":"function_call","type":"message"}}',
    b'{"type":"response_item","payload":{"type":"local_shell_call"}}',
    b'{"type":"custom_tool_call"}',
    b'{"type":7}',
    b"{}",
    b' \t{"type":"response_item","payload":"text"}\t \r',
]


@pytest.mark.parametrize("line", GRAMMAR, ids=range(len(GRAMMAR)))
def test_json_at_the_edges_of_the_grammar(tmp_path: Path, line: bytes) -> None:
    check(tmp_path, line)


STAMPS = [
    "2026-06-01T10:00:05Z",
    "2026-06-01T10:00:05.1Z",
    "2026-06-01T10:00:05.123456Z",
    "2026-06-01T10:00:05.1234567Z",
    "2026-06-01T10:00:05.123+00:00",
    "2026-06-01T12:00:05.123+02:00",
    "2026-06-01T10:00:05.123-00:00",
    "2026-06-01T10:00:05.123",
    "2026-06-01T10:00:05.123z",
    "2026-06-01 10:00:05.123Z",
    "2026-06-01T10:00:60.000Z",
    "2026-02-29T10:00:05.000Z",
    "2024-02-29T10:00:05.000Z",
    "2026-13-01T10:00:05.000Z",
    "0000-01-01T00:00:00.000Z",
    "0001-01-01T00:30:00.000+01:00",
    "9999-12-31T23:59:59.999Z",
    "1969-12-31T23:59:59.999Z",
    "not a time",
    "",
]


@pytest.mark.parametrize("stamp", STAMPS)
@pytest.mark.parametrize("kind", ["token_count", "usage_record", "turn_context", "session_meta"])
def test_timestamps_of_every_form(tmp_path: Path, stamp: str, kind: str) -> None:
    info = {"total_token_usage": usage(250, 20, 7), "last_token_usage": usage(150, 10, 2)}
    lines = {
        "token_count": {"type": "event_msg", "payload": {"type": "token_count", "info": info}},
        "usage_record": {"type": "token_usage_record", "payload": {"usage": usage(3, 0, 1)}},
        "turn_context": {"type": "turn_context", "payload": {"model": "m"}},
        "session_meta": {"type": "session_meta", "payload": {"id": "other"}},
    }
    check(tmp_path, json.dumps({"timestamp": stamp, **lines[kind]}).encode())


WINDOWS: list[Any] = [
    {"used_percent": 1000, "window_minutes": 300, "resets_at": 1_780_000_000},
    {"used_percent": 1000.0, "window_minutes": 300},
    {"used_percent": 1000.5, "window_minutes": 300},
    {"used_percent": 999.999, "window_minutes": 1},
    {"used_percent": 1e2, "window_minutes": 300},
    {"used_percent": -0.0, "window_minutes": 300},
    {"used_percent": 0.1e-5, "window_minutes": 300},
    {"used_percent": 5, "window_minutes": 0},
    {"used_percent": 5, "window_minutes": 10_000_001},
    {"used_percent": 5, "window_minutes": 300, "resets_at": 1.5},
    {"used_percent": 5, "window_minutes": 300, "resets_at": None, "resets_in_seconds": 2.5},
    {"used_percent": 5, "window_minutes": 300, "reset_after_seconds": -100},
    {"used_percent": 5, "window_minutes": 300, "resets_in_seconds": 10**15},
    {"used_percent": 5, "window_minutes": 300, "resets_at": 10**12},
    {"used_percent": 5, "window_minutes": 300, "resets_at": "soon"},
    [],
    None,
]


@pytest.mark.parametrize("window", WINDOWS, ids=range(len(WINDOWS)))
@pytest.mark.parametrize("limit_id", ["codex", None, 5, "x" * 100])
def test_plan_windows(tmp_path: Path, window: Any, limit_id: Any) -> None:
    limits = {"limit_id": limit_id, "primary": window, "plan_type": "pro"}
    payload = {"type": "token_count", "info": None, "rate_limits": limits}
    flat = {"primary_used_percent": 5.0, "primary_window_minutes": 300}
    check(tmp_path, rec(6, "event_msg", payload))
    check(tmp_path, rec(6, "event_msg", {**payload, "rate_limits": {**limits, **flat}}))


@pytest.mark.parametrize("kind", sorted(KINDS), ids=lambda kind: f"{kind[0]}-{kind[1]}")
def test_every_field_holding_every_type_one_file_each(tmp_path: Path, kind: Any) -> None:
    """One deviation per file, so that the scanner's own decision on it is what is checked."""
    base = KINDS[kind]
    declined = 0
    paths = [path for path in _paths(base) if path]
    for path in paths:
        for value in TYPES:
            declined += check(tmp_path, json.dumps(_replace(base, path, value)).encode())
    assert declined < len(paths) * len(TYPES)  # most deviations are read, not declined


FIELDS = [*usage(0, 0, 0), "cache_write_input_tokens"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", [MAX_TOKENS, MAX_TOKENS + 1, -1, 0, None, 2**63, 1.0, True])
@pytest.mark.parametrize("where", ["last_token_usage", "total_token_usage", "record"])
def test_token_counts_at_the_limits(tmp_path: Path, field: str, value: Any, where: str) -> None:
    tokens = {**usage(MAX_TOKENS, 7, 3), field: value}
    if where == "record":
        check(tmp_path, rec(6, "token_usage_record", {"response_id": "r-6", "usage": tokens}))
        return
    info = {"total_token_usage": usage(MAX_TOKENS, 7, 3), "last_token_usage": usage(5, 0, 1)}
    payload = {"type": "token_count", "info": {**info, where: tokens}}
    check(tmp_path, rec(6, "event_msg", payload))


REAL = [line for lines in (BEFORE, AFTER) for line in lines]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    line=st.sampled_from(REAL),
    edits=st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.sampled_from(["cut", "flip", "insert", "drop"]),
            st.binary(min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_damaged_bytes_of_real_lines(tmp_path_factory: Any, line: bytes, edits: Any) -> None:
    data = bytearray(line)
    for at, how, junk in edits:
        at %= len(data) + 1
        if how == "cut":
            del data[at:]
        elif how == "flip" and at < len(data):
            data[at] ^= junk[0]
        elif how == "insert":
            data[at:at] = junk
        elif at < len(data):
            del data[at]
        if not data:
            data = bytearray(b"{")
    check(tmp_path_factory.mktemp("damaged"), bytes(data))


@given(
    ts_us=st.integers(-(2**62), 2**62),
    total=st.none() | st.tuples(*[st.integers(0, 10**15)] * 5),
    last=st.tuples(*[st.integers(-(2**62), 2**62)] * 5),
)
def test_request_keys_are_pythons_hashes(ts_us: int, total: Any, last: Any) -> None:
    native = rollout_native._native
    assert native is not None
    same = (total or (), last)
    assert native.keys(ts_us, total, last) == (hash(same), hash((ts_us, *same)))


@given(text=st.text())
def test_record_keys_are_the_python_stable_key(text: str) -> None:
    native = rollout_native._native
    assert native is not None
    assert native.stable_key(text) == stable_key(text)


@pytest.mark.parametrize("path", sorted(DATA.glob("*.jsonl")), ids=lambda path: path.name)
def test_real_codex_cli_files_are_read_by_the_scanner(path: Path) -> None:
    assert rollout_native.scan_file(FileState(path), path.read_bytes()) is not None
    expected = parse_rollout_file(path, reference=True).__getstate__()
    assert parse_rollout_file(path).__getstate__() == expected
