"""How long the CLI takes to start: ``--help`` and a quick ``estimate``, wall clock.

The budgets: ``codex-credits --help`` in at most 0.25 s and ``codex-credits estimate
...`` in at most 0.4 s (best of 5). The baseline is a bare ``python -c pass`` in the
same run, so the figures can be read against the interpreter's own start-up.
Commands load lazily (``codex_credits.cli.commands.catalog``) and ``import
codex_credits`` imports nothing heavy until a name is used; ``python3 -X importtime
-m codex_credits --help`` shows what is still imported.

Run: python3 benchmarks/bench_cli_startup.py [runs]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
CASES = {
    "python -c pass (baseline)": ["-c", "pass"],
    "codex-credits --help": ["-m", "codex_credits", "--help"],
    "codex-credits estimate": [
        "-m",
        "codex_credits",
        "estimate",
        "--reasoning-tokens",
        "12000",
        "--tool-calls",
        "20",
        "--sandbox-minutes",
        "10",
        "--sandbox-class",
        "large",
    ],
    "import codex_credits": ["-c", "import codex_credits"],
}
BUDGETS = {"codex-credits --help": 0.25, "codex-credits estimate": 0.4}


def best_of(argv: list[str], runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, *argv], check=True, env=env, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    baseline = 0.0
    for name, argv in CASES.items():
        seconds = best_of(argv, runs)
        baseline = baseline or seconds
        budget = BUDGETS.get(name)
        verdict = "" if budget is None else (" ok" if seconds <= budget else " OVER BUDGET")
        limit = "" if budget is None else f" (budget {budget:.2f} s)"
        print(
            f"{name:28} {seconds:6.3f} s best of {runs}, {seconds / baseline:4.1f}x python{limit}{verdict}"
        )


if __name__ == "__main__":
    main()
