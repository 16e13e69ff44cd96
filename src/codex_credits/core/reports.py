"""Reports over any usage: totals by period or dimension, shares and allocated cost.

Theory of operation (docs/reports.md):

* Every event is priced once, in integer micro-units of the card's unit
  (:meth:`UsageLog.amounts_micro`), and grouped by a time bucket (day, ISO
  week or month, in UTC unless a time zone is given) or a dimension (session,
  user, project, task type, feature, model). Group totals are sums of integers,
  so the rows always add up to the report total exactly.
* Shares use largest-remainder rounding: each row gets the floor of its exact
  share and the units left over go to the largest remainders, so the printed
  percentages (2 places) sum to exactly 100.00 and the JSON fractions (12
  places) to exactly 1.
* Allocated cost: the subscription is split by share of consumption and each
  scope adds the overage it caused itself. Overage comes in per event
  (``overage_micro``, aligned with the log, e.g. from the engine's per-event
  outcomes), so a scope pays for the overage its own requests drew. Both parts
  are split in cents with largest remainders, so the scopes sum to the bill to
  the cent. When no scope consumed anything, a bill is split by demand
  (``requested_micro``) instead, or else by event counts, so that it is never
  left unallocated while there are rows.
  :func:`~codex_credits.core.chargeback.chargeback` feeds this from a
  simulation (docs/reports.md, "Allocated cost").

The usage report of one period, built on these totals, is
:mod:`codex_credits.core.usagereport`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Final, final

import numpy as np
import numpy.typing as npt

from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.units import CENT, ZERO, from_micro, round_cents
from codex_credits.core.usage import UsageLog
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError

__all__ = [
    "GROUPINGS",
    "Report",
    "ReportRow",
    "allocate_cents",
    "build_report",
    "group_keys",
    "largest_remainder",
]

GROUPINGS: Final = (
    "day",
    "week",
    "month",
    "session",
    "user",
    "project",
    "task_type",
    "feature",
    "model",
)
"""What a report can group by."""

_DIMENSION: Final = {
    "session": "session_id",
    "user": "user_id",
    "project": "project_id",
    "task_type": "task_type",
    "feature": "feature",
    "model": "model",
}
_TIME: Final = frozenset({"day", "week", "month"})
_NONE_KEY: Final = "(none)"
_QUARTER_US: Final = 900 * 1_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SHARE_UNITS: Final = 10**12
_PCT_UNITS: Final = 10_000
_TOKEN_COLUMNS: Final = (
    ("input_tokens", "input_tokens"),
    ("cached_input_tokens", "cached_input_tokens"),
    ("output_tokens", "output_tokens"),
    ("reasoning_output_tokens", "reasoning_tokens"),
)


@final
class ReportRow(Frozen):
    """One group of a report."""

    key: str
    total: Decimal
    share: Decimal
    share_pct: Decimal
    events: int
    requested: Decimal | None = None
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    subscription_usd: Decimal | None = None
    overage_usd: Decimal | None = None
    allocated_usd: Decimal | None = None


@final
class Report(Displayed, Frozen):
    """Totals by one grouping; rows sum to ``total`` exactly."""

    unit: str
    by: str
    total: Decimal
    events: int
    rows: tuple[ReportRow, ...]
    requested: Decimal | None = None
    subscription_usd: Decimal | None = None
    overage_usd: Decimal | None = None
    allocated_usd: Decimal | None = None

    def to_data(self) -> dict[str, Any]:
        """``{"unit", "by", "total", "rows": [{"key", "total", "share", ...}]}``."""
        data: dict[str, Any] = {"unit": self.unit, "by": self.by, "total": self.total}
        for name in ("requested", "subscription_usd", "overage_usd", "allocated_usd"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        data["rows"] = [row.model_dump(exclude_none=True) for row in self.rows]
        return data


def largest_remainder(weights: Sequence[int], units: int) -> list[int]:
    """Split ``units`` in proportion to ``weights`` (ints >= 0); the parts sum to ``units``.

    Each part is the floor of its exact share; what is left goes one unit at a
    time to the largest remainders (ties: the earlier weight). All weights 0
    gives all parts 0.

    >>> largest_remainder([1, 1, 1], 100)
    [34, 33, 33]
    """
    total = sum(weights)
    if total == 0:
        return [0] * len(weights)
    parts = [w * units // total for w in weights]
    left = units - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(weights[i] * units % total), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def allocate_cents(amount: Decimal, weights: Sequence[int]) -> list[Decimal]:
    """Split a USD ``amount`` (rounded to cents first) by ``weights``, to the cent."""
    cents = int(round_cents(amount) / CENT)
    return [Decimal(part) * CENT for part in largest_remainder(weights, cents)]


def group_keys(log: UsageLog, by: str, tz: tzinfo | None = None) -> list[str]:
    """The group key of every event of ``log`` for grouping ``by``.

    Raises:
        ConfigError: an unknown grouping.
    """
    if by in _DIMENSION:
        table = log.labels(_DIMENSION[by])
        names = [_NONE_KEY if label is None else label for label in table]
        return [names[code] for code in log.column(_DIMENSION[by]).tolist()]
    if by not in _TIME:
        raise ConfigError(f"cannot group by {by!r}; choose one of {', '.join(GROUPINGS)}")
    zone = tz or UTC
    quarters = log.timestamps_us // _QUARTER_US  # every UTC offset is whole quarter hours
    unique, inverse = np.unique(quarters, return_inverse=True)
    labels = [_time_key(_EPOCH + timedelta(minutes=15 * int(q)), zone, by) for q in unique]
    return [labels[i] for i in inverse.tolist()]


def _time_key(at: datetime, zone: tzinfo, by: str) -> str:
    local = at.astimezone(zone)
    if by == "day":
        return local.strftime("%Y-%m-%d")
    if by == "month":
        return local.strftime("%Y-%m")
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def build_report(
    log: UsageLog,
    card: RateCard | None = None,
    *,
    by: str = "day",
    tz: tzinfo | None = None,
    amounts_micro: npt.NDArray[np.int64] | None = None,
    tokens: bool = False,
    subscription_usd: Decimal | None = None,
    overage_micro: npt.NDArray[np.int64] | None = None,
    overage_rate_usd: Decimal | None = None,
    overage_usd: Decimal | None = None,
    requested_micro: npt.NDArray[np.int64] | None = None,
) -> Report:
    """Totals of ``log`` grouped ``by`` a period or a dimension.

    Args:
        log: any usage (a file, Codex logs, the usage API).
        card: prices the events (default card when omitted); ignored for
            amounts when ``amounts_micro`` is given, but still names the unit.
        by: one of :data:`GROUPINGS`.
        tz: time zone of day/week/month buckets (UTC when omitted).
        amounts_micro: every event's amount in micro-units, aligned with ``log``.
        tokens: add the token columns (Codex logs) to each row.
        subscription_usd: a subscription cost to split by share.
        overage_micro: every event's overage, in micro-units, aligned with ``log``.
        overage_rate_usd: USD per unit of overage (gives the overage bill).
        overage_usd: the overage bill itself (e.g. the engine's, rounded per period);
            wins over ``overage_rate_usd``.
        requested_micro: every event's demand, aligned with ``log``, when it
            differs from ``amounts_micro`` (a simulation serves what it can);
            gives each row a ``requested`` total.

    Raises:
        ConfigError: an unknown grouping, or arrays not aligned with the log.
    """
    card = card if card is not None else RateCard.default()
    n = len(log)
    amounts = log.amounts_micro(card) if amounts_micro is None else np.asarray(amounts_micro)
    _aligned(amounts, n, "amounts_micro")
    keys = group_keys(log, by, tz)
    unique, inverse = np.unique(np.array(keys, dtype=object), return_inverse=True)
    inverse = inverse.astype(np.intp)
    sums = np.zeros(len(unique), dtype=np.int64)
    np.add.at(sums, inverse, amounts.astype(np.int64))
    counts = np.bincount(inverse, minlength=len(unique))
    token_sums = {}
    if tokens:
        for out_name, column in _TOKEN_COLUMNS:
            acc = np.zeros(len(unique), dtype=np.int64)
            np.add.at(acc, inverse, log.column(column))
            token_sums[out_name] = acc.tolist()
    micro = [int(v) for v in sums.tolist()]
    order = list(range(len(unique)))
    if by in _TIME:
        order.sort(key=lambda i: str(unique[i]))
    else:
        order.sort(key=lambda i: (-micro[i], str(unique[i])))
    weights = [micro[i] for i in order]
    shares = largest_remainder(weights, _SHARE_UNITS)
    pcts = largest_remainder(weights, _PCT_UNITS)
    requested: list[int] | None = None
    if requested_micro is not None:
        requested = _group_sums(requested_micro, n, inverse, len(unique), "requested_micro")
    fallback = _fallback(weights, [requested[i] for i in order] if requested else None)
    if not any(fallback):
        fallback = [int(counts[i]) for i in order]
    sub_parts = allocate_cents(subscription_usd, fallback) if subscription_usd is not None else None
    over_parts: list[Decimal] | None = None
    bill: Decimal | None = None
    if overage_micro is not None:
        over_sums = _group_sums(overage_micro, n, inverse, len(unique), "overage_micro")
        over_weights = [over_sums[i] for i in order]
        if overage_usd is not None:
            bill = round_cents(overage_usd)
        elif overage_rate_usd is not None:
            bill = round_cents(from_micro(sum(over_weights)) * overage_rate_usd)
        else:
            raise ConfigError("give overage_rate_usd or overage_usd with overage_micro")
        over_parts = allocate_cents(bill, over_weights if sum(over_weights) else fallback)
    rows = []
    for pos, i in enumerate(order):
        sub = sub_parts[pos] if sub_parts is not None else None
        ovr = over_parts[pos] if over_parts is not None else None
        allocated = None if sub is None and ovr is None else (sub or ZERO) + (ovr or ZERO)
        extra: dict[str, Any] = {name: values[i] for name, values in token_sums.items()}
        rows.append(
            ReportRow(
                key=str(unique[i]),
                total=from_micro(micro[i]),
                share=Decimal(shares[pos]) / _SHARE_UNITS,
                share_pct=(Decimal(pcts[pos]) / 100).quantize(CENT),
                events=int(counts[i]),
                requested=None if requested is None else from_micro(requested[i]),
                subscription_usd=sub,
                overage_usd=ovr,
                allocated_usd=allocated,
                **extra,
            )
        )
    total_sub = round_cents(subscription_usd) if subscription_usd is not None else None
    total_alloc = (
        None if total_sub is None and bill is None else (total_sub or ZERO) + (bill or ZERO)
    )
    return Report(
        unit=card.unit,
        by=by,
        total=from_micro(sum(micro)),
        events=n,
        rows=tuple(rows),
        requested=None if requested is None else from_micro(sum(requested)),
        subscription_usd=total_sub,
        overage_usd=bill,
        allocated_usd=total_alloc,
    )


def _group_sums(
    values: npt.NDArray[np.int64], n: int, inverse: npt.NDArray[np.intp], groups: int, name: str
) -> list[int]:
    array = np.asarray(values, dtype=np.int64)
    _aligned(array, n, name)
    acc = np.zeros(groups, dtype=np.int64)
    np.add.at(acc, inverse, array)
    return [int(v) for v in acc.tolist()]


def _fallback(weights: list[int], requested: list[int] | None) -> list[int]:
    """The weights a bill is split by: consumption, else demand (counts are the caller's)."""
    if any(weights) or requested is None:
        return weights
    return requested


def _aligned(values: npt.NDArray[Any], n: int, name: str) -> None:
    if values.shape != (n,):
        raise ConfigError(f"{name} has shape {values.shape}; it needs one value per event ({n})")
