"""One Codex CLI rollout file, line by line, into request candidates.

Theory of operation (docs/logs.md, "How a rollout is read"):

* Every line is one JSON object ``{"timestamp", "type", "payload"}``. A line
  that is not valid JSON (a truncated last line, a torn write) or not an
  object is reported with its file and line number and skipped; the rest of
  the file is still read. Unknown record types and fields are ignored.
* ``event_msg``/``token_count`` carries ``info.total_token_usage`` (the
  session's running total) and ``info.last_token_usage`` (the latest
  request). The CLI writes a ``token_count`` again after every turn context
  with the totals unchanged: only a line whose running total *changed* is a
  new request, and its usage is ``last_token_usage``. Running totals are never
  summed. A total lower than the one before (after a context compaction) is a
  reset, counted in the summary, never negative usage.
* ``token_usage_record`` (newer CLIs) is a per-response record with a
  ``response_id``. Where it exists it is the request; the ``token_count`` with
  the same usage in the same file is the same request and is dropped.
* The model comes from the latest ``turn_context``; fast mode from a
  ``service_tier`` of ``priority`` (or ``fast``) there or in
  ``thread_settings_applied``. Tool calls are the ``function_call``,
  ``custom_tool_call`` and ``local_shell_call`` response items; each is charged
  to the request that emitted it (the one just before it in the file).
* A line is *copied history* when it follows a ``session_meta`` of another
  session (a fork replays its parent), sits in a file whose session names a
  parent (``forked_from_id``, a sub-agent spawn) or is older than the file's
  own session start. :mod:`codex_credits.io.rollout` counts such a request
  only when no other file holds it.

Only small per-file state is kept: the running total, the model, the
candidates of this one file and the latest plan-window observations. The
records a file yields are in :mod:`codex_credits.io.rollout_records`, the
plan windows are read by :mod:`codex_credits.io.rollout_limits` and the fields of a
line by :mod:`codex_credits.io.rollout_fields`.
"""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict, deque
from pathlib import Path
from typing import Any, Final

from codex_credits.io.rollout_fields import MAX_TOKENS, loads
from codex_credits.io.rollout_fields import BadLine as _BadLine
from codex_credits.io.rollout_fields import int_field as _int_field
from codex_credits.io.rollout_fields import parse_ts as _parse_ts
from codex_credits.io.rollout_fields import project as _project
from codex_credits.io.rollout_fields import stable_key as _stable_key
from codex_credits.io.rollout_fields import timestamp as _timestamp
from codex_credits.io.rollout_fields import usage as _usage
from codex_credits.io.rollout_limits import read_rate_limits
from codex_credits.io.rollout_native import NOT_JSON as _NOT_JSON
from codex_credits.io.rollout_native import NOT_OBJECT as _NOT_OBJECT
from codex_credits.io.rollout_native import finish_file, scan_file
from codex_credits.io.rollout_records import (
    Candidate,
    FileResult,
    FileState,
)

__all__ = ["MAX_TOKENS", "TOOL_ITEMS", "loads", "parse_rollout_file"]

TOOL_ITEMS: Final = frozenset({"function_call", "custom_tool_call", "local_shell_call"})
_FAST_TIERS: Final = frozenset({"priority", "fast"})
_PROBLEM_LIMIT: Final = 1000
_REPLAY_SPAN_US: Final = 2_000_000


def parse_rollout_file(path: Path, *, reference: bool = False, compiled: bool = True) -> FileResult:
    """Read one rollout file into a :class:`FileResult`; never raises for bad lines.

    Every line is checked in full, so every broken line is found and counted.
    The file is read whole. Where the compiled scanner is built
    (:mod:`codex_credits.io.rollout_native`) it reads the file, unless the
    file has a line it leaves to this reader, or ``compiled=False``. This
    reader decodes each line in memory, handling the most frequent record (a
    ``response_item``) inline. ``reference=True`` reads the file line by line
    and hands every line to one general function instead: slower, the same
    result (property tests hold the three together).

    Raises:
        OSError: the file cannot be opened or read.
    """
    result = FileResult()
    state = FileState(path)
    records: list[Candidate] = []
    if reference:
        with path.open("rb") as handle:
            for line_no, raw in enumerate(handle, 1):
                result.lines = line_no
                if len(raw) < 3 and not raw.strip():
                    continue
                _apply(raw, line_no, state, result, records)
        return _finish(state, result, records)
    with open(path, "rb", buffering=0) as handle:  # one read of the whole file
        data = handle.readall()
    if compiled:
        scanned = scan_file(state, data)
        if scanned is not None:
            result, broken = scanned
            for line, message in broken:
                _bad(result, state.path, line, message)
            return result
    line_no = 0
    for raw in io.BytesIO(data):  # splits at b"\n" with memchr, keeps it
        line_no += 1
        if len(raw) < 3 and not raw.strip():
            continue
        try:
            obj = loads(raw)
        except (ValueError, RecursionError):
            _bad(result, state.path, line_no, _NOT_JSON)
            continue
        if type(obj) is not dict:
            _bad(result, state.path, line_no, _NOT_OBJECT)
            continue
        kind = obj.get("type")
        if kind == "response_item":  # a message, reasoning, output or tool call
            payload = obj.get("payload")
            if type(payload) is dict:
                sub = payload.get("type")
                if type(sub) is str and sub in TOOL_ITEMS:
                    _tool_call(state)
            continue
        if kind == "event_msg":  # most often a token count
            payload = obj.get("payload")
            if type(payload) is dict and payload.get("type") == "token_count":
                try:
                    _token_count(obj, payload, state, result, line_no)
                except _BadLine as exc:
                    _bad(result, state.path, line_no, str(exc))
                continue
        _dispatch(obj, line_no, state, result, records)
    result.lines = line_no
    return _finish(state, result, records)


