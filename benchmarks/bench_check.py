"""How long `codex-credits check` takes on a month of hourly usage for ten projects.

The issue's figure: a month of hourly usage for ten projects is checked in under
2 seconds. This builds that month (720 hours x 10 projects = 7,200 events), a
policy with a budget per project, all three alerts, a Monte Carlo forecast and
a batch, and times `check` (the Python call) and the CLI end to end. The plain
baseline is reading the same usage file alone, in the same process.

Run: python3 benchmarks/bench_check.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from codex_credits import UsageEvent, read_usage, write_usage
from codex_credits.check import check, load_policy

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
PROJECTS = [f"p{i}" for i in range(10)]


def month_of_hourly_usage() -> list[UsageEvent]:
    events = []
    for h in range(720):
        at = ANCHOR + timedelta(hours=h)
        busy = 9 <= at.hour < 18 and at.weekday() < 5
        for i, project in enumerate(PROJECTS):
            ccu = Decimal(3 + i % 4) if busy else Decimal("0.5")
            events.append(
                UsageEvent(
                    timestamp=at + timedelta(minutes=i),
                    ccu=ccu,
                    project_id=project,
                    event_id=f"{h}-{project}",
                )
            )
    return events


POLICY = "\n".join(
    [
        '[account]\ntier = "pro"\nseats = 3\nanchor = "2026-06-01T00:00:00Z"\n',
        *(
            f'[[budgets]]\nname = "{p}"\nscope = "project"\nvalue = "{p}"\namount = 2500\n'
            f'control = "{"hard_stop" if i % 2 else "soft_limit"}"\nalert_at = [0.8]\n'
            for i, p in enumerate(PROJECTS)
        ),
        "[alerts]\ntask_threshold = 50\n",
        '[forecast]\nmethod = "montecarlo"\npaths = 2000\nmax_expected_overage_usd = 100\n',
        '[[batch]]\nname = "nightly"\ncount = 20\nccu = 4\nproject = "p1"\n',
    ]
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        usage_path = Path(tmp) / "usage.csv"
        policy_path = Path(tmp) / "codex-credits.toml"
        write_usage(month_of_hourly_usage(), usage_path)
        policy_path.write_text(POLICY, encoding="utf-8")
        at = "2026-06-15T12:30:00Z"

        t0 = time.perf_counter()
        log = read_usage(usage_path)
        read_s = time.perf_counter() - t0

        policy = load_policy(policy_path)
        t0 = time.perf_counter()
        result = check(policy, log, at=datetime.fromisoformat(at))
        check_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-m", "codex_credits.cli", "check", "--policy", str(policy_path),
             "--usage", str(usage_path), "--at", at, "--format", "json"],
            capture_output=True, text=True,
        )  # fmt: skip
        cli_s = time.perf_counter() - t0

    print(f"events: {len(log)} (720 hours x {len(PROJECTS)} projects), rules: {len(result.rules)}")
    print(f"read_usage (baseline):  {read_s:.3f} s")
    print(f"check() in process:     {check_s:.3f} s  ({check_s / read_s:.1f}x the read)")
    print(f"CLI end to end:         {cli_s:.3f} s  (exit code {cli.returncode}; target < 2 s)")


if __name__ == "__main__":
    main()
