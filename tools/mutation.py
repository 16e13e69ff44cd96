"""Mutation testing of the engine's core modules with mutmut, one module at a time.

Usage (from the repository root)::

    python3 tools/mutation.py                       # every module of TESTS, one at a time
    python3 tools/mutation.py reserve --jobs 1      # one module, one worker
    python3 tools/mutation.py budgets --hand        # and the hand mutants (HAND below)

Each module is mutated in a scratch copy of the repository (``src``, ``tests``,
``pyproject.toml``) so nothing here is touched; only the tests that exercise the
module run against each mutant (``TESTS`` below). The score printed is
``killed / (killed + survived)``: mutants with no covering test or that time out
are listed apart. Surviving mutants are printed with ``mutmut show`` so each can
be judged: killed by a new test, or equivalent (no observable difference).

mutmut leaves decorated functions alone (properties, pydantic validators) and
never mutates module constants, so ``--hand`` also applies the hand-written
mutants of ``HAND`` one by one (each replaces one exact piece of the module)
and runs the same selection against each.

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


HAND: dict[str, list[tuple[str, str]]] = {
    "budgets": [
        (
            "if isinstance(value, str) and value in SCOPES:",
            "if isinstance(value, str) or value in SCOPES:",
        ),
        ("            return SCOPES[value]", "            return value"),
        ('"organization": "organisation",', '"organization": "organization",'),
        ('"org": "organisation",', ""),
        ('"key": "key_id",', '"key": "key",'),
        ('"session": "session_id",', '"session": "session",'),
        (
            'if self.members and self.scope not in ("team", "pool"):',
            'if self.members or self.scope not in ("team", "pool"):',
        ),
        (
            'if self.members and self.scope not in ("team", "pool"):',
            'if self.members and self.scope not in ("team",):',
        ),
        (
            'if self.members and self.scope not in ("team", "pool"):',
            'if self.members and self.scope not in ("pool",):',
        ),
        ("if self.parent == self.name:", "if self.parent != self.name:"),
        ("if fraction <= 0:", "if fraction < 0:"),
        ("return tuple(sorted(set(value)))", "return tuple(sorted(value))"),
        ("return tuple(sorted(set(value)))", "return tuple(set(value))"),
        (
            "return self.scope not in CLASSIC_SCOPES or not self.window.billing",
            "return self.scope not in CLASSIC_SCOPES and not self.window.billing",
        ),
        (
            "return self.scope not in CLASSIC_SCOPES or not self.window.billing",
            "return self.scope in CLASSIC_SCOPES or not self.window.billing",
        ),
        (
            "return self.scope not in CLASSIC_SCOPES or not self.window.billing",
            "return self.scope not in CLASSIC_SCOPES or self.window.billing",
        ),
        (
            'CLASSIC_SCOPES = ("project_id", "user_id", "task_type", "feature")',
            'CLASSIC_SCOPES = ("project_id", "user_id", "task_type")',
        ),
        ("return self.budget.amount + self.extra", "return self.budget.amount - self.extra"),
        ("return max(self.limit - self.spend, ZERO)", "return self.limit - self.spend"),
        ("return max(self.limit - self.spend, ZERO)", "return min(self.limit - self.spend, ZERO)"),
    ],
    "budgetwindow": [
        (
            "_DAY_START = datetime(1970, 1, 1, tzinfo=UTC)",
            "_DAY_START = datetime(1970, 1, 2, tzinfo=UTC)",
        ),
        (
            "_WEEK_START = datetime(1970, 1, 5, tzinfo=UTC)",
            "_WEEK_START = datetime(1970, 1, 4, tzinfo=UTC)",
        ),
        (
            "days: int | None = Field(default=None, ge=1,",
            "days: int | None = Field(default=None, ge=0,",
        ),
        (
            "if self.days is None or self.start is None:",
            "if self.days is None and self.start is None:",
        ),
        ("elif self.days is not None:", "elif self.days is None:"),
        (
            "if self.every is Every.BILLING and self.start is not None:",
            "if self.every is Every.BILLING or self.start is not None:",
        ),
        ("            check_anchor(self.start)", "            pass"),
        ("return self.every is Every.BILLING\n", "return self.every is not Every.BILLING\n"),
        (
            "if self.start is not None:\n            return self.start",
            "if self.start is None:\n            return self.start",
        ),
        (
            "if self.every is Every.WEEK:\n            return _WEEK_START",
            "if self.every is Every.DAY:\n            return _WEEK_START",
        ),
        ("            return _WEEK_START", "            return _DAY_START"),
        ('raise ValueError("a billing window has no origin of its own")', "return _DAY_START"),
        ("return timedelta(days=1)", "return timedelta(days=2)"),
        ("return timedelta(days=7)", "return timedelta(days=6)"),
        ("return timedelta(days=self.days)", "return timedelta(days=self.days + 1)"),
        (
            "return timedelta(days=self.days)\n        return None",
            "return timedelta(days=self.days)\n        return timedelta(days=30)",
        ),
    ],
}
"""Hand mutants ``(exact text, replacement)`` of what mutmut does not mutate: the
decorated functions (properties, validators) and the module constants."""


def _config(module: str, tests: list[str]) -> str:
    selection = "\n".join(f"    {t}" for t in tests)
    return (
        "[mutmut]\n"
        "source_paths=src\n"
        f"only_mutate=src/codex_credits/core/{module}.py\n"
        f"pytest_add_cli_args_test_selection=\n{selection}\n"
        "pytest_add_cli_args=\n    -p\n    no:cacheprovider\n    -q\n    -x\n"
    )


def _selection(module: str) -> list[str]:
    return [t for t in TESTS[module] if (ROOT / t).exists()]


def _copy(work: Path) -> None:
    """``src``, ``tests`` and ``pyproject.toml`` of the repository into ``work``."""
    for folder in ("src", "tests"):
        shutil.copytree(ROOT / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (work / "pyproject.toml").write_text(text, encoding="utf-8")


def run(module: str, jobs: int, show: bool) -> dict[str, int]:
    """Mutate one module in a scratch copy; the counts of mutmut's verdicts."""
    tests = _selection(module)
    with tempfile.TemporaryDirectory(prefix=f"mutmut-{module}-") as scratch:
        work = Path(scratch)
        _copy(work)
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


