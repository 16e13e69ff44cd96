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
candidates of this one file and the latest plan-window observations.
"""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import blake2b
from pathlib import Path
from typing import Any, Final, TypeGuard

from codex_credits.io.bounds import MAX_SECONDS, MIN_SECONDS, in_range_us

__all__ = [
    "Candidate",
    "FileResult",
    "WindowObservation",
    "loads",
    "parse_rollout_file",
]

try:  # orjson is the field's standard fast JSON parser; json is the fallback.
    import orjson

    loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - exercised only without orjson installed
    import json

    loads = json.loads  # (RecursionError on deep nesting is caught as a bad line)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
TOOL_ITEMS: Final = frozenset({"function_call", "custom_tool_call", "local_shell_call"})
_FAST_TIERS: Final = frozenset({"priority", "fast"})
_USAGE_FIELDS: Final = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
)
_PROBLEM_LIMIT: Final = 1000
_REPLAY_SPAN_US: Final = 2_000_000
MAX_TOKENS: Final = 10**15
"""The most tokens one request may carry in one field; more is a bad line.

A thousand times any context window, and small enough that every card prices a
request within a 64-bit micro-CCU column."""
_MAX_PERCENT: Final = 1000  # a used percentage beyond this is not an observation
_MAX_WINDOW_MINUTES: Final = 10_000_000  # about 19 years

Usage = tuple[int, int, int, int, int]
"""input, cached input, output, reasoning output, total tokens."""


class _BadLine(Exception):
    pass


class Candidate:
    """One request found in a file, before de-duplication across files."""

    __slots__ = (
        "cache_write",
        "fast",
        "key_full",
        "key_totals",
        "line",
        "model",
        "paired",
        "path",
        "project",
        "response_id",
        "session",
        "suspect",
        "tools",
        "ts_us",
        "usage",
    )

    def __init__(
        self,
        ts_us: int,
        usage: Usage,
        key_totals: int,
        key_full: int,
        state: _FileState,
        line: int,
        response_id: str | None = None,
        cache_write: int = 0,
    ) -> None:
        self.ts_us = ts_us
        self.usage = usage
        self.key_totals = key_totals
        self.key_full = key_full
        self.model = state.model
        self.fast = state.fast
        self.session = state.session
        self.project = state.project
        self.suspect = state.replay or state.forked or ts_us < state.start_us
        self.tools = 0
        self.line = line
        self.path = state.path
        self.response_id = response_id
        self.cache_write = cache_write
        self.paired: tuple[int, int] | None = None
        """``(key_full, key_totals)`` of the token_count this record stands for."""

    def pack(self) -> _Packed:
        """The fields as one tuple (cheap to send between processes)."""
        return (
            self.ts_us,
            self.usage,
            self.key_totals,
            self.key_full,
            self.model,
            self.fast,
            self.session,
            self.project,
            self.suspect,
            self.tools,
            self.line,
            self.path,
            self.response_id,
            self.cache_write,
            self.paired,
        )

    @classmethod
    def unpack(cls, packed: _Packed) -> Candidate:
        """The candidate :meth:`pack` gave."""
        self = cls.__new__(cls)
        (
            self.ts_us,
            self.usage,
            self.key_totals,
            self.key_full,
            self.model,
            self.fast,
            self.session,
            self.project,
            self.suspect,
            self.tools,
            self.line,
            self.path,
            self.response_id,
            self.cache_write,
            self.paired,
        ) = packed
        return self


_Packed = tuple[
    int,
    "Usage",
    int,
    int,
    str | None,
    bool,
    str | None,
    str | None,
    bool,
    int,
    int,
    str,
    str | None,
    int,
    tuple[int, int] | None,
]


class WindowObservation:
    """A plan window seen in a ``rate_limits`` object (raw values, converted later)."""

    __slots__ = ("limit_id", "minutes", "observed_us", "plan_type", "resets_at", "used_percent")

    def __init__(
        self,
        observed_us: int,
        limit_id: str | None,
        minutes: int,
        used_percent: float | int,
        resets_at: int | None,
        plan_type: str | None,
    ) -> None:
        self.observed_us = observed_us
        self.limit_id = limit_id
        self.minutes = minutes
        self.used_percent = used_percent
        self.resets_at = resets_at
        self.plan_type = plan_type

    def pack(self) -> tuple[int, str | None, int, float | int, int | None, str | None]:
        """The constructor's arguments, in order."""
        return (
            self.observed_us,
            self.limit_id,
            self.minutes,
            self.used_percent,
            self.resets_at,
            self.plan_type,
        )


