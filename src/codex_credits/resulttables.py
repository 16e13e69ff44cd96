"""The rows of the task, what-if, sweep, concurrency and summary results.

:func:`codex_credits.tabular.tabulate` asks :func:`table_of` for these, and
falls back on one row of fields (:mod:`codex_credits.records`) for any other
codex_credits value. One row per thing:

* ``TaskPlan``: per task; ``Decision``: its one row (the same columns);
* ``WhatIf``: per billing period, every statement field before, after and changed;
* ``TaskSimulation``: per billing period, with the concurrency waits;
* ``ConcurrencyHold`` and ``ConcurrencySchedule``: per task (input order);
* ``SweepResult``: per account, option and period (:meth:`SweepResult.table`);
* ``UsageSummary``: per group; ``LogPrices``: per usage event, one column per category.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from codex_credits.core.logpricing import LogPrices
from codex_credits.core.statement import STATEMENT_FIELDS
from codex_credits.core.sweep import SweepResult
from codex_credits.io.usagesummary import GroupTotals, UsageSummary
from codex_credits.records import from_dicts, rows_of
from codex_credits.tabular import Column, Kind, Tabular
from codex_credits.tasks.concurrency import ConcurrencyHold, ConcurrencySchedule, TaskSimulation
from codex_credits.tasks.decide import Decision
from codex_credits.tasks.guard import TaskGuard
from codex_credits.tasks.plan import TaskPlan
from codex_credits.whatif.run import WhatIf

__all__ = ["TABLED", "table_of"]

TABLED = (
    "TaskPlan, Decision, WhatIf, TaskSimulation, ConcurrencyHold, ConcurrencySchedule, "
    "SweepResult, UsageSummary, LogPrices, TaskGuard"
)
"""The results with a table of their own (for error messages)."""

_STATEMENT_KINDS: dict[str, Kind] = {
    name: "time" if name in ("start", "end") else "decimal"
    for name in STATEMENT_FIELDS
    if name != "rate_limited_events"
}
_DECISION_KINDS: dict[str, Kind] = {"amount": "decimal", "cost": "decimal", "fits_at": "time"}
_MICRO_MINUTE = Decimal("0.000001") / 60


def _plan(plan: TaskPlan) -> Tabular:
    return from_dicts("task", plan.rows(), _DECISION_KINDS)


def _decision(decision: Decision) -> Tabular:
    return from_dicts("task", [decision.row()], _DECISION_KINDS)


def _what_if(result: WhatIf) -> Tabular:
    return rows_of("billing period", result.periods)


def _task_simulation(run: TaskSimulation) -> Tabular:
    return from_dicts("billing period", run.to_dict()["periods"], _STATEMENT_KINDS)


def _schedule(schedule: ConcurrencySchedule, unit: str = "") -> Tabular:
    return Tabular(
        "task",
        (
            Column("task", np.arange(len(schedule.starts))),
            Column(f"start{unit}", list(schedule.starts)),
            Column(f"wait{unit}", list(schedule.waits)),
            Column("refused", list(schedule.refused)),
        ),
    )


def _hold(hold: ConcurrencyHold) -> Tabular:
    """Per input event: when it started, how long it waited (minutes), whether it was refused."""
    s = hold.schedule
    waits = [Decimal(w) * _MICRO_MINUTE for w in s.waits]
    return Tabular(
        "usage event",
        (
            Column("event", np.arange(len(s.starts))),
            Column("start", np.asarray(s.starts, dtype=np.int64), "time_us"),
            Column("wait_minutes", waits, "decimal"),
            Column("refused", list(s.refused)),
        ),
    )


def _guard(guard: TaskGuard) -> Tabular:
    """Its caps and what it has counted so far, as one row."""
    timeout = None if guard.timeout is None else Decimal(guard.timeout.total_seconds()) / 60
    row = {
        "max_iterations": guard.max_iterations,
        "file_scope": "; ".join(guard.file_scope),
        "max_files": guard.max_files,
        "timeout_minutes": timeout,
        "max_ccu": guard.max_ccu,
        "start": guard.start,
        "iterations": guard.iterations,
        "files": len(guard.files),
        "ccu": guard.ccu,
        "ccu_beyond": guard.ccu_beyond,
        "stopped": None if guard.stopped is None else guard.stopped.reason,
    }
    kinds: dict[str, Kind] = {
        n: "decimal" for n in ("timeout_minutes", "max_ccu", "ccu", "ccu_beyond")
    }
    return from_dicts("task guard", [row], {**kinds, "start": "time"})


def _sweep(sweep: SweepResult) -> Tabular:
    columns = sweep.columns().items()
    return Tabular("account period", tuple(Column(n, v, k) for n, (k, v) in columns))


def _summary(summary: UsageSummary) -> Tabular:
    """Per group: counts, the priced amount (the card's unit) and sandbox minutes."""
    keys, groups = list(summary.groups), list(summary.groups.values())

    def micro(name: str) -> npt.NDArray[np.int64]:
        return np.asarray([getattr(g, name) for g in groups], dtype=np.int64)

    counts = [f.name for f in fields(GroupTotals) if "micro" not in f.name]
    return Tabular(
        "group",
        (
            Column(summary.by, keys),
            *(Column(name, [getattr(g, name) for g in groups]) for name in counts),
            Column("amount", micro("ccu_micro"), "micro"),
            Column("sandbox_minutes", micro("sandbox_micro_minutes"), "micro"),
        ),
    )


def _prices(prices: LogPrices) -> Tabular:
    columns = [Column(name, values, "micro") for name, values in prices.categories.items()]
    return Tabular(
        "usage event",
        (
            Column("event", np.arange(len(prices.total))),
            *columns,
            Column("total", prices.total, "micro"),
        ),
    )


_TABLES: dict[type, Callable[[Any], Tabular]] = {
    TaskPlan: _plan,
    Decision: _decision,
    WhatIf: _what_if,
    TaskSimulation: _task_simulation,
    ConcurrencyHold: _hold,
    ConcurrencySchedule: _schedule,
    SweepResult: _sweep,
    TaskGuard: _guard,
    UsageSummary: _summary,
    LogPrices: _prices,
}


def table_of(value: Any) -> Tabular | None:
    """The table of one of these results, or None for any other value."""
    build = _TABLES.get(type(value))
    return None if build is None else build(value)
