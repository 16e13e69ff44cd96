"""One usage event (a request or a task), and what reading a usage source found.

A :class:`UsageEvent` is one request or task: an aware timestamp, and either an
amount (``ccu``) or meter quantities priced on a rate card, with the labels
reports group by (:data:`DIMENSIONS`). :class:`codex_credits.core.usage.UsageLog`
holds many of them as columns.
"""

from __future__ import annotations

from decimal import Decimal
from typing import final

from pydantic import Field, model_validator

from codex_credits.core.meters import Usage, price_usage
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import Ccu, Quantity

__all__ = ["DIMENSIONS", "INT_METERS", "LogSummary", "UsageEvent"]

DIMENSIONS: tuple[str, ...] = (
    "event_id",
    "user_id",
    "project_id",
    "task_type",
    "feature",
    "session_id",
    "parent_session_id",
    "account_id",
    "model",
)
"""Labels an event can carry; reports group by any of them."""


INT_METERS = (
    "reasoning_tokens",
    "tool_calls",
    "output_tokens",
    "input_tokens",
    "cached_input_tokens",
)
"""The whole-number meters of an event, in column order."""


@final
class UsageEvent(Frozen):
    """One request or task. Either ``ccu`` or meter quantities say how much."""

    timestamp: UtcDatetime
    ccu: Ccu | None = Field(default=None, ge=0, description="amount in the card's unit")
    reasoning_tokens: int = Field(default=0, ge=0)
    tool_calls: int = Field(default=0, ge=0)
    sandbox_minutes: Quantity = Field(default=Decimal(0), ge=0)
    sandbox_class: str | None = None
    output_tokens: int = Field(default=0, ge=0)
    input_tokens: int = Field(default=0, ge=0, description="including cached input")
    cached_input_tokens: int = Field(default=0, ge=0)
    model: str | None = None
    fast: bool = False
    event_id: str | None = None
    user_id: str | None = None
    project_id: str | None = None
    task_type: str | None = None
    feature: str | None = None
    session_id: str | None = None
    parent_session_id: str | None = Field(
        default=None, description="the session that spawned this one (agent networks)"
    )
    account_id: str | None = Field(
        default=None, description="the account the event belongs to (organisation sweeps)"
    )

    @model_validator(mode="after")
    def _cached_within_input(self) -> UsageEvent:
        if self.cached_input_tokens > self.input_tokens:
            raise ValueError(
                f"cached_input_tokens ({self.cached_input_tokens}) cannot exceed "
                f"input_tokens ({self.input_tokens})"
            )
        return self

    def usage(self) -> Usage:
        """The meter quantities of this event."""
        return Usage(
            reasoning_tokens=self.reasoning_tokens,
            tool_calls=self.tool_calls,
            sandbox_minutes=self.sandbox_minutes,
            sandbox_class=self.sandbox_class,
            output_tokens=self.output_tokens,
            input_tokens=self.input_tokens,
            cached_input_tokens=self.cached_input_tokens,
            model=self.model,
            fast=self.fast,
        )

    def amount(self, card: RateCard) -> Decimal:
        """``ccu`` when given, else the meters priced on ``card``."""
        if self.ccu is not None:
            return self.ccu
        return price_usage(self.usage(), card, at=self.timestamp).total


@final
class LogSummary(Frozen):
    """What reading a usage source found."""

    rows: int = 0
    events: int = 0
    skipped: int = 0
    duplicates: int = 0
    problems: tuple[str, ...] = ()
