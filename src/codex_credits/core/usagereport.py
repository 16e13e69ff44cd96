"""The usage report of one period: consumption, totals by dimension, estimated overage.

Theory of operation (docs/credits.md, "Forecasts and alerts"): period budget =
(allocation + rollover) x period_days / 30; estimated overage =
max(0, consumed - budget) x rate. The totals by dimension are
:func:`~codex_credits.core.reports.build_report` over the period's events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo  # noqa: F401 (UTC: the doctest of usage_report)
from decimal import Decimal
from typing import Final, final

import numpy as np
import numpy.typing as npt

from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.reports import Report, _aligned, build_report
from codex_credits.core.timeutil import UtcDatetime, epoch_us, require_utc
from codex_credits.core.units import ZERO, from_micro, quantize_ccu, round_cents
from codex_credits.core.usage import UsageLog
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError

__all__ = ["USAGE_REPORT_DIMENSIONS", "UsageReport", "usage_report"]

USAGE_REPORT_DIMENSIONS: Final = ("user", "project", "task_type", "feature", "model")
"""The dimensions the usage report totals by default."""


@final
class UsageReport(Displayed, Frozen):
    """The usage report of one period: consumption, totals by dimension, estimated overage."""

    start: UtcDatetime
    end: UtcDatetime
    period_days: Decimal
    unit: str
    consumed: Decimal
    events: int
    allocation: Decimal
    rollover: Decimal
    period_budget: Decimal
    estimated_overage: Decimal
    overage_rate_usd: Decimal | None = None
    estimated_overage_usd: Decimal | None = None
    rate_limit_events: int | None = None
    reserve_used: Decimal | None = None
    rollover_consumed: Decimal | None = None
    overage: Decimal | None = None
    overage_usd: Decimal | None = None
    by_dimension: tuple[Report, ...] = ()


def usage_report(
    log: UsageLog,
    card: RateCard | None = None,
    *,
    start: datetime,
    end: datetime,
    allocation: Decimal,
    rollover: Decimal = ZERO,
    overage_rate_usd: Decimal | None = None,
    dimensions: Sequence[str] = USAGE_REPORT_DIMENSIONS,
    tz: tzinfo | None = None,
    rate_limit_events: int | None = None,
    reserve_used: Decimal | None = None,
    rollover_consumed: Decimal | None = None,
    overage: Decimal | None = None,
    overage_usd: Decimal | None = None,
    amounts_micro: npt.NDArray[np.int64] | None = None,
    consumed: Decimal | None = None,
) -> UsageReport:
    """The usage report of ``[start, end)``.

    By default the period's events are priced on ``card`` and ``consumed`` is
    their sum. A simulation knows better (see
    :func:`~codex_credits.core.chargeback.period_usage_report`): it passes
    what it served of every event (``amounts_micro``, aligned with ``log``),
    the period's ``consumed`` from its statement, and ``rate_limit_events``,
    ``reserve_used``, ``rollover_consumed``, ``overage`` and ``overage_usd``,
    which are reported as given (a log alone does not know them).

    >>> from codex_credits.core.usage import UsageEvent
    >>> at = datetime(2026, 6, 10, tzinfo=UTC)
    >>> log = UsageLog.from_events([UsageEvent(timestamp=at, ccu=Decimal(25000))])
    >>> usage_report(log, start=datetime(2026, 6, 1, tzinfo=UTC),
    ...              end=datetime(2026, 7, 1, tzinfo=UTC), allocation=Decimal(10000),
    ...              rollover=Decimal(8000), overage_rate_usd=Decimal("0.012"),
    ...              dimensions=()).estimated_overage_usd
    Decimal('84.00')
    """
    card = card if card is not None else RateCard.default()
    start = require_utc(start, "start")
    end = require_utc(end, "end")
    if end <= start:
        raise ConfigError(f"end {end.isoformat()} must be after start {start.isoformat()}")
    ts = log.timestamps_us
    lo = int(np.searchsorted(ts, epoch_us(start), side="left"))
    hi = int(np.searchsorted(ts, epoch_us(end), side="left"))
    part = log.take(np.arange(lo, hi))
    if amounts_micro is None:
        amounts = part.amounts_micro(card) if len(part) else np.zeros(0, dtype=np.int64)
    else:
        _aligned(np.asarray(amounts_micro), len(log), "amounts_micro")
        amounts = np.asarray(amounts_micro, dtype=np.int64)[lo:hi]
    if consumed is None:
        consumed = from_micro(int(amounts.sum()))
    span = end - start
    days = Decimal(span.days * 86_400 + span.seconds) / 86_400
    budget = quantize_ccu((allocation + rollover) * days / 30)
    over = quantize_ccu(max(ZERO, consumed - budget))
    usd = round_cents(over * overage_rate_usd) if overage_rate_usd is not None else None
    reports = tuple(
        build_report(part, card, by=by, tz=tz, amounts_micro=amounts) for by in dimensions
    )
    return UsageReport(
        start=start,
        end=end,
        period_days=days,
        unit=card.unit,
        consumed=consumed,
        events=len(part),
        allocation=allocation,
        rollover=rollover,
        period_budget=budget,
        estimated_overage=over,
        overage_rate_usd=overage_rate_usd,
        estimated_overage_usd=usd,
        rate_limit_events=rate_limit_events,
        reserve_used=reserve_used,
        rollover_consumed=rollover_consumed,
        overage=overage,
        overage_usd=overage_usd,
        by_dimension=reports,
    )
