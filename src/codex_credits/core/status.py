"""Where an account stands now, and the engine state that matches it.

Theory of operation (docs/api-client.md, "From the status to an account"):

* :class:`AccountStatus` is what the usage API reports: tier, seats, the current
  period, what the period has consumed, what is left of its grant, the rollover
  balance and the savings reserve.
* :func:`state_from_status` turns it into an :class:`AccountState` at an instant
  ``at`` inside the current period, so :func:`~codex_credits.core.account.apply`,
  :func:`~codex_credits.core.account.evaluate` and forecasts start from the real
  figures rather than from a fresh period:

  - the billing anchor is derived from the period's bounds (:func:`period_anchor`);
    the period must be one calendar month from an anchor on a whole UTC hour;
  - ``remaining`` is what is left of this period's grant, so the grant has given
    ``pool - remaining``; the rollover balance is rollover credit still unspent
    now, one block expiring at the end of the current period;
  - rollover is spent before the grant and overage only once credits run out, so
    the rest of ``consumed`` came from rollover (while grant is left) or is
    split between rollover and overage as the caller says (default: overage);
  - the ledger is built with the ledger's own operations (grant at the period
    start, spend at ``at``), so every ledger identity holds by construction:
    ``consumed = from rollover + from grant + overage`` and
    ``rollover in + pool = from rollover + from grant + rollover + remaining``.

A status that breaks these rules (more left than the pool, grant spent while
rollover is left, a pool or overage rate other than the card's, a reserve above
the tier's cap) raises :class:`ConfigError` naming the figure.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, datetime
from decimal import Decimal
from typing import final

from pydantic import Field

from codex_credits.clock import Clock, SystemClock
from codex_credits.core.account import Account, AccountState, Plan
from codex_credits.core.ledger import BlockKind, Ledger, grant, spend
from codex_credits.core.model import Frozen
from codex_credits.core.periods import BillingPeriod, period_at
from codex_credits.core.ratecard import RateCard
from codex_credits.core.reserve import ReserveState
from codex_credits.core.timeutil import UtcDatetime, require_utc
from codex_credits.core.units import ZERO, Ccu, Usd, amount
from codex_credits.errors import ConfigError

__all__ = [
    "AccountStatus",
    "account_from_status",
    "period_anchor",
    "state_from_status",
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


def _months_between(a: datetime, b: datetime) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def period_anchor(start: datetime, end: datetime) -> tuple[datetime, BillingPeriod]:
    """A billing anchor whose periods include ``[start, end)``, and that period.

    The anchor is ``start`` itself unless ``start`` is a month's last day clamped
    from a later day (28 February for an anchor on the 31st): then the latest
    earlier instant on that later day whose periods give ``[start, end)``.

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
        for _ in range(12):
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


def _require(value: object, name: str) -> None:
    if value is None:
        raise ConfigError(f"the account status has no {name}; it is needed to build the account")


def state_from_status(
    status: AccountStatus,
    card: RateCard | str | None = None,
    *,
    at: datetime,
    rollover_consumed: Decimal | int | str | None = None,
) -> AccountState:
    """The engine state matching ``status`` at ``at``, an instant of its current period.

    Args:
        status: where the account stands (for example ``client.account_status()``).
        card: the rate card the account is on (default: the built-in CCU card).
        at: when the status was read; the state's time. Nothing is taken as served
            yet in ``at``'s hour.
        rollover_consumed: CCU the period took from rollover credit. Needed only
            once the grant is spent on a tier with overage, where consumption past
            the pool may be rollover or overage; by default it is all overage.
            While grant is left it follows from the status and, if given, must agree.

    Raises:
        ConfigError: a missing tier, seats or period; a tier, pool, overage rate or
            reserve the card does not allow; a period that is not one calendar
            month; ``at`` outside the period; figures that break the ledger's rules.
    """
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    _require(status.tier, "tier")
    _require(status.seats, "seat count")
    _require(status.period_start, "current period start")
    _require(status.period_end, "current period end")
    assert status.tier is not None and status.seats is not None
    assert status.period_start is not None and status.period_end is not None
    anchor, period = period_anchor(status.period_start, status.period_end)
    plan = Plan.from_card(rate_card, status.tier, status.seats, anchor)
    at = require_utc(at, "at")
    if at not in period:
        raise ConfigError(
            f"at {at.isoformat()} is outside the current period "
            f"[{period.start.isoformat()}, {period.end.isoformat()})"
        )
    _check_terms(status, plan, rate_card.name)
    from_rollover, overage = _split(status, plan, rollover_consumed)
    ledger = Ledger()
    rollover_in = status.rollover_ccu + from_rollover
    if rollover_in:
        ledger = grant(
            ledger, rollover_in, at=period.start, expires=period.end, kind=BlockKind.ROLLOVER
        )
    ledger = grant(ledger, plan.pool, at=period.start, expires=period.end)
    if status.consumed_ccu:
        spent = spend(ledger, status.consumed_ccu, at=at, allow_overage=plan.has_overage)
        assert not isinstance(spent, tuple) or spent[1].overage == overage
        if not isinstance(spent, tuple):  # pragma: no cover - _split checked the balance
            raise ConfigError(spent.detail)
        ledger = spent[0]
    return AccountState(
        plan=plan,
        period=period,
        hour=at.replace(minute=0, second=0, microsecond=0),
        as_of=at,
        reserve=ReserveState(level=status.reserve_ccu),
        ledger=ledger,
    )


