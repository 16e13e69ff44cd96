"""Put a gate in front of your agents: price the batch, then lint, route and decide each task.

A pre-dispatch gate for a nightly batch. It replays this month's usage to
stand where the account stands. First the batch as sizes (``check``'s batch
rule): would it fit the credits left, the hard-stop budgets, the hour's rate
limit and the savings reserve? Then, for every planned task spec:

* lints it against the three bounds (input, output, execution),
* estimates its cost (the seed's priors: no history here),
* routes it (Codex or a cheaper endpoint, the cheapest fit model),
* decides it with the credit engine: allow, defer (until when) or refuse.

Allowed tasks commit to the account in order; the script exits 1 when a batch
entry would not fit or a task is refused (0 otherwise), so a scheduler can
chain `&& launch-agents`.

Run: python examples/pre_dispatch.py  (on the bundled sample month)
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from codex_credits import (
    Budget,
    Control,
    TaskSpec,
    account_state_at,
    lint_task,
    plan_tasks,
    read_usage,
    route,
)
from codex_credits.check import Status, check
from codex_credits.check.policy import policy_from_data
from codex_credits.data import sample_usage_path

usage = read_usage(sample_usage_path())
at = datetime(2026, 6, 22, 1, tzinfo=UTC)  # 01:00 UTC, before the batch starts

# 1. The batch as sizes: would it fit at all?
policy = policy_from_data(
    {
        "account": {"tier": "pro", "seats": 2, "anchor": "2026-06-01T00:00:00Z"},
        "budgets": [{"name": "api", "scope": "project", "value": "api", "amount": 9000}],
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
batch = [rule for rule in check(policy, usage, at=at).rules if rule.kind == "batch"]
for rule in batch:
    print(f"{rule.status.value.upper():4}  {rule.message}")
too_big = [rule for rule in batch if rule.status is Status.FAIL]
if too_big:
    print(
        f"not launching: {len(too_big)} batch entr{'y' if len(too_big) == 1 else 'ies'} would not fit"
    )

# 2. Each task spec: lint, estimate, route, decide.
budgets = [Budget(name="api", scope="project", value="api", amount=9000, control=Control.HARD_STOP)]
state = account_state_at(
    usage, "pro", datetime(2026, 6, 1, tzinfo=UTC), at, seats=2, budgets=budgets
)

tasks = [
    TaskSpec(  # the seed's poorly scoped JWT task
        name="jwt-poorly-scoped",
        instruction="Fix the authentication bug in the user service",
        repository="full_repo_access",
        tools=["all_tools"],
        tests="full_test_suite",
        project="api",
    ),
    TaskSpec(  # the seed's well scoped JWT task, with "done when", a timeout and a cap
        name="jwt-well-scoped",
        instruction="Fix the JWT validation failure in src/auth/jwt_validator.py: tokens with "
        "a valid expiry fail when the timezone offset is non-UTC.",
        file_scope=["src/auth/jwt_validator.py", "tests/unit/test_jwt_validator.py"],
        tools=["file_read", "file_write", "run_tests"],
        test_filter="tests/unit/test_jwt_validator.py::TestJWTValidator",
        done_when="tests/unit/test_jwt_validator.py::TestJWTValidator passes",
        timeout="15m",
        max_iterations=4,
        project="api",
    ),
    TaskSpec(
        name="explain-validator",
        instruction="Explain what src/auth/jwt_validator.py does, for the onboarding notes",
        file_scope=["src/auth/jwt_validator.py"],
        tools=["file_read"],
        deliverables=["a one-page explanation in the reply"],
        done_when="the explanation covers expiry and timezone handling",
        timeout=5,
        max_iterations=1,
        project="web",
    ),
]


def authorized(spec: TaskSpec, when: datetime) -> list[str]:
    """A pre-credit gate: only the api and web projects may dispatch tonight."""
    return [] if spec.project in ("api", "web") else [f"project {spec.project} may not dispatch"]


plan = plan_tasks(tasks, state, at, gates=[authorized])
for spec, decision in zip(tasks, plan.decisions, strict=True):
    findings = lint_task(spec)
    way = route(spec)
    print(
        f"{decision.verdict.upper():6} {spec.label}: {decision.amount} CCU "
        f"({decision.estimate.source if decision.estimate else 'given'}), "
        f"{len(findings)} finding(s), route {way.endpoint} on {way.model} "
        f"(saves {way.credits_saved} credits against {way.baseline_model})"
    )
    for reason in decision.reasons:
        print(f"       {reason.source}: {reason.message}")
    for finding in findings if decision.allowed else ():
        print(f"       {finding.severity}: {finding.reason} ({finding.ccu_at_risk} CCU at risk)")
print(
    f"{plan.count('allow')} allowed, {plan.count('defer')} deferred, "
    f"{plan.count('refuse')} refused; {plan.total_cost} CCU committed"
)
if plan.count("refuse"):
    print("not launching the refused tasks; fix their bounds first")
if too_big or plan.count("refuse"):
    sys.exit(1)
print("launching")