class FileResult:
    """What one file yielded: candidates, counters, problems and window observations."""

    __slots__ = (
        "bad_lines",
        "bad_rate_limits",
        "candidates",
        "duplicate_records",
        "lines",
        "problems",
        "records",
        "repeats",
        "resets",
        "token_counts",
        "unattributed_tools",
        "unknown",
        "unreadable",
        "windows",
    )

    def __init__(self) -> None:
        self.candidates: list[Candidate] = []
        self.bad_rate_limits = 0
        self.unreadable = 0
        self.duplicate_records = 0
        self.lines = 0
        self.bad_lines = 0
        self.problems: list[str] = []
        self.records = 0
        self.repeats = 0
        self.resets = 0
        self.token_counts = 0
        self.unattributed_tools = 0
        self.unknown = 0
        self.windows: dict[tuple[str, int], WindowObservation] = {}

    def __getstate__(self) -> tuple[Any, ...]:
        """Candidates as tuples: a worker hands back plain data, quick to pickle and load."""
        return (
            [c.pack() for c in self.candidates],
            self.bad_rate_limits,
            self.unreadable,
            self.duplicate_records,
            self.lines,
            self.bad_lines,
            self.problems,
            self.records,
            self.repeats,
            self.resets,
            self.token_counts,
            self.unattributed_tools,
            self.unknown,
            [(key, obs.pack()) for key, obs in self.windows.items()],
        )

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (
            packed,
            self.bad_rate_limits,
            self.unreadable,
            self.duplicate_records,
            self.lines,
            self.bad_lines,
            self.problems,
            self.records,
            self.repeats,
            self.resets,
            self.token_counts,
            self.unattributed_tools,
            self.unknown,
            windows,
        ) = state
        unpack = Candidate.unpack
        self.candidates = [unpack(p) for p in packed]
        self.windows = {key: WindowObservation(*obs) for key, obs in windows}


class _FileState:
    __slots__ = (
        "duplicate_records",
        "fast",
        "forked",
        "last",
        "limits",
        "model",
        "observing",
        "path",
        "pending_tools",
        "prev_total",
        "project",
        "replay",
        "replay_us",
        "responses",
        "root_id",
        "session",
        "start_us",
    )

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.session: str | None = _session_from_name(path)
        self.root_id: str | None = None
        self.project: str | None = None
        self.model: str | None = None
        self.fast = False
        self.forked = False
        self.replay = False
        self.replay_us = 0
        self.observing = True
        self.start_us = -(2**62)
        self.prev_total: Usage | None = None
        self.last: Candidate | None = None
        self.pending_tools = 0
        self.responses: dict[str, Candidate] = {}
        self.duplicate_records = 0
        self.limits: dict[tuple[Any, str], tuple[int, _Window, str | None, str | None]] = {}


