"""Governance: the organisation, scoped keys, authorization, the audit trail, reports.

See docs/governance.md and docs/audit.md. Nothing here ever stores, logs or
shows a key's secret: keys keep a prefix and a salted hash.
"""

from __future__ import annotations

from codex_credits.governance.audit import (
    GENESIS,
    AuditEntry,
    AuditLog,
    checkpoint_mac,
    decision_entry,
    instruction_digest,
    task_entry,
    write_entries,
)
from codex_credits.governance.auditfile import PruneResult, prune_log, read_entries
from codex_credits.governance.auditverify import (
    BreakKind,
    ChainBreak,
    Verification,
    verify_log,
)
from codex_credits.governance.authorize import (
    AccessDecision,
    AccessReason,
    AccessRequest,
    Denial,
    authorize,
)
from codex_credits.governance.gate import Gate, TaskSpecLike, access_gate, request_from_spec
from codex_credits.governance.governed import GovernedResult, governed_apply
from codex_credits.governance.keys import (
    SECRET_PREFIX,
    ApiKey,
    KeyScopes,
    NodeBudget,
    hash_secret,
    issue_key,
)
from codex_credits.governance.org import (
    Organisation,
    Permission,
    Role,
    ServiceAccount,
    Team,
    User,
    organisation_from_data,
)
from codex_credits.governance.reports import (
    AccessRow,
    BroadKey,
    OrphanedAgent,
    UnusedKey,
    access_summary,
    broad_keys,
    orphaned_agents,
    unused_keys,
)

__all__ = [
    "GENESIS",
    "SECRET_PREFIX",
    "AccessDecision",
    "AccessReason",
    "AccessRequest",
    "AccessRow",
    "ApiKey",
    "AuditEntry",
    "AuditLog",
    "BreakKind",
    "BroadKey",
    "ChainBreak",
    "Denial",
    "Gate",
    "GovernedResult",
    "KeyScopes",
    "NodeBudget",
    "Organisation",
    "OrphanedAgent",
    "Permission",
    "PruneResult",
    "Role",
    "ServiceAccount",
    "TaskSpecLike",
    "Team",
    "UnusedKey",
    "User",
    "Verification",
    "access_gate",
    "access_summary",
    "authorize",
    "broad_keys",
    "checkpoint_mac",
    "decision_entry",
    "governed_apply",
    "hash_secret",
    "instruction_digest",
    "issue_key",
    "organisation_from_data",
    "orphaned_agents",
    "prune_log",
    "read_entries",
    "request_from_spec",
    "task_entry",
    "unused_keys",
    "verify_log",
    "write_entries",
]
