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
* **access** (one per ``[[access]]``): a planned task authorized against the
  ``[organisation]``; it fails when the decision is not the one expected.
* **tasks** (one per ``[[tasks]]``): each task spec decided before dispatch
  (``check/tasks.py``): refused fails, deferred warns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from codex_credits.check.access import access_rule
from codex_credits.check.alerts import alert_rules
from codex_credits.check.batch import batch_rules
from codex_credits.check.budget import budget_rule
from codex_credits.check.context import CheckContext
from codex_credits.check.forecast import forecast_rules
from codex_credits.check.policy import Policy
from codex_credits.check.result import CheckResult
from codex_credits.check.snapshot import snapshot_at
from codex_credits.check.tasks import task_rules
from codex_credits.core.periods import period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import epoch_us, require_utc
from codex_credits.core.usage import UsageEvent, UsageLog

__all__ = ["check"]

_MICROSECOND = timedelta(microseconds=1)


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
    if policy.alerts is not None:
        outcomes += alert_rules(ctx, policy.alerts)
    if policy.forecast is not None:
        outcomes += forecast_rules(ctx, policy.forecast)
    if policy.batch:
        outcomes += batch_rules(ctx, snapshot_at(policy, card, log, at, period))
    if policy.organisation is not None:
        outcomes += [access_rule(ctx, policy.organisation, rule) for rule in policy.access]
    if policy.tasks:
        outcomes += task_rules(ctx)
    return CheckResult(at=at, rules=tuple(outcomes))


def _after_last_event(log: UsageLog, policy: Policy) -> datetime:
    if len(log):
        return log.end + _MICROSECOND
    return policy.account.anchor