def parse_rollout_file(path: Path, *, reference: bool = False) -> FileResult:
    """Read one rollout file into a :class:`FileResult`; never raises for bad lines.

    Every line is decoded in full, so every broken line is found and counted.
    The file is read whole and then line by line in memory, and the most frequent
    record (a ``response_item``) is handled inline. ``reference=True`` reads
    the file line by line and hands every line to one general function
    instead: slower, the same result (a property test holds the two together).

    Raises:
        OSError: the file cannot be opened or read.
    """
    result = FileResult()
    state = _FileState(path)
    records: list[Candidate] = []
    if reference:
        with path.open("rb") as handle:
            for line_no, raw in enumerate(handle, 1):
                result.lines = line_no
                if len(raw) < 3 and not raw.strip():
                    continue
                _apply(raw, line_no, state, result, records)
        return _finish(state, result, records)
    line_no = 0
    for raw in io.BytesIO(path.read_bytes()):  # splits at b"\n" with memchr, keeps it
        line_no += 1
        if len(raw) < 3 and not raw.strip():
            continue
        obj = _decode(raw, line_no, state, result)
        if obj is None:
            continue
        if obj.get("type") == "response_item":  # a message, reasoning, output or tool call
            payload = obj.get("payload")
            if type(payload) is dict:
                sub = payload.get("type")
                if type(sub) is str and sub in TOOL_ITEMS:
                    _tool_call(state)
            continue
        _dispatch(obj, line_no, state, result, records)
    result.lines = line_no
    return _finish(state, result, records)


def _finish(state: _FileState, result: FileResult, records: list[Candidate]) -> FileResult:
    result.unattributed_tools = state.pending_tools
    result.duplicate_records = state.duplicate_records
    _observe(state, result)
    if records:
        _pair_records(result.candidates, records)
    return result


def _apply(
    raw: bytes, line_no: int, state: _FileState, result: FileResult, records: list[Candidate]
) -> None:
    """Decode one line in full and apply it to the file's state."""
    obj = _decode(raw, line_no, state, result)
    if obj is not None:
        _dispatch(obj, line_no, state, result, records)


def _decode(raw: bytes, line_no: int, state: _FileState, result: FileResult) -> Any:
    """The line's JSON object; None (counted as a bad line) when it is not one."""
    try:
        obj = loads(raw)
    except (ValueError, RecursionError):
        _bad(result, state.path, line_no, "not valid JSON (a truncated or corrupt line)")
        return None
    if type(obj) is not dict:
        _bad(result, state.path, line_no, "not a JSON object")
        return None
    return obj


def _dispatch(
    obj: dict[str, Any],
    line_no: int,
    state: _FileState,
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
    obj: dict[str, Any], payload: dict[str, Any], state: _FileState, result: FileResult, line: int
) -> None:
    limits = payload.get("rate_limits")
    ts_us: int | None = None
    if limits is not None:
        ts_us = _timestamp(obj)
        # Copied history repeats old observations: they are not new ones.
        if state.observing and ts_us >= state.start_us:
            problems = _rate_limits(limits, ts_us, state)
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
    _add(state, result.candidates, candidate)


