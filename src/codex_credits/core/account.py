"""The account state machine: one function decides every request.

Theory of operation (docs/engine.md, "The order of checks"):

* :class:`AccountState` is frozen. :func:`apply` returns a
  :class:`Transition` (the new state and the :class:`Outcome`); nothing else
  changes a state. :func:`evaluate` runs the very same code without keeping
  the result (a dry run).
* Time only moves forward. :func:`advance` closes every UTC hour up to an
  instant, one :class:`HourClosed` per hour (the reserve accrues in idle
  hours too), and every billing period boundary on the way
  (:class:`PeriodClosed` then :class:`PeriodStarted`, which grants the pool).
  An instant earlier than the state's raises :class:`OutOfOrderEventError`.
* Budgets (docs/engine.md, docs/governance.md) form a hierarchy: each has a
  window (the billing period, or a day, week, sprint or month of its own);
  :func:`advance` resets billing budgets at each period start and rolls the
  others into the window of the open hour.
* The order of checks for one request, all in :func:`_decide`:
  budgets -> can it be paid (credits, or overage allowed; a tier without
  overage is blocked when credits run out) -> rate limit (the hour's
  allowance, then the reserve; request mode is all or nothing, fluid mode
  serves the part that fits) -> commit to the ledger, the reserve and the
  budgets. A refused request commits nothing: the state after it equals the
  state advanced to its instant.

>>> from datetime import datetime, UTC
>>> acct = Account(tier="pro", seats=1, anchor=datetime(2026, 1, 1, tzinfo=UTC))
>>> acct.apply(Decimal(100), at=datetime(2026, 1, 1, 9, tzinfo=UTC)).from_grant
Decimal('100')
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from codex_credits.clock import Clock, SystemClock
from codex_credits.core.accountstate import (
    AccountState,
    Engine,
    OpeningBlock,
    Plan,
    Transition,
    open_account,
)
from codex_credits.core.budgets import (
    Budget,
    Control,
    Override,
    check_budgets,
    raise_budget,
    record_spend,
    reset_budgets,
    roll_budgets,
)
from codex_credits.core.events import (
    HourClosed,
    Mode,
    Outcome,
    PeriodClosed,
    PeriodStarted,
    Reason,
    Refusal,
    Request,
)
from codex_credits.core.ledger import close_period, grant, spend
from codex_credits.core.meters import price_usage
from codex_credits.core.periods import period_at
from codex_credits.core.ratecard import RateCard
from codex_credits.core.ratelimit import admit
from codex_credits.core.reserve import ReserveState, close_hour
from codex_credits.core.timeutil import HOUR, require_utc
from codex_credits.core.units import ZERO, amount
from codex_credits.core.usage import UsageEvent
from codex_credits.errors import ConfigError, OutOfOrderEventError

__all__ = [
    "Account",
    "AccountState",
    "Engine",
    "OpeningBlock",
    "Plan",
    "Transition",
    "advance",
    "apply",
    "apply_override",
    "evaluate",
    "open_account",
    "request_from_event",
]


def advance(state: AccountState, to: datetime) -> tuple[AccountState, tuple[Engine, ...]]:
    """Close every hour (and period) that ends at or before ``to``.

    Raises:
        OutOfOrderEventError: ``to`` is earlier than ``state.as_of``.
    """
    to = require_utc(to, "to")
    if to < state.as_of:
        raise OutOfOrderEventError(
            f"cannot go back to {to.isoformat()}: the account is at {state.as_of.isoformat()}"
        )
    plan = state.plan
    terms = plan.limits.reserve_terms
    limit = plan.limits.limit
    hour, served = state.hour, state.served_in_hour
    reserve, ledger, period, budgets = state.reserve, state.ledger, state.period, state.budgets
    events: list[Engine] = []
    while hour + HOUR <= to:
        before = reserve.level
        reserve = close_hour(reserve, served, terms)
        events.append(
            HourClosed(
                hour=hour,
                served=served,
                drawn=max(served - limit, ZERO),
                accrued=reserve.level - before,
                reserve=reserve.level,
            )
        )
        hour += HOUR
        served = ZERO
        if hour == period.end:
            ledger, closing = close_period(
                ledger,
                at=hour,
                rollover_expires=plan.rollover_expiry(period),
                rollover_cap=plan.rollover_cap,
            )
            events.append(
                PeriodClosed(
                    start=period.start,
                    end=period.end,
                    expired=closing.expired,
                    rolled_over=closing.rolled_over,
                    rollover_balance=ledger.rollover_balance,
                )
            )
            period = period_at(plan.anchor, period.index + 1)
            ledger = grant(ledger, plan.pool, at=period.start, expires=period.end)
            budgets = reset_budgets(budgets)
            events.append(
                PeriodStarted(
                    start=period.start,
                    end=period.end,
                    granted=plan.pool,
                    rollover_balance=ledger.rollover_balance,
                )
            )
    budgets = roll_budgets(budgets, hour)
    if not events and to == state.as_of and budgets is state.budgets:
        return state, ()
    new = AccountState(
        plan=plan,
        period=period,
        hour=hour,
        as_of=to,
        served_in_hour=served,
        reserve=reserve,
        ledger=ledger,
        budgets=budgets,
    )
    return new, tuple(events)


def _decide(state: AccountState, request: Request, at: datetime, mode: Mode) -> Transition:
    """The order of checks for one request, at an instant within ``state``'s open hour."""
    plan = state.plan
    verdict = check_budgets(state.budgets, request, mode)
    wanted = verdict.amount
    fit = verdict.fit
    rate_limited = blocked = queued = ZERO
    reason: Reason | None = None
    budget = verdict.degraded_by
    # 1. budgets
    if fit < wanted:
        budget = verdict.budget
        if verdict.control is Control.QUEUE:
            queued, reason = wanted - fit, Reason.BUDGET_QUEUED
        else:
            blocked, reason = wanted - fit, Reason.BUDGET_HARD_STOP
    # 2. can it be paid
    payable = fit
    if not plan.has_overage:
        balance = state.ledger.balance
        if payable > balance:
            payable = balance if mode is Mode.FLUID else ZERO
            blocked += fit - payable
            reason = reason or Reason.NO_CREDITS
    # 3. rate limit
    served = from_reserve = ZERO
    if payable > 0:
        admission = admit(
            plan.limits, state.served_in_hour, state.reserve_at_hour_start, payable, mode
        )
        if isinstance(admission, Refusal):
            if admission.reason is Reason.TOO_LARGE:
                blocked += payable
            else:
                rate_limited += payable
            reason = reason or admission.reason
        else:
            served, from_reserve = admission.served, admission.from_reserve
            if admission.refused:
                rate_limited += admission.refused
                reason = reason or Reason.RATE_LIMITED
    outcome_fields = {
        "requested": request.amount,
        "served": served,
        "from_reserve": from_reserve,
        "waived": verdict.waived,
        "rate_limited": rate_limited,
        "blocked": blocked,
        "queued": queued,
        "reason": reason,
        "budget": budget,
    }
    if served == 0:
        return Transition(state=state, outcome=Outcome(**outcome_fields))
    # 4. commit
    spent = spend(state.ledger, served, at=at, allow_overage=plan.has_overage)
    assert not isinstance(spent, Refusal), "payability was checked above"
    ledger, split = spent
    budgets, alerts = record_spend(
        state.budgets, request, served, at=at, period_start=state.period.start
    )
    new = AccountState(
        plan=plan,
        period=state.period,
        hour=state.hour,
        as_of=at,
        served_in_hour=state.served_in_hour + served,
        reserve=ReserveState(level=state.reserve.level - from_reserve, recent=state.reserve.recent),
        ledger=ledger,
        budgets=budgets,
    )
    outcome = Outcome(
        **outcome_fields,
        from_rollover=split.from_rollover,
        from_grant=split.from_grant,
        from_overage=split.overage,
        alerts=alerts,
    )
    return Transition(state=new, outcome=outcome)


