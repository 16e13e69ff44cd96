"""Budgets: spending limits per project, user, task type or feature.

Theory of operation (docs/engine.md, "Budgets"):

* A :class:`Budget` scopes requests by one label (``project_id``, ``user_id``,
  ``task_type`` or ``feature``) equal to ``value``, and limits what they may
  spend per billing period to ``amount`` CCU (plus any :class:`Override` that
  falls in the period). Spend is what was actually served; it restarts at 0
  with every period.
* The control decides what happens to a request that would take the scope's
  spend past the limit (``spend + amount > limit``):

  ``hard_stop``  refused as blocked (fluid mode: the part that fits is served)
  ``soft_limit`` served; alerts are raised
  ``degraded``   served without its sandbox part (an amount-only request is
                 served as it is)
  ``queue``      held until the next period starts or an override for the
                 budget arrives (fluid mode: the part that fits is served)

* Every budget raises one :class:`~codex_credits.core.events.BudgetAlert` per
  period for each fraction in ``alert_at`` once spend reaches that fraction of
  the limit (default: at the limit itself).
* When several budgets match a request, degraded budgets act first (the
  sandbox part is waived once), then every hard-stop and queue budget must let
  the request through; the one leaving the least room decides (the first
  listed on a tie).

>>> b = Budget(name="web", scope="project", value="web", amount=Decimal(10),
...            control=Control.HARD_STOP)
>>> verdict = check_budgets((BudgetState(budget=b),), _request(Decimal(12)), Mode.REQUEST)
>>> verdict.fit, verdict.control
(Decimal('0'), <Control.HARD_STOP: 'hard_stop'>)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, final

from pydantic import Field, field_validator

from codex_credits.core.events import BudgetAlert, Mode, Request
from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import ZERO, Ccu, quantize_ccu

__all__ = [
    "SCOPES",
    "Budget",
    "BudgetAlert",
    "BudgetState",
    "BudgetVerdict",
    "Control",
    "Override",
    "check_budgets",
    "evaluate_budget",
    "raise_budget",
    "record_spend",
    "reset_budgets",
]

SCOPES: dict[str, str] = {
    "project": "project_id",
    "project_id": "project_id",
    "user": "user_id",
    "user_id": "user_id",
    "task_type": "task_type",
    "feature": "feature",
}
"""Accepted scope spellings and the label each one reads."""


class Control(StrEnum):
    """What a budget does with a request that would exceed it."""

    HARD_STOP = "hard_stop"
    SOFT_LIMIT = "soft_limit"
    DEGRADED = "degraded"
    QUEUE = "queue"


@final
class Budget(Frozen):
    """A limit of ``amount`` CCU per billing period for requests labelled ``scope = value``."""

    name: str = Field(min_length=1)
    scope: str = Field(description="project_id, user_id, task_type or feature")
    value: str
    amount: Ccu = Field(ge=0)
    control: Control = Control.SOFT_LIMIT
    alert_at: tuple[Ccu, ...] = (Decimal(1),)

    @field_validator("scope", mode="before")
    @classmethod
    def _known_scope(cls, value: Any) -> Any:
        if isinstance(value, str) and value in SCOPES:
            return SCOPES[value]
        raise ValueError(f"scope must be one of project, user, task_type, feature; got {value!r}")

    @field_validator("alert_at")
    @classmethod
    def _fractions(cls, value: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        for fraction in value:
            if fraction <= 0:
                raise ValueError(f"alert_at fractions must be > 0, got {fraction}")
        return tuple(sorted(set(value)))

    def matches(self, request: Request) -> bool:
        """True when ``request`` falls in this budget's scope."""
        return request.label(self.scope) == self.value


@final
class Override(Frozen):
    """An approved raise of ``amount`` CCU to budget ``budget`` for the period containing ``at``.

    The engine works in hours: an override counts from the start of the UTC
    hour it falls in, and releases the budget's held requests then.
    """

    budget: str
    at: UtcDatetime
    amount: Ccu = Field(ge=0)


