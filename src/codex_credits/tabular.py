"""Every result as a table: named columns, one row per thing, amounts marked as amounts.

:func:`tabulate` is the one place that decides a value's rows and columns; data
frames (:mod:`codex_credits.frames`) and notebook tables (:mod:`codex_credits.display`)
are both drawn from it. A column says what its values are, so a frame can turn
amounts into floats for analysis or keep them exact:

* ``micro``: an integer array of millionths (CCU or credits), e.g. a timeline;
* ``decimal``: exact :class:`~decimal.Decimal` values (None where absent);
* ``time_us``: integer microseconds since the Unix epoch, UTC;
* ``time``: aware datetimes (None where absent);
* ``number``: floats that may be absent (None), e.g. an error rate;
* ``plain``: anything else (counts, labels, flags, probabilities).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from codex_credits.check.result import CheckResult
from codex_credits.core.compare import TierComparison
from codex_credits.core.forecast.backtest import BacktestReport
from codex_credits.core.meters import CostBreakdown
from codex_credits.core.ratecard import RateCard
from codex_credits.core.reports import Report
from codex_credits.core.statement import (
    REASON_CODES,
    STATEMENT_FIELDS,
    STATUS_CODES,
    EventOutcomes,
    PeriodStatement,
    SimulationResult,
    Timeline,
)
from codex_credits.core.timeutil import from_epoch_us
from codex_credits.core.units import from_micro
from codex_credits.core.usage import DIMENSIONS, UsageLog
from codex_credits.core.usagereport import UsageReport
from codex_credits.io.rollout import CodexLogs
from codex_credits.records import from_dicts, is_record, rows_of

__all__ = ["SUPPORTED", "Column", "Kind", "Tabular", "tabulate"]

Kind = Literal["micro", "decimal", "time_us", "time", "number", "plain"]

SUPPORTED = (
    "UsageLog, CodexLogs, SimulationResult, PeriodStatement, Timeline, EventOutcomes, "
    "TierComparison, PeriodForecast, a forecast fan (a sequence of FanPoint), Report "
    "(usage, chargeback and log reports), UsageReport, BacktestReport, CostBreakdown, "
    "CheckResult (one row per rule), TaskPlan, Decision, WhatIf, TaskSimulation, "
    "ConcurrencyHold, SweepResult, UsageSummary, LogPrices, "
    "or any other codex_credits value or sequence of values of one type"
)
"""What :func:`tabulate` (and so ``to_dataframe``) accepts, for error messages."""

_METERS = ("reasoning_tokens", "tool_calls", "output_tokens", "input_tokens", "cached_input_tokens")


@dataclass(frozen=True)
class Column:
    """One named column and what its values are."""

    name: str
    values: Sequence[Any] | npt.NDArray[Any]
    kind: Kind = "plain"
    missing: npt.NDArray[np.bool_] | None = None
    """For a ``micro`` column: True where the value is absent (shown as None or NaN)."""


@dataclass(frozen=True)
class Tabular:
    """Named columns of equal length; ``title`` says what one row is."""

    title: str
    columns: tuple[Column, ...]

    def __len__(self) -> int:
        return len(self.columns[0].values) if self.columns else 0

    @property
    def names(self) -> list[str]:
        """The column names, in order."""
        return [c.name for c in self.columns]

    def cell(self, column: Column, i: int) -> Any:
        """The exact value at row ``i``: Decimals for amounts, aware datetimes for times."""
        value = column.values[i]
        if column.missing is not None and column.missing[i]:
            return None
        if column.kind == "micro":
            return from_micro(int(value))
        if column.kind == "time_us":
            return from_epoch_us(int(value))
        return value.item() if isinstance(value, np.generic) else value


def tabulate(value: Any, card: RateCard | None = None) -> Tabular:
    """The rows and columns of ``value`` (see :data:`SUPPORTED`).

    ``card`` prices a usage log: it adds an ``amount`` column.

    Raises:
        TypeError: ``value`` is not a codex_credits result.
    """
    if isinstance(value, CodexLogs):
        value = value.log
    if isinstance(value, UsageLog):
        return _usage(value, card)
    if isinstance(value, SimulationResult):
        return rows_of("billing period", value.periods)
    if isinstance(value, Timeline):
        return _timeline(value)
    if isinstance(value, EventOutcomes):
        return _outcomes(value)
    if isinstance(value, TierComparison):
        return _comparison(value)
    if isinstance(value, Report):
        return _drop_empty(rows_of(f"{value.by}", value.rows))
    if isinstance(value, UsageReport):
        return rows_of("usage report", [value], skip=("by_dimension",))
    if isinstance(value, BacktestReport):
        return rows_of("backtest case", value.cases)
    if isinstance(value, CheckResult):
        return rows_of("rule", value.rules)
    if isinstance(value, CostBreakdown):
        rows = [*value.categories.items(), ("total", value.total)]
        return Tabular(
            "category",
            (
                Column("category", [k for k, _ in rows]),
                Column(value.unit, [v for _, v in rows], "decimal"),
            ),
        )
    if isinstance(value, PeriodStatement):
        return rows_of("billing period", [value])
    return _other(value)


def _other(value: Any) -> Tabular:
    from codex_credits.resulttables import table_of

    table = table_of(value)
    if table is not None:
        return table
    if is_record(value):
        return rows_of(type(value).__name__, [value])
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if not value:
            return Tabular("row", ())
        if all(type(v) is type(value[0]) for v in value) and is_record(value[0]):
            return rows_of(type(value[0]).__name__, value)
    raise TypeError(f"cannot tabulate a {type(value).__name__}; supported: {SUPPORTED}")


def _usage(log: UsageLog, card: RateCard | None) -> Tabular:
    columns = [
        Column("timestamp", log.timestamps_us, "time_us"),
        *(Column(name, log.dimension_values(name)) for name in DIMENSIONS),
        Column("ccu", log.column("ccu_micro"), "micro", missing=~log.column("has_ccu")),
        *(Column(name, log.column(name)) for name in _METERS),
        Column("sandbox_minutes", log.column("sandbox_micro_minutes"), "micro"),
        Column("sandbox_class", log.dimension_values("sandbox_class")),
        Column("fast", log.column("fast")),
    ]
    if card is not None:
        columns.append(Column("amount", log.amounts_micro(card), "micro"))
    return Tabular("usage event", tuple(columns))


def _timeline(timeline: Timeline) -> Tabular:
    columns = [Column("hour", timeline.hour_us, "time_us")]
    columns += [Column(name, getattr(timeline, name), "micro") for name in timeline.COLUMNS]
    return Tabular("hour", tuple(columns))


def _outcomes(outcomes: EventOutcomes) -> Tabular:
    status = [STATUS_CODES[i].value for i in outcomes.status.tolist()]
    reasons = [REASON_CODES[i] for i in outcomes.reason.tolist()]
    columns = [
        Column("index", np.arange(len(outcomes))),
        Column("status", status),
        Column("reason", [None if r is None else r.value for r in reasons]),
        *(Column(name, getattr(outcomes, name), "micro") for name in outcomes.COLUMNS),
    ]
    return Tabular("usage event", tuple(columns))


def _comparison(comparison: TierComparison) -> Tabular:
    chosen = comparison.recommended
    rows = [
        {
            "rank": o.rank,
            "tier": o.tier,
            "seats": o.seats,
            "recommended": chosen is not None and (o.tier, o.seats) == (chosen.tier, chosen.seats),
            "demand": o.demand,
            "refused": o.refused,
            "refused_share": o.refused_share,
            **{name: getattr(o.totals, name) for name in STATEMENT_FIELDS},
        }
        for o in comparison.options
    ]
    return from_dicts("tier option", rows)


def _drop_empty(table: Tabular) -> Tabular:
    """Leave out optional columns that no row fills (a report without a plan, say)."""
    kept = tuple(c for c in table.columns if any(v is not None for v in c.values))
    return Tabular(table.title, kept)