def _usage_record(
    obj: dict[str, Any], payload: dict[str, Any], state: _FileState, line: int
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


def _add(state: _FileState, candidates: list[Candidate], candidate: Candidate) -> None:
    if state.pending_tools:
        candidate.tools += state.pending_tools
        state.pending_tools = 0
    candidates.append(candidate)
    state.last = candidate


def _tool_call(state: _FileState) -> None:
    if state.last is not None:
        state.last.tools += 1
    else:
        state.pending_tools += 1


def _turn_context(obj: dict[str, Any], payload: dict[str, Any], state: _FileState) -> None:
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
        state.fast = payload.get("service_tier") in _FAST_TIERS
    cwd = payload.get("cwd")
    if type(cwd) is str and cwd and not state.replay:
        state.project = _project(cwd)


def _thread_settings(payload: dict[str, Any], state: _FileState) -> None:
    settings = payload.get("thread_settings")
    if type(settings) is dict and "service_tier" in settings:
        state.fast = settings.get("service_tier") in _FAST_TIERS


def _session_meta(obj: dict[str, Any], payload: dict[str, Any], state: _FileState) -> None:
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


# -- rate limits ------------------------------------------------------------------------------


_NO_PROBLEMS: Final[list[str]] = []  # shared, never appended to
_Window = tuple[int, int | float, int | None]
"""A checked window: minutes, used percent, reset time (Unix seconds) or None."""


def _rate_limits(limits: Any, ts_us: int, state: _FileState) -> list[str]:
    """Keep the file's latest good window of each limit; returns the bad windows' problems.

    A ``null`` window (a limit without windows) is no observation and is skipped
    silently; a window with a value out of range is skipped and reported.
    """
    if type(limits) is not dict:
        return []  # tolerated: rate limits never decide token usage
    limit_id = limits.get("limit_id")
    if type(limit_id) is not str:
        limit_id = None  # tolerated: only a string names a limit
    plan = limits.get("plan_type")
    plan = plan if type(plan) is str else None
    problems: list[str] = _NO_PROBLEMS
    seen_limits = state.limits
    for name in ("primary", "secondary"):
        window = limits.get(name)
        if window is None:
            window = _flat_window(limits, name)
            if window is None:
                continue
        try:
            checked = _check_window(window, ts_us)
        except _BadLine as exc:
            if problems is _NO_PROBLEMS:
                problems = []
            problems.append(f"rate_limits.{name}: {exc}; the observation is skipped")
            continue
        key = (limit_id, name)
        seen = seen_limits.get(key)
        if seen is None or seen[0] <= ts_us:
            seen_limits[key] = (ts_us, checked, limit_id, plan)
    return problems


def _check_window(window: Any, ts_us: int) -> _Window:
    """The window's minutes, used percentage and reset time, each within its limits."""
    if type(window) is dict:  # the usual shape, all in range: no further look
        minutes = window.get("window_minutes")
        used = window.get("used_percent")
        resets_at = window.get("resets_at")
        if (
            type(minutes) is int
            and type(resets_at) is int
            and (type(used) is float or type(used) is int)
            and 0 < minutes <= _MAX_WINDOW_MINUTES
            and 0 <= used <= _MAX_PERCENT
            and MIN_SECONDS <= resets_at <= MAX_SECONDS
        ):
            return minutes, used, resets_at
    else:
        raise _BadLine("is not an object")
    minutes = window.get("window_minutes")
    if type(minutes) is not int or not 0 < minutes <= _MAX_WINDOW_MINUTES:
        raise _BadLine(
            f"window_minutes {minutes!r} is not a whole number in 1..{_MAX_WINDOW_MINUTES}"
        )
    used = window.get("used_percent")
    if not (type(used) is int or type(used) is float) or not 0 <= used <= _MAX_PERCENT:
        raise _BadLine(f"used_percent {used!r} is not a number in 0..{_MAX_PERCENT}")
    resets_at = window.get("resets_at")
    if resets_at is None or type(resets_at) is float:
        after = window.get("resets_in_seconds")
        if after is None:
            after = window.get("reset_after_seconds")
        if after is None:
            return minutes, used, None
        if not _is_number(after) or not -MAX_SECONDS <= after <= MAX_SECONDS:
            raise _BadLine(f"resets_in_seconds {after!r} is out of range")
        resets_at = ts_us // 1_000_000 + int(after)
    elif type(resets_at) is not int:
        raise _BadLine(f"resets_at {resets_at!r} is not Unix seconds")
    if not MIN_SECONDS <= resets_at <= MAX_SECONDS:
        raise _BadLine(f"resets_at {resets_at!r} is outside the years 1 to 9999")
    return minutes, used, resets_at


def _observe(state: _FileState, result: FileResult) -> None:
    for ts_us, (minutes, used, resets_at), limit_id, plan in state.limits.values():
        # CLIs before limit ids reported only the Codex limit itself.
        key = (limit_id or "codex", minutes)
        seen = result.windows.get(key)
        if seen is None or seen.observed_us <= ts_us:
            result.windows[key] = WindowObservation(ts_us, limit_id, minutes, used, resets_at, plan)


def _stable_key(text: str) -> int:
    """A 64-bit key for ``text`` that is the same in every process.

    ``hash(str)`` is salted per process, so keys sent back from worker
    processes (or compared across runs) must not use it.
    """
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "little", signed=True)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return type(value) is int or type(value) is float


