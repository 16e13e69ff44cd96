"""A prepared simulation through the kernel: one lane, its result as ``simulate`` gives it.

Theory of operation (docs/engine.md, "The kernel"): :func:`lane_input` turns a
:class:`~codex_credits.core.replaysetup.Setup` into what lanes over the same events share
(hour cuts, prefix sums, budgets as masks and windows, overrides by hour);
:func:`run_kernel` runs the account's lane and assembles the
:class:`~codex_credits.core.statement.SimulationResult`.
"""

from __future__ import annotations

from codex_credits.core.account import AccountState
from codex_credits.core.kernel.budgets import kernel_budgets
from codex_credits.core.kernel.lane import LaneInput, LaneResult, run_lane
from codex_credits.core.kernel.rules import LaneRules
from codex_credits.core.periods import period_at
from codex_credits.core.replay import result_from
from codex_credits.core.replaysetup import Setup
from codex_credits.core.reserve import ReserveState
from codex_credits.core.statement import PeriodStatement, SimulationResult
from codex_credits.core.units import from_micro, to_micro

__all__ = ["lane_input", "lane_statements", "run_kernel"]


def lane_input(setup: Setup) -> LaneInput:
    """What every lane over ``setup``'s events shares."""
    names = {b.name: i for i, b in enumerate(setup.budgets)}
    overrides = tuple(
        (h, names[o.budget], to_micro(o.amount))
        for h, o in zip(setup.override_hours, setup.overrides, strict=True)
        if h >= 0
    )
    return LaneInput(
        amounts=setup.amounts,
        sandbox=setup.sandbox,
        ts=setup.log.timestamps_us,
        start_us=setup.start_us,
        hours=setup.hours,
        periods=setup.periods,
        period_first_hour=setup.period_first_hour,
        budgets=kernel_budgets(
            setup.budgets, setup.matches, setup.start_us, setup.hours, setup.plan.anchor
        ),
        overrides=overrides,
    )


def run_kernel(setup: Setup) -> SimulationResult:
    """``simulate`` through the kernel: one lane, every per-event outcome recorded."""
    rules = LaneRules.from_plan(setup.plan, setup.mode, setup.policy)
    lane = run_lane(rules, lane_input(setup), setup.state)
    book = lane.book
    columns = book.split_pieces()
    for name in ("waived", "rate_limited", "blocked", "unserved"):
        columns[name] = book.columns[name]
    return result_from(
        setup,
        columns,
        book.reason,
        lane.tallies,
        book.timeline,
        book.alerts,
        final_state(setup, lane),
    )


def lane_statements(
    setup: Setup, inp: LaneInput, state: AccountState
) -> tuple[PeriodStatement, ...]:
    """The period statements of one more lane over ``setup``'s events, from ``state``.

    ``state`` is another tier or seat count at the same anchor (a comparison or a
    sweep); only the statements are kept (no per-event outcomes, no ledger log).
    """
    rules = LaneRules.from_plan(state.plan, setup.mode, setup.policy)
    lane = run_lane(rules, inp, state, record=False, keep_log=False)
    return tuple(t.statement(state.plan) for t in lane.tallies)


def final_state(setup: Setup, lane: LaneResult) -> AccountState:
    """The account after the last period closed (the next period opened)."""
    plan = setup.plan
    nxt = period_at(plan.anchor, setup.periods[-1].index + 1)
    return AccountState(
        plan=plan,
        period=nxt,
        hour=nxt.start,
        as_of=nxt.start,
        reserve=ReserveState(
            level=from_micro(lane.level), recent=tuple(from_micro(x) for x in lane.recent)
        ),
        ledger=lane.ledger.ledger(),
        budgets=lane.budgets.states(nxt.start),
    )
