"""The forecast rules: where the billing period will end (docs/check.md).

``forecast:p90`` compares the P90 of period-end consumption with the credits of
the period (rollover plus grant): above them it fails when
``fail_if_p90_over_balance`` is true and warns otherwise. ``forecast:overage``
(when ``max_expected_overage_usd`` is set) fails when the expected overage cost
exceeds it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from codex_credits.check.context import CheckContext
from codex_credits.check.policy import ForecastPolicy
from codex_credits.check.result import RuleOutcome, Status
from codex_credits.core.forecast.forecaster import forecast_period
from codex_credits.core.forecast.result import PeriodForecast

__all__ = ["forecast_rules"]


def forecast_rules(ctx: CheckContext, policy: ForecastPolicy) -> list[RuleOutcome]:
    """Run the forecast once and judge it."""
    account = ctx.policy.account
    result = forecast_period(
        ctx.log.between(None, ctx.at),
        tier=account.tier,
        seats=account.seats,
        anchor=account.anchor,
        at=ctx.at,
        card=ctx.card,
        method=policy.method,
        paths=policy.paths,
        seed=policy.seed,
        rollover_balance=account.rollover_balance,
        reserve=account.reserve,
    )
    figures = _figures(result)
    balance = result.credits_at_period_start
    outcomes = []
    over = result.p90 > balance
    if over:
        status = Status.FAIL if policy.fail_if_p90_over_balance else Status.WARN
        message = (
            f"forecast ({result.method.value}): P90 of period-end consumption is "
            f"{result.p90} CCU, above the period's {balance} CCU of credits "
            f"(P50 {result.p50}, chance of overage {_pct(result.probability_overage)})"
        )
    else:
        status = Status.PASS
        message = (
            f"forecast ({result.method.value}): P90 of period-end consumption is "
            f"{result.p90} CCU, within the period's {balance} CCU of credits"
        )
    outcomes.append(
        RuleOutcome(
            name="forecast:p90", kind="forecast", status=status, figures=figures, message=message
        )
    )
    if policy.max_expected_overage_usd is not None:
        cost = result.expected_overage_cost or Decimal(0)
        limit = policy.max_expected_overage_usd
        failed = cost > limit
        outcomes.append(
            RuleOutcome(
                name="forecast:overage",
                kind="forecast",
                status=Status.FAIL if failed else Status.PASS,
                figures={**figures, "max_expected_overage_usd": limit},
                message=(
                    f"forecast ({result.method.value}): expected overage cost {cost:.2f} USD "
                    f"{'exceeds' if failed else 'is within'} the {limit} USD allowed"
                ),
            )
        )
    return outcomes


def _figures(result: PeriodForecast) -> dict[str, Any]:
    linear = result.linear_projection
    return {
        "method": result.method.value,
        "period_start": result.period.start,
        "period_end": result.period.end,
        "consumed": result.consumed,
        "balance": result.credits_at_period_start,
        "p10": result.p10,
        "p50": result.p50,
        "p90": result.p90,
        "linear_projection": None if linear is None else linear.projected,
        "probability_overage": round(result.probability_overage, 4),
        "expected_overage_cost": result.expected_overage_cost,
        "probability_rate_limited": result.probability_rate_limited,
        "exhaustion_p50": result.exhaustion.p50,
        "backtest_mape": None if result.quality is None else result.quality.mape,
        "backtest_coverage": None if result.quality is None else result.quality.coverage,
        "warnings": list(result.warnings),
    }


def _pct(probability: float) -> str:
    return f"{probability * 100:.1f}%"