def _flat_window(limits: dict[str, Any], name: str) -> dict[str, Any] | None:
    used = limits.get(f"{name}_used_percent")
    if used is None:
        return None
    return {
        "used_percent": used,
        "window_minutes": limits.get(f"{name}_window_minutes"),
        "resets_in_seconds": limits.get(f"{name}_resets_in_seconds")
        or limits.get(f"{name}_reset_after_seconds"),
    }


# -- small parsers ----------------------------------------------------------------------------


def _usage(value: Any, name: str) -> Usage | None:
    if value is None:
        return None
    if type(value) is dict:
        get = value.get
        inp = get("input_tokens", 0)
        cached = get("cached_input_tokens", 0)
        out = get("output_tokens", 0)
        reasoning = get("reasoning_output_tokens", 0)
        if (
            type(inp) is int
            and type(cached) is int
            and type(out) is int
            and type(reasoning) is int
            and 0 <= cached <= inp <= MAX_TOKENS
            and 0 <= out <= MAX_TOKENS
            and 0 <= reasoning <= MAX_TOKENS
        ):
            total = get("total_tokens")
            if type(total) is not int or total < 0:
                total = inp + out
            return (inp, cached, out, reasoning, total)
    return _usage_problem(value, name)


def _usage_problem(value: Any, name: str) -> Usage:
    """The slow path of :func:`_usage`: ``null`` fields are 0, anything else wrong is named."""
    if type(value) is not dict:
        raise _BadLine(f"{name} is not an object")
    numbers = []
    for field in _USAGE_FIELDS:
        number = value.get(field)
        if number is None:
            number = 0
        elif type(number) is not int or not 0 <= number <= MAX_TOKENS:
            raise _BadLine(
                f"{name}.{field} must be a whole number in 0..{MAX_TOKENS}, got {number!r}"
            )
        numbers.append(number)
    inp, cached, out, reasoning = numbers
    if cached > inp:
        raise _BadLine(f"{name}: cached_input_tokens ({cached}) exceed input_tokens ({inp})")
    total = value.get("total_tokens")
    if type(total) is not int or total < 0:
        total = inp + out
    return (inp, cached, out, reasoning, total)


def _int_field(value: Any, name: str) -> int:
    if type(value) is dict:
        number = value.get(name)
        if type(number) is int and number >= 0:
            if number > MAX_TOKENS:
                raise _BadLine(f"{name} {number} is beyond {MAX_TOKENS}")
            return number
    return 0


def _timestamp(obj: dict[str, Any]) -> int:
    stamp = obj.get("timestamp")
    if type(stamp) is not str:
        raise _BadLine("missing timestamp")
    return _parse_ts(stamp)


def _parse_ts(stamp: str) -> int:
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        raise _BadLine(f"timestamp {stamp!r} is not ISO 8601") from None
    if at.tzinfo is None:
        raise _BadLine(f"timestamp {stamp!r} has no timezone")
    delta = at - _EPOCH
    us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not in_range_us(us):
        raise _BadLine(f"timestamp {stamp!r} is outside the UTC years 1 to 9999")
    return us


def _project(cwd: str) -> str | None:
    name = cwd.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name or None


def _session_from_name(path: Path) -> str:
    stem = path.stem
    # rollout-2025-11-22T20-45-35-<uuid>: the uuid is the last five dash groups.
    parts = stem.split("-")
    if stem.startswith("rollout-") and len(parts) >= 6:
        return "-".join(parts[-5:])
    return stem


def _bad(result: FileResult, path: Path | str, line: int, message: str) -> None:
    result.bad_lines += 1
    _note(result, path, line, message)


def _note(result: FileResult, path: Path | str, line: int, message: str) -> None:
    if len(result.problems) < _PROBLEM_LIMIT:
        result.problems.append(f"{path}:{line}: {message}")
