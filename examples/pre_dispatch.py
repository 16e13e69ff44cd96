"""Price a batch of agent tasks and refuse to launch it when it would not fit.

A pre-dispatch gate for a nightly batch: it replays this month's usage, prices
the planned tasks, checks them against the credits left, the hard-stop budgets,
the hour's rate limit and the savings reserve, and exits 1 when the batch would
not fit (0 when it fits, so a scheduler can chain `&& launch-agents`).

Run: python examples/pre_dispatch.py  (on the bundled sample month)
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from codex_credits import read_usage
from codex_credits.check import Status, check
from codex_credits.check.policy import policy_from_data
from codex_credits.data import sample_usage_path

usage = read_usage(sample_usage_path())
at = datetime(2026, 6, 22, 1, tzinfo=UTC)  # 01:00 UTC, before the batch starts

policy = policy_from_data(
    {
        "account": {"tier": "pro", "seats": 2, "anchor": "2026-06-01T00:00:00Z"},
        "budgets": [
            {"name": "api", "scope": "project", "value": "api", "amount": 9000},
        ],
        "batch": [
            {
                "name": "dependency-upgrades",
                "count": 8,
                "reasoning_tokens": 20_000,
                "tool_calls": 30,
                "sandbox_minutes": 6,
                "sandbox_class": "large",
                "output_tokens": 4_000,
                "project": "api",
            },
            {
                "name": "test-backfill",
                "count": 6,
                "reasoning_tokens": 12_000,
                "tool_calls": 40,
                "sandbox_minutes": 10,
                "output_tokens": 3_000,
                "project": "web",
            },
        ],
    }
)

result = check(policy, usage, at=at)
batch = [rule for rule in result.rules if rule.kind == "batch"]
for rule in batch:
    print(f"{rule.status.value.upper():4}  {rule.message}")
refused = [rule for rule in batch if rule.status is Status.FAIL]
if refused:
    print(
        f"not launching: {len(refused)} batch entr{'y' if len(refused) == 1 else 'ies'} would not fit"
    )
    sys.exit(1)
print("launching the batch")
