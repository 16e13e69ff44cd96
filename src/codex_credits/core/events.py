"""What goes into the engine and what comes out of it.

Theory of operation (docs/engine.md): the engine is a pure state machine. Its
inputs are :class:`Request` values applied at explicit instants, and the
passing of time, which closes UTC hours (:class:`HourClosed`) and billing
periods (:class:`PeriodClosed`, :class:`PeriodStarted`). Every request gets an
:class:`Outcome`: what was served and from where, and what was refused and
why. A refusal is a value carrying a :class:`Reason`, never an exception;
exceptions are kept for misuse (an event out of order, a naive datetime).

>>> Outcome(requested=Decimal(5), served=Decimal(5), from_grant=Decimal(5)).status
<Status.SERVED: 'served'>
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import final

from pydantic import Field, model_validator

from codex_credits.core.model import Frozen
from codex_credits.core.units import ZERO, Ccu

__all__ = [
    "REQUEST_LABELS",
    "BudgetAlert",
    "HourClosed",
    "Mode",
    "Outcome",
    "PeriodClosed",
    "PeriodStarted",
    "Policy",
    "Reason",
    "Refusal",
    "Request",
    "Status",
]


REQUEST_LABELS: tuple[str, ...] = (
    "project_id",
    "user_id",
    "task_type",
    "feature",
    "session_id",
    "parent_session_id",
    "key_id",
)
"""The labels a request carries for budgets to scope on."""


class Mode(StrEnum):
    """How a request that only partly fits is treated."""

    REQUEST = "request"
    """All or nothing: a request is served whole or refused whole."""
    FLUID = "fluid"
    """The part that fits is served, the rest is refused (aggregated hourly traces)."""


class Policy(StrEnum):
    """What a simulation does with rate-limited work."""

    DEFER = "defer"
    """Retry it at the start of the next hour, before that hour's own work."""
    DROP = "drop"
    """Never serve it."""


class Reason(StrEnum):
    """Why (part of) a request was not served."""

    RATE_LIMITED = "rate_limited"
    """The hour's allowance and the savings reserve cannot cover it."""
    TOO_LARGE = "too_large"
    """Request mode: larger than any hour can ever hold (L plus the reserve cap)."""
    NO_CREDITS = "no_credits"
    """Out of credits on a tier without overage (the free tier)."""
    BUDGET_HARD_STOP = "budget_hard_stop"
    """A hard-stop budget would be exceeded."""
    BUDGET_QUEUED = "budget_queued"
    """A queue budget would be exceeded: held until the next period or an override."""

    @property
    def blocks(self) -> bool:
        """True when the refused work is blocked for good (not deferred, not held)."""
        return self in (Reason.TOO_LARGE, Reason.NO_CREDITS, Reason.BUDGET_HARD_STOP)


class Status(StrEnum):
    """The fate of a request, or of a usage event at the end of a simulation."""

    SERVED = "served"
    PARTIAL = "partial"
    REFUSED = "refused"
    IGNORED = "ignored"
    """Simulation only: the event falls outside the simulated window."""


@final
class Refusal(Frozen):
    """A refusal by one of the pure pieces (reserve, limiter, ledger, budget)."""

    reason: Reason
    amount: Ccu = Field(ge=0, description="the amount that was refused")
    detail: str = ""


@final
class Request(Frozen):
    """Work asking to be served: an amount and the labels budgets scope on.

    ``sandbox_ccu`` is the part of ``amount`` priced by the sandbox meter; a
    degraded budget serves the request without it. It is 0 for an amount-only
    event. ``session_id`` and ``parent_session_id`` place the request in an
    agent network (credit pools); ``key_id`` names the scoped key it was
    dispatched with (key budgets).
    """

    amount: Ccu = Field(ge=0)
    sandbox_ccu: Ccu = Field(default=ZERO, ge=0)
    project_id: str | None = None
    user_id: str | None = None
    task_type: str | None = None
    feature: str | None = None
    session_id: str | None = None
    parent_session_id: str | None = None
    key_id: str | None = None

    @model_validator(mode="after")
    def _sandbox_within_amount(self) -> Request:
        if self.sandbox_ccu > self.amount:
            raise ValueError(
                f"sandbox_ccu ({self.sandbox_ccu}) cannot exceed amount ({self.amount})"
            )
        return self

    def label(self, dimension: str) -> str | None:
        """The request's label for one of :data:`REQUEST_LABELS`."""
        value: str | None = getattr(self, dimension)
        return value

    def labels(self) -> dict[str, str | None]:
        """Every label of the request, by name (to build a changed copy)."""
        return {name: getattr(self, name) for name in REQUEST_LABELS}


@final
class BudgetAlert(Frozen):
    """A budget's spend reached ``threshold`` x its limit in the period from ``period_start``."""

    budget: str
    threshold: Ccu
    at: datetime
    spend: Ccu
    amount: Ccu
    period_start: datetime


@final
class Outcome(Frozen):
    """What happened to one request.

    ``served = from_rollover + from_grant + from_overage``; ``from_reserve`` is
    the part of ``served`` that went past the hour's allowance and was drawn
    from the savings reserve (a throughput source, not a money source).
    ``requested = served + waived + rate_limited + blocked + queued``.
    """

    requested: Ccu = ZERO
    served: Ccu = ZERO
    from_rollover: Ccu = ZERO
    from_grant: Ccu = ZERO
    from_overage: Ccu = ZERO
    from_reserve: Ccu = ZERO
    waived: Ccu = Field(default=ZERO, description="sandbox part not charged (degraded budget)")
    rate_limited: Ccu = ZERO
    blocked: Ccu = ZERO
    queued: Ccu = ZERO
    reason: Reason | None = None
    budget: str | None = Field(default=None, description="the budget that refused or degraded")
    alerts: tuple[BudgetAlert, ...] = ()

    @property
    def status(self) -> Status:
        """SERVED (nothing refused), PARTIAL or REFUSED (nothing served)."""
        refused = self.rate_limited + self.blocked + self.queued
        if refused == 0:
            return Status.SERVED
        return Status.PARTIAL if self.served > 0 else Status.REFUSED

    @property
    def refused(self) -> Decimal:
        """Everything not served and not waived."""
        return self.rate_limited + self.blocked + self.queued


@final
class HourClosed(Frozen):
    """A UTC hour ``[hour, hour+1)`` was closed: what it served and what the reserve did."""

    hour: datetime
    served: Ccu
    drawn: Ccu
    accrued: Ccu
    reserve: Ccu = Field(description="reserve level after the close")


@final
class PeriodClosed(Frozen):
    """A billing period ended: blocks expired, the grant's leftover rolled over."""

    start: datetime
    end: datetime
    expired: Ccu
    rolled_over: Ccu
    rollover_balance: Ccu


@final
class PeriodStarted(Frozen):
    """A billing period began with a grant of the pool."""

    start: datetime
    end: datetime
    granted: Ccu
    rollover_balance: Ccu
