"""Governance reports: spend and denials per team, key, user and role; hygiene findings.

Theory of operation (docs/governance.md, "Audit regularly"): every figure
comes from the audit trail and the organisation, never from a secret.

* :func:`access_summary`: per team, key, user (the acting principal) or role,
  the tasks and CCU they consumed (task entries) and the decisions and
  denials they received (decision entries). An entry with several roles
  counts once under each.
* :func:`unused_keys`: active keys not used (no allowed decision or task) for
  ``days`` days at ``at``, including keys never used since they were made.
* :func:`broad_keys`: keys with a wildcard in a scope (credential sprawl).
* :func:`orphaned_agents`: service accounts whose owner has left (or is gone),
  with their keys that still work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, final

from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime, require_utc
from codex_credits.core.units import ZERO, Ccu
from codex_credits.display import Rows
from codex_credits.governance.audit import AuditEntry
from codex_credits.governance.org import Organisation

__all__ = [
    "AccessRow",
    "BroadKey",
    "OrphanedAgent",
    "UnusedKey",
    "access_summary",
    "broad_keys",
    "orphaned_agents",
    "unused_keys",
]

Dimension = Literal["team", "key", "user", "role"]


@final
class AccessRow(Frozen):
    """One team, key, user or role: what it consumed and what it was refused."""

    dimension: str
    value: str
    tasks: int = 0
    spend_ccu: Ccu = ZERO
    decisions: int = 0
    denials: int = 0


@final
class UnusedKey(Frozen):
    """An active key idle for at least the asked number of days."""

    key_id: str
    owner: str
    last_used: UtcDatetime | None
    idle_days: int


@final
class BroadKey(Frozen):
    """A key with a wildcard scope."""

    key_id: str
    owner: str
    broad: tuple[str, ...]


@final
class OrphanedAgent(Frozen):
    """A service account whose owner has left; ``live_keys`` still authenticate."""

    agent: str
    owner: str
    left_at: UtcDatetime | None
    live_keys: tuple[str, ...]


def _values(entry: AuditEntry, by: Dimension) -> tuple[str, ...]:
    if by == "role":
        return entry.roles or ("(none)",)
    value = {"team": entry.team, "key": entry.key_id, "user": entry.actor}[by]
    return (value or "(none)",)


def access_summary(entries: Iterable[AuditEntry], by: Dimension) -> tuple[AccessRow, ...]:
    """Tasks, CCU, decisions and denials per ``by`` value, sorted by value."""
    rows: dict[str, list[int | Decimal]] = {}
    for entry in entries:
        if entry.kind == "checkpoint":
            continue
        for value in _values(entry, by):
            row = rows.setdefault(value, [0, ZERO, 0, 0])
            if entry.kind == "task":
                row[0] += 1
                row[1] += entry.ccu or ZERO
            else:
                row[2] += 1
                row[3] += entry.outcome == "denied"
    return Rows(
        AccessRow(
            dimension=by,
            value=value,
            tasks=int(r[0]),
            spend_ccu=Decimal(r[1]),
            decisions=int(r[2]),
            denials=int(r[3]),
        )
        for value, r in sorted(rows.items())
    )


def unused_keys(
    org: Organisation, entries: Iterable[AuditEntry], at: datetime, days: int
) -> tuple[UnusedKey, ...]:
    """Active keys unused for ``days`` days or more at ``at`` (see the module docs)."""
    at = require_utc(at)
    last: dict[str, datetime] = {}
    for entry in entries:
        used = entry.kind == "task" or (entry.kind == "decision" and entry.outcome == "allowed")
        if used and entry.key_id is not None and entry.at <= at:
            last[entry.key_id] = max(entry.at, last.get(entry.key_id, entry.at))
    out = []
    for key in org.keys:
        if key.revoked(at) or key.expired(at):
            continue
        since = last.get(key.id, key.created_at)
        if since is None:
            out.append(UnusedKey(key_id=key.id, owner=key.owner, last_used=None, idle_days=days))
            continue
        idle = (at - since) // timedelta(days=1)
        if idle >= days:
            out.append(
                UnusedKey(
                    key_id=key.id, owner=key.owner, last_used=last.get(key.id), idle_days=idle
                )
            )
    return Rows(out)


def broad_keys(org: Organisation, at: datetime | None = None) -> tuple[BroadKey, ...]:
    """Keys (still working at ``at``, if given) with a wildcard in a scope."""
    return Rows(
        BroadKey(key_id=k.id, owner=k.owner, broad=k.scopes.broad)
        for k in org.keys
        if k.scopes.broad and (at is None or not (k.revoked(at) or k.expired(at)))
    )


def orphaned_agents(org: Organisation, at: datetime) -> tuple[OrphanedAgent, ...]:
    """Service accounts whose owner has left by ``at``, with their still-working keys."""
    at = require_utc(at)
    out = []
    for agent in org.service_accounts:
        owner = org.user(agent.owner)
        if owner is not None and owner.active(at):
            continue
        live = tuple(
            k.id for k in org.keys if k.owner == agent.id and not (k.revoked(at) or k.expired(at))
        )
        out.append(
            OrphanedAgent(
                agent=agent.id,
                owner=agent.owner,
                left_at=None if owner is None else owner.left_at,
                live_keys=live,
            )
        )
    return Rows(out)
