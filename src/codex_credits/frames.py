"""DataFrame export (pandas, behind the ``pandas`` extra: ``pip install codex-credits[pandas]``).

Amounts stay exact: they are written as :class:`~decimal.Decimal` objects
(``object`` columns), never floats; token counts are ``int64``.
"""

from __future__ import annotations

import importlib
from typing import Any

from codex_credits.core.ratecard import RateCard
from codex_credits.core.reports import Report
from codex_credits.core.units import from_micro
from codex_credits.core.usage import DIMENSIONS, UsageLog

__all__ = ["to_dataframe"]


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise ImportError(
            "DataFrame export needs pandas: pip install 'codex-credits[pandas]'"
        ) from None


def to_dataframe(value: UsageLog | Report, card: RateCard | None = None) -> Any:
    """A ``pandas.DataFrame`` of a usage log (one row per event) or a report (one per row).

    For a log, ``card`` adds an ``amount`` column priced on it.

    Raises:
        ImportError: pandas is not installed.
    """
    pd = _pandas()
    if isinstance(value, Report):
        return pd.DataFrame([row.model_dump() for row in value.rows])
    log = value
    data: dict[str, Any] = {
        "timestamp": pd.to_datetime(log.timestamps_us, unit="us", utc=True),
    }
    for name in (
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "tool_calls",
    ):
        data[name] = log.column(name)
    data["fast"] = log.column("fast")
    for name in DIMENSIONS:
        data[name] = log.dimension_values(name)
    if card is not None:
        data["amount"] = [from_micro(v) for v in log.amounts_micro(card).tolist()]
    return pd.DataFrame(data)
