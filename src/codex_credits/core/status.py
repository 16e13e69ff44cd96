"""Where an account stands now, and the status an engine state would report.

Theory of operation (docs/api-client.md, "Starting a simulation from the real
account"):

* :class:`AccountStatus` is what the usage API reports: tier, seats, the
  current period, what the period has consumed, what is left of its grant, the
  rollover balance and the savings reserve. ``rollover_ccu`` is rollover credit
  still unspent now and ``remaining_ccu`` what is left of this period's grant
  (both are balances read at one instant, like the ledger's).
* The billing anchor comes from the period's bounds (:func:`period_anchor`): the
  period must be one calendar month from an anchor on a whole UTC hour.
* :class:`StatusSplit` is the period's consumption by source: ``consumed =
  from rollover + from grant + overage``, and the rollover the period started
  with.
* :func:`status_from_state` goes from an engine state to its status (the fake
  usage API serves a simulated account with it), and the bridge gives that
  state's balances back. The other way, from a status to the engine state
  that matches it, is :mod:`codex_credits.core.statefromstatus`.

>>> from datetime import datetime, UTC
>>> anchor, period = period_anchor(datetime(2026, 6, 1, tzinfo=UTC),
...                                datetime(2026, 7, 1, tzinfo=UTC))
>>> anchor.date(), period.index, period.days
(datetime.date(2026, 6, 1), 0, 30)
"""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, datetime
from decimal import Decimal
from typing import final

from pydantic import Field

from codex_credits.core.account import AccountState
from codex_credits.core.ledger import BlockKind, EntryKind
from codex_credits.core.model import Frozen
from codex_credits.core.periods import BillingPeriod, period_at
from codex_credits.core.timeutil import UtcDatetime, require_utc
from codex_credits.core.units import ZERO, Ccu, Usd
from codex_credits.errors import ConfigError

__all__ = [
    "AccountStatus",
    "StatusSplit",
    "period_anchor",
    "period_spending",
    "status_from_state",
]


@final
class AccountStatus(Frozen):
    """Where an account stands now, as the usage API reports it.

    Amounts are CCU. ``period_start``/``period_end`` bound the current billing
    period (``[start, end)``); fields the server did not send are None.
    ``remaining_ccu`` is what is left of the current period's grant and
    ``rollover_ccu`` the rollover credit still unspent.
    """

    tier: str | None = None
    seats: int | None = Field(default=None, ge=1)
    period_start: UtcDatetime | None = None
    period_end: UtcDatetime | None = None
    monthly_ccu: Ccu | None = Field(default=None, ge=0)
    consumed_ccu: Ccu = Field(ge=0)
    remaining_ccu: Ccu = Field(ge=0)
    rollover_ccu: Ccu = Field(default=Decimal(0), ge=0)
    reserve_ccu: Ccu = Field(default=Decimal(0), ge=0)
    overage_usd_per_ccu: Usd | None = Field(default=None, ge=0)
    days_elapsed: int | None = Field(default=None, ge=0)
    days_total: int | None = Field(default=None, ge=1)


@final
class StatusSplit(Frozen):
    """The current period's consumption by source, and the rollover it started with."""

    from_rollover: Ccu
    from_grant: Ccu
    overage: Ccu
    rollover_in: Ccu


def _months_between(a: datetime, b: datetime) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def period_anchor(start: datetime, end: datetime) -> tuple[datetime, BillingPeriod]:
    """A billing anchor whose periods include ``[start, end)``, and that period.

    The anchor is ``start`` itself unless ``start`` is a month's last day clamped
    from a later day (28 February for an anchor on the 31st): then the latest
    earlier instant on that later day whose periods give ``[start, end)``.

    >>> anchor, period = period_anchor(datetime(2026, 2, 28, tzinfo=UTC),
    ...                                datetime(2026, 3, 31, tzinfo=UTC))
    >>> anchor.date(), period.index
    (datetime.date(2026, 1, 31), 1)

    Raises:
        ConfigError: ``start`` is not on a whole UTC hour, or ``[start, end)`` is
            not one calendar month from any anchor.
    """
    start = require_utc(start, "period start")
    end = require_utc(end, "period end")
    if start.minute or start.second or start.microsecond:
        raise ConfigError(
            f"the current period starts at {start.isoformat()}, not on a whole UTC hour, "
            "so no billing anchor fits it"
        )
    days = [start.day]
    if start.day == monthrange(start.year, start.month)[1]:
        days += list(range(start.day + 1, 32))
    for day in days:
        year, month = start.year, start.month
        for _ in range(12):  # the latest month on or before start that has this day
            if monthrange(year, month)[1] >= day:
                anchor = datetime(year, month, day, start.hour, tzinfo=UTC)
                if anchor <= start:
                    period = period_at(anchor, _months_between(anchor, start))
                    if period.start == start and period.end == end:
                        return anchor, period
                    break
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    raise ConfigError(
        f"the current period [{start.isoformat()}, {end.isoformat()}) is not one calendar "
        "month from a billing anchor"
    )


def period_spending(state: AccountState) -> StatusSplit:
    """What ``state``'s current period has consumed, by source, read off its ledger.

    ``rollover_in`` is the rollover balance now plus what the period took from it.
    """
    from_rollover = from_grant = overage = ZERO
    # Blocks leave the ledger only when a period closes, so every block this
    # period spent from is still listed.
    rollover_blocks = {b.id for b in state.ledger.blocks if b.kind is BlockKind.ROLLOVER}
    for entry in state.ledger.log:
        if entry.at < state.period.start:
            continue
        if entry.kind is EntryKind.OVERAGE:
            overage += entry.amount
        elif entry.kind is EntryKind.SPEND:
            if entry.block in rollover_blocks:
                from_rollover += entry.amount
            else:
                from_grant += entry.amount
    return StatusSplit(
        from_rollover=from_rollover,
        from_grant=from_grant,
        overage=overage,
        rollover_in=state.ledger.rollover_balance + from_rollover,
    )


def status_from_state(state: AccountState) -> AccountStatus:
    """The status an account in ``state`` reports (the inverse of :func:`state_from_status`).

    ``days_elapsed`` counts the day ``state.as_of`` falls on.
    """
    plan, period = state.plan, state.period
    spending = period_spending(state)
    grant_left = sum((b.remaining for b in state.ledger.blocks if b.kind is BlockKind.GRANT), ZERO)
    return AccountStatus(
        tier=plan.tier,
        seats=plan.seats,
        period_start=period.start,
        period_end=period.end,
        monthly_ccu=plan.pool,
        consumed_ccu=spending.from_rollover + spending.from_grant + spending.overage,
        remaining_ccu=grant_left,
        rollover_ccu=state.ledger.rollover_balance,
        reserve_ccu=state.reserve.level,
        overage_usd_per_ccu=plan.overage_usd_per_ccu,
        days_elapsed=(state.as_of - period.start).days + 1,
        days_total=period.days,
    )