def run_hand(module: str) -> list[str]:
    """Apply each hand mutant of ``module`` in a scratch copy; the ones no test killed."""
    tests = _selection(module)
    survivors = []
    with tempfile.TemporaryDirectory(prefix=f"hand-{module}-") as scratch:
        work = Path(scratch)
        _copy(work)
        path = work / "src" / "codex_credits" / "core" / f"{module}.py"
        original = path.read_text(encoding="utf-8")
        for old, new in HAND.get(module, []):
            if original.count(old) != 1:
                raise SystemExit(f"{module}: hand mutant no longer matches exactly once: {old!r}")
            path.write_text(original.replace(old, new), encoding="utf-8")
            tested = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                cwd=work,
                env={**os.environ, "CI": "true"},
                check=False,
                capture_output=True,
            )
            if tested.returncode == 0:
                survivors.append(f"{old.strip()!r} -> {new.strip()!r}")
        path.write_text(original, encoding="utf-8")
    return survivors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"of {', '.join(TESTS)}")
    parser.add_argument("--jobs", type=int, default=1, help="mutmut workers (default 1)")
    parser.add_argument("--show", action="store_true", help="print every surviving mutant")
    parser.add_argument(
        "--hand", action="store_true", help="also run the hand mutants (HAND) of each module"
    )
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
        if args.hand and module in HAND:
            began = time.monotonic()
            survivors = run_hand(module)
            total = len(HAND[module])
            print(
                f"{'  by hand':<13} {total - len(survivors):>7} {len(survivors):>9} "
                f"{0:>9} {0:>8} {100 * (total - len(survivors)) / total:>6.1f}% "
                f"{time.monotonic() - began:>8.0f}",
                flush=True,
            )
            for survivor in survivors:
                print(f"    survived: {survivor}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
