"""The alert rules: the seed's three alerts over the billing period so far.

``alerts:task`` (one task above ``task_threshold`` CCU), ``alerts:burn`` (an hour
above ``burn_factor`` x the average of the previous ``burn_window_hours``, and above
a floor of one hour's allocation H unless ``burn_floor`` says otherwise) and
``alerts:exhaustion`` (a day's rate that, sustained, empties the credits before the
period ends). Any alert in the period before ``at`` makes its rule warn; alerts
never fail a check (docs/check.md).
"""

from __future__ import annotations

from typing import Any

from codex_credits.check.context import CheckContext
from codex_credits.check.policy import AlertsPolicy
from codex_credits.check.result import RuleOutcome, Status
from codex_credits.core.alerts import Alert, burn_alerts, exhaustion_alerts, task_alerts

__all__ = ["alert_rules"]

_SHOWN = 3


def alert_rules(ctx: CheckContext, policy: AlertsPolicy) -> list[RuleOutcome]:
    """One rule per alert kind that the policy turns on."""
    account = ctx.policy.account
    history = ctx.log.between(None, ctx.at)
    this_period = history.between(ctx.period.start, None)
    outcomes = []
    if policy.task_threshold is not None:
        alerts = task_alerts(this_period, ctx.card, policy.task_threshold)
        outcomes.append(
            _outcome("alerts:task", "task", alerts, {"threshold": policy.task_threshold})
        )
    floor = policy.burn_floor
    if floor is None:
        floor = ctx.card.hourly_allocation(account.tier, account.seats)
    burn = burn_alerts(
        history,
        ctx.card,
        factor=policy.burn_factor,
        window_hours=policy.burn_window_hours,
        floor_ccu=floor,
    )
    outcomes.append(
        _outcome(
            "alerts:burn",
            "burn rate",
            _in_period(ctx, burn),
            {
                "factor": policy.burn_factor,
                "window_hours": policy.burn_window_hours,
                "floor": floor,
            },
        )
    )
    if policy.exhaustion:
        exhaustion = exhaustion_alerts(
            history, ctx.card, tier=account.tier, anchor=account.anchor, seats=account.seats
        )
        outcomes.append(
            _outcome("alerts:exhaustion", "exhaustion", _in_period(ctx, exhaustion), {})
        )
    return outcomes


def _in_period(ctx: CheckContext, alerts: tuple[Alert, ...]) -> tuple[Alert, ...]:
    return tuple(a for a in alerts if ctx.period.start <= a.at < ctx.at)


def _outcome(
    name: str, what: str, alerts: tuple[Alert, ...], settings: dict[str, Any]
) -> RuleOutcome:
    figures: dict[str, Any] = {
        **settings,
        "alerts": len(alerts),
        "first": alerts[0].at if alerts else None,
        "last": alerts[-1].at if alerts else None,
        "largest": max((a.value for a in alerts), default=None),
        "examples": [a.message for a in alerts[-_SHOWN:]],
    }
    if not alerts:
        return RuleOutcome(
            name=name,
            kind="alert",
            status=Status.PASS,
            figures=figures,
            message=f"no {what} alert this period",
        )
    more = f" (and {len(alerts) - 1} more this period)" if len(alerts) > 1 else ""
    return RuleOutcome(
        name=name,
        kind="alert",
        status=Status.WARN,
        figures=figures,
        message=f"{alerts[-1].message}{more}",
    )
