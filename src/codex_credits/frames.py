"""Data frames of every result: pandas (``[pandas]`` extra) and polars (``[polars]`` extra).

One row per thing (usage event, billing period, hour, tier option, report row,
forecast fan point, ...) and every column kept; :func:`codex_credits.tabular.tabulate`
decides the rows and columns.

Amounts (CCU, credits, USD) are ``float64`` by default: frames are for analysis
and plots, and ``describe()``, ``plot()`` and arithmetic need numbers. A float
holds a CCU amount to about 15 significant digits, so a sum of a frame column
can differ from the library's exact total in the last places: the exact totals
are the library's own (``result.totals``, ``report.total``). Pass ``exact=True``
to keep every amount exact: ``Decimal`` objects with pandas, a ``Decimal``
column with polars. Times are timezone-aware UTC.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from codex_credits.core.ratecard import RateCard
from codex_credits.tabular import Column, Tabular, tabulate

__all__ = ["to_dataframe", "to_polars"]


def _module(name: str, extra: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(
            f"this export needs {name}: pip install 'codex-credits[{extra}]'"
        ) from None


def _floats(column: Column) -> npt.NDArray[np.float64]:
    if column.kind == "micro":
        floats = np.asarray(column.values, dtype=np.int64) / 1_000_000
        if column.missing is not None:
            floats[column.missing] = np.nan
        return floats
    return np.array([np.nan if v is None else float(v) for v in column.values], dtype=np.float64)


def _exact(table: Tabular, column: Column) -> list[Decimal | None]:
    return [table.cell(column, i) for i in range(len(table))]


def to_dataframe(value: Any, card: RateCard | None = None, *, exact: bool = False) -> Any:
    """A ``pandas.DataFrame`` of a result, one row per thing, every column kept.

    Accepts a usage log (``card`` adds a priced ``amount`` column), a simulation
    result (one row per billing period), a statement, its timeline (per hour) and
    outcomes (per event), a tier comparison (per option), a forecast (one row) or
    its fan (per day end: ``at``, ``p10``, ``p50``, ``p90``), a report (usage,
    chargeback or log report: per row), a usage report, a backtest report and
    other codex_credits values.

    Args:
        value: the result.
        card: prices a usage log.
        exact: amounts as ``Decimal`` objects instead of ``float64``.

    Raises:
        TypeError: ``value`` is not a supported result (the message lists them).
        ImportError: pandas is not installed.
    """
    table = tabulate(value, card)
    pd = _module("pandas", "pandas")
    data: dict[str, Any] = {}
    for column in table.columns:
        if column.kind == "time_us":
            data[column.name] = pd.to_datetime(
                np.asarray(column.values, dtype=np.int64), unit="us", utc=True
            )
        elif column.kind == "time":
            data[column.name] = pd.to_datetime(list(column.values), utc=True)
        elif column.kind in ("micro", "decimal"):
            data[column.name] = (
                pd.Series(_exact(table, column), dtype=object) if exact else _floats(column)
            )
        elif column.kind == "number":
            data[column.name] = _floats(column)
        elif any(v is None for v in column.values) and _all_ints(column):
            data[column.name] = pd.array(list(column.values), dtype="Int64")
        else:
            data[column.name] = _plain(column)
    return pd.DataFrame(data, columns=table.names)


def to_polars(value: Any, card: RateCard | None = None, *, exact: bool = False) -> Any:
    """A ``polars.DataFrame`` of a result: the same rows and columns as :func:`to_dataframe`.

    With ``exact=True`` amounts are a ``pl.Decimal`` column (scale 6) instead of ``Float64``.

    Raises:
        TypeError: ``value`` is not a supported result.
        ImportError: polars is not installed.
    """
    table = tabulate(value, card)
    pl = _module("polars", "polars")
    series = []
    for column in table.columns:
        if column.kind == "time_us":
            us = pl.Series(column.name, np.asarray(column.values, dtype=np.int64))
            series.append(us.cast(pl.Datetime("us", "UTC")))
        elif column.kind == "time":
            series.append(
                pl.Series(column.name, list(column.values), dtype=pl.Datetime("us", "UTC"))
            )
        elif column.kind in ("micro", "decimal"):
            if exact:
                values = _exact(table, column)
                series.append(pl.Series(column.name, values, dtype=pl.Decimal(38, 6)))
            else:
                series.append(pl.Series(column.name, _floats(column)))
        elif column.kind == "number":
            series.append(pl.Series(column.name, _floats(column)))
        else:
            series.append(pl.Series(column.name, _plain(column)))
    return pl.DataFrame(series)


def _plain(column: Column) -> Any:
    """Counts, labels and flags as they are: an array stays an array."""
    return column.values if isinstance(column.values, np.ndarray) else list(column.values)


def _all_ints(column: Column) -> bool:
    present = [v for v in column.values if v is not None]
    return bool(present) and all(isinstance(v, int) and not isinstance(v, bool) for v in present)
