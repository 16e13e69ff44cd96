""":func:`authorize` as a dispatch gate: a callable ``(spec, at) -> reasons``.

A dispatcher that evaluates gates before its credit check (a gate returns
no reasons to let a task through) can put governance first with::

    gate = access_gate(org, secret=presented, state=lambda: account.state, threads=threads)
    decision = decide(spec, state, at, policy, gates=(gate,))

The spec is read through :class:`TaskSpecLike`: ``repository``, ``tools``,
``model``, ``done_when`` and ``labels``. Labels may carry ``task_id``,
``thread_id``, ``session_id``, ``parent_session_id``, ``api`` and ``key_id``
(when no secret is given). Each reason is ``"<reason>: <detail>"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import SecretStr

from codex_credits.core.account import AccountState
from codex_credits.governance.authorize import AccessDecision, AccessRequest, authorize
from codex_credits.governance.org import Organisation

__all__ = ["Gate", "TaskSpecLike", "access_gate", "request_from_spec"]


class TaskSpecLike(Protocol):
    """What a gate reads from a task specification."""

    @property
    def repository(self) -> str | None: ...

    @property
    def tools(self) -> Sequence[str]: ...

    @property
    def model(self) -> str | None: ...

    @property
    def done_when(self) -> str | None: ...

    @property
    def labels(self) -> Mapping[str, str | None]: ...


Gate = Callable[[TaskSpecLike, datetime], Sequence[str]]
"""A check run before the credit check: no reasons means go."""


def request_from_spec(spec: TaskSpecLike, *, secret: str | None = None) -> AccessRequest:
    """The access request for a task specification (see the module docs for labels)."""
    labels = spec.labels
    api = labels.get("api")
    return AccessRequest(
        secret=None if secret is None else SecretStr(secret),
        key_id=labels.get("key_id") if secret is None else None,
        repositories=() if spec.repository is None else (spec.repository,),
        apis=() if api is None else (api,),
        tools=tuple(spec.tools),
        model=spec.model,
        done_when=spec.done_when,
        task_id=labels.get("task_id"),
        thread_id=labels.get("thread_id"),
        session_id=labels.get("session_id"),
        parent_session_id=labels.get("parent_session_id"),
    )


def access_gate(
    org: Organisation,
    *,
    secret: str | None = None,
    state: AccountState | Callable[[], AccountState] | None = None,
    threads: Mapping[str, str] | None = None,
    on_decision: Callable[[AccessRequest, AccessDecision], None] | None = None,
) -> Gate:
    """A gate that authorizes each task with ``org`` (and the key ``secret``).

    Args:
        org: the organisation.
        secret: the key presented by whoever dispatches (else the spec's ``key_id`` label).
        state: the account (or a callable returning its latest state) for budgets.
        threads: threads in use (read at each call, so a live mapping works).
        on_decision: called with every request and decision (for example to
            write the audit log).
    """

    def gate(spec: TaskSpecLike, at: datetime) -> tuple[str, ...]:
        request = request_from_spec(spec, secret=secret)
        current = state() if callable(state) else state
        decision = authorize(request, org, at, state=current, threads=threads)
        if on_decision is not None:
            on_decision(request, decision)
        return decision.messages()

    return gate
