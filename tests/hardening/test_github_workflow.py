"""The example GitHub Actions workflow, its shell steps run locally against the fake API.

The ``run:`` scripts of examples/github-actions/codex-credits-check.yml are
executed as the runner would (``bash --noprofile --norc -eo pipefail``), with
``codex-credits`` on PATH, ``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY`` files,
and the usage API served by :class:`~codex_credits.testing.FakeServer`. Steps
that ``uses:`` an action (checkout, cache, comment) are GitHub's, not ours.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from codex_credits.core.usage import UsageEvent
from codex_credits.testing import FakeServer, FakeUsageApi

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "codex-credits-check.yml"
KEY = "sk-admin-WORKFLOW-TEST-7777"


def _steps() -> list[dict[str, Any]]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps: list[dict[str, Any]] = data["jobs"]["check"]["steps"]
    return steps


def _events(now: datetime) -> list[UsageEvent]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    hours = max(1, int((now - start).total_seconds() // 3600))
    return [
        UsageEvent(
            timestamp=start + timedelta(hours=h, minutes=7),
            ccu=Decimal("2.5") + Decimal(h % 7),
            project_id=("api", "web")[h % 2],
            user_id="ann",
            task_type="docs" if h % 5 == 0 else "feature",
        )
        for h in range(hours)
        if start + timedelta(hours=h, minutes=7) < now
    ]


@pytest.fixture
def runner_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "codex-credits"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m codex_credits.cli "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "repo"
    work.mkdir()
    policy = (ROOT / "examples" / "codex-credits.toml").read_text(encoding="utf-8")
    (work / "codex-credits.toml").write_text(policy, encoding="utf-8")
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT / "src"),
        "HOME": str(tmp_path),
        "OPENAI_ADMIN_KEY": KEY,
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary.md"),
        "WORK": str(work),
    }


def _bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=env["WORK"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_workflow_steps_run_end_to_end(runner_env: dict[str, str], tmp_path: Path) -> None:
    steps = _steps()
    check = next(step for step in steps if step.get("id") == "check")
    fail = steps[-1]
    assert "${{ steps.check.outputs.exit_code }}" in fail["run"]
    now = datetime.now(UTC)
    api = FakeUsageApi(events=_events(now), api_key=KEY)
    codes = []
    with FakeServer(api) as server:
        env = {**runner_env, "CODEX_CREDITS_BASE_URL": server.url}
        for run in (1, 2):
            done = _bash(check["run"], env)
            assert done.returncode == 0, done.stderr
            commands = done.stdout.strip().split("\n")
            assert all(line.startswith("::") for line in commands), done.stdout
            assert commands[-1].startswith("::notice title=codex-credits::")
            if run == 1:
                assert "no baseline at .codex-credits/baseline.json yet" in done.stderr
            else:
                assert "no baseline" not in done.stderr
            output = Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8").split()
            codes.append(int(output[-1].removeprefix("exit_code=")))
    assert codes[0] == codes[1]
    assert codes[0] in (0, 1)
    work = Path(runner_env["WORK"])
    report = (work / "report.md").read_text(encoding="utf-8")
    assert report.startswith("### ")
    assert "| | rule | kind | message |" in report
    summary = Path(runner_env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.count("### ") == 2  # one report per run
    baseline = json.loads((work / ".codex-credits" / "baseline.json").read_text(encoding="utf-8"))
    assert {r["name"] for r in baseline["rules"]} >= {"budget:api", "budget:web"}
    assert KEY not in summary + report
    final = _bash(fail["run"].replace("${{ steps.check.outputs.exit_code }}", str(codes[0])), env)
    assert final.returncode == codes[0]


def test_an_unreachable_api_is_reported_as_exit_3(runner_env: dict[str, str]) -> None:
    check = next(step for step in _steps() if step.get("id") == "check")
    env = {**runner_env, "CODEX_CREDITS_BASE_URL": "http://127.0.0.1:9/v1"}
    done = _bash(check["run"], env)
    assert done.returncode == 0
    assert Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8").strip() == "exit_code=3"
    assert done.stderr.strip().splitlines()[-1].startswith("codex-credits: error: ")