def _finish(state: FileState, result: FileResult, records: list[Candidate]) -> FileResult:
    found = state.candidates
    if records:
        _pair_records(found, records)
    result.candidates = [candidate.pack() for candidate in found]
    return finish_file(state, result)


def _apply(
    raw: bytes, line_no: int, state: FileState, result: FileResult, records: list[Candidate]
) -> None:
    """Decode one line in full and apply it to the file's state."""
    obj = _decode(raw, line_no, state, result)
    if obj is not None:
        _dispatch(obj, line_no, state, result, records)


def _decode(raw: bytes, line_no: int, state: FileState, result: FileResult) -> Any:
    """The line's JSON object; None (counted as a bad line) when it is not one."""
    try:
        obj = loads(raw)
    except (ValueError, RecursionError):
        _bad(result, state.path, line_no, _NOT_JSON)
        return None
    if type(obj) is not dict:
        _bad(result, state.path, line_no, _NOT_OBJECT)
        return None
    return obj


def _dispatch(
    obj: dict[str, Any],
    line_no: int,
    state: FileState,
    result: FileResult,
    records: list[Candidate],
) -> None:
    """Apply one record to the file's state by its type."""
    kind = obj.get("type")
    payload = obj.get("payload")
    try:
        if kind == "event_msg":
            if type(payload) is dict:
                sub = payload.get("type")
                if sub == "token_count":
                    _token_count(obj, payload, state, result, line_no)
                elif sub == "thread_settings_applied":
                    _thread_settings(payload, state)
        elif kind == "response_item":
            if type(payload) is dict and _is_tool(payload.get("type")):
                _tool_call(state)
        elif kind == "turn_context":
            if type(payload) is dict:
                _turn_context(obj, payload, state)
        elif kind == "session_meta":
            if type(payload) is dict:
                _session_meta(obj, payload, state)
        elif kind == "token_usage_record":
            if type(payload) is dict:
                record = _usage_record(obj, payload, state, line_no)
                if record is not None:
                    records.append(record)
                    result.records += 1
        elif _is_tool(kind):  # the oldest rollouts wrote items unwrapped
            _tool_call(state)
        else:
            result.unknown += 1
    except _BadLine as exc:
        _bad(result, state.path, line_no, str(exc))


def _is_tool(kind: Any) -> bool:
    return type(kind) is str and kind in TOOL_ITEMS


# -- records ----------------------------------------------------------------------------------


def _token_count(
    obj: dict[str, Any], payload: dict[str, Any], state: FileState, result: FileResult, line: int
) -> None:
    limits = payload.get("rate_limits")
    ts_us: int | None = None
    if limits is not None:
        ts_us = _timestamp(obj)
        # Copied history repeats old observations: they are not new ones.
        if state.observing and ts_us >= state.start_us:
            problems = read_rate_limits(limits, ts_us, state)
            if problems:
                for problem in problems:
                    result.bad_rate_limits += 1
                    _note(result, state.path, line, problem)
    info = payload.get("info")
    if info is None:
        return
    if type(info) is not dict:
        raise _BadLine("token_count info is not an object")
    raw_last = info.get("last_token_usage")
    total = _usage(info.get("total_token_usage"), "total_token_usage")
    last = _usage(raw_last, "last_token_usage")
    if total is None and last is None:
        return
    result.token_counts += 1
    if ts_us is None:
        ts_us = _timestamp(obj)
    model = info.get("model") or payload.get("model")
    if type(model) is str and model:
        state.model = model
    if total is not None:
        prev = state.prev_total
        if total == prev:
            result.repeats += 1
            return
        state.prev_total = total
        dropped = prev is not None and (
            total[0] < prev[0]
            or total[1] < prev[1]
            or total[2] < prev[2]
            or total[3] < prev[3]
            or total[4] < prev[4]
        )
        if dropped:
            result.resets += 1
        if last is None:
            if prev is None or dropped:
                last = total
            else:
                last = (
                    total[0] - prev[0],
                    total[1] - prev[1],
                    total[2] - prev[2],
                    total[3] - prev[3],
                    total[4] - prev[4],
                )
    assert last is not None
    # hash(None) is an address, not the same in every process: () stands for it
    same = (total or (), last)
    key_totals = hash(same)
    key_full = hash((ts_us, *same))
    cache_write = _int_field(raw_last, "cache_write_input_tokens")
    candidate = Candidate(ts_us, last, key_totals, key_full, state, line, None, cache_write)
    _add(state, candidate)


