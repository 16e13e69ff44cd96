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
from codex_credits.core.alerts import (
    Alert,
    AlertRule,
    burn_alerts,
    exhaustion_alerts,
    scan_alerts,
    task_alerts,
)
from codex_credits.core.forecast.backtest import BacktestCase, BacktestReport, backtest
from codex_credits.core.forecast.forecaster import FanPoint, forecast_fan, forecast_period
from codex_credits.core.forecast.pathengine import HourlyRules, PathStart, run_paths
from codex_credits.core.forecast.projection import (
    LinearProjection,
    OverageEstimate,
    RolloverForecast,
    estimate_overage,
    forecast_rollover,
    project_linear,
)
from codex_credits.core.forecast.result import (
    Exhaustion,
    ForecastMethod,
    PeriodForecast,
    RolloverOutlook,
)
from codex_credits.core.forecast.seasonal import SeasonalModel, fit_seasonal
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
from codex_credits.io.usagefile import read_usage, write_usage

__all__ = [
    "__version__",
    "Alert",
    "AlertRule",
    "AmountTypeError",
    "ApiConnectionError",
    "ApiDecodeError",
    "ApiError",
    "ApiStatusError",
    "ApiTimeoutError",
    "AuthenticationError",
    "backtest",
    "BacktestCase",
    "BacktestReport",
    "BillingPeriod",
    "BUILTIN_CARDS",
    "burn_alerts",
    "Ccu",
    "Clock",
    "ConfigError",
    "CostBreakdown",
    "CreditError",
    "DEFAULT_CARD",
    "estimate",
    "estimate_overage",
    "Exhaustion",
    "exhaustion_alerts",
    "FanPoint",
    "fit_seasonal",
    "FixedClock",
    "forecast_fan",
    "forecast_period",
    "forecast_rollover",
    "ForecastMethod",
    "HourlyRules",
    "LinearProjection",
    "LogSummary",
    "ManualClock",
    "MeterRates",
    "ModelRates",
    "NaiveDatetimeError",
    "NotFoundError",
    "Options",
    "OutOfOrderEventError",
    "OverageEstimate",
    "PathStart",
    "period_at",
    "period_containing",
    "PeriodForecast",
    "PermissionDeniedError",
    "price_usage",
    "project_linear",
    "quantize_ccu",
    "RateCard",
    "RateLimitError",
    "read_usage",
    "require_utc",
    "ReservePolicy",
    "RolloverForecast",
    "RolloverOutlook",
    "round_cents",
    "run_paths",
    "scan_alerts",
    "SeasonalModel",
    "ServerError",
    "SystemClock",
    "task_alerts",
    "TierSpec",
    "TOKEN_CARD",
    "UnknownModelError",
    "Usage",
    "UsageDataError",
    "UsageEvent",
    "UsageLog",
    "UsageLogBuilder",
    "Usd",
    "write_usage",
]
