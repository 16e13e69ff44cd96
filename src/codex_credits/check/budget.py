"""The budget rule: a scope's spend this period against its amount (docs/check.md).

A hard stop at or past its amount fails; any budget past one of its ``alert_at``
fractions warns; a soft limit, degraded or queue budget never fails.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from codex_credits.check.context import CheckContext, percent
from codex_credits.check.policy import BudgetPolicy
from codex_credits.check.result import RuleOutcome, Status
from codex_credits.core.units import from_micro

__all__ = ["budget_rule"]


def budget_rule(ctx: CheckContext, budget: BudgetPolicy) -> RuleOutcome:
    """The budget rule for one ``[[budgets]]`` entry."""
    spent = from_micro(ctx.spend_micro(budget.dimension, budget.value))
    amount = budget.amount
    fraction = (spent / amount) if amount else (Decimal(1) if spent else Decimal(0))
    crossed = [t for t in budget.thresholds if spent >= t * amount]
    figures: dict[str, Any] = {
        "scope": budget.scope,
        "value": budget.value,
        "control": budget.control,
        "spent": spent,
        "amount": amount,
        "remaining": max(amount - spent, Decimal(0)),
        "used_fraction": fraction.quantize(Decimal("0.0001")),
        "thresholds_crossed": crossed,
        "period_start": ctx.period.start,
        "period_end": ctx.period.end,
    }
    who = f"{budget.scope} {budget.value!r}"
    used = f"{spent} of {amount} CCU ({percent(fraction)})"
    if budget.control == "hard_stop" and spent >= amount:
        status = Status.FAIL
        message = f"budget {budget.name}: {who} has used {used}: at or past its hard stop"
    elif crossed:
        status = Status.WARN
        message = (
            f"budget {budget.name}: {who} has used {used}, past its "
            f"{percent(crossed[-1])} threshold ({budget.control})"
        )
    else:
        status = Status.PASS
        message = f"budget {budget.name}: {who} has used {used}"
    return RuleOutcome(
        name=f"budget:{budget.name}", kind="budget", status=status, figures=figures, message=message
    )
