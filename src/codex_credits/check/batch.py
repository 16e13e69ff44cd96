"""The batch rule: would the planned tasks fit? (docs/check.md)

Each ``[[batch]]`` entry is ``count`` tasks of one size, launched at its ``at``
(default: the instant of the check). Entries are checked in order, each task in
turn, against what the earlier ones left, in the engine's order of checks:

1. **budgets**: a hard-stop or queue budget whose scope matches the task and that
   the task would take past its amount refuses it (queued work does not run now);
2. **payment**: without an overage price (the free tier) a task needs credits;
   with one, the part past the credits is overage, which warns with its cost;
3. **rate limit**: the task must fit in what is left of its hour's allowance L,
   drawing on the savings reserve for the rest (all or nothing, as in request
   mode); a task larger than L plus the reserve cap fits no hour.

A refused task fails the entry; overage alone warns; otherwise it passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from codex_credits.check.context import CheckContext
from codex_credits.check.policy import BatchTask
from codex_credits.check.result import RuleOutcome, Status
from codex_credits.check.snapshot import AccountSnapshot
from codex_credits.core.events import Reason
from codex_credits.core.meters import Usage, price_usage
from codex_credits.core.ratelimit import Admission, admit
from codex_credits.core.timeutil import hour_floor
from codex_credits.core.units import ZERO, from_micro, round_cents

__all__ = ["batch_rules"]


@dataclass
class _Running:
    """What the batch has used so far."""

    credits_left: Decimal
    hour: datetime
    served_in_hour: Decimal
    reserve: Decimal
    budget_spend: dict[str, Decimal] = field(default_factory=dict)


def batch_rules(ctx: CheckContext, snapshot: AccountSnapshot) -> list[RuleOutcome]:
    """One rule per ``[[batch]]`` entry, checked in order."""
    running = _Running(
        credits_left=snapshot.credits_left,
        hour=hour_floor(snapshot.at),
        served_in_hour=snapshot.served_in_hour,
        reserve=snapshot.reserve_at_hour_start,
        budget_spend={
            b.name: from_micro(ctx.spend_micro(b.dimension, b.value)) for b in ctx.policy.budgets
        },
    )
    return [_entry(ctx, snapshot, task, running) for task in ctx.policy.batch]


def _price(ctx: CheckContext, task: BatchTask) -> Decimal:
    if task.ccu is not None:
        return task.ccu
    usage = Usage(
        reasoning_tokens=task.reasoning_tokens,
        tool_calls=task.tool_calls,
        sandbox_minutes=task.sandbox_minutes,
        sandbox_class=task.sandbox_class,
        output_tokens=task.output_tokens,
        input_tokens=task.input_tokens,
        cached_input_tokens=task.cached_input_tokens,
        model=task.model,
        fast=task.fast,
    )
    return price_usage(usage, ctx.card).total


def _entry(
    ctx: CheckContext, snapshot: AccountSnapshot, task: BatchTask, running: _Running
) -> RuleOutcome:
    unit = _price(ctx, task)
    hour = hour_floor(task.at) if task.at is not None else hour_floor(snapshot.at)
    if hour != running.hour:
        # A later hour starts with its full allowance; the reserve is taken as it is now.
        running.hour, running.served_in_hour = hour, ZERO
    credits_before = running.credits_left
    limits = snapshot.limits
    started = 0
    overage = ZERO
    refusal: str | None = None
    budgets = [
        b
        for b in ctx.policy.budgets
        if b.control in ("hard_stop", "queue") and task.label(b.scope) == b.value
    ]
    for _ in range(task.count):
        for budget in budgets:
            if running.budget_spend[budget.name] + unit > budget.amount:
                refusal = (
                    f"budget {budget.name} ({budget.control}) has "
                    f"{max(budget.amount - running.budget_spend[budget.name], ZERO)} CCU left"
                )
                break
        if refusal:
            break
        from_credits = min(unit, running.credits_left)
        if from_credits < unit and not snapshot.has_overage:
            refusal = f"only {running.credits_left} CCU of credits left and no overage on this tier"
            break
        admission = admit(limits, running.served_in_hour, running.reserve, unit)
        if not isinstance(admission, Admission):
            if admission.reason is Reason.TOO_LARGE:
                refusal = (
                    f"a task of {unit} CCU is more than any hour can hold ({limits.most_per_hour})"
                )
            else:
                refusal = f"the hour's rate limit: {admission.detail}"
            break
        started += 1
        running.served_in_hour += unit
        running.credits_left -= from_credits
        overage += unit - from_credits
        for budget in ctx.policy.budgets:
            if task.label(budget.scope) == budget.value:
                running.budget_spend[budget.name] += unit
    total = unit * task.count
    rate = snapshot.overage_rate or ZERO
    figures: dict[str, Any] = {
        "tasks": task.count,
        "unit_cost": unit,
        "total": total,
        "tasks_that_fit": started,
        "hour": hour,
        "credits_left_before": credits_before,
        "credits_left_after": running.credits_left,
        "overage_ccu": overage,
        "overage_cost": round_cents(overage * rate),
        "hour_limit": limits.limit,
        "served_in_hour_after": running.served_in_hour,
        "reserve_at_hour_start": running.reserve,
    }
    what = f"batch {task.name}: {task.count} task(s) of {unit} CCU ({total} CCU)"
    if refusal is not None:
        status = Status.FAIL
        message = f"{what} would not fit: task {started + 1} is refused, {refusal}"
    elif overage > 0:
        status = Status.WARN
        message = (
            f"{what} fits, with {overage} CCU of overage costing {figures['overage_cost']} USD"
        )
    else:
        status = Status.PASS
        message = f"{what} fits: {running.credits_left} CCU of credits left after it"
    return RuleOutcome(
        name=f"batch:{task.name}", kind="batch", status=status, figures=figures, message=message
    )
