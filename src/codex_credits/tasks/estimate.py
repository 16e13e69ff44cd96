"""What a task will cost before it runs: P50 and P90 of CCU and tool calls.

Theory of operation (docs/tasks/estimate.md):

* **With history** (a :class:`~codex_credits.core.usage.UsageLog`, Codex logs
  read with :func:`~codex_credits.io.rollout.read_codex_logs`, or
  :class:`TaskRecord` values), the team's own finished tasks of the spec's
  ``task_type`` are the sample (every task when the spec has no type). In a
  usage log one task is the events of one ``session_id`` (an event without a
  session is a task on its own), priced on the card. Records labelled with
  their bounds (``scoped``) are narrowed to those that match the spec (scoped
  when it has no error or warning finding), when at least ``min_samples``
  do. ``p50`` is the sample **mean**: the figure that adds up across tasks
  and that a budget needs (task costs are skewed, so the median would
  understate the total; the median is reported apart as ``median_ccu``).
  ``p90`` is the sample's 90th percentile at rank 0.9 (n + 1), so that a new
  task of the kind falls under it nine times in ten on average, even for a
  small sample.
* **Without history** (or fewer than ``min_samples`` tasks of the type), the
  seed's figures are the prior: a well scoped task costs 1.5-3 CCU with 2-4
  exploratory tool calls, a poorly scoped one 12-25 CCU with 20-40. Each range
  is read as P10-P90: P50 is its midpoint, P90 its top. A spec sits between
  the two by its *unboundedness*: the CCU its lint findings put at risk over
  the 16.25 CCU the poorly scoped JWT task puts at risk (capped at 1).

The result says which it used (``source``) and why (``basis``).

>>> est = estimate_task(TaskSpec(instruction="Explain the module"))
>>> est.source, est.p50_ccu > Decimal(3)
('prior', True)
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, final

from pydantic import Field

from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.units import ZERO, Ccu, from_micro, quantize_ccu
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.display import Displayed, RowList
from codex_credits.tasks.lint import LINT_RULES, Finding, LintRule, Severity, lint_task
from codex_credits.tasks.spec import TaskSpec

__all__ = [
    "TASK_PRIORS",
    "TaskEstimate",
    "TaskPrior",
    "TaskRecord",
    "estimate_task",
    "task_records",
]


@final
class TaskPrior(Frozen):
    """The seed's figures for one kind of task, read as P10-P90 ranges."""

    ccu_low: Ccu
    ccu_high: Ccu
    tool_calls_low: Decimal
    tool_calls_high: Decimal

    @property
    def p50_ccu(self) -> Decimal:
        """The midpoint of the CCU range."""
        return (self.ccu_low + self.ccu_high) / 2

    @property
    def p50_tool_calls(self) -> Decimal:
        """The midpoint of the tool-call range."""
        return (self.tool_calls_low + self.tool_calls_high) / 2


TASK_PRIORS: dict[str, TaskPrior] = {
    "well_scoped": TaskPrior(
        ccu_low=Decimal("1.5"), ccu_high=Decimal(3), tool_calls_low=2, tool_calls_high=4
    ),
    "poorly_scoped": TaskPrior(
        ccu_low=Decimal(12), ccu_high=Decimal(25), tool_calls_low=20, tool_calls_high=40
    ),
}
"""The seed's well and poorly scoped JWT task ("Task Decomposition and Scope Bounding")."""

_SEED_RISK = Decimal("16.25")


@final
class TaskRecord(Frozen):
    """One finished task of a team's history."""

    task_type: str | None = None
    ccu: Ccu = Field(ge=0)
    tool_calls: int = Field(default=0, ge=0)
    scoped: bool | None = Field(default=None, description="labelled bounds, when known")


@final
@dataclass(frozen=True, slots=True, repr=False)
class TaskEstimate(Displayed):
    """Expected cost of one task: P50 (the mean, see the module) and P90.

    ``unboundedness`` is 0 for a well scoped spec, 1 for one as open as the
    seed's poorly scoped task; ``samples`` counts the history tasks used.
    """

    p50_ccu: Decimal
    p90_ccu: Decimal
    p50_tool_calls: Decimal
    p90_tool_calls: Decimal
    median_ccu: Decimal
    source: Literal["history", "prior"]
    basis: str
    samples: int
    task_type: str | None
    unboundedness: Decimal


def task_records(log: UsageLog, card: RateCard | None = None) -> list[TaskRecord]:
    """Tasks of a usage log: the events of one ``session_id`` make one task.

    An event without a session is a task on its own. A task's type is the
    first ``task_type`` among its events.
    """
    card = card if card is not None else RateCard.default()
    amounts = log.amounts_micro(card).tolist()
    tools = log.column("tool_calls").tolist()
    sessions = log.dimension_values("session_id")
    types = log.dimension_values("task_type")
    grouped: dict[object, list[int]] = defaultdict(lambda: [0, 0])
    kinds: dict[object, str | None] = {}
    for i, session in enumerate(sessions):
        key: object = session if session is not None else ("event", i)
        row = grouped[key]
        row[0] += amounts[i]
        row[1] += tools[i]
        if kinds.get(key) is None:
            kinds[key] = types[i]
    return RowList(
        TaskRecord(task_type=kinds[k], ccu=from_micro(v[0]), tool_calls=v[1])
        for k, v in grouped.items()
    )