def apply(
    state: AccountState, request: Request, at: datetime, mode: Mode | str = Mode.REQUEST
) -> Transition:
    """Advance to ``at``, then decide and commit ``request``.

    Raises:
        OutOfOrderEventError: ``at`` is earlier than ``state.as_of``.
    """
    state, events = advance(state, at)
    transition = _decide(state, request, state.as_of, Mode(mode))
    if not events:
        return transition
    return Transition(state=transition.state, outcome=transition.outcome, events=events)


def evaluate(
    state: AccountState, request: Request, at: datetime, mode: Mode | str = Mode.REQUEST
) -> Outcome:
    """What :func:`apply` would do, without changing anything (a dry run)."""
    return apply(state, request, at, mode).outcome


def apply_override(
    state: AccountState, override: Override
) -> tuple[AccountState, tuple[Engine, ...]]:
    """Raise a budget from the start of the UTC hour ``override.at`` falls in.

    Raises:
        ConfigError: no budget of that name.
        OutOfOrderEventError: the override is earlier than the state.
    """
    if override.budget not in {b.budget.name for b in state.budgets}:
        raise ConfigError(f"override for unknown budget {override.budget!r}")
    if override.at < state.as_of:
        raise OutOfOrderEventError(
            f"override at {override.at.isoformat()} is before {state.as_of.isoformat()}"
        )
    hour = override.at.replace(minute=0, second=0, microsecond=0)
    state, events = advance(state, max(hour, state.as_of))
    new = state.with_budgets(raise_budget(state.budgets, override))
    return new, events