def _check_terms(status: AccountStatus, plan: Plan, card: str) -> None:
    if status.monthly_ccu is not None and status.monthly_ccu != plan.pool:
        raise ConfigError(
            f"the account's pool is {status.monthly_ccu} CCU, but {plan.seats} seat(s) of "
            f"{plan.tier} on card {card} give {plan.pool}"
        )
    rate = status.overage_usd_per_ccu
    if rate is not None and rate != plan.overage_usd_per_ccu:
        raise ConfigError(
            f"the account's overage rate is {rate} USD/CCU, but {plan.tier} on card {card} "
            f"charges {plan.overage_usd_per_ccu}"
        )
    cap = plan.limits.reserve_cap
    if status.reserve_ccu > cap:
        raise ConfigError(
            f"the savings reserve {status.reserve_ccu} CCU is above the tier's cap {cap}"
        )


def _split(
    status: AccountStatus, plan: Plan, rollover_consumed: Decimal | int | str | None
) -> tuple[Decimal, Decimal]:
    """``(from rollover, overage)`` of the period's consumption so far."""
    pool, left = plan.pool, status.remaining_ccu
    consumed, rollover = status.consumed_ccu, status.rollover_ccu
    given = None if rollover_consumed is None else amount(rollover_consumed)
    if given is not None and given < 0:
        raise ConfigError(f"rollover_consumed must be >= 0, got {given}")
    if left > pool:
        raise ConfigError(
            f"{left} CCU remaining is more than the period's pool of {pool}: "
            "remaining must be what is left of this period's grant"
        )
    from_grant = pool - left
    if from_grant and rollover:
        raise ConfigError(
            f"the grant has given {from_grant} CCU while {rollover} CCU of rollover is left, "
            "but rollover credit is spent first"
        )
    past_grant = consumed - from_grant
    if past_grant < 0:
        raise ConfigError(
            f"{consumed} CCU consumed is less than the {from_grant} CCU the grant has given "
            f"(pool {pool} - remaining {left})"
        )
    if left > 0 or not plan.has_overage:
        if given is not None and given != past_grant:
            raise ConfigError(
                f"rollover_consumed {given} disagrees with the status, which implies {past_grant}"
            )
        return past_grant, ZERO
    from_rollover = ZERO if given is None else given
    if from_rollover > past_grant:
        raise ConfigError(
            f"rollover_consumed {from_rollover} is more than the {past_grant} CCU "
            "consumed past the pool"
        )
    return from_rollover, past_grant - from_rollover


def account_from_status(
    status: AccountStatus,
    card: RateCard | str | None = None,
    *,
    at: datetime | None = None,
    clock: Clock | None = None,
    rollover_consumed: Decimal | int | str | None = None,
) -> Account:
    """A live :class:`Account` standing where ``status`` says, at ``at`` (default: now).

    See :func:`state_from_status` for the mapping and the errors.
    """
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    clock = clock if clock is not None else SystemClock()
    when = at if at is not None else clock.now()
    state = state_from_status(status, rate_card, at=when, rollover_consumed=rollover_consumed)
    return Account.from_state(state, rate_card, clock=clock)
