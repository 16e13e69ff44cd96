"""The ``[[access]]`` entries of a policy: planned tasks that must be allowed (or denied).

Each entry names a key by id (never a secret) and what the task would touch;
``expect`` says whether governance must allow it (default) or deny it, so a
policy can pin both "the CI key may fix the web tests" and "the ops key can
never reach production" (docs/check.md, docs/governance.md).
"""

from __future__ import annotations

from typing import Literal, final

from pydantic import Field

from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.governance.authorize import AccessRequest
from codex_credits.governance.org import Permission

__all__ = ["AccessRule"]


@final
class AccessRule(Frozen):
    """One ``[[access]]`` entry."""

    name: str = Field(min_length=1)
    key: str = Field(min_length=1, description="a key id of the organisation")
    action: Permission = Permission.DISPATCH
    repositories: tuple[str, ...] = ()
    apis: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    model: str | None = None
    done_when: str | None = None
    thread_id: str | None = None
    task_id: str | None = None
    expect: Literal["allow", "deny"] = "allow"
    at: UtcDatetime | None = Field(default=None, description="default: the check's instant")

    def request(self) -> AccessRequest:
        """The access request this entry describes."""
        return AccessRequest(
            key_id=self.key,
            action=self.action,
            repositories=self.repositories,
            apis=self.apis,
            tools=self.tools,
            model=self.model,
            done_when=self.done_when,
            thread_id=self.thread_id,
            task_id=self.task_id,
        )