@final
class BudgetState(Frozen):
    """A budget in the current period: spend, raises by overrides, alerts already raised."""

    budget: Budget
    spend: Ccu = ZERO
    extra: Ccu = ZERO
    fired: tuple[Ccu, ...] = ()

    @property
    def limit(self) -> Decimal:
        """The budget's amount plus this period's overrides."""
        return self.budget.amount + self.extra

    @property
    def room(self) -> Decimal:
        """What may still be spent in this period before the limit is passed."""
        return max(self.limit - self.spend, ZERO)


@final
class BudgetVerdict(Frozen):
    """What the budgets allow for one request.

    ``amount`` is the request after any waiver; ``fit`` (<= amount) may be
    served; the rest is refused by ``budget`` with ``control``.
    """

    amount: Ccu
    waived: Ccu = ZERO
    fit: Ccu
    budget: str | None = None
    control: Control | None = None
    degraded_by: str | None = None


def evaluate_budget(state: BudgetState, request: Request, mode: Mode) -> Decimal | None:
    """How much of ``request`` one hard-stop or queue budget lets through.

    Returns ``None`` when the budget does not constrain the request (out of
    scope, or a soft-limit or degraded budget).
    """
    if state.budget.control not in (Control.HARD_STOP, Control.QUEUE):
        return None
    if not state.budget.matches(request):
        return None
    room = state.room
    if request.amount <= room:
        return request.amount
    return room if mode is Mode.FLUID else ZERO


def check_budgets(states: Sequence[BudgetState], request: Request, mode: Mode) -> BudgetVerdict:
    """Apply every budget to ``request`` (the first step of the order of checks)."""
    waived = ZERO
    degraded_by = None
    for state in states:
        if (
            state.budget.control is Control.DEGRADED
            and state.budget.matches(request)
            and state.spend + request.amount > state.limit
        ):
            waived = request.sandbox_ccu
            degraded_by = state.budget.name
            break
    amount = request.amount - waived
    if waived:
        request = Request(
            amount=amount,
            project_id=request.project_id,
            user_id=request.user_id,
            task_type=request.task_type,
            feature=request.feature,
        )
    fit = amount
    binding: BudgetState | None = None
    for state in states:
        allowed = evaluate_budget(state, request, mode)
        if allowed is not None and allowed < fit:
            fit = allowed
            binding = state
    return BudgetVerdict(
        amount=amount,
        waived=waived,
        fit=fit,
        budget=None if binding is None else binding.budget.name,
        control=None if binding is None else binding.budget.control,
        degraded_by=degraded_by,
    )


def record_spend(
    states: Sequence[BudgetState],
    request: Request,
    served: Decimal,
    *,
    at: datetime,
    period_start: datetime,
) -> tuple[tuple[BudgetState, ...], tuple[BudgetAlert, ...]]:
    """Add ``served`` to every matching budget; return the new states and any alerts."""
    new: list[BudgetState] = []
    alerts: list[BudgetAlert] = []
    for state in states:
        if not state.budget.matches(request):
            new.append(state)
            continue
        spend = state.spend + served
        fired = list(state.fired)
        for fraction in state.budget.alert_at:
            if fraction not in fired and spend >= quantize_ccu(fraction * state.limit):
                fired.append(fraction)
                alerts.append(
                    BudgetAlert(
                        budget=state.budget.name,
                        threshold=fraction,
                        at=at,
                        spend=spend,
                        amount=state.limit,
                        period_start=period_start,
                    )
                )
        new.append(
            BudgetState(budget=state.budget, spend=spend, extra=state.extra, fired=tuple(fired))
        )
    return tuple(new), tuple(alerts)


def raise_budget(states: Sequence[BudgetState], override: Override) -> tuple[BudgetState, ...]:
    """Apply ``override`` to the budget it names (unknown names change nothing)."""
    return tuple(
        BudgetState(
            budget=s.budget,
            spend=s.spend,
            extra=s.extra + override.amount,
            fired=s.fired,
        )
        if s.budget.name == override.budget
        else s
        for s in states
    )


def reset_budgets(states: Sequence[BudgetState]) -> tuple[BudgetState, ...]:
    """Every budget at the start of a new period: no spend, no raise, no alert."""
    return tuple(BudgetState(budget=s.budget) for s in states)


def _request(amount: Decimal, project: str = "web") -> Request:
    """A small request for the examples above."""
    return Request(amount=amount, project_id=project)
