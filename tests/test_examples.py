"""Every script in examples/ runs and prints something sensible."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
# pre_dispatch.py refuses the sample's batch on purpose: its exit code is the verdict.
EXPECTED_EXIT = {"pre_dispatch.py": 1}


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == EXPECTED_EXIT.get(script.name, 0), result.stderr
    assert result.stdout.strip(), "an example must print its results"


def test_price_tasks_prints_exact_figures() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "price_tasks.py")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    # gpt-5.5: 70,000 x 125 + 180,000 x 12.5 + 6,000 x 750 per 1M = 8.75 + 2.25 + 4.5 = 15.5
    assert "15.500000" in out
    assert "0.62" in out  # 15.5 credits / 25 per USD


def test_pre_dispatch_refuses_the_batch_that_does_not_fit() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "pre_dispatch.py")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 1
    assert "PASS  batch dependency-upgrades" in result.stdout
    assert "FAIL  batch test-backfill" in result.stdout
    assert "not launching: 1 batch entry would not fit" in result.stdout
    # the task specs: the guide's poorly scoped JWT task is refused, the well scoped one allowed
    assert "REFUSE jwt-poorly-scoped" in result.stdout
    assert "ALLOW  jwt-well-scoped: 3.000000 CCU" in result.stdout
