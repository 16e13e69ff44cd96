"""Mutation testing of the engine's core modules with mutmut, one module at a time.

Usage (from the repository root)::

    python3 tools/mutation.py                       # every module of TESTS, one at a time
    python3 tools/mutation.py reserve --jobs 1      # one module, one worker

Each module is mutated in a scratch copy of the repository (``src``, ``tests``,
``pyproject.toml``) so nothing here is touched; only the tests that exercise the
module run against each mutant (``TESTS`` below). The score printed is
``killed / (killed + survived)``: mutants with no covering test or that time out
are listed apart. Surviving mutants are printed with ``mutmut show`` so each can
be judged: killed by a new test, or equivalent (no observable difference).

The results are in benchmarks/README.md ("Mutation testing").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TESTS: dict[str, list[str]] = {
    "ledger": [
        "tests/hardening/test_core_mutants.py",
        "tests/properties/test_account_properties.py",
    ],
    "reserve": ["tests/hardening/test_core_mutants.py"],
    "ratelimit": ["tests/hardening/test_core_mutants.py"],
    "budgets": [
        "tests/hardening/test_budget_mutants.py",
        "tests/governance/test_budget_hierarchy.py",
        "tests/governance/test_budget_properties.py",
    ],
    "budgetwindow": [
        "tests/hardening/test_budget_window_mutants.py",
        "tests/governance/test_budget_hierarchy.py",
        "tests/governance/test_budget_properties.py",
    ],
    "budgetmask": [
        "tests/hardening/test_budget_window_mutants.py",
        "tests/governance/test_budget_hierarchy.py",
        "tests/governance/test_budget_properties.py",
    ],
    "budgetreport": [
        "tests/hardening/test_budget_window_mutants.py",
        "tests/governance/test_budget_hierarchy.py",
    ],
}
"""The tests run against each module's mutants (a targeted selection keeps runs short)."""


def _config(module: str, tests: list[str]) -> str:
    selection = "\n".join(f"    {t}" for t in tests)
    return (
        "[mutmut]\n"
        "source_paths=src\n"
        f"only_mutate=src/codex_credits/core/{module}.py\n"
        f"pytest_add_cli_args_test_selection=\n{selection}\n"
        "pytest_add_cli_args=\n    -p\n    no:cacheprovider\n    -q\n    -x\n"
    )


def run(module: str, jobs: int, show: bool) -> dict[str, int]:
    """Mutate one module in a scratch copy; the counts of mutmut's verdicts."""
    tests = [t for t in TESTS[module] if (ROOT / t).exists()]
    with tempfile.TemporaryDirectory(prefix=f"mutmut-{module}-") as scratch:
        work = Path(scratch)
        shutil.copytree(ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(
            ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__")
        )
        text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
        (work / "pyproject.toml").write_text(text, encoding="utf-8")
        (work / "setup.cfg").write_text(_config(module, tests), encoding="utf-8")
        env = {**os.environ, "CI": "true"}
        subprocess.run(
            ["mutmut", "run", "--max-children", str(jobs)],
            cwd=work,
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(["mutmut", "export-cicd-stats"], cwd=work, env=env, check=True)
        stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text())
        if show:
            listing = subprocess.run(
                ["mutmut", "results"], cwd=work, env=env, capture_output=True, text=True
            ).stdout
            for line in listing.splitlines():
                name = line.strip().split(":")[0]
                if name:
                    shown = subprocess.run(
                        ["mutmut", "show", name], cwd=work, env=env, capture_output=True, text=True
                    ).stdout
                    print(f"--- {line.strip()}\n{shown}", flush=True)
    return {k: int(v) for k, v in stats.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"of {', '.join(TESTS)}")
    parser.add_argument("--jobs", type=int, default=1, help="mutmut workers (default 1)")
    parser.add_argument("--show", action="store_true", help="print every surviving mutant")
    args = parser.parse_args()
    unknown = set(args.modules) - set(TESTS)
    if unknown:
        parser.error(f"unknown module(s): {', '.join(sorted(unknown))}")
    print(
        f"{'module':<13} {'killed':>7} {'survived':>9} {'no tests':>9} {'timeout':>8} "
        f"{'score':>7} {'seconds':>8}"
    )
    for module in args.modules or list(TESTS):
        began = time.monotonic()
        stats = run(module, args.jobs, args.show)
        judged = stats["killed"] + stats["survived"]
        score = 100 * stats["killed"] / judged if judged else 0.0
        print(
            f"{module:<13} {stats['killed']:>7} {stats['survived']:>9} "
            f"{stats['no_tests']:>9} {stats['timeout']:>8} {score:>6.1f}% "
            f"{time.monotonic() - began:>8.0f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
