"""The tasks rule: would each planned task be allowed now? (docs/check.md)

Each ``[[tasks]]`` entry is a :class:`~codex_credits.tasks.spec.TaskSpec`.
The account at the instant of the check is replayed from the usage
(:func:`~codex_credits.tasks.state.account_state_at`, with the policy's
budgets), and the tasks are decided in order with
:func:`~codex_credits.tasks.plan.plan_tasks` under the policy's
``[dispatch]`` table. With an ``[organisation]`` table, each task is first
authorized by governance (:func:`~codex_credits.governance.gate.access_gate`,
the key named by the task's ``key_id`` label): a denied task is refused before
any credit check. A refused task fails its rule, a deferred one warns, an
allowed one passes.
"""

from __future__ import annotations

from codex_credits.check.context import CheckContext
from codex_credits.check.result import RuleOutcome, Status
from codex_credits.core.budgets import Budget, Control
from codex_credits.governance.gate import access_gate
from codex_credits.tasks.decide import DispatchPolicy
from codex_credits.tasks.plan import plan_tasks
from codex_credits.tasks.state import account_state_at

__all__ = ["task_rules"]


def task_rules(ctx: CheckContext) -> list[RuleOutcome]:
    """One rule per ``[[tasks]]`` entry, decided in order."""
    policy = ctx.policy
    account = policy.account
    budgets = [
        Budget(
            name=b.name,
            scope=b.scope,
            value=b.value,
            amount=b.amount,
            control=Control(b.control),
        )
        for b in policy.budgets
    ]
    state = account_state_at(
        ctx.log,
        account.tier,
        account.anchor,
        ctx.at,
        seats=account.seats,
        card=ctx.card,
        rollover_balance=account.rollover_balance,
        reserve=account.reserve,
        budgets=budgets,
    )
    dispatch = policy.dispatch if policy.dispatch is not None else DispatchPolicy()
    gates = () if policy.organisation is None else (access_gate(policy.organisation, state=state),)
    plan = plan_tasks(policy.tasks, state, ctx.at, dispatch, gates=gates, card=ctx.card)
    outcomes = []
    for row, decision in zip(plan.rows(), plan.decisions, strict=True):
        status = {"allow": Status.PASS, "defer": Status.WARN, "refuse": Status.FAIL}[
            decision.verdict
        ]
        what = f"task {row['name']} ({decision.amount} CCU)"
        if decision.verdict == "allow":
            message = f"{what} is allowed"
        elif decision.verdict == "defer":
            message = f"{what} is deferred until {decision.fits_at}: " + "; ".join(
                r.message for r in decision.reasons
            )
        else:
            message = f"{what} is refused: " + "; ".join(
                r.message for r in decision.reasons if r.refuses
            )
        outcomes.append(
            RuleOutcome(
                name=f"task:{row['name']}",
                kind="tasks",
                status=status,
                figures={k: v for k, v in row.items() if k not in ("name", "task")},
                message=message,
            )
        )
    return outcomes
