"""Organisation sweeps past one machine: ``simulate_many`` over a Dask DataFrame.

Needs the ``dask`` extra (``pip install 'codex-credits[dask]'``). Theory of
operation (docs/scale.md): accounts never interact, so a sweep splits by account.
:func:`simulate_many` shuffles a Dask DataFrame of usage rows so that each
account's rows share a partition (skip with ``partitioned=True`` when they already
do), then calls :func:`simulate_partition` once per partition: the partition's rows
become a :class:`~codex_credits.core.usage.UsageLog` (:func:`log_from_frame`) and
:func:`codex_credits.simulate_many` runs every account in it as lanes of the kernel.
The statements come back as one Dask DataFrame, a row per account and period.

The same :func:`simulate_partition` serves Spark, one account per call::

    spark_df.groupBy("account_id").applyInPandas(
        lambda rows: simulate_partition(rows, start=anchor, months=12), schema=SPARK_SCHEMA
    )

Rows need ``timestamp`` (timezone-aware datetimes, or ISO 8601 text with an offset),
``account_id`` and ``ccu`` (exact: Decimal, int, or decimal text; floats are
refused), and may carry ``project_id``, ``user_id``, ``task_type`` and ``feature``
for budgets. Amounts in the result are decimal text (exact, and portable to Spark
and Parquet); ``start`` and ``end`` are UTC timestamps.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from codex_credits.core.budgets import Budget
from codex_credits.core.events import Mode, Policy
from codex_credits.core.ratecard import RateCard
from codex_credits.core.sweep import ROW_FIELDS, AccountPlan
from codex_credits.core.sweep import simulate_many as simulate_lanes
from codex_credits.core.timeutil import epoch_us, parse_instant
from codex_credits.core.units import amount, to_micro
from codex_credits.core.usage import UsageLog
from codex_credits.core.usagebuilder import UsageLogBuilder
from codex_credits.errors import ConfigError

__all__ = [
    "LABELS",
    "SPARK_SCHEMA",
    "log_from_frame",
    "result_meta",
    "simulate_many",
    "simulate_partition",
]

LABELS = ("account_id", "project_id", "user_id", "task_type", "feature")
"""Label columns read from a frame when present."""

_INTS = ("seats", "period", "rate_limited_events")
_TIMES = ("start", "end")

SPARK_SCHEMA = ", ".join(
    f"{name} {'long' if name in _INTS else 'timestamp' if name in _TIMES else 'string'}"
    for name in ROW_FIELDS
)
"""The result's columns as a Spark DDL schema (for ``applyInPandas``)."""


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"codex_credits.dask needs {name}: pip install 'codex-credits[dask]'"
        ) from exc


def log_from_frame(rows: Any) -> UsageLog:
    """A usage log of a pandas DataFrame's rows (see the module docs for the columns).

    Timestamps of a timezone-aware datetime column are converted at once; text is
    parsed row by row. Amounts are parsed exactly, row by row.

    Raises:
        ConfigError: a missing column, a naive or unreadable timestamp, a float amount.
    """
    for name in ("timestamp", "ccu"):
        if name not in rows.columns:
            raise ConfigError(f"usage rows need a {name!r} column; columns: {list(rows.columns)}")
    n = len(rows)
    builder = UsageLogBuilder()
    builder.ts_us = _timestamps_us(rows["timestamp"])
    builder.ccu_micro = [to_micro(amount(_decimal(v))) for v in rows["ccu"].tolist()]
    builder.has_ccu = [True] * n
    for values in builder.meters.values():
        values.extend([0] * n)
    builder.sandbox_micro_minutes = [0] * n
    builder.fast = [False] * n
    for name, column in builder.labels.items():
        if name in LABELS and name in rows.columns:
            for v in rows[name].tolist():
                column.append(None if _missing(v) else str(v))
        else:
            column.codes.extend([0] * n)
    builder.summary_rows = n
    return builder.build()


