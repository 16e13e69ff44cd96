"""One-line summaries of the task, what-if, sweep and summary results, for their ``repr``.

:func:`codex_credits.display.short_repr` uses these for the classes named in
:data:`SUMMARIES`; each says what matters (counts, verdicts, totals) in a line,
whatever the size of the result.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from codex_credits.display import micro_sum, text

__all__ = ["SUMMARIES"]


def _verdicts(decisions: Any) -> str:
    counts = {v: sum(1 for d in decisions if d.verdict == v) for v in ("allow", "defer", "refuse")}
    return ", ".join(f"{n} {v}" for v, n in counts.items())


def _plan(p: Any) -> str:
    return (
        f"{len(p.decisions)} tasks at {text(p.at)}: {_verdicts(p.decisions)}; "
        f"{text(p.total_cost)} CCU committed"
    )


def _decision(d: Any) -> str:
    source = d.estimate.source if d.estimate is not None else "given"
    when = f", fits at {text(d.fits_at)}" if d.fits_at is not None else ""
    return (
        f"{d.verdict} {text(d.amount)} CCU ({source} estimate), cost {text(d.cost)}{when}, "
        f"{len(d.reasons)} reason(s), {len(d.findings)} finding(s)"
    )


def _what_if(w: Any) -> str:
    before, after = w.before.totals.total_cost, w.after.totals.total_cost
    return (
        f"{'; '.join(w.changes) or 'no change'}: total cost {text(before)} -> {text(after)} USD "
        f"(saved {text(w.saved_usd)}) over {len(w.periods)} period(s)"
    )


def _task_simulation(t: Any) -> str:
    s = t.hold.schedule
    return (
        f"{len(s.starts)} tasks, limit {t.hold.limit}: {s.waited} waited, "
        f"{s.refused_count} refused; total cost {text(t.result.totals.total_cost)} USD"
    )


def _hold(h: Any) -> str:
    s = h.schedule
    minutes = Decimal(sum(s.waits)).scaleb(-6) / 60
    return (
        f"{len(s.starts)} tasks, limit {h.limit}: {s.waited} waited "
        f"({minutes.quantize(Decimal('0.01'))} minutes in all), {s.refused_count} refused"
    )


def _schedule(s: Any) -> str:
    return f"{len(s.starts)} tasks: {s.waited} waited, {s.refused_count} refused"


def _guard_report(g: Any) -> str:
    if g.stop is None:
        return f"never stopped: {g.iterations} iteration(s), {text(g.ccu_spent)} CCU spent"
    return (
        f"stopped at line {g.stop_line} ({g.stop.reason}): {text(g.ccu_spent)} CCU spent, "
        f"{text(g.ccu_beyond)} more after the stop"
    )


def _sweep(s: Any) -> str:
    columns = s.columns()  # from the counters: no statement is made
    accounts = len(set(columns["account_id"][1]))
    costs = columns["total_cost"][1]
    total = sum(costs, Decimal(0))
    compared = f", {len(s.comparisons)} compared" if s.comparisons else ""
    return f"{accounts} accounts, {len(costs)} statements{compared}; total cost {text(total)} USD"


def _usage_summary(u: Any) -> str:
    total = sum(g.ccu_micro for g in u.groups.values())
    return (
        f"by {u.by}: {len(u.groups)} groups, {u.summary.events} events, "
        f"amount {text(Decimal(total).scaleb(-6))}"
    )


def _prices(p: Any) -> str:
    return f"{len(p.total)} events, {len(p.categories)} categories, total {micro_sum(p.total)}"


def _codex_logs(c: Any) -> str:
    s = c.summary
    return (
        f"{len(c.log)} requests in {s.sessions} sessions from {s.files} files, "
        f"{s.bad_lines} bad lines, {len(c.plan_windows)} plan windows"
    )


def _guard(g: Any) -> str:
    state = "running" if g.stopped is None else f"stopped ({g.stopped.reason})"
    cap = "no cap" if g.max_iterations is None else f"cap {g.max_iterations}"
    return (
        f"{state}: {g.iterations} iteration(s) ({cap}), {len(g.files)} file(s), "
        f"{text(g.ccu)} CCU spent, {text(g.ccu_beyond)} beyond"
    )


SUMMARIES: dict[str, Callable[[Any], str]] = {
    "TaskGuard": _guard,
    "CodexLogs": _codex_logs,
    "TaskPlan": _plan,
    "Decision": _decision,
    "WhatIf": _what_if,
    "TaskSimulation": _task_simulation,
    "ConcurrencyHold": _hold,
    "ConcurrencySchedule": _schedule,
    "GuardReport": _guard_report,
    "SweepResult": _sweep,
    "UsageSummary": _usage_summary,
    "LogPrices": _prices,
}
"""Class name -> its summary."""
