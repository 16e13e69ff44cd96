"""A wrapper that stops a runaway Codex session at its iteration cap.

It follows a Codex CLI rollout log as it is written and feeds every line to a
:class:`~codex_credits.TaskGuard` built from the task's spec. When the guard
says stop, a real wrapper would terminate the agent; here the log is a
simulated test-fix loop that never converges (ten iterations), written line by
line into a temporary folder while the guard reads it, and the script prints
where it stopped the session and what the rest of the loop would have cost.

Run: python examples/guard_session.py
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from codex_credits import RateCard, TaskGuard, TaskSpec, rollout_events, watch_rollout

spec = TaskSpec(
    name="jwt-well-scoped",
    instruction="Fix the JWT validation failure in src/auth/jwt_validator.py",
    file_scope=["src/auth/jwt_validator.py", "tests/unit/test_jwt_validator.py"],
    tools=["file_read", "file_write", "run_tests"],
    test_filter="tests/unit/test_jwt_validator.py::TestJWTValidator",
    done_when="TestJWTValidator passes",
    timeout="30m",
    max_iterations=4,
)
card = RateCard.builtin("codex-tokens-2026-04")


def runaway(iterations: int) -> Iterator[str]:
    """The lines a never-converging test-fix loop writes (one request per fix)."""
    at = datetime(2026, 6, 22, 1, tzinfo=UTC)
    total = [0, 0, 0]

    def line(kind: str, payload: dict[str, Any]) -> str:
        nonlocal at
        at += timedelta(seconds=30)
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return json.dumps({"timestamp": stamp, "type": kind, "payload": payload})

    yield line("session_meta", {"id": "runaway", "cwd": "/repo"})
    for _ in range(iterations):
        last = [40_000, 32_000, 2_500]
        total = [a + b for a, b in zip(total, last, strict=True)]

        def usage(u: list[int]) -> dict[str, int]:
            return {
                "input_tokens": u[0],
                "cached_input_tokens": u[1],
                "output_tokens": u[2],
                "reasoning_output_tokens": 0,
                "total_tokens": u[0] + u[2],
            }

        yield line("turn_context", {"model": "gpt-5.3-codex", "cwd": "/repo"})
        yield line(
            "event_msg",
            {
                "type": "token_count",
                "info": {"total_token_usage": usage(total), "last_token_usage": usage(last)},
            },
        )
        patch = "*** Begin Patch\n*** Update File: src/auth/jwt_validator.py\n*** End Patch"
        yield line(
            "response_item", {"type": "custom_tool_call", "name": "apply_patch", "input": patch}
        )
        command = {"command": f"pytest {spec.test_filter}", "workdir": "/repo"}
        yield line(
            "response_item",
            {"type": "function_call", "name": "shell_command", "arguments": json.dumps(command)},
        )
        yield line(
            "response_item", {"type": "function_call_output", "output": "Exit code: 1\n1 failed"}
        )


with tempfile.TemporaryDirectory() as tmp:
    log = Path(tmp) / "rollout.jsonl"
    guard = TaskGuard.from_spec(spec)
    with log.open("w") as writer:
        written = (writer.write(text + "\n") and text for text in runaway(10))
        for number, event in rollout_events(written, card, test_filter=spec.test_filter):
            verdict = guard.feed(event)
            if verdict.action == "stop":
                print(
                    f"stop at line {number}: {verdict.message} "
                    f"({verdict.ccu} credits spent, {verdict.elapsed} in)"
                )
                break
    # Replayed in full, the same guard reports what the stop saved.
    report = watch_rollout(
        list(runaway(10)), TaskGuard.from_spec(spec), card, test_filter=spec.test_filter
    )
    print(
        f"the whole loop: {report.iterations} iterations, "
        f"{report.ccu_spent + report.ccu_beyond} credits; "
        f"stopped after {report.ccu_spent}, saving {report.ccu_beyond} credits "
        f"({report.ccu_beyond / card.options.credits_per_usd:.2f} USD)"
    )