def _usage_record(
    obj: dict[str, Any], payload: dict[str, Any], state: FileState, line: int
) -> Candidate | None:
    raw = payload.get("usage")
    usage = _usage(raw, "usage")
    if usage is None:
        return None
    ts_us = _timestamp(obj)
    model = payload.get("model")
    if type(model) is str and model:
        state.model = model
    rid = payload.get("response_id")
    response_id = rid if type(rid) is str and rid else None
    if response_id is not None:
        same = state.responses.get(response_id)
        if same is not None:  # the same response written twice in this file
            state.last = same
            state.duplicate_records += 1
            return None
    key = hash((ts_us, usage, -1)) if response_id is None else _stable_key(response_id)
    cache_write = _int_field(raw, "cache_write_input_tokens")
    candidate = Candidate(ts_us, usage, key, key, state, line, response_id, cache_write)
    if response_id is not None:
        state.responses[response_id] = candidate
    # A record is the request itself; tool calls that follow it are its own.
    if state.pending_tools:
        candidate.tools += state.pending_tools
        state.pending_tools = 0
    state.last = candidate
    return candidate


def _add(state: FileState, candidate: Candidate) -> None:
    if state.pending_tools:
        candidate.tools += state.pending_tools
        state.pending_tools = 0
    state.candidates.append(candidate)
    state.last = candidate


def _tool_call(state: FileState) -> None:
    if state.last is not None:
        state.last.tools += 1
    else:
        state.pending_tools += 1


def _turn_context(obj: dict[str, Any], payload: dict[str, Any], state: FileState) -> None:
    if not state.observing:
        # A fork replays its parent within moments of its creation; a turn
        # context written later is the fork's own, and so are its rate limits.
        stamp = obj.get("timestamp")
        if type(stamp) is str and _parse_ts(stamp) > state.replay_us + _REPLAY_SPAN_US:
            state.observing = True
    model = payload.get("model")
    if type(model) is str and model:
        state.model = model
    if "service_tier" in payload:
        state.fast = _is_fast(payload.get("service_tier"))
    cwd = payload.get("cwd")
    if type(cwd) is str and cwd and not state.replay:
        state.project = _project(cwd)


def _thread_settings(payload: dict[str, Any], state: FileState) -> None:
    settings = payload.get("thread_settings")
    if type(settings) is dict and "service_tier" in settings:
        state.fast = _is_fast(settings.get("service_tier"))


def _is_fast(tier: Any) -> bool:
    """A ``service_tier`` of ``priority`` or ``fast``; any other value, text or not, is not."""
    return type(tier) is str and tier in _FAST_TIERS


def _session_meta(obj: dict[str, Any], payload: dict[str, Any], state: FileState) -> None:
    sid = payload.get("id")
    sid = sid if type(sid) is str and sid else None
    if state.root_id is None:
        state.root_id = sid
        if sid is not None:
            state.session = sid
        cwd = payload.get("cwd")
        if type(cwd) is str and cwd:
            state.project = _project(cwd)
        state.forked = _names_parent(payload)
        stamp = payload.get("timestamp") or obj.get("timestamp")
        if type(stamp) is str:
            with contextlib.suppress(_BadLine):
                state.start_us = _parse_ts(stamp)
        return
    # Another session's header inside this file starts copied history; the
    # file's own header ends it.
    state.replay = sid != state.root_id
    state.observing = not state.replay
    if state.replay:
        stamp = obj.get("timestamp")
        state.replay_us = _parse_ts(stamp) if type(stamp) is str else state.start_us


def _names_parent(payload: dict[str, Any]) -> bool:
    if payload.get("forked_from_id") or payload.get("parent_thread_id"):
        return True
    if payload.get("thread_source") == "subagent":
        return True
    source = payload.get("source")
    return type(source) is dict and bool(source.get("subagent"))


def _pair_records(candidates: list[Candidate], records: list[Candidate]) -> None:
    """Replace each token_count with the per-response record of the same usage."""
    by_usage: dict[tuple[int, ...], deque[int]] = defaultdict(deque)
    for index, candidate in enumerate(candidates):
        by_usage[candidate.usage[:4]].append(index)
    dropped: set[int] = set()
    for record in records:
        queue = by_usage.get(record.usage[:4])
        if queue:
            index = queue.popleft()
            dropped.add(index)
            record.tools += candidates[index].tools
            record.paired = (candidates[index].key_full, candidates[index].key_totals)
    kept = [c for i, c in enumerate(candidates) if i not in dropped]
    kept.extend(records)
    kept.sort(key=lambda c: c.line)
    candidates[:] = kept


def _bad(result: FileResult, path: Path | str, line: int, message: str) -> None:
    result.bad_lines += 1
    _note(result, path, line, message)


def _note(result: FileResult, path: Path | str, line: int, message: str) -> None:
    if len(result.problems) < _PROBLEM_LIMIT:
        result.problems.append(f"{path}:{line}: {message}")
