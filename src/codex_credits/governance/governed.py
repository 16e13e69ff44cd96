"""Authorize, then apply: the governed path of one task through the account.

:func:`governed_apply` runs :func:`~codex_credits.governance.authorize.authorize`
first; only an allowed task reaches the account's single decision
(:func:`codex_credits.core.account.apply`), labelled with its key, its
principal (as ``user_id``) and its sessions, so the key, user, team,
organisation and pool budgets all count it. A denied task returns the very
state it was given: it costs zero and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import final

from codex_credits.core.account import AccountState, apply
from codex_credits.core.events import Mode, Outcome, Request
from codex_credits.core.model import Frozen
from codex_credits.core.units import ZERO, Ccu
from codex_credits.governance.authorize import AccessDecision, AccessRequest, authorize
from codex_credits.governance.org import Organisation

__all__ = ["GovernedResult", "governed_apply"]


@final
class GovernedResult(Frozen):
    """The decision, the account state after it, and the account's outcome (None if denied)."""

    decision: AccessDecision
    state: AccountState
    outcome: Outcome | None = None


def governed_apply(
    request: AccessRequest,
    org: Organisation,
    state: AccountState,
    amount: Ccu | Decimal,
    at: datetime,
    *,
    sandbox_ccu: Decimal = ZERO,
    threads: Mapping[str, str] | None = None,
    mode: Mode | str = Mode.REQUEST,
    project_id: str | None = None,
    task_type: str | None = None,
    feature: str | None = None,
) -> GovernedResult:
    """Authorize ``request`` at ``at``; if allowed, apply ``amount`` CCU to the account.

    Raises:
        OutOfOrderEventError: ``at`` is earlier than the state (allowed tasks only).
    """
    decision = authorize(request, org, at, state=state, threads=threads)
    if not decision.allowed:
        return GovernedResult(decision=decision, state=state)
    work = Request(
        amount=amount,
        sandbox_ccu=sandbox_ccu,
        user_id=decision.principal,
        key_id=decision.key_id,
        session_id=request.session_id,
        parent_session_id=request.parent_session_id,
        project_id=project_id,
        task_type=task_type,
        feature=feature,
    )
    transition = apply(state, work, at, mode)
    return GovernedResult(decision=decision, state=transition.state, outcome=transition.outcome)
