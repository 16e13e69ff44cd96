"""Dispatch agent tasks through governance: keys, roles, allowlists, a shared pool, an audit log.

An orchestrator agent owned by a real user spawns sub-agents; they share one
credit pool of 30 CCU. Each task is authorized first (a denied task costs
nothing), then charged to the account, and every decision and task goes to a
hash-chained audit log, which is verified at the end.

Run: python examples/governed_dispatch.py
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

from codex_credits import Account
from codex_credits.governance import (
    AccessRequest,
    AuditLog,
    KeyScopes,
    NodeBudget,
    Organisation,
    Role,
    ServiceAccount,
    User,
    decision_entry,
    governed_apply,
    issue_key,
    task_entry,
    verify_log,
)

start = datetime(2026, 6, 1, tzinfo=UTC)
key, secret = issue_key(
    "ci-web",
    owner="bot-web",
    created_at=start,
    scopes=KeyScopes(repositories=("acme/web",), tools=("shell", "tests"), models=("gpt-5.4",)),
)
org = Organisation(
    name="acme",
    allow=KeyScopes(repositories=("acme/*",), tools=("shell", "tests"), models=("gpt-5.4",)),
    roles=(Role(name="developer", permissions=("dispatch",)),),
    users=(User(id="alice", roles=("developer",)),),
    service_accounts=(
        ServiceAccount(
            id="bot-web",
            owner="alice",
            roles=("developer",),
            session_budget=NodeBudget(amount=Decimal(30)),
        ),
    ),
    keys=(key,),
)
account = Account("pro", 1, start, budgets=(*org.budgets(), org.pool("orc-1", "bot-web")))
state = account.state
task = {"repositories": ("acme/web",), "tools": ("tests",), "model": "gpt-5.4"}
plan = [
    ("orchestrator plans", {"session_id": "orc-1", "done_when": "a plan exists"}, 8),
    (
        "sub-agent fixes tests",
        {"session_id": "sub-1", "parent_session_id": "orc-1", "done_when": "tests pass"},
        12,
    ),
    ("sub-agent without done-when", {"session_id": "sub-2", "parent_session_id": "orc-1"}, 5),
    (
        "sub-agent writes docs",
        {"session_id": "sub-2", "parent_session_id": "orc-1", "done_when": "docs build"},
        10,
    ),
    (
        "sub-agent past the pool",
        {"session_id": "sub-3", "parent_session_id": "orc-1", "done_when": "lint passes"},
        5,
    ),
]
with tempfile.TemporaryDirectory() as tmp:
    log_path = Path(tmp) / "audit.jsonl"
    with AuditLog(log_path, key=b"example-signing-key", checkpoint_every=2) as audit:
        at = start + timedelta(hours=9)
        for name, fields, ccu in plan:
            request = AccessRequest(
                secret=SecretStr(secret), estimate_ccu=Decimal(ccu), **task, **fields
            )
            pool_left = {s.budget.name: s.room for s in state.budgets}["pool:orc-1"]
            result = governed_apply(request, org, state, Decimal(ccu), at)
            audit.append(decision_entry(request, result.decision))
            if result.outcome is not None:
                audit.append(task_entry(request, result.decision, result.outcome, at))
                print(f"{name:28} served {result.outcome.served} CCU (pool had {pool_left})")
            else:
                print(f"{name:28} denied: {'; '.join(result.decision.messages())}")
            state = result.state
            at += timedelta(minutes=10)
    verified = verify_log(log_path, key=b"example-signing-key")
    print(
        f"audit log: {'intact' if verified.ok else 'BROKEN'}, {verified.entries} entries, "
        f"{verified.signed_checkpoints} signed checkpoints"
    )
    assert secret not in log_path.read_text()
