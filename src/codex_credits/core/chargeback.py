"""Chargeback: a simulation's bill allocated to users, projects, features or periods.

Theory of operation (docs/reports.md, "Allocated cost"):

* The engine (docs/engine.md) replays the log and reports, per event, what it
  served and how much of that came from overage (:class:`EventOutcomes`,
  aligned with the log). Its statements hold the bill: the subscription of
  every period and the overage cost, rounded to cents once per period.
* A row's ``total`` is the CCU the engine served for the row's events (its
  consumption; ``requested`` is the demand, including what was blocked or
  never served). Shares are shares of that consumption.
* A row's cost (``allocated_usd``) = its share of the subscription + the
  overage its own events drew. Both bills are split in whole cents with
  largest remainders (the subscription by served CCU, the overage bill by
  ``from_overage``), so the rows add up to the engine's ``totals.total_cost``
  exactly, to the cent. A row whose events drew no overage pays none.
* The overage bill is the engine's, rounded to cents once per period; it is
  split over the whole simulation, so a row's overage part differs from its
  own overage CCU times the rate by less than one cent plus half a cent per
  period.
* If the engine served nothing at all (every request blocked, say), the
  subscription is still owed: it is split by demand (``requested``), or by
  event counts when even that is zero.
* Only events inside the simulated periods count; events the engine ignored
  (before the anchor or after the last period) are left out. A simulation
  with no events at all still has a subscription: it goes to one row,
  ``(no usage)``, so the rows always carry the whole bill.
* :func:`period_usage_report` is the seed's usage report of one period from
  the engine's statement: consumption, rate-limit events, reserve used,
  rollover consumed and the real overage, next to the seed's estimate. Its
  totals by dimension are what the engine served of the events stamped in the
  period; work deferred across the period's boundary is counted by the engine
  in the period that served it, so only then can they differ from
  ``consumed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Final

import numpy as np

from codex_credits.core.ratecard import RateCard
from codex_credits.core.reports import Report, ReportRow, build_report
from codex_credits.core.statement import SimulationResult
from codex_credits.core.timeutil import epoch_us
from codex_credits.core.units import ZERO
from codex_credits.core.usage import UsageLog
from codex_credits.core.usagereport import USAGE_REPORT_DIMENSIONS, UsageReport, usage_report
from codex_credits.errors import ConfigError

__all__ = ["NO_USAGE_KEY", "chargeback", "period_usage_report"]

NO_USAGE_KEY: Final = "(no usage)"
"""The row that carries the subscription when the simulated periods saw no events."""

_MISMATCH: Final = (
    "the log has {} events but the simulation has outcomes for {}; pass the log that was simulated"
)


def chargeback(
    log: UsageLog,
    result: SimulationResult,
    *,
    by: str = "project",
    tz: tzinfo | None = None,
    card: RateCard | None = None,
) -> Report:
    """Allocate ``result``'s bill to the groups of ``log``.

    Args:
        log: the usage the simulation replayed (the same log, same order).
        result: what :func:`~codex_credits.core.simulate.simulate` returned.
        by: one of :data:`~codex_credits.core.reports.GROUPINGS`.
        tz: time zone of day/week/month buckets (UTC when omitted).
        card: the simulation's card (resolved from the plan's card name when
            omitted); it names the unit.

    Returns:
        A report whose rows' ``allocated_usd`` sum to
        ``result.totals.total_cost`` and whose ``total`` is
        ``result.totals.consumed``.

    Raises:
        ConfigError: the log is not the one simulated, or an unknown grouping.

    Examples:
        >>> from datetime import datetime, UTC
        >>> from decimal import Decimal
        >>> from codex_credits.core.simulate import simulate
        >>> from codex_credits.core.usage import UsageEvent
        >>> at = datetime(2026, 6, 2, 9, tzinfo=UTC)
        >>> log = UsageLog.from_events([
        ...     UsageEvent(timestamp=at, ccu=Decimal(30), project_id="api"),
        ...     UsageEvent(timestamp=at, ccu=Decimal(10), project_id="web")])
        >>> result = simulate(log, "pro", start=datetime(2026, 6, 1, tzinfo=UTC))
        >>> [(row.key, row.allocated_usd) for row in chargeback(log, result).rows]
        [('api', Decimal('150.00')), ('web', Decimal('50.00'))]
    """
    outcomes = result.outcomes
    if len(outcomes) != len(log):
        raise ConfigError(_MISMATCH.format(len(log), len(outcomes)))
    card = _card(result, card)
    totals = result.totals
    lo = int(np.searchsorted(log.timestamps_us, epoch_us(result.periods[0].start), "left"))
    hi = int(np.searchsorted(log.timestamps_us, epoch_us(result.periods[-1].end), "left"))
    if lo == hi:
        return _no_usage(result, card, by)
    window = np.arange(lo, hi)
    return build_report(
        log.take(window),
        card,
        by=by,
        tz=tz,
        amounts_micro=outcomes.served[lo:hi],
        requested_micro=outcomes.requested[lo:hi],
        subscription_usd=totals.subscription_cost,
        overage_micro=outcomes.from_overage[lo:hi],
        overage_usd=totals.overage_cost,
    )


def period_usage_report(
    log: UsageLog,
    result: SimulationResult,
    *,
    period: int = -1,
    card: RateCard | None = None,
    dimensions: Sequence[str] = USAGE_REPORT_DIMENSIONS,
    tz: tzinfo | None = None,
) -> UsageReport:
    """The usage report of one simulated period (the last by default).

    ``consumed`` is the statement's (what the engine served in the period);
    the seed's estimate uses the period's grant as the allocation and its
    opening rollover. The statement also gives rate-limit events, reserve
    used (``reserve_drawn``), rollover consumed and the real overage with its
    cost. The totals by dimension are the engine's served CCU per event.

    Raises:
        ConfigError: ``period`` is not a simulated period.
    """
    if len(result.outcomes) != len(log):
        raise ConfigError(_MISMATCH.format(len(log), len(result.outcomes)))
    try:
        statement = result.periods[period]
    except IndexError:
        raise ConfigError(
            f"period {period} is out of range; the simulation has {len(result.periods)}"
        ) from None
    return usage_report(
        log,
        _card(result, card),
        start=statement.start,
        end=statement.end,
        allocation=statement.granted,
        rollover=statement.rollover_in,
        overage_rate_usd=result.plan.overage_usd_per_ccu,
        dimensions=dimensions,
        tz=tz,
        rate_limit_events=statement.rate_limited_events,
        reserve_used=statement.reserve_drawn,
        rollover_consumed=statement.consumed_from_rollover,
        overage=statement.overage_ccu,
        overage_usd=statement.overage_cost,
        amounts_micro=result.outcomes.served,
        consumed=statement.consumed,
    )


def _card(result: SimulationResult, card: RateCard | None) -> RateCard:
    if card is None:
        return RateCard.resolve(result.plan.card)
    if card.name != result.plan.card:
        raise ConfigError(f"the simulation ran on card {result.plan.card}, not {card.name}")
    return card


def _no_usage(result: SimulationResult, card: RateCard, by: str) -> Report:
    totals = result.totals
    row = ReportRow(
        key=NO_USAGE_KEY,
        total=ZERO,
        share=ZERO,
        share_pct=ZERO,
        events=0,
        requested=ZERO,
        subscription_usd=totals.subscription_cost,
        overage_usd=totals.overage_cost,
        allocated_usd=totals.total_cost,
    )
    return Report(
        unit=card.unit,
        by=by,
        total=ZERO,
        events=0,
        rows=(row,),
        requested=ZERO,
        subscription_usd=totals.subscription_cost,
        overage_usd=totals.overage_cost,
        allocated_usd=totals.total_cost,
    )
