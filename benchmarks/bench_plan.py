"""``plan`` over 10,000 task specs: lint, estimate and decide each one against one account.

The specs are generated (seeded): a mix of well bounded, partly bounded and
unbounded tasks over five projects, some with a known price. The account is a
ten-seat pro account, mid-period. Printed: the best of three runs of
``plan_tasks`` (the figure the target of 2 s is about), the same with reading
the specs from JSON Lines, and the baseline in the same process: the engine's
``apply`` alone on the same amounts (the floor any dispatch decision pays).

Run: python3 benchmarks/bench_plan.py
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from codex_credits import RateCard, Request, apply, load_tasks, open_account, plan_tasks

N = 10_000
ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
AT = datetime(2026, 6, 14, 9, 30, tzinfo=UTC)


def _spec(rng: random.Random, i: int) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": f"task-{i}",
        "instruction": f"Fix issue {i} in module {rng.randrange(200)}",
        "project": f"p{rng.randrange(5)}",
        "task_type": rng.choice(["bugfix", "refactor", "tests", "docs"]),
    }
    kind = rng.random()
    if kind < 0.6:
        files = [f"src/m{rng.randrange(200)}.py", f"tests/test_m{rng.randrange(200)}.py"]
        spec |= {
            "file_scope": files,
            "tools": ["file_read", "file_write", "run_tests"],
            "test_filter": f"{files[1]}::Test",
            "done_when": "the test passes",
            "timeout": rng.choice([10, 15, 30]),
            "max_iterations": rng.choice([3, 4, 5]),
        }
    elif kind < 0.85:
        spec |= {"file_scope": [f"src/m{rng.randrange(200)}/"], "tools": ["file_read", "shell"]}
    else:
        spec |= {"repository": "full_repo_access", "tools": ["all_tools"]}
    if rng.random() < 0.2:
        spec["ccu"] = str(Decimal(rng.randrange(50, 900)) / 100)
    return spec


def best_of(runs: int, fn: Any) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    rng = random.Random(2026)
    card = RateCard.default()
    state = open_account(card, "pro", 10, ANCHOR, start=ANCHOR)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tasks.jsonl"
        path.write_text("\n".join(json.dumps(_spec(rng, i)) for i in range(N)) + "\n")
        specs = load_tasks(path)
        plan = plan_tasks(specs, state, AT, card=card)
        in_process = best_of(3, lambda: plan_tasks(specs, state, AT, card=card))
        end_to_end = best_of(3, lambda: plan_tasks(load_tasks(path), state, AT, card=card))
    amounts = [d.amount for d in plan.decisions]

    def engine_only() -> None:
        s = state
        for a in amounts:
            t = apply(s, Request(amount=a), AT)
            if t.outcome.served:
                s = t.state

    floor = best_of(3, engine_only)
    print(
        f"plan over {N:,} specs: {plan.count('allow')} allowed, {plan.count('defer')} deferred, "
        f"{plan.count('refuse')} refused"
    )
    print(f"plan_tasks (best of 3):          {in_process:.3f} s  ({N / in_process:,.0f} specs/s)")
    print(f"read JSON Lines + plan (best of 3): {end_to_end:.3f} s")
    print(
        f"baseline, the engine's apply alone: {floor:.3f} s; plan / baseline = "
        f"{in_process / floor:.2f}x"
    )
    print("target: at most 2 s for 10,000 specs:", "met" if in_process <= 2 else "NOT met")


if __name__ == "__main__":
    main()
