"""Zero-trust authorization of one task, before the credit check.

Theory of operation (docs/governance.md, "Authorize before dispatch"):

* :func:`authorize` is pure: an :class:`AccessRequest`, the
  :class:`~codex_credits.governance.org.Organisation`, an instant, and
  optionally the account state (for budgets) and the threads in use. It
  answers :class:`AccessDecision`: allowed, or denied with **every** reason
  (one :class:`Denial` per :class:`AccessReason`, in the enum's order, its
  detail naming each offending item).
* It runs before the account's credit check. A denied task is never applied
  to the account, so it costs zero and changes no state.
* The secret is a :class:`~pydantic.SecretStr`: it never appears in a repr,
  a decision, an error or the audit log. A request may instead name
  ``key_id`` when the caller has already verified the key (planning, ``check``).
* Budgets: a hard-stop or queue budget of the key, its principal, the
  principal's team, the organisation or the session's pool that has no room
  left (or less than ``estimate_ccu``) denies the task; soft-limit and
  degraded budgets never deny (the engine serves and alerts).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import final

from pydantic import Field, SecretStr

from codex_credits.core.account import AccountState, advance
from codex_credits.core.budgets import BudgetState, Control
from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime, require_utc
from codex_credits.core.units import Ccu
from codex_credits.governance.keys import ApiKey, KeyScopes, ScopeKind
from codex_credits.governance.org import Organisation, Permission, ServiceAccount, User

__all__ = ["AccessDecision", "AccessReason", "AccessRequest", "Denial", "authorize"]


class AccessReason(StrEnum):
    """Why a task is denied; the order is the order reasons are listed in."""

    UNKNOWN_KEY = "unknown_key"
    REVOKED_KEY = "revoked_key"
    EXPIRED_KEY = "expired_key"
    OWNER_LEFT = "owner_left"
    """The key's user, or the agent's owner, has left the organisation."""
    ROLE_LACKS_PERMISSION = "role_lacks_permission"
    REPOSITORY_NOT_ALLOWED = "repository_not_allowed"
    API_NOT_ALLOWED = "api_not_allowed"
    TOOL_NOT_ALLOWED = "tool_not_allowed"
    MODEL_NOT_ALLOWED = "model_not_allowed"
    NO_DONE_WHEN = "no_done_when"
    THREAD_IN_USE = "thread_in_use"
    KEY_BUDGET_EXHAUSTED = "key_budget_exhausted"
    USER_BUDGET_EXHAUSTED = "user_budget_exhausted"
    TEAM_BUDGET_EXHAUSTED = "team_budget_exhausted"
    ORGANISATION_BUDGET_EXHAUSTED = "organisation_budget_exhausted"
    POOL_BUDGET_EXHAUSTED = "pool_budget_exhausted"


_ORDER = {reason: i for i, reason in enumerate(AccessReason)}
_SCOPE_REASONS: tuple[tuple[ScopeKind, AccessReason, str], ...] = (
    ("repositories", AccessReason.REPOSITORY_NOT_ALLOWED, "repository"),
    ("apis", AccessReason.API_NOT_ALLOWED, "API"),
    ("tools", AccessReason.TOOL_NOT_ALLOWED, "tool"),
    ("models", AccessReason.MODEL_NOT_ALLOWED, "model"),
)


@final
class Denial(Frozen):
    """One reason a task was denied, with a sentence naming what (never a secret)."""

    reason: AccessReason
    detail: str


@final
class AccessRequest(Frozen):
    """A task asking to be dispatched (or another action asking to be done).

    ``instruction`` is only ever stored as a digest in the audit log.
    """

    secret: SecretStr | None = Field(default=None, description="the presented key secret")
    key_id: str | None = Field(default=None, description="a key the caller already verified")
    action: Permission = Permission.DISPATCH
    repositories: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    apis: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    model: str | None = None
    done_when: str | None = None
    instruction: str | None = Field(default=None, repr=False)
    task_id: str | None = None
    thread_id: str | None = None
    session_id: str | None = None
    parent_session_id: str | None = None
    estimate_ccu: Ccu | None = Field(default=None, ge=0)


@final
class AccessDecision(Frozen):
    """The answer of :func:`authorize`: allowed, or every reason it is not."""

    allowed: bool
    at: UtcDatetime
    reasons: tuple[Denial, ...] = ()
    key_id: str | None = None
    principal: str | None = None
    owner: str | None = Field(default=None, description="the real user behind the principal")
    roles: tuple[str, ...] = ()
    team: str | None = None

    @property
    def codes(self) -> tuple[AccessReason, ...]:
        """The reasons alone, in order."""
        return tuple(d.reason for d in self.reasons)

    def messages(self) -> tuple[str, ...]:
        """``reason: detail`` for each denial (what a dispatch gate returns)."""
        return tuple(f"{d.reason.value}: {d.detail}" for d in self.reasons)


class _Reasons:
    def __init__(self) -> None:
        self.found: dict[AccessReason, list[str]] = {}

    def add(self, reason: AccessReason, detail: str) -> None:
        self.found.setdefault(reason, []).append(detail)

    def denials(self) -> tuple[Denial, ...]:
        return tuple(
            Denial(reason=r, detail="; ".join(self.found[r]))
            for r in sorted(self.found, key=_ORDER.__getitem__)
        )


def authorize(
    request: AccessRequest,
    org: Organisation,
    at: datetime,
    *,
    state: AccountState | None = None,
    threads: Mapping[str, str] | None = None,
) -> AccessDecision:
    """Allow or deny ``request`` at ``at``, with every reason (see the module docs).

    Args:
        request: the task (or action) and the key it presents.
        org: the organisation.
        at: the instant of the decision.
        state: the account, whose budgets are checked (none: budgets not checked).
        threads: threads in use, thread id -> the task using it.
    """
    at = require_utc(at)
    found = _Reasons()
    key = _resolve_key(request, org, found)
    principal = None if key is None else org.principal(key.owner)
    if key is not None:
        if key.revoked(at):
            found.add(AccessReason.REVOKED_KEY, f"key {key.id} was revoked")
        if key.expired(at):
            found.add(AccessReason.EXPIRED_KEY, f"key {key.id} has expired")
    owner = None if principal is None else org.owner(principal)
    if principal is not None:
        if owner is None or not owner.active(at):
            who = principal.id if owner is None else owner.id
            found.add(AccessReason.OWNER_LEFT, f"{who} has left the organisation")
        elif request.action not in org.permissions(principal, at):
            found.add(
                AccessReason.ROLE_LACKS_PERMISSION,
                f"{principal.id} (roles: {', '.join(principal.roles) or 'none'}) "
                f"may not {request.action.value}",
            )
    _check_scopes(request, org.allow, key, found)
    if request.action is Permission.DISPATCH and not (request.done_when or "").strip():
        found.add(AccessReason.NO_DONE_WHEN, "the task has no 'done when' criterion")
    if request.thread_id is not None and threads:
        holder = threads.get(request.thread_id)
        if holder is not None and holder != request.task_id:
            found.add(
                AccessReason.THREAD_IN_USE,
                f"thread {request.thread_id} is used by task {holder}",
            )
    team = None if principal is None else org.team_of(principal)
    if state is not None:
        _check_budgets(request, org, state, at, key, principal, team, found)
    reasons = found.denials()
    return AccessDecision(
        allowed=not reasons,
        at=at,
        reasons=reasons,
        key_id=None if key is None else key.id,
        principal=None if principal is None else principal.id,
        owner=None if owner is None else owner.id,
        roles=() if principal is None else principal.roles,
        team=team,
    )


def _resolve_key(request: AccessRequest, org: Organisation, found: _Reasons) -> ApiKey | None:
    if request.secret is not None:
        key = org.find_key(request.secret.get_secret_value())
        if key is None:
            found.add(AccessReason.UNKNOWN_KEY, "the presented secret matches no key")
        return key
    if request.key_id is not None:
        key = org.key(request.key_id)
        if key is None:
            found.add(AccessReason.UNKNOWN_KEY, f"no key {request.key_id}")
        return key
    found.add(AccessReason.UNKNOWN_KEY, "no key was presented")
    return None


def _check_scopes(
    request: AccessRequest, allow: KeyScopes | None, key: ApiKey | None, found: _Reasons
) -> None:
    wanted: dict[ScopeKind, tuple[str, ...]] = {
        "repositories": request.repositories,
        "apis": request.apis,
        "tools": request.tools,
        "models": () if request.model is None else (request.model,),
    }
    for kind, reason, noun in _SCOPE_REASONS:
        for item in wanted[kind]:
            if allow is not None and not allow.allows(kind, item):
                found.add(reason, f"{noun} {item} is not on the organisation's allowlist")
            if key is not None and not key.scopes.allows(kind, item):
                found.add(reason, f"{noun} {item} is not in key {key.id}'s scopes")


def _check_budgets(
    request: AccessRequest,
    org: Organisation,
    state: AccountState,
    at: datetime,
    key: ApiKey | None,
    principal: User | ServiceAccount | None,
    team: str | None,
    found: _Reasons,
) -> None:
    if at > state.as_of:
        state, _ = advance(state, at)
    nodes: list[tuple[str, AccessReason]] = [
        (f"org:{org.name}", AccessReason.ORGANISATION_BUDGET_EXHAUSTED)
    ]
    if key is not None:
        nodes.append((f"key:{key.id}", AccessReason.KEY_BUDGET_EXHAUSTED))
    if principal is not None:
        nodes.append((f"user:{principal.id}", AccessReason.USER_BUDGET_EXHAUSTED))
    if team is not None:
        nodes.append((f"team:{team}", AccessReason.TEAM_BUDGET_EXHAUSTED))
    for session in (request.session_id, request.parent_session_id):
        if session is not None:
            nodes.append((f"pool:{session}", AccessReason.POOL_BUDGET_EXHAUSTED))
    by_name = {s.budget.name: s for s in state.budgets}
    for name, reason in nodes:
        budget_state = by_name.get(name)
        if budget_state is not None and _exhausted(budget_state, request.estimate_ccu):
            found.add(
                reason,
                f"budget {name} has {budget_state.room} CCU left of {budget_state.limit}",
            )


def _exhausted(state: BudgetState, estimate: Ccu | None) -> bool:
    if state.budget.control not in (Control.HARD_STOP, Control.QUEUE):
        return False
    if estimate is None:
        return state.room <= 0
    return estimate > state.room
