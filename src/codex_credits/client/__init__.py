"""The usage API client: ``UsageClient``, ``AsyncUsageClient`` and their payloads.

This package is the only one (with :mod:`codex_credits.testing`) that imports
httpx; ``import codex_credits`` does not load it. See docs/api-client.md.

>>> from codex_credits.client import UsageClient
>>> with UsageClient(api_key="sk-admin-test") as client:    # doctest: +SKIP
...     log = client.usage_log(start="2026-06-01T00:00:00Z", end="2026-07-01T00:00:00Z")
"""

from __future__ import annotations

from codex_credits.client._async_usage_client import AsyncUsageClient
from codex_credits.client._attempts import DEFAULT_TIMEOUT, RawResponse
from codex_credits.client._bridge import (
    AccountStatus,
    account_status,
    bucket_event_id,
    unique_buckets,
    usage_events,
    usage_log,
)
from codex_credits.client._calls import (
    Call,
    codex_usage_call,
    completions_usage_call,
    costs_call,
    credit_status_call,
    rate_limit_events_call,
    subscription_call,
)
from codex_credits.client._models import (
    Bucket,
    CodexUsageBucket,
    CodexUsagePage,
    CodexUsageResult,
    CompletionsUsageBucket,
    CompletionsUsagePage,
    CompletionsUsageResult,
    CostAmount,
    CostsBucket,
    CostsPage,
    CostsResult,
    CreditStatus,
    Page,
    RateLimitEvent,
    RateLimitEventsPage,
    Subscription,
)
from codex_credits.client._retry import DEFAULT_MAX_RETRIES
from codex_credits.client._secrets import DEFAULT_BASE_URL, check_base_url
from codex_credits.client._usage_client import UsageClient

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "AccountStatus",
    "AsyncUsageClient",
    "Bucket",
    "Call",
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
    "RawResponse",
    "Subscription",
    "UsageClient",
    "account_status",
    "bucket_event_id",
    "check_base_url",
    "codex_usage_call",
    "completions_usage_call",
    "costs_call",
    "credit_status_call",
    "rate_limit_events_call",
    "subscription_call",
    "unique_buckets",
    "usage_events",
    "usage_log",
]
