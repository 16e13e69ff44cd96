"""The usage API's payloads as typed, immutable values (docs/openapi.yaml).

Wire models are tolerant where the style guide's state models are strict:
unknown fields are ignored (servers add fields without notice), and a count
sent as ``null`` reads as 0. Required fields stay required, so a payload that
lacks one is reported with the JSON path of the gap
(:func:`codex_credits.client._calls.decode`).

Credit and money figures are :class:`~decimal.Decimal`: the JSON text is
decoded with ``parse_float=Decimal`` before validation, so no binary float
ever touches an amount. Times are Unix seconds, as on the wire; each model
offers aware UTC datetimes as properties.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from codex_credits.core.timeutil import epoch_seconds, from_epoch, parse_instant
from codex_credits.core.units import Ccu, Quantity, Usd

__all__ = [
    "Bucket",
    "CodexUsageBucket",
    "CodexUsagePage",
    "CodexUsageResult",
    "CompletionsUsageBucket",
    "CompletionsUsagePage",
    "CompletionsUsageResult",
    "CostAmount",
    "CostsBucket",
    "CostsPage",
    "CostsResult",
    "CreditStatus",
    "Page",
    "RateLimitEvent",
    "RateLimitEventsPage",
    "Subscription",
    "WireModel",
]

T = TypeVar("T")
R = TypeVar("R")


def _null_is_zero(value: Any) -> Any:
    return 0 if value is None else value


Count = Annotated[int, BeforeValidator(_null_is_zero), Field(ge=0)]
"""A whole-number meter; ``null`` reads as 0."""

NonNegativeCcu = Annotated[Ccu, BeforeValidator(_null_is_zero), Field(ge=0)]
"""An exact, non-negative CCU amount; ``null`` reads as 0."""

Minutes = Annotated[Quantity, BeforeValidator(_null_is_zero), Field(ge=0)]


def _unix_seconds(value: Any) -> Any:
    """Unix seconds as sent; an ISO 8601 instant from a lenient server is converted."""
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            return epoch_seconds(parse_instant(value))
        except ValueError:
            return value
    return value


Seconds = Annotated[int, BeforeValidator(_unix_seconds)]
"""A Unix time in whole seconds."""


class WireModel(BaseModel):
    """Base of every payload: frozen, and tolerant of fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Page(WireModel, Generic[T]):
    """``{"object": "page", "data": [...], "has_more": bool, "next_page": str|null}``."""

    object: str = "page"
    data: tuple[T, ...]
    has_more: bool
    next_page: str | None = None


class Bucket(WireModel, Generic[R]):
    """One time bucket ``[start_time, end_time)`` and its results."""

    object: str = "bucket"
    start_time: Seconds
    end_time: Seconds
    results: tuple[R, ...]

    @property
    def start(self) -> datetime:
        """``start_time`` as an aware UTC datetime."""
        return from_epoch(self.start_time)

    @property
    def end(self) -> datetime:
        """``end_time`` as an aware UTC datetime."""
        return from_epoch(self.end_time)


class CodexUsageResult(WireModel):
    """Codex usage of one group in one bucket."""

    object: str = "organization.usage.codex.result"
    compute_units_consumed: NonNegativeCcu
    num_tasks: Count = 0
    reasoning_tokens: Count = 0
    tool_calls: Count = 0
    sandbox_minutes: Minutes = Decimal(0)
    output_tokens: Count = 0
    user_id: str | None = None
    project_id: str | None = None
    task_type: str | None = None


CodexUsageBucket = Bucket[CodexUsageResult]
CodexUsagePage = Page[CodexUsageBucket]


class RateLimitEvent(WireModel):
    """A request that met the hourly limit: served from the reserve, or rate limited."""

    object: str = "codex.rate_limit_event"
    timestamp: Seconds
    requested_ccu: NonNegativeCcu
    outcome: Literal["reserve", "rate_limited"]
    reserve_ccu_consumed: NonNegativeCcu = Decimal(0)
    user_id: str | None = None
    project_id: str | None = None

    @property
    def at(self) -> datetime:
        """``timestamp`` as an aware UTC datetime."""
        return from_epoch(self.timestamp)


class RateLimitEventsPage(Page[RateLimitEvent]):
    """A page of rate-limit events plus totals over the whole requested range."""

    total_events: int | None = None
    reserve_ccu_consumed: Ccu | None = None
    rollover_ccu_consumed: Ccu | None = None


class Subscription(WireModel):
    """``GET /organization/billing/subscription``."""

    object: str = "billing.subscription"
    tier: str
    seats: int = Field(ge=1)
    codex_monthly_ccu: NonNegativeCcu | None = None
    codex_rollover_balance: NonNegativeCcu = Decimal(0)
    codex_overage_rate: Usd | None = None
    current_period_start: Seconds | None = None
    current_period_end: Seconds | None = None


class CreditStatus(WireModel):
    """``GET /usage/codex``: where the current billing period stands."""

    object: str = "codex.credit_status"
    current_period_ccu_consumed: NonNegativeCcu
    current_period_ccu_remaining: NonNegativeCcu
    rollover_ccu_balance: NonNegativeCcu
    billing_period_days_elapsed: int | None = None
    billing_period_days_total: int | None = None
    tier: str | None = None
    seats: int | None = None
    current_period_start: Seconds | None = None
    current_period_end: Seconds | None = None
    savings_reserve_ccu: NonNegativeCcu = Decimal(0)


class CompletionsUsageResult(WireModel):
    """OpenAI's ``organization.usage.completions.result``.

    ``input_tokens`` includes cached and cache-write tokens; the modality
    fields count uncached tokens only. Only ``object``, ``input_tokens``,
    ``output_tokens`` and ``num_model_requests`` are required.
    """

    object: str
    input_tokens: int
    output_tokens: int
    num_model_requests: int
    input_cached_tokens: int | None = None
    input_cache_write_tokens: int | None = None
    input_uncached_tokens: int | None = None
    input_text_tokens: int | None = None
    output_text_tokens: int | None = None
    input_cached_text_tokens: int | None = None
    input_audio_tokens: int | None = None
    input_cached_audio_tokens: int | None = None
    output_audio_tokens: int | None = None
    input_image_tokens: int | None = None
    input_cached_image_tokens: int | None = None
    output_image_tokens: int | None = None
    project_id: str | None = None
    user_id: str | None = None
    api_key_id: str | None = None
    model: str | None = None
    batch: bool | None = None
    service_tier: str | None = None


CompletionsUsageBucket = Bucket[CompletionsUsageResult]
CompletionsUsagePage = Page[CompletionsUsageBucket]


class CostAmount(WireModel):
    """``{"value": <exact decimal>, "currency": "usd"}``."""

    value: Usd
    currency: str


class CostsResult(WireModel):
    """OpenAI's ``organization.costs.result``."""

    object: str
    amount: CostAmount | None = None
    line_item: str | None = None
    project_id: str | None = None
    api_key_id: str | None = None
    quantity: Decimal | None = None
    quantity_unit: str | None = None


CostsBucket = Bucket[CostsResult]
CostsPage = Page[CostsBucket]
