"""The fast rollout reader equals its reference, on random logs full of traps.

The fast paths read a file whole: the compiled scanner (where it is built)
and the Python reader that splits it at newlines in memory and handles
response items inline; worker processes hand back compact tuples. The reference reads the file line by line and sends
every line through one general function. Random
files mix real-shaped records with torn lines, repeated lines, junk, blank
lines, CRLF endings, byte-order marks, bytes that are not UTF-8 and a last
line with or without its newline: both paths must give the same candidates,
counts, problems and plan windows, and any number of workers the same log.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_credits import read_codex_logs
from codex_credits.io import rollout
from codex_credits.io.rollout_parse import parse_rollout_file

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

SECOND = st.integers(0, 59)
STAMP = st.builds(
    lambda d, h, m, s, ms, tail: f"2026-06-{d:02d}T{h:02d}:{m:02d}:{s:02d}.{ms:03d}{tail}",
    st.integers(1, 3),
    st.integers(0, 23),
    st.integers(0, 59),
    SECOND,
    st.integers(0, 999),
    st.sampled_from(["Z", "Z", "Z", "+00:00", "+02:00", ""]),
)
TOKENS = st.integers(0, 200_000)


@st.composite
def usage(draw: st.DrawFn) -> dict[str, Any]:
    inp = draw(TOKENS)
    out = draw(TOKENS)
    value: dict[str, Any] = {
        "input_tokens": inp,
        "cached_input_tokens": draw(st.integers(0, inp)),
        "output_tokens": out,
        "reasoning_output_tokens": draw(st.integers(0, out)),
        "total_tokens": inp + out,
    }
    if draw(st.booleans()):
        value["cache_write_input_tokens"] = draw(st.sampled_from([0, 5, -1, "x"]))
    if draw(st.integers(0, 20)) == 0:
        value[draw(st.sampled_from(list(value)))] = draw(st.sampled_from([None, -3, 1.5, "7"]))
    return value


WINDOW = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "used_percent": st.one_of(st.floats(0, 100), st.sampled_from([-1, 2000, "x"])),
            "window_minutes": st.sampled_from([300, 10_080, 0, "300"]),
            "resets_at": st.one_of(st.integers(1_780_000_000, 1_790_000_000), st.none()),
        }
    ),
)


def record(stamp: str, kind: str, payload: Any) -> dict[str, Any]:
    return {"timestamp": stamp, "type": kind, "payload": payload}


@st.composite
def good_line(draw: st.DrawFn) -> bytes:
    stamp = draw(STAMP)
    choice = draw(st.integers(0, 9))
    if choice <= 2:
        total, last = draw(usage()), draw(usage())
        limits = draw(
            st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {"limit_id": st.sampled_from(["codex", None]), "primary": WINDOW}
                ),
            )
        )
        info = {"total_token_usage": total, "last_token_usage": last}
        payload: Any = {"type": "token_count", "info": info, "rate_limits": limits}
        obj = record(stamp, "event_msg", payload)
    elif choice == 3:
        payload = {"cwd": "/w/p", "model": draw(st.sampled_from(["gpt-5.4", "gpt-5.5", ""]))}
        if draw(st.booleans()):
            payload["service_tier"] = draw(
                st.sampled_from(["priority", "default", None, ["priority"], {"a": 1}, 3])
            )
        obj = record(stamp, "turn_context", payload)
    elif choice == 4:
        sid = draw(st.sampled_from(["s-1", "s-2"]))
        payload = {"id": sid, "timestamp": stamp, "cwd": "/w/p"}
        if draw(st.booleans()):
            payload["forked_from_id"] = "s-0"
        obj = record(stamp, "session_meta", payload)
    elif choice == 5:
        rid = draw(st.sampled_from(["resp_1", "resp_2", None]))
        payload = {"response_id": rid, "usage": draw(usage()), "model": "gpt-5.4"}
        obj = record(stamp, "token_usage_record", payload)
    elif choice == 6:
        kind = draw(st.sampled_from(["function_call", "custom_tool_call", "local_shell_call"]))
        obj = record(stamp, "response_item", {"type": kind, "name": "shell"})
    elif choice == 7:
        kind = draw(st.sampled_from(["reasoning", "message", "function_call_output"]))
        obj = record(stamp, "response_item", {"type": kind, "text": draw(st.text(max_size=30))})
    elif choice == 8:
        obj = record(stamp, draw(st.sampled_from(["compacted", "future", "event_msg"])), {})
    else:
        obj = {"type": draw(st.sampled_from(["function_call", [1], None, 3])), "x": 1}
    return json.dumps(obj, ensure_ascii=draw(st.booleans())).encode()


JUNK = st.sampled_from(
    [
        b"",
        b" ",
        b"  ",
        b"\t \t",
        b"\r",
        b"[]",
        b"1",
        b"null",
        b'"text"',
        b"{",
        b"\xff\xfe{}",
        b'{"type":"event_msg","payload":{"type":"token_count","info":{}}}',
        b'{"timestamp":"2026-06-01T00:00:00.000Z","type":"response_item","payload":[1]}',
        b'{"timestamp":"2026-06-01T00:00:00.000Z","type":"response_item"}',
        b'{"timestamp":"2026-13-01T00:00:00.000Z","type":"turn_context","payload":{}}',
        b"[" * 2000 + b"]" * 2000,
    ]
)


@st.composite
def rollout_file(draw: st.DrawFn) -> bytes:
    lines: list[bytes] = []
    for _ in range(draw(st.integers(0, 25))):
        pick = draw(st.integers(0, 9))
        if pick <= 5 or not lines:
            lines.append(draw(good_line()))
        elif pick == 6:  # a torn write: a prefix of a line
            whole = draw(good_line())
            lines.append(whole[: draw(st.integers(0, len(whole)))])
        elif pick == 7:  # a repeated line (resumes copy lines verbatim)
            lines.append(draw(st.sampled_from(lines)))
        elif pick == 8:
            lines.append(draw(JUNK))
        else:  # a byte-order mark, or a carriage return from another system
            lines.append(draw(st.sampled_from([b"\xef\xbb\xbf", b""])) + draw(good_line()) + b"\r")
    body = b"\n".join(lines)
    return body + b"\n" if draw(st.booleans()) else body


def reference(path: Path) -> Any:
    return parse_rollout_file(path, reference=True).__getstate__()


@SETTINGS
@given(files=st.lists(rollout_file(), min_size=1, max_size=3))
def test_the_fast_path_equals_the_reference(tmp_path_factory: Any, files: list[bytes]) -> None:
    folder = tmp_path_factory.mktemp("codex")
    for index, data in enumerate(files):
        path = folder / f"rollout-{index}.jsonl"
        path.write_bytes(data)
        for compiled in (True, False):  # the compiled scanner (where built), and Python
            fast = parse_rollout_file(path, compiled=compiled)
            assert fast.__getstate__() == reference(path)
            # what a worker process hands back is the same result
            assert pickle.loads(pickle.dumps(fast)).__getstate__() == fast.__getstate__()


def view(folder: Path, workers: int) -> tuple[Any, ...]:
    result = read_codex_logs(folder, workers=workers)
    log = result.log
    columns = ("ts_us", "input_tokens", "cached_input_tokens", "output_tokens", "tool_calls")
    return (
        result.summary,
        [log.column(name).tolist() for name in columns],
        [[log.labels(name)[code] for code in log.column(name).tolist()] for name in ("model",)],
    )


@settings(SETTINGS, max_examples=max(5, EXAMPLES // 10))
@given(files=st.lists(rollout_file(), min_size=2, max_size=5))
def test_worker_processes_give_the_same_log(tmp_path_factory: Any, files: list[bytes]) -> None:
    folder = tmp_path_factory.mktemp("codex")
    for index, data in enumerate(files):
        (folder / f"rollout-{index}.jsonl").write_bytes(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rollout, "_CHUNK_BYTES", 1)  # one file a chunk: the pool takes some
        assert view(folder, 2) == view(folder, 1)
        assert view(folder, 3) == view(folder, 1)
