"""codex-credits: exact Codex credit accounting.

Price tasks on a rate card, read usage, replay it through a tier's rules,
forecast and check budgets, all in-process. The public API is re-exported
here; see docs/index.md.

>>> from codex_credits import estimate
>>> estimate(reasoning_tokens=12_000, tool_calls=20, sandbox_minutes=10,
...          sandbox_class="large", output_tokens=2_000).total
Decimal('25.900000')
"""

from __future__ import annotations

from codex_credits._version import __version__
from codex_credits.clock import Clock, FixedClock, ManualClock, SystemClock
from codex_credits.core.meters import CostBreakdown, Usage, estimate, price_usage
from codex_credits.core.periods import BillingPeriod, period_at, period_containing
from codex_credits.core.ratecard import (
    BUILTIN_CARDS,
    DEFAULT_CARD,
    TOKEN_CARD,
    MeterRates,
    ModelRates,
    Options,
    RateCard,
    ReservePolicy,
    TierSpec,
)
from codex_credits.core.reports import (
    Report,
    ReportRow,
    UsageReport,
    build_report,
    largest_remainder,
    usage_report,
)
from codex_credits.core.timeutil import require_utc
from codex_credits.core.units import Ccu, Usd, quantize_ccu, round_cents
from codex_credits.core.usage import LogSummary, UsageEvent, UsageLog, UsageLogBuilder
from codex_credits.errors import (
    AmountTypeError,
    ApiConnectionError,
    ApiDecodeError,
    ApiError,
    ApiStatusError,
    ApiTimeoutError,
    AuthenticationError,
    ConfigError,
    CreditError,
    NaiveDatetimeError,
    NotFoundError,
    OutOfOrderEventError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnknownModelError,
    UsageDataError,
)
from codex_credits.frames import to_dataframe
from codex_credits.io.rollout import (
    CodexLogs,
    PlanWindow,
    RolloutSummary,
    find_rollout_files,
    read_codex_logs,
)
from codex_credits.io.usagefile import read_usage, write_usage

__all__ = [
    "__version__",
    "AmountTypeError",
    "ApiConnectionError",
    "ApiDecodeError",
    "ApiError",
    "ApiStatusError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BillingPeriod",
    "build_report",
    "BUILTIN_CARDS",
    "Ccu",
    "Clock",
    "CodexLogs",
    "ConfigError",
    "CostBreakdown",
    "CreditError",
    "DEFAULT_CARD",
    "estimate",
    "find_rollout_files",
    "FixedClock",
    "largest_remainder",
    "LogSummary",
    "ManualClock",
    "MeterRates",
    "ModelRates",
    "NaiveDatetimeError",
    "NotFoundError",
    "Options",
    "OutOfOrderEventError",
    "period_at",
    "period_containing",
    "PermissionDeniedError",
    "PlanWindow",
    "price_usage",
    "quantize_ccu",
    "RateCard",
    "RateLimitError",
    "read_codex_logs",
    "read_usage",
    "Report",
    "ReportRow",
    "require_utc",
    "ReservePolicy",
    "RolloutSummary",
    "round_cents",
    "ServerError",
    "SystemClock",
    "TierSpec",
    "to_dataframe",
    "TOKEN_CARD",
    "UnknownModelError",
    "Usage",
    "usage_report",
    "UsageDataError",
    "UsageEvent",
    "UsageLog",
    "UsageLogBuilder",
    "UsageReport",
    "Usd",
    "write_usage",
]
