"""A batch of tasks priced and decided in order against one account.

:func:`plan_tasks` runs :func:`~codex_credits.tasks.decide.decide` on each
spec in turn at one instant. An allowed task commits to the account (the next
task meets the state it left) and holds a concurrency slot for its timeout
(or the policy's duration); a deferred or refused task changes nothing.
``codex-credits plan`` prints the result (docs/tasks/plan.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from codex_credits.core.account import AccountState
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import require_utc
from codex_credits.core.units import ZERO
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError
from codex_credits.tasks.decide import (
    Decision,
    DispatchPolicy,
    Gate,
    Lookahead,
    decide,
    task_minutes,
)
from codex_credits.tasks.estimate import TaskRecord
from codex_credits.tasks.spec import TaskSpec

__all__ = ["TaskPlan", "plan_tasks"]


@dataclass(frozen=True, repr=False)
class TaskPlan(Displayed):
    """Every spec's decision, in order, and the account after the allowed ones."""

    at: datetime
    specs: tuple[TaskSpec, ...]
    decisions: tuple[Decision, ...]
    final_state: AccountState

    def count(self, verdict: str) -> int:
        """How many tasks got ``verdict`` (``allow``, ``defer`` or ``refuse``)."""
        return sum(1 for d in self.decisions if d.verdict == verdict)

    @property
    def all_allowed(self) -> bool:
        """True when no task was deferred or refused."""
        return all(d.allowed for d in self.decisions)

    @property
    def total_cost(self) -> Decimal:
        """CCU the allowed tasks charge."""
        return sum((d.cost for d in self.decisions), ZERO)

    def rows(self) -> list[dict[str, Any]]:
        """One plain row per task: name, verdict, amount, fits_at, reasons, estimate source."""
        return [
            {"task": i + 1, "name": spec.label, **d.row()}
            for i, (spec, d) in enumerate(zip(self.specs, self.decisions, strict=True))
        ]

    def to_json(self) -> dict[str, Any]:
        """``{"at", "allowed", "deferred", "refused", "total_cost", "tasks": [...]}``."""
        return {
            "at": self.at,
            "allowed": self.count("allow"),
            "deferred": self.count("defer"),
            "refused": self.count("refuse"),
            "total_cost": self.total_cost,
            "tasks": self.rows(),
        }


def plan_tasks(
    specs: Sequence[TaskSpec],
    state: AccountState,
    at: datetime,
    policy: DispatchPolicy | None = None,
    *,
    gates: Sequence[Gate] = (),
    running: Sequence[datetime] = (),
    history: Sequence[TaskRecord] | None = None,
    card: RateCard | None = None,
) -> TaskPlan:
    """Decide ``specs`` in order at ``at``; allowed tasks commit and hold a slot."""
    policy = policy if policy is not None else DispatchPolicy()
    at = require_utc(at)
    if card is None:
        try:
            card = RateCard.resolve(state.plan.card)
        except ConfigError:
            card = None
    busy = list(running)
    decisions = []
    lookahead = Lookahead()
    for spec in specs:
        decision = decide(
            spec,
            state,
            at,
            policy,
            gates=gates,
            running=busy,
            history=history,
            card=card,
            lookahead=lookahead,
        )
        if decision.allowed:
            state = decision.state_after
            busy.append(at + task_minutes(spec, policy))
        decisions.append(decision)
    return TaskPlan(at=at, specs=tuple(specs), decisions=tuple(decisions), final_state=state)
