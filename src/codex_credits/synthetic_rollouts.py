"""Synthetic Codex CLI rollout histories with every known trap, and their true totals.

:func:`write_rollout_history` writes a Codex home (``sessions/YYYY/MM/DD`` and
``archived_sessions/``) of seeded, realistic rollout files and returns the
:class:`RolloutTruth`: exact token totals per UTC day and model, counted as
the requests were generated. The files carry the traps that make naive
readers overcount (docs/logs.md):

* a ``token_count`` repeated with unchanged totals after every turn context;
* running totals that restart after a context compaction;
* forked sessions that replay their parent's history with new timestamps,
  and resumed sessions that copy earlier lines verbatim into a new file;
* per-response ``token_usage_record`` lines next to their ``token_count``
  (and, sometimes, written twice);
* fast mode (``service_tier: "priority"``), rate limits in the new
  (``resets_at``) and old (``resets_in_seconds``) forms, and windows that are
  ``null``;
* truncated and corrupt lines, unknown record types and fields.

The benchmark (benchmarks/bench_logs.py) and the tests use it; it writes only
under the folder it is given.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["RolloutTruth", "usage_object", "write_rollout_history"]

_MODELS = ("gpt-5.1-codex-max", "gpt-5.3-codex", "gpt-5.4", "gpt-5.5", "gpt-5.4-mini")
_TOOLS = ("function_call", "custom_tool_call", "local_shell_call")

try:
    import orjson

    def _dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover

    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()


@dataclass
class RolloutTruth:
    """What the generated history really used: one entry per real model request."""

    by_day_model: dict[tuple[str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    )
    """``(YYYY-MM-DD UTC, model) -> [requests, input, cached, output, reasoning, tool calls]``."""
    fast_requests: int = 0
    bad_lines: int = 0
    files: int = 0
    bytes: int = 0
    latest_windows: dict[int, tuple[float, int, datetime]] = field(default_factory=dict)
    """``window_minutes -> (used_percent, resets_at epoch seconds, observed at)``."""

    def totals(self) -> list[int]:
        """``[requests, input, cached, output, reasoning, tool calls]`` over everything."""
        out = [0] * 6
        for row in self.by_day_model.values():
            for i, v in enumerate(row):
                out[i] += v
        return out


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def usage_object(inp: int, cached: int, out: int, reasoning: int = 0) -> dict[str, int]:
    """A Codex ``TokenUsage`` object (``total_tokens`` = input + output)."""
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


class _Session:
    """Writes one session's lines; records the truth of its own requests."""

    def __init__(
        self, rng: random.Random, start: datetime, truth: RolloutTruth, pad: str, project: str
    ) -> None:
        self.rng = rng
        self.at = start
        self.truth = truth
        self.pad = pad
        self.id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.project = project
        self.lines: list[bytes] = []
        self.total = [0, 0, 0, 0]
        self.model = rng.choice(_MODELS)
        self.fast = rng.random() < 0.15
        self.new_limits = rng.random() < 0.6
        self.records = rng.random() < 0.25
        self.used = [rng.uniform(0, 40), rng.uniform(0, 60)]

    def line(self, kind: str, payload: dict[str, Any], at: datetime | None = None) -> None:
        stamp = _stamp(at or self.at)
        self.lines.append(_dumps({"timestamp": stamp, "type": kind, "payload": payload}))

    def meta(self, forked_from: str | None = None) -> None:
        payload: dict[str, Any] = {
            "id": self.id,
            "timestamp": _stamp(self.at),
            "cwd": f"/home/dev/code/{self.project}",
            "originator": "codex_cli_rs",
            "cli_version": "0.153.4",
            "source": "cli",
            "model_provider": "openai",
        }
        if forked_from is not None:
            payload["forked_from_id"] = forked_from
        self.line("session_meta", payload)

    def tick(self, low: float = 0.2, high: float = 40.0) -> None:
        self.at += timedelta(seconds=self.rng.uniform(low, high))

    def turn_context(self) -> None:
        payload: dict[str, Any] = {
            "cwd": f"/home/dev/code/{self.project}",
            "approval_policy": "on-request",
            "sandbox_policy": {"type": "workspace-write"},
            "model": self.model,
            "effort": "high",
            "summary": "auto",
        }
        if self.fast or self.rng.random() < 0.3:
            payload["service_tier"] = "priority" if self.fast else "default"
        self.line("turn_context", payload)

    def rate_limits(self) -> dict[str, Any]:
        rng = self.rng
        self.used = [min(100.0, u + rng.choice((0.0, 0.0, 1.0, 2.0))) for u in self.used]
        now = int(self.at.timestamp())
        windows = []
        for used, minutes, reset_in in ((self.used[0], 300, 9000), (self.used[1], 10080, 400000)):
            window: dict[str, Any] = {"used_percent": used, "window_minutes": minutes}
            if self.new_limits:
                window["resets_at"] = now + reset_in
            else:
                window["resets_in_seconds"] = reset_in
            windows.append(window)
            self.truth.latest_windows[minutes] = max(
                self.truth.latest_windows.get(minutes, (0.0, 0, datetime.min.replace(tzinfo=UTC))),
                (used, now + reset_in, self.at),
                key=lambda t: t[2],
            )
        limits: dict[str, Any] = {"primary": windows[0], "secondary": windows[1]}
        if self.new_limits:
            limits.update(limit_id="codex", plan_type="pro", rate_limit_reached_type=None)
        return limits

    def request(self, count: bool = True) -> None:
        """One model request: its token_count, its items, maybe a record."""
        rng = self.rng
        self.tick()
        inp = rng.randint(2_000, 180_000)
        cached = rng.randint(0, inp)
        out = rng.randint(1, 9_000)
        reasoning = rng.randint(0, out)
        last = [inp, cached, out, reasoning]
        self.total = [a + b for a, b in zip(self.total, last, strict=True)]
        info = {
            "total_token_usage": usage_object(*self.total),
            "last_token_usage": usage_object(*last),
            "model_context_window": 258400,
        }
        response_id = f"resp_{rng.getrandbits(64):016x}"
        if self.records and rng.random() < 0.5:
            self.record(response_id, last)
        limits = self.rate_limits()
        self.line("event_msg", {"type": "token_count", "info": info, "rate_limits": limits})
        if self.records and rng.random() < 0.5:
            self.record(response_id, last)
        self.line(
            "response_item",
            {"type": "reasoning", "summary": [], "encrypted_content": self.padding(900, 2500)},
        )
        tools = rng.choice((0, 0, 1, 1, 2, 3))
        for _ in range(tools):
            kind = rng.choice(_TOOLS)
            call_id = f"call_{rng.getrandbits(48):012x}"
            self.line("response_item", {"type": kind, "name": "shell", "call_id": call_id})
            self.line(
                "response_item",
                {"type": f"{kind}_output", "call_id": call_id, "output": self.padding(200, 3000)},
            )
        if count:
            day = self.at.strftime("%Y-%m-%d")
            row = self.truth.by_day_model[(day, self.model)]
            for i, v in enumerate((1, inp, cached, out, reasoning, tools)):
                row[i] += v
            self.truth.fast_requests += int(self.fast)

    def record(self, response_id: str, last: list[int]) -> None:
        payload = {"response_id": response_id, "usage": usage_object(*last), "turn_id": self.id}
        self.line("token_usage_record", payload)
        if self.rng.random() < 0.1:  # written twice: the response id says it is one
            self.line("token_usage_record", payload)

    def repeat(self) -> None:
        """A turn context and the token_count that repeats the unchanged totals."""
        self.tick(0.0, 2.0)
        self.turn_context()
        if self.total[0]:
            last = self.lastusage_object()
            info = {"total_token_usage": usage_object(*self.total), "last_token_usage": last}
            self.line("event_msg", {"type": "token_count", "info": info, "rate_limits": None})

    def lastusage_object(self) -> dict[str, int]:
        for raw in reversed(self.lines):
            obj = json.loads(raw)
            if obj["payload"].get("type") == "token_count" and obj["payload"].get("info"):
                usage: dict[str, int] = obj["payload"]["info"]["last_token_usage"]
                return usage
        return usage_object(0, 0, 0, 0)

    def compact(self) -> None:
        self.tick()
        self.line("compacted", {"message": "summary", "replacement_history": []})
        self.line("event_msg", {"type": "context_compacted"})
        self.total = [0, 0, 0, 0]  # the running total restarts

    def padding(self, low: int, high: int) -> str:
        n = self.rng.randint(low, high)
        start = self.rng.randint(0, len(self.pad) - n)
        return self.pad[start : start + n]

    def turns(self, count: int, *, counted: bool = True) -> None:
        rng = self.rng
        for _ in range(count):
            self.repeat()
            self.line("event_msg", {"type": "user_message", "message": "continue", "images": []})
            for _ in range(rng.randint(1, 4)):
                self.request(counted)
                if rng.random() < 0.04:
                    self.compact()
            if rng.random() < 0.05:
                self.line("future_record_type", {"anything": [1, 2, 3]})


