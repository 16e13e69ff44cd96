"""TaskGuard's caps, and a runaway Codex CLI session stopped at its iteration cap."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from codex_credits.core.ratecard import TOKEN_CARD, RateCard
from codex_credits.tasks.guard import FileTouched, IterationStarted, Metered, TaskGuard, Tick
from codex_credits.tasks.rollout_watch import rollout_events, watch_rollout
from codex_credits.tasks.spec import TaskSpec
from tests.tasks.conftest import BOUNDED

DATA = Path(__file__).parents[1] / "data" / "codex-rollout"
T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)


def test_iteration_cap_stops_the_iteration_after_it() -> None:
    guard = TaskGuard(max_iterations=3)
    verdicts = [guard.feed(IterationStarted()) for _ in range(4)]
    assert [v.action for v in verdicts] == ["continue"] * 3 + ["stop"]
    assert verdicts[-1].reason == "iteration_cap"
    assert guard.feed(Metered(Decimal(2))).action == "stop"  # stays stopped
    assert guard.ccu_beyond == Decimal(2) and guard.ccu == 0


def test_file_scope_and_count() -> None:
    guard = TaskGuard.from_spec(TaskSpec.model_validate({**BOUNDED, "max_files": 1}))
    assert guard.feed(FileTouched("src/auth/jwt_validator.py")).action == "continue"
    stop = guard.feed(FileTouched("tests/unit/test_jwt_validator.py"))
    assert (stop.action, stop.reason) == ("stop", "file_count")
    creep = TaskGuard(file_scope=("src/auth/",))
    assert creep.feed(FileTouched("./src/auth/jwt.py")).action == "continue"
    assert creep.feed(FileTouched("src/db/schema.py")).reason == "outside_scope"


def test_timeout_and_ccu_cap() -> None:
    guard = TaskGuard(timeout_minutes=Decimal(15), start=T0)
    assert guard.feed(Tick(T0 + timedelta(minutes=15))).action == "continue"
    assert guard.feed(Tick(T0 + timedelta(minutes=15, seconds=1))).reason == "timeout"
    capped = TaskGuard(max_ccu=Decimal(3))
    assert capped.feed(Metered(Decimal(3))).action == "continue"
    assert capped.feed(Metered(Decimal("0.000001"))).reason == "ccu_cap"


def test_spec_without_a_cap_gets_the_default_of_five() -> None:
    guard = TaskGuard.from_spec(TaskSpec(instruction="x"))
    assert guard.max_iterations == 5


class _Session:
    """A test-fix loop written as the Codex CLI writes a rollout."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.at = T0
        self.total = [0, 0, 0, 0]

    def line(self, kind: str, payload: dict[str, Any]) -> None:
        self.at += timedelta(seconds=20)
        stamp = self.at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.lines.append(json.dumps({"timestamp": stamp, "type": kind, "payload": payload}))

    def request(self, inp: int, cached: int, out: int) -> None:
        last = [inp, cached, out, 0]
        self.total = [a + b for a, b in zip(self.total, last, strict=True)]

        def usage(u: list[int]) -> dict[str, int]:
            keys = (
                "input_tokens",
                "cached_input_tokens",
                "output_tokens",
                "reasoning_output_tokens",
            )
            return {**dict(zip(keys, u, strict=True)), "total_tokens": u[0] + u[2]}

        self.line("turn_context", {"model": "gpt-5.1-codex-max", "cwd": "/repo"})
        info = {"total_token_usage": usage(self.total), "last_token_usage": usage(last)}
        self.line("event_msg", {"type": "token_count", "info": info})
        self.line("event_msg", {"type": "token_count", "info": info})  # the repeat

    def run_tests(self) -> None:
        args = {"command": "pytest tests/unit/test_jwt_validator.py -q", "workdir": "/repo"}
        self.line(
            "response_item",
            {
                "type": "function_call",
                "name": "shell_command",
                "arguments": json.dumps(args),
                "call_id": "c",
            },
        )
        self.line(
            "response_item",
            {
                "type": "function_call_output",
                "call_id": "c",
                "output": "Exit code: 1\nOutput:\n1 failed",
            },
        )

    def patch(self) -> None:
        text = (
            "*** Begin Patch\n*** Update File: src/auth/jwt_validator.py\n@@\n-a\n+b\n*** End Patch"
        )
        self.line(
            "response_item",
            {"type": "custom_tool_call", "name": "apply_patch", "input": text, "call_id": "p"},
        )