def estimate_task(
    spec: TaskSpec,
    history: UsageLog | Iterable[TaskRecord] | Iterable[UsageEvent] | Any = None,
    *,
    card: RateCard | None = None,
    rules: Sequence[LintRule] = LINT_RULES,
    min_samples: int = 5,
    findings: Sequence[Finding] | None = None,
) -> TaskEstimate:
    """P50 and P90 of CCU and tool calls for ``spec``, from history or the seed's priors.

    Args:
        spec: the task.
        history: the team's finished tasks: a usage log, usage events, Codex logs
            (:class:`~codex_credits.io.rollout.CodexLogs`, mapped onto ``card``) or records.
        card: prices a usage log (default: the built-in CCU card).
        rules: the lint table that decides how bounded the spec is.
        min_samples: fewer tasks of the type than this fall back to the priors.
        findings: the spec's lint findings, when already known (else linted here).
    """
    if findings is None:
        findings = lint_task(spec, rules)
    risk = sum((f.ccu_at_risk for f in findings), ZERO)
    unbounded = min(risk / _SEED_RISK, Decimal(1))
    if history is not None:
        records = _records(history, card)
        same = [r for r in records if spec.task_type is None or r.task_type == spec.task_type]
        scoped = not any(f.severity.at_least(Severity.WARNING) for f in findings)
        labelled = [r for r in same if r.scoped is scoped]
        what = f"task type {spec.task_type!r}" if spec.task_type else "all task types"
        if len(labelled) >= min_samples:
            same = labelled
            what += ", " + ("scoped" if scoped else "unscoped") + " tasks"
        if len(same) >= min_samples:
            return _from_history(spec, same, unbounded, what)
        fallback = f"only {len(same)} task(s) of {what} in the history; "
    else:
        fallback = ""
    return _from_prior(spec.task_type, unbounded, fallback)


def _records(history: Any, card: RateCard | None) -> list[TaskRecord]:
    """Records from a usage log, Codex logs (anything with ``for_card``), events or records."""
    card = card if card is not None else RateCard.default()
    if hasattr(history, "for_card"):
        history = history.for_card(card)
    if isinstance(history, UsageLog):
        return task_records(history, card)
    items = list(history)
    if items and all(isinstance(i, UsageEvent) for i in items):
        return task_records(UsageLog.from_events(items), card)
    return items


def _from_history(
    spec: TaskSpec, records: list[TaskRecord], unbounded: Decimal, what: str
) -> TaskEstimate:
    ccu = sorted(r.ccu for r in records)
    calls = sorted(Decimal(r.tool_calls) for r in records)
    n = len(ccu)
    return TaskEstimate(
        p50_ccu=quantize_ccu(sum(ccu, ZERO) / n),
        p90_ccu=quantize_ccu(_quantile(ccu, Decimal("0.9"))),
        p50_tool_calls=quantize_ccu(sum(calls, ZERO) / n),
        p90_tool_calls=quantize_ccu(_quantile(calls, Decimal("0.9"))),
        median_ccu=quantize_ccu(_quantile(ccu, Decimal("0.5"))),
        source="history",
        basis=f"calibrated on {n} finished task(s) of {what}: P50 is their mean, "
        "P90 their 90th percentile",
        samples=n,
        task_type=spec.task_type,
        unboundedness=quantize_ccu(unbounded),
    )


@functools.lru_cache(maxsize=1024)
def _from_prior(task_type: str | None, unbounded: Decimal, fallback: str) -> TaskEstimate:
    well, poor = TASK_PRIORS["well_scoped"], TASK_PRIORS["poorly_scoped"]

    def mix(a: Decimal, b: Decimal) -> Decimal:
        return quantize_ccu(a + (b - a) * unbounded)

    p50 = mix(well.p50_ccu, poor.p50_ccu)
    return TaskEstimate(
        p50_ccu=p50,
        p90_ccu=mix(well.ccu_high, poor.ccu_high),
        p50_tool_calls=mix(well.p50_tool_calls, poor.p50_tool_calls),
        p90_tool_calls=mix(well.tool_calls_high, poor.tool_calls_high),
        median_ccu=p50,
        source="prior",
        samples=0,
        basis=fallback + "the seed's priors: well scoped 1.5-3 CCU with 2-4 tool calls, "
        f"poorly scoped 12-25 CCU with 20-40; this spec sits at {unbounded:.2f} between them "
        "by the CCU its findings put at risk",
        task_type=task_type,
        unboundedness=quantize_ccu(unbounded),
    )


def _quantile(values: Sequence[Decimal], q: Decimal) -> Decimal:
    """The ``q`` quantile at rank ``q (n + 1)`` between order statistics (Hyndman-Fan type 6).

    A new task of the same kind falls at or below it with probability ``q`` on
    average, whatever the sample size (the interpolation numpy uses by default
    covers less in small samples: about 83% for a P90 of ten tasks).
    """
    n = len(values)
    rank = q * (n + 1)  # 1-based
    if rank <= 1:
        return values[0]
    if rank >= n:
        return values[-1]
    lo = int(rank)
    return values[lo - 1] + (values[lo] - values[lo - 1]) * (rank - lo)