def write_rollout_history(
    root: Path,
    *,
    sessions: int = 20,
    turns: tuple[int, int] = (2, 8),
    seed: int = 0,
    start: datetime | None = None,
    bad_line_rate: float = 0.002,
) -> RolloutTruth:
    """Write a seeded Codex home under ``root`` and return its true totals."""
    rng = random.Random(seed)
    truth = RolloutTruth()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    pad = "".join(rng.choice(alphabet) for _ in range(8192))
    at = start or datetime(2026, 6, 1, 8, tzinfo=UTC)
    made: list[_Session] = []
    for index in range(sessions):
        at += timedelta(minutes=rng.uniform(5, 600))
        session = _Session(rng, at, truth, pad, f"project-{index % 7}")
        session.meta()
        session.turns(rng.randint(*turns))
        made.append(session)
        _write(root, session, session.lines, rng, truth, bad_line_rate)
        if made and rng.random() < 0.35:
            _write_copy(root, rng.choice(made), rng, truth, pad, bad_line_rate)
    truth.by_day_model = dict(truth.by_day_model)
    return truth


def _write_copy(
    root: Path, parent: _Session, rng: random.Random, truth: RolloutTruth, pad: str, rate: float
) -> None:
    """A fork (re-stamped replay) or a resume (verbatim copy) of ``parent``, plus new work."""
    cut = rng.randint(1, len(parent.lines))
    at = parent.at + timedelta(minutes=rng.uniform(1, 90))
    child = _Session(rng, at, truth, pad, parent.project)
    child.model, child.fast, child.records = parent.model, parent.fast, parent.records
    child.total = list(parent.total)
    fork = rng.random() < 0.5
    if fork:
        child.meta(forked_from=parent.id)
        for raw in parent.lines[:cut]:  # replayed with the fork's own timestamp
            obj = json.loads(raw)
            obj["timestamp"] = _stamp(child.at)
            child.lines.append(_dumps(obj))
    else:
        child.lines.extend(parent.lines[:cut])  # copied verbatim, old timestamps kept
    child.total = _total_at(parent.lines[:cut])
    child.tick(5, 60)  # the fork's first own turn comes later than its replay
    child.turns(rng.randint(1, 3))
    _write(root, child, child.lines, rng, truth, rate)