def _runaway(iterations: int) -> list[str]:
    s = _Session()
    s.line("session_meta", {"id": "runaway", "cwd": "/repo"})
    for _ in range(iterations):
        s.request(10_000, 8_000, 1_000)
        s.run_tests()
        s.request(10_000, 8_000, 1_000)
        s.patch()
    return s.lines


def test_a_runaway_session_is_stopped_at_the_cap_with_what_it_would_have_spent() -> None:
    card = RateCard.builtin(TOKEN_CARD)
    # one request: 2,000 uncached x 31.25 + 8,000 cached x 3.125 + 1,000 output x 250, per 1M
    per_request = Decimal("0.0625") + Decimal("0.025") + Decimal("0.25")
    guard = TaskGuard(max_iterations=3, file_scope=("src/auth/jwt_validator.py",))
    report = watch_rollout(_runaway(10), guard, card)
    assert report.stopped and report.stop is not None
    assert report.stop.reason == "iteration_cap" and report.stop.iterations == 4
    assert report.iterations == 10
    # stopped as iteration 4 ran its tests: 7 requests were spent, 13 more would follow
    assert report.ccu_spent == 7 * per_request
    assert report.ccu_beyond == 13 * per_request
    assert report.ccu_spent + report.ccu_beyond == 20 * per_request


def test_on_the_ccu_card_tool_calls_are_metered_too() -> None:
    report = watch_rollout(_runaway(2), TaskGuard(max_iterations=5))
    assert not report.stopped
    # per request: 9,000 + ... input unpriced; 1,000 output x 0.15/1k; 4 tool calls x 0.3
    assert report.ccu_spent == 4 * Decimal("0.15") + 4 * Decimal("0.3")


def test_events_arrive_line_by_line_from_a_real_log() -> None:
    lines = (DATA / "rtchess-cli-0.60.1-tools.jsonl").read_bytes().splitlines()
    events = [e for _, e in rollout_events(iter(lines))]
    assert [e.path for e in events if isinstance(e, FileTouched)] == ["app.js"]
    report = watch_rollout(DATA / "rtchess-cli-0.60.1-tools.jsonl", TaskGuard(file_scope=("src/",)))
    assert report.stop is not None and report.stop.reason == "outside_scope"
    assert report.ccu_beyond > 0


def test_a_test_filter_marks_an_iteration() -> None:
    s = _Session()
    args = {"command": "./check.sh unit", "workdir": "/repo"}
    s.line(
        "response_item",
        {"type": "function_call", "name": "shell_command", "arguments": json.dumps(args)},
    )
    found = [e for _, e in rollout_events(s.lines, test_filter="check.sh")]
    assert any(isinstance(e, IterationStarted) for e in found)
    assert not any(isinstance(e, IterationStarted) for _, e in rollout_events(s.lines))


def test_guard_command_stops_the_runaway_and_exits_1(tmp_path: Path, capsys: Any) -> None:
    from codex_credits.cli import main

    log = tmp_path / "rollout.jsonl"
    log.write_text("\n".join(_runaway(10)) + "\n")
    spec = tmp_path / "tasks.json"
    spec.write_text(json.dumps([{**BOUNDED, "name": "jwt", "max_iterations": 3}]))
    code = main(["guard", str(log), "--tasks", str(spec), "--card", TOKEN_CARD, "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (data["reason"], data["spent"], data["beyond"]) == (
        "iteration_cap",
        "2.362500",
        "4.387500",
    )
    assert main(["guard", str(log), "--max-iterations", "20", "--card", TOKEN_CARD]) == 0
    assert main(["guard", str(tmp_path / "missing.jsonl")]) == 2


def test_what_counts_as_a_test_run() -> None:
    from codex_credits.tasks.rollout_watch import TEST_RUNNERS

    runs = ["./run_tests.sh", "python -m pytest -x", "npm run test:unit", "go test ./...",
            "cargo test", "bash -lc 'pytest -q'", "python tests/test_jwt.py"]  # fmt: skip
    other = ["cat tests/test_jwt.py", "ls tests/", "git status", "python setup.py build"]
    assert all(TEST_RUNNERS.search(c) for c in runs)
    assert not any(TEST_RUNNERS.search(c) for c in other)