def request_from_event(event: UsageEvent, card: RateCard) -> Request:
    """A request for a usage event: its amount on ``card`` and its sandbox part."""
    sandbox = ZERO
    if event.ccu is None:
        breakdown = price_usage(event.usage(), card)
        total, sandbox = breakdown.total, breakdown.categories.get("sandbox", ZERO)
    else:
        total = event.ccu
    return Request(
        amount=total,
        sandbox_ccu=sandbox,
        project_id=event.project_id,
        user_id=event.user_id,
        task_type=event.task_type,
        feature=event.feature,
        session_id=event.session_id,
        parent_session_id=event.parent_session_id,
    )


class Account:
    """A live, in-process account: a mutable holder of an :class:`AccountState`.

    Instants default to the clock's now; pass ``at=`` (or a ``FixedClock``) for
    reproducible results.
    """

    def __init__(
        self,
        tier: str = "pro",
        seats: int = 1,
        anchor: datetime | None = None,
        card: RateCard | str | None = None,
        *,
        rollover_balance: Decimal | int | str | Sequence[OpeningBlock] | None = None,
        reserve: Decimal | int | str | None = None,
        budgets: Sequence[Budget] = (),
        start: datetime | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.card = card if isinstance(card, RateCard) else RateCard.resolve(card)
        self.clock = clock if clock is not None else SystemClock()
        if anchor is None:
            anchor = self.clock.now().replace(minute=0, second=0, microsecond=0)
        self.state = open_account(
            self.card,
            tier,
            seats,
            anchor,
            start=start,
            rollover_balance=rollover_balance,
            reserve=reserve,
            budgets=budgets,
        )
        self.events: list[Engine] = []

    @classmethod
    def from_state(
        cls, state: AccountState, card: RateCard | str | None = None, *, clock: Clock | None = None
    ) -> Account:
        """An account holding ``state`` (for example one built from the usage API's status).

        Raises:
            ConfigError: ``card`` is not the card of the state's plan.
        """
        rate_card = card if isinstance(card, RateCard) else RateCard.resolve(card)
        if rate_card.name != state.plan.card:
            raise ConfigError(
                f"the account is on card {state.plan.card}, but card {rate_card.name} was given"
            )
        account = cls.__new__(cls)
        account.card = rate_card
        account.clock = clock if clock is not None else SystemClock()
        account.state = state
        account.events = []
        return account

    def __repr__(self) -> str:
        s = self.state
        return (
            f"Account({s.plan.tier} x{s.plan.seats}, at {s.as_of.isoformat()}, "
            f"balance {s.ledger.balance}, reserve {s.reserve.level})"
        )

    def _request(self, request: Request | UsageEvent | Decimal | int | str) -> Request:
        if isinstance(request, Request):
            return request
        if isinstance(request, UsageEvent):
            return request_from_event(request, self.card)
        return Request(amount=amount(request))

    def _at(self, request: object, at: datetime | None) -> datetime:
        if at is not None:
            return at
        if isinstance(request, UsageEvent):
            return request.timestamp
        return self.clock.now()

    def evaluate(
        self,
        request: Request | UsageEvent | Decimal | int | str,
        at: datetime | None = None,
        mode: Mode | str = Mode.REQUEST,
    ) -> Outcome:
        """Would ``request`` be served at ``at``, and how? Changes nothing."""
        return evaluate(self.state, self._request(request), self._at(request, at), mode)

    def apply(
        self,
        request: Request | UsageEvent | Decimal | int | str,
        at: datetime | None = None,
        mode: Mode | str = Mode.REQUEST,
    ) -> Outcome:
        """Decide and commit ``request`` at ``at``; returns its outcome."""
        transition = apply(self.state, self._request(request), self._at(request, at), mode)
        self.state = transition.state
        self.events.extend(transition.events)
        return transition.outcome

    def advance(self, to: datetime | None = None) -> tuple[Engine, ...]:
        """Let time pass to ``to``, closing hours and periods; returns what closed."""
        self.state, events = advance(self.state, to if to is not None else self.clock.now())
        self.events.extend(events)
        return events

    def override(self, override: Override) -> None:
        """Apply an approved budget override."""
        self.state, events = apply_override(self.state, override)
        self.events.extend(events)