def _timestamps_us(column: Any) -> list[int]:
    """Epoch microseconds of a column of aware datetimes (or ISO 8601 text)."""
    pandas = _module("pandas")
    if isinstance(column.dtype, pandas.DatetimeTZDtype):
        since = column.dt.tz_convert("UTC") - pandas.Timestamp(0, tz="UTC")
        return [int(v) for v in (since // pandas.Timedelta(microseconds=1)).tolist()]
    found = []
    for value in column.tolist():
        at = parse_instant(value) if isinstance(value, str) else value
        if hasattr(at, "to_pydatetime"):
            at = at.to_pydatetime()
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise ConfigError(f"timestamps must be timezone-aware, got {value!r}")
        found.append(epoch_us(at))
    return found


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _decimal(value: Any) -> Decimal | int | str:
    if isinstance(value, Decimal | int | str):
        return value
    if hasattr(value, "item") and isinstance(value.item(), int):  # numpy integers
        return int(value.item())
    raise ConfigError(f"ccu must be exact (Decimal, int or decimal text), got {value!r}")


def result_meta() -> Any:
    """An empty pandas DataFrame with the result's columns and dtypes."""
    pandas = _module("pandas")
    return pandas.DataFrame(
        {
            name: pandas.Series(
                [],
                dtype="int64"
                if name in _INTS
                else "datetime64[ns, UTC]"
                if name in _TIMES
                else "object",
            )
            for name in ROW_FIELDS
        }
    )


def simulate_partition(
    rows: Any,
    accounts: Mapping[str, str | AccountPlan] | Sequence[str | AccountPlan] | None = None,
    *,
    start: datetime,
    months: int = 1,
    card: RateCard | str | None = None,
    mode: Mode | str = Mode.REQUEST,
    on_rate_limit: Policy | str = Policy.DEFER,
    budgets: Sequence[Budget] = (),
) -> Any:
    """The statements of the accounts in one pandas DataFrame of usage rows.

    ``accounts`` may name accounts of other partitions: only those present here are
    run (a plan's account with no rows anywhere runs in no partition). Returns a
    pandas DataFrame shaped like :func:`result_meta`.
    """
    pandas = _module("pandas")
    log = log_from_frame(rows)
    present = {a for a in log.dimension_values("account_id") if a is not None}
    chosen: list[str | AccountPlan] | dict[str, str | AccountPlan]
    if accounts is not None:
        plans = accounts.items() if isinstance(accounts, Mapping) else [(None, a) for a in accounts]
        if isinstance(accounts, Mapping):
            chosen = {k: v for k, v in plans if k in present}
        else:
            chosen = [
                v
                for _, v in plans
                if (v.account_id if isinstance(v, AccountPlan) else v) in present
            ]
    else:
        chosen = [str(a) for a in sorted(present)]
    sweep = simulate_lanes(
        log,
        chosen,
        start=start,
        months=months,
        card=card,
        mode=mode,
        on_rate_limit=on_rate_limit,
        budgets=budgets,
    )
    table = [
        {name: (str(v) if isinstance(v, Decimal) else v) for name, v in row.items()}
        for row in sweep.table()
    ]
    frame = pandas.DataFrame(table, columns=list(ROW_FIELDS))
    return frame.astype(result_meta().dtypes.to_dict()) if len(frame) else result_meta()


def simulate_many(
    frame: Any,
    accounts: Mapping[str, str | AccountPlan] | Sequence[str | AccountPlan] | None = None,
    *,
    start: datetime,
    months: int = 1,
    card: RateCard | str | None = None,
    mode: Mode | str = Mode.REQUEST,
    on_rate_limit: Policy | str = Policy.DEFER,
    budgets: Sequence[Budget] = (),
    partitioned: bool = False,
) -> Any:
    """:func:`codex_credits.simulate_many` over a Dask DataFrame; returns one (lazy).

    Args:
        frame: a ``dask.dataframe.DataFrame`` of usage rows.
        accounts: as for :func:`codex_credits.simulate_many` (default: every account).
        start: the billing anchor of plans without their own.
        months: billing periods to simulate.
        card: the rate card (default: the built-in CCU card).
        mode: request or fluid.
        on_rate_limit: defer or drop.
        budgets: budgets applied within every account.
        partitioned: True when each account's rows already share one partition.
    """
    if not partitioned:
        frame = frame.shuffle(on="account_id")
    return frame.map_partitions(
        simulate_partition,
        accounts,
        start=start,
        months=months,
        card=card,
        mode=mode,
        on_rate_limit=on_rate_limit,
        budgets=budgets,
        meta=result_meta(),
        align_dataframes=False,
        enforce_metadata=False,
    )
