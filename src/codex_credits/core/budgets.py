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
* Hierarchies (docs/governance.md): besides the four labels, a budget may
  scope on ``session`` or ``key`` (the request's ``session_id``, ``key_id``),
  on a ``team`` (requests whose ``user_id`` is one of ``members``), on the whole
  ``organisation`` (every request), or on an agent network's ``pool`` (requests
  whose ``session_id`` or ``parent_session_id`` is ``value`` or one of
  ``members``: an orchestrator and the sub-agents it spawns share one budget).
  ``parent`` names the budget one level up (organisation -> team -> key or
  user -> session); a request is counted in every budget it matches, so spend
  is counted at every level, and every hard stop on the way must let it pass.
* A budget's ``window`` (:class:`~codex_credits.core.budgetwindow.BudgetWindow`)
  is the billing period by default, or a day, week, sprint or calendar month
  of its own; :func:`roll_budgets` resets spend, raises and alerts when a new
  window opens.
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

from pydantic import Field, field_validator, model_validator

from codex_credits.core.budgetwindow import BudgetWindow
from codex_credits.core.events import BudgetAlert, Mode, Request
from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import ZERO, Ccu, quantize_ccu
from codex_credits.errors import ConfigError

__all__ = [
    "GROUP_SCOPES",
    "SCOPES",
    "Budget",
    "BudgetAlert",
    "BudgetState",
    "BudgetVerdict",
    "Control",
    "Override",
    "check_budgets",
    "check_hierarchy",
    "evaluate_budget",
    "raise_budget",
    "record_spend",
    "reset_budgets",
    "roll_budgets",
]

SCOPES: dict[str, str] = {
    "project": "project_id",
    "project_id": "project_id",
    "user": "user_id",
    "user_id": "user_id",
    "task_type": "task_type",
    "feature": "feature",
    "session": "session_id",
    "session_id": "session_id",
    "key": "key_id",
    "key_id": "key_id",
    "team": "team",
    "organisation": "organisation",
    "organization": "organisation",
    "org": "organisation",
    "pool": "pool",
}
"""Accepted scope spellings and what each one reads: a request label, or one of
the group scopes ``team``, ``organisation`` and ``pool``."""

GROUP_SCOPES = ("team", "organisation", "pool")


class Control(StrEnum):
    """What a budget does with a request that would exceed it."""

    HARD_STOP = "hard_stop"
    SOFT_LIMIT = "soft_limit"
    DEGRADED = "degraded"
    QUEUE = "queue"