def _total_at(lines: list[bytes]) -> list[int]:
    for raw in reversed(lines):
        obj = json.loads(raw)
        info = obj["payload"].get("info") if obj["type"] == "event_msg" else None
        if info:
            t = info["total_token_usage"]
            names = ("input_tokens", "cached_input_tokens", "output_tokens")
            return [*(t[n] for n in names), t["reasoning_output_tokens"]]
        if obj["type"] == "compacted":
            return [0, 0, 0, 0]
    return [0, 0, 0, 0]


def _write(
    root: Path,
    session: _Session,
    lines: list[bytes],
    rng: random.Random,
    truth: RolloutTruth,
    rate: float,
) -> None:
    first = session.at
    folder = (
        root / "archived_sessions"
        if rng.random() < 0.15
        else root / "sessions" / first.strftime("%Y/%m/%d")
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rollout-{first.strftime('%Y-%m-%dT%H-%M-%S')}-{session.id}.jsonl"
    chunks: list[bytes] = []
    for raw in lines:
        if rng.random() < rate:  # a torn write: half a line, then the real line
            chunks.append(raw[: len(raw) // 2] + b"\n")
            truth.bad_lines += 1
        chunks.append(raw + b"\n")
    if rng.random() < 0.1:  # the CLI was killed mid-write
        chunks.append(b'{"timestamp":"2026-06-01T00:00:00.000Z","type":"event_msg","payl')
        truth.bad_lines += 1
    data = b"".join(chunks)
    path.write_bytes(data)
    truth.files += 1
    truth.bytes += len(data)
