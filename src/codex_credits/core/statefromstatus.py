"""The engine state that matches an account status.

Theory of operation (docs/api-client.md, "Starting a simulation from the real
account"); the status itself and its billing anchor are in
:mod:`codex_credits.core.status`:

* Rollover is spent before the grant and overage only once credits run out
  (docs/engine.md, "The rollover ledger"), so the period's consumption splits
  as ``consumed = from rollover + from grant + overage`` with
  ``from grant = pool - remaining``. While grant is left, the rest of
  ``consumed`` came from rollover; once it is spent on a tier with overage,
  the part past the pool is rollover or overage and the caller says how much
  was rollover (``rollover_consumed``; by default none).
* :func:`opening_state` is the account at the start of its current period:
  rollover in = rollover now + rollover consumed so far, the pool freshly
  granted, and the reserve the status reports (the one figure it cannot date
  back). :func:`~codex_credits.core.simulate.simulate` starts there.
* :func:`state_from_status` is the account at an instant ``at`` of the period:
  the opening state with ``consumed`` spent through the ledger's own
  :func:`~codex_credits.core.ledger.spend`, so ``granted = spent + expired +
  balance`` holds by construction, the rollover balance equals the status's
  and the grant left equals ``remaining``. :func:`account_from_status` wraps it
  in a live :class:`Account`; forecasts start from it through
  :func:`~codex_credits.core.forecast.state.path_start_from_state`.
* The status gives a rollover total, not its blocks, so the rollover is one
  block expiring at the end of the current period (the engine's rule for a
  balance given as one number).

A status the card cannot hold (an unknown tier, too many seats, a pool, overage
rate, rollover or reserve beyond the tier's terms, a period that is not one
calendar month, grant spent while rollover is left) raises
:class:`ConfigError` naming the figure.

>>> from datetime import datetime, UTC
>>> status = AccountStatus(tier="pro", seats=1,
...     period_start=datetime(2026, 6, 1, tzinfo=UTC),
...     period_end=datetime(2026, 7, 1, tzinfo=UTC),
...     consumed_ccu=Decimal(4000), remaining_ccu=Decimal(6000),
...     rollover_ccu=Decimal(0), reserve_ccu=Decimal(12))
>>> state = state_from_status(status, at=datetime(2026, 6, 11, 9, 30, tzinfo=UTC))
>>> state.ledger.balance, state.reserve.level, state.plan.anchor.date()
(Decimal('6000'), Decimal('12'), datetime.date(2026, 6, 1))
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from codex_credits.clock import Clock, SystemClock
from codex_credits.core.account import Account, AccountState, Plan, open_account
from codex_credits.core.events import Refusal
from codex_credits.core.ledger import spend
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.ratecard import RateCard
from codex_credits.core.status import AccountStatus, StatusSplit, period_anchor
from codex_credits.core.timeutil import hour_floor, require_utc
from codex_credits.core.units import ZERO, amount
from codex_credits.errors import ConfigError

__all__ = [
    "account_from_status",
    "opening_state",
    "split_status",
    "state_from_status",
]


def _plan(status: AccountStatus, card: RateCard) -> tuple[Plan, BillingPeriod]:
    """The plan and current period the status describes, its terms checked against ``card``."""
    missing = [
        name
        for name, value in (
            ("tier", status.tier),
            ("seat count", status.seats),
            ("current period start", status.period_start),
            ("current period end", status.period_end),
        )
        if value is None
    ]
    if missing:
        raise ConfigError(
            f"the account status has no {', '.join(missing)}; it is needed to build the account"
        )
    tier, seats = status.tier or "", status.seats or 0
    start = status.period_start or datetime.min.replace(tzinfo=UTC)  # not None: checked above
    end = status.period_end or start
    anchor, period = period_anchor(start, end)
    if status.days_total is not None and status.days_total != period.days:
        raise ConfigError(
            f"the account status says the period has {status.days_total} day(s), but "
            f"[{start.isoformat()}, {end.isoformat()}) has {period.days}"
        )
    if status.days_elapsed is not None and status.days_elapsed > period.days:
        raise ConfigError(
            f"the account status says {status.days_elapsed} day(s) of the period have "
            f"elapsed, but the period has {period.days}"
        )
    if tier not in card.tiers:
        known = ", ".join(card.tiers) or "none (this card has no tiers)"
        raise ConfigError(
            f"the account is on tier {tier!r}, which card {card.name} does not know; tiers: {known}"
        )
    plan = Plan.from_card(card, tier, seats, anchor)
    if status.monthly_ccu is not None and status.monthly_ccu != plan.pool:
        raise ConfigError(
            f"the account's pool is {status.monthly_ccu} CCU, but {seats} seat(s) of "
            f"{tier} on card {card.name} give {plan.pool}"
        )
    rate = status.overage_usd_per_ccu
    if rate is not None and rate != plan.overage_usd_per_ccu:
        raise ConfigError(
            f"the account's overage rate is {rate} USD/CCU, but {tier} on card {card.name} "
            f"charges {plan.overage_usd_per_ccu}"
        )
    cap = plan.limits.reserve_cap
    if status.reserve_ccu > cap:
        raise ConfigError(
            f"the savings reserve {status.reserve_ccu} CCU is above the cap of {cap} CCU "
            f"for {seats} seat(s) of {tier}"
        )
    return plan, period


def split_status(
    status: AccountStatus,
    card: RateCard | str | None = None,
    *,
    rollover_consumed: Decimal | int | str | None = None,
) -> StatusSplit:
    """Where the current period's consumption came from, and the rollover it started with.

    Args:
        status: where the account stands.
        card: the rate card the account is on (default: the built-in CCU card).
        rollover_consumed: CCU the period took from rollover credit. Needed only
            once the grant is spent on a tier with overage, where consumption past
            the pool may be rollover or overage; by default it is all overage.
            While grant is left it follows from the status and, if given, must agree.

    Raises:
        ConfigError: the figures break the ledger's rules (see the module docs).
    """
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    plan, _ = _plan(status, rate_card)
    pool, left = plan.pool, status.remaining_ccu
    consumed, rollover = status.consumed_ccu, status.rollover_ccu
    given = None if rollover_consumed is None else amount(rollover_consumed)
    if given is not None and given < 0:
        raise ConfigError(f"rollover_consumed must be >= 0, got {given}")
    if left > pool:
        raise ConfigError(
            f"{left} CCU remaining is more than the period's pool of {pool} CCU: "
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
        from_rollover, overage = past_grant, ZERO
    else:
        from_rollover = ZERO if given is None else given
        if from_rollover > past_grant:
            raise ConfigError(
                f"rollover_consumed {from_rollover} is more than the {past_grant} CCU "
                "consumed past the pool"
            )
        overage = past_grant - from_rollover
    rollover_in = rollover + from_rollover
    if rollover_in > plan.rollover_cap:
        raise ConfigError(
            f"the period started with {rollover_in} CCU of rollover (balance {rollover} + "
            f"{from_rollover} consumed), above the cap of {plan.rollover_cap} CCU for "
            f"{plan.seats} seat(s) of {plan.tier}"
        )
    return StatusSplit(
        from_rollover=from_rollover, from_grant=from_grant, overage=overage, rollover_in=rollover_in
    )


def opening_state(
    status: AccountStatus,
    card: RateCard | str | None = None,
    *,
    rollover_consumed: Decimal | int | str | None = None,
) -> AccountState:
    """The account at the start of its current period, as the status implies.

    Rollover in is the rollover balance plus what the period has taken from
    rollover; the pool is granted whole; the reserve is the status's. Pass it
    to :func:`~codex_credits.core.simulate.simulate` to replay the period (or
    several) from there.

    Raises:
        ConfigError: see :func:`split_status`.
    """
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    split = split_status(status, rate_card, rollover_consumed=rollover_consumed)
    plan, period = _plan(status, rate_card)
    return open_account(
        rate_card,
        plan.tier,
        plan.seats,
        plan.anchor,
        start=period.start,
        rollover_balance=split.rollover_in,
        reserve=status.reserve_ccu,
    )


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
        rollover_consumed: see :func:`split_status`.

    Raises:
        ConfigError: see :func:`split_status`; also ``at`` outside the period.
    """
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    opening = opening_state(status, rate_card, rollover_consumed=rollover_consumed)
    at = require_utc(at, "at")
    if at not in opening.period:
        p = opening.period
        raise ConfigError(
            f"at {at.isoformat()} is outside the current period "
            f"[{p.start.isoformat()}, {p.end.isoformat()})"
        )
    ledger = opening.ledger
    if status.consumed_ccu:
        spent = spend(ledger, status.consumed_ccu, at=at, allow_overage=opening.plan.has_overage)
        if isinstance(spent, Refusal):  # pragma: no cover - split_status checked the balance
            raise ConfigError(spent.detail)
        ledger = spent[0]
    return AccountState(
        plan=opening.plan,
        period=opening.period,
        hour=hour_floor(at),
        as_of=at,
        reserve=opening.reserve,
        ledger=ledger,
    )


def account_from_status(
    status: AccountStatus,
    card: RateCard | str | None = None,
    *,
    at: datetime | None = None,
    clock: Clock | None = None,
    rollover_consumed: Decimal | int | str | None = None,
) -> Account:
    """A live :class:`Account` standing where ``status`` says, at ``at`` (default: the clock's now).

    See :func:`state_from_status` for the mapping and the errors.
    """
    rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
    clock = clock if clock is not None else SystemClock()
    when = at if at is not None else clock.now()
    state = state_from_status(status, rate_card, at=when, rollover_consumed=rollover_consumed)
    return Account.from_state(state, rate_card, clock=clock)
