"""The state of one account: its plan, and everything the engine knows at one instant.

:class:`Plan` is the fixed terms (tier and seats on a card, from an anchor),
:class:`AccountState` the frozen state :mod:`codex_credits.core.account` moves
from instant to instant, :func:`open_account` the state of a new account, and
:class:`Transition` what one request does to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import final

from pydantic import Field

from codex_credits.core.budgets import Budget, BudgetState, check_hierarchy, roll_budgets
from codex_credits.core.events import HourClosed, Outcome, PeriodClosed, PeriodStarted
from codex_credits.core.ledger import BlockKind, Ledger, grant
from codex_credits.core.model import Frozen
from codex_credits.core.periods import BillingPeriod, check_anchor, period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.ratelimit import HourlyLimits
from codex_credits.core.reserve import ReserveState
from codex_credits.core.timeutil import UtcDatetime, add_months_clamped
from codex_credits.core.units import ZERO, Ccu, Usd, amount, quantize_ccu
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError

__all__ = ["AccountState", "Engine", "OpeningBlock", "Plan", "Transition", "open_account"]

Engine = HourClosed | PeriodClosed | PeriodStarted
"""What the passing of time emits."""


@final
class Plan(Frozen):
    """The fixed terms of an account: tier and seats on a card, from an anchor."""

    card: str
    tier: str
    seats: int = Field(ge=1)
    anchor: UtcDatetime
    pool: Ccu
    limits: HourlyLimits
    rollover_periods: int = Field(ge=0)
    rollover_cap: Ccu
    overage_usd_per_ccu: Usd | None
    price_per_seat_usd: Usd

    @classmethod
    def from_card(cls, card: RateCard, tier: str, seats: int, anchor: datetime) -> Plan:
        """The plan for ``seats`` seats of ``tier`` on ``card``, billed from ``anchor``."""
        spec = card.tier(tier)
        spec.check_seats(seats, tier)
        pool = spec.pool(seats)
        return cls(
            card=card.name,
            tier=tier,
            seats=seats,
            anchor=check_anchor(anchor),
            pool=pool,
            limits=HourlyLimits.for_tier(card, tier, seats),
            rollover_periods=spec.rollover_periods,
            rollover_cap=quantize_ccu(spec.rollover_cap_pools * pool),
            overage_usd_per_ccu=spec.overage_usd_per_ccu,
            price_per_seat_usd=spec.price_per_seat_usd,
        )

    @property
    def has_overage(self) -> bool:
        """True when spending past the balance is billed rather than blocked."""
        return self.overage_usd_per_ccu is not None

    @property
    def subscription_usd(self) -> Decimal:
        """Seats x price: the subscription cost of one period."""
        return self.price_per_seat_usd * self.seats

    def rollover_expiry(self, period: BillingPeriod) -> datetime | None:
        """When credit rolled over at the end of ``period`` expires (None: no rollover)."""
        if self.rollover_periods == 0:
            return None
        return add_months_clamped(self.anchor, period.index + 1 + self.rollover_periods)


@final
class OpeningBlock(Frozen):
    """Rollover credit an account starts with, usable until ``expires``."""

    amount: Ccu = Field(ge=0)
    expires: UtcDatetime


@final
class AccountState(Displayed, Frozen):
    """Everything the engine knows about one account at one instant."""

    plan: Plan
    period: BillingPeriod
    hour: UtcDatetime = Field(description="start of the open UTC hour")
    as_of: UtcDatetime = Field(description="the latest instant seen")
    served_in_hour: Ccu = ZERO
    reserve: ReserveState = Field(default_factory=ReserveState)
    ledger: Ledger = Field(default_factory=Ledger)
    budgets: tuple[BudgetState, ...] = ()

    def with_budgets(self, budgets: tuple[BudgetState, ...]) -> AccountState:
        """This state with other budget states (a copy, validated like any other).

        Raises:
            ConfigError: repeated names, or a parent that is not a budget.
        """
        check_hierarchy([s.budget for s in budgets])
        return AccountState(
            plan=self.plan,
            period=self.period,
            hour=self.hour,
            as_of=self.as_of,
            served_in_hour=self.served_in_hour,
            reserve=self.reserve,
            ledger=self.ledger,
            budgets=budgets,
        )

    @property
    def reserve_at_hour_start(self) -> Decimal:
        """The reserve level when the open hour began (draws are what passed ``L``)."""
        return self.reserve.level + max(self.served_in_hour - self.plan.limits.limit, ZERO)


@final
class Transition(Frozen):
    """The result of :func:`apply`: the new state, the outcome, and what time closed."""

    state: AccountState
    outcome: Outcome
    events: tuple[Engine, ...] = ()


def open_account(
    card: RateCard,
    tier: str,
    seats: int,
    anchor: datetime,
    *,
    start: datetime | None = None,
    rollover_balance: Decimal | int | str | Sequence[OpeningBlock] | None = None,
    reserve: Decimal | int | str | None = None,
    budgets: Sequence[Budget] = (),
) -> AccountState:
    """A new account at ``start`` (default: the anchor), its period's pool granted.

    Args:
        card: the rate card.
        tier: a tier of the card.
        seats: seats sharing the pool.
        anchor: the billing anchor (a whole UTC hour).
        start: the instant the account starts (a whole hour, default the anchor).
        rollover_balance: one number (a block expiring at the end of the first
            period) or explicit :class:`OpeningBlock` values.
        reserve: the starting reserve level (at most the tier's cap).
        budgets: budgets to enforce.

    Raises:
        ConfigError: a bad tier, seat count, anchor, start or reserve.
    """
    plan = Plan.from_card(card, tier, seats, anchor)
    start = plan.anchor if start is None else check_anchor(start)
    period = period_containing(plan.anchor, start)
    ledger = Ledger()
    blocks: Sequence[OpeningBlock]
    if rollover_balance is None:
        blocks = ()
    elif isinstance(rollover_balance, Decimal | int | str):
        value = amount(rollover_balance)
        if value < 0:
            raise ConfigError(f"rollover balance must be >= 0, got {value}")
        blocks = (OpeningBlock(amount=value, expires=period.end),) if value else ()
    else:
        blocks = tuple(rollover_balance)
    for block in blocks:
        if block.expires <= start:
            raise ConfigError(f"an opening rollover block expires at {block.expires}, before start")
        ledger = grant(
            ledger, block.amount, at=start, expires=block.expires, kind=BlockKind.ROLLOVER
        )
    ledger = grant(ledger, plan.pool, at=start, expires=period.end)
    level = ZERO if reserve is None else amount(reserve)
    if not ZERO <= level <= plan.limits.reserve_cap:
        raise ConfigError(
            f"reserve must be between 0 and the tier's cap {plan.limits.reserve_cap}, got {level}"
        )
    check_hierarchy(budgets)
    return AccountState(
        plan=plan,
        period=period,
        hour=start,
        as_of=start,
        reserve=ReserveState(level=level),
        ledger=ledger,
        budgets=roll_budgets(tuple(BudgetState(budget=b) for b in budgets), start),
    )