@final
class Budget(Frozen):
    """A limit of ``amount`` CCU per window for requests in its scope (see the module docs)."""

    name: str = Field(min_length=1)
    scope: str = Field(
        description="project_id, user_id, task_type, feature, session_id, key_id, "
        "team, organisation or pool"
    )
    value: str
    amount: Ccu = Field(ge=0)
    control: Control = Control.SOFT_LIMIT
    alert_at: tuple[Ccu, ...] = (Decimal(1),)
    members: tuple[str, ...] = Field(
        default=(), description="team: its users; pool: further sessions of the network"
    )
    parent: str | None = Field(default=None, description="the budget one level up")
    window: BudgetWindow = Field(default_factory=BudgetWindow)

    @field_validator("scope", mode="before")
    @classmethod
    def _known_scope(cls, value: Any) -> Any:
        if isinstance(value, str) and value in SCOPES:
            return SCOPES[value]
        raise ValueError(
            "scope must be one of project, user, task_type, feature, session, key, team, "
            f"organisation, pool; got {value!r}"
        )

    @model_validator(mode="after")
    def _members_fit_scope(self) -> Budget:
        if self.members and self.scope not in ("team", "pool"):
            raise ValueError(f"members apply only to team and pool budgets, not {self.scope}")
        if self.parent == self.name:
            raise ValueError(f"budget {self.name!r} cannot be its own parent")
        return self

    @field_validator("alert_at")
    @classmethod
    def _fractions(cls, value: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        for fraction in value:
            if fraction <= 0:
                raise ValueError(f"alert_at fractions must be > 0, got {fraction}")
        return tuple(sorted(set(value)))

    def matches(self, request: Request) -> bool:
        """True when ``request`` falls in this budget's scope."""
        scope = self.scope
        if scope == "organisation":
            return True
        if scope == "team":
            return request.user_id is not None and request.user_id in self.members
        if scope == "pool":
            return _in_pool(request.session_id, self) or _in_pool(request.parent_session_id, self)
        return request.label(scope) == self.value


def _in_pool(session: str | None, budget: Budget) -> bool:
    return session is not None and (session == budget.value or session in budget.members)


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
    """A budget in its current window: spend, raises by overrides, alerts already raised.

    ``window`` is the number of the budget's own window the figures belong to
    (None for a billing-period budget, or before the first roll).
    """

    budget: Budget
    spend: Ccu = ZERO
    extra: Ccu = ZERO
    fired: tuple[Ccu, ...] = ()
    window: int | None = None

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
        request = Request(amount=amount, **request.labels())
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
    """Add ``served`` to every matching budget; return the new states and any alerts.

    An alert's ``period_start`` is the start of the budget's window: the
    billing period's ``period_start`` or the start of its own window.
    """
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
                        period_start=_window_start(state, period_start),
                    )
                )
        new.append(
            BudgetState(
                budget=state.budget,
                spend=spend,
                extra=state.extra,
                fired=tuple(fired),
                window=state.window,
            )
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
            window=s.window,
        )
        if s.budget.name == override.budget
        else s
        for s in states
    )


def reset_budgets(states: Sequence[BudgetState]) -> tuple[BudgetState, ...]:
    """Every billing-period budget at the start of a new period: no spend, no raise,
    no alert. Budgets with a window of their own are left to :func:`roll_budgets`."""
    return tuple(BudgetState(budget=s.budget) if s.budget.window.billing else s for s in states)


def roll_budgets(states: Sequence[BudgetState], hour: datetime) -> tuple[BudgetState, ...]:
    """Budgets with a window of their own, moved to the window containing ``hour``.

    A budget whose window changed starts again from nothing (no spend, no
    raise, no alert); the others are returned as they are.
    """
    rolled: list[BudgetState] = []
    changed = False
    for state in states:
        window = state.budget.window
        if window.billing:
            rolled.append(state)
            continue
        index = window.index(hour)
        if index == state.window:
            rolled.append(state)
        else:
            changed = True
            rolled.append(BudgetState(budget=state.budget, window=index))
    return tuple(rolled) if changed else tuple(states)


def check_hierarchy(budgets: Sequence[Budget]) -> None:
    """Budget names are unique and every ``parent`` names another budget, without cycles.

    Raises:
        ConfigError: naming every repeated name, unknown parent and cycle.
    """
    names = [b.name for b in budgets]
    problems = [
        f"budget names must be unique, repeated: {name!r}"
        for name in sorted({n for n in names if names.count(n) > 1})
    ]
    parents = {b.name: b.parent for b in budgets}
    for budget in budgets:
        if budget.parent is not None and budget.parent not in parents:
            problems.append(f"budget {budget.name!r}: parent {budget.parent!r} is not a budget")
    for name in parents:
        seen = {name}
        up = parents.get(name)
        while up is not None and up in parents:
            if up in seen:
                problems.append(f"budget {name!r}: its parents form a cycle through {up!r}")
                break
            seen.add(up)
            up = parents[up]
    if problems:
        raise ConfigError("; ".join(problems), tuple(problems))


def _window_start(state: BudgetState, period_start: datetime) -> datetime:
    window = state.budget.window
    if window.billing or state.window is None:
        return period_start
    return window.bounds(state.window)[0]


def _request(amount: Decimal, project: str = "web") -> Request:
    """A small request for the examples above."""
    return Request(amount=amount, project_id=project)
