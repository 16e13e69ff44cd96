"""Evaluate a policy's rules against usage at one instant.

Each rule looks at the billing period containing ``at`` and the usage before
``at`` (docs/check.md):

* **budget** (one per ``[[budgets]]``): the scope's spend this period against its
  amount. A hard stop at or past its amount fails; any budget past one of its
  ``alert_at`` fractions warns; a soft limit, degraded or queue budget never fails.
* **alerts**: the seed's alerts over this period; any alert warns.
* **forecast**: where the period will end; fails or warns as configured.
* **batch** (one per ``[[batch]]``): the planned tasks priced and checked, in
  order, against what is left: the balance (or overage), hard-stop budgets, the
  hour's rate limit and the savings reserve. A batch that would not fit fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from codex_credits.check.policy import BudgetPolicy, Policy
from codex_credits.check.result import CheckResult, RuleOutcome, Status
from codex_credits.core.periods import BillingPeriod, period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import epoch_us, require_utc
from codex_credits.core.units import from_micro
from codex_credits.core.usage import UsageEvent, UsageLog

__all__ = ["CheckContext", "budget_rule", "check"]

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class CheckContext:
    """What every rule needs: the policy, the card, the usage and the period."""

    policy: Policy
    card: RateCard
    log: UsageLog
    at: datetime
    period: BillingPeriod
    amounts: npt.NDArray[np.int64]  # micro-units of every event in ``log``
    in_period: npt.NDArray[np.bool_]  # events in [period.start, at)

    def spend_micro(self, dimension: str, value: str) -> int:
        """Micro-units spent this period by events whose ``dimension`` is ``value``."""
        labels = self.log.labels(dimension)
        try:
            code = labels.index(value)
        except ValueError:
            return 0
        mask = self.in_period & (self.log.column(dimension) == code)
        return int(self.amounts[mask].sum())


def check(
    policy: Policy,
    usage: UsageLog | Iterable[UsageEvent],
    *,
    at: datetime | None = None,
    card: RateCard | None = None,
) -> CheckResult:
    """Evaluate every rule of ``policy`` against ``usage`` at ``at``.

    Args:
        policy: the validated policy.
        usage: what was used (events after ``at`` are ignored).
        at: the instant of the check; default: just after the last event.
        card: overrides the policy's card (mostly for tests).
    """
    log = usage if isinstance(usage, UsageLog) else UsageLog.from_events(usage)
    card = card if card is not None else RateCard.resolve(policy.account.card)
    card.tier(policy.account.tier).check_seats(policy.account.seats, policy.account.tier)
    if at is None:
        at = _after_last_event(log, policy)
    at = require_utc(at)
    period = period_containing(policy.account.anchor, at)
    ts = log.timestamps_us
    start_us, at_us = epoch_us(period.start), epoch_us(at)
    ctx = CheckContext(
        policy=policy,
        card=card,
        log=log,
        at=at,
        period=period,
        amounts=log.amounts_micro(card),
        in_period=(ts >= start_us) & (ts < at_us),
    )
    outcomes = [budget_rule(ctx, budget) for budget in policy.budgets]
    return CheckResult(at=at, rules=tuple(outcomes))


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
    used = f"{spent} of {amount} CCU ({_percent(fraction)})"
    if budget.control == "hard_stop" and spent >= amount:
        status = Status.FAIL
        message = f"budget {budget.name}: {who} has used {used}: at or past its hard stop"
    elif crossed:
        status = Status.WARN
        message = (
            f"budget {budget.name}: {who} has used {used}, past its "
            f"{_percent(crossed[-1])} threshold ({budget.control})"
        )
    else:
        status = Status.PASS
        message = f"budget {budget.name}: {who} has used {used}"
    return RuleOutcome(
        name=f"budget:{budget.name}", kind="budget", status=status, figures=figures, message=message
    )


def _percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).quantize(Decimal('0.1'))}%"


def _after_last_event(log: UsageLog, policy: Policy) -> datetime:
    if len(log):
        return log.end + _MICROSECOND
    return policy.account.anchor
