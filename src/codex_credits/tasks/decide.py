"""One dispatch decision: allow, defer (until when) or refuse, with every reason.

Theory of operation (docs/tasks/decide.md): :func:`decide` asks, in order,

1. the **gates**: callables ``(spec, at) -> reasons`` run before any credit
   rule (authorization plugs in here); any reason refuses;
2. the **linter**: a finding at or above ``policy.refuse_at`` refuses;
3. the **engine**: the task, priced (its ``ccu``, else its estimate at
   ``policy.price``), is applied to the account state with
   :func:`codex_credits.core.account.apply`, the very code that decides every
   request of a simulation (budgets, balance, rate limit, reserve). Nothing
   here restates a credit rule. A request the engine blocks (no credits on a
   tier without overage, a hard-stop budget, larger than any hour) refuses;
   one it rate-limits or a queue budget holds defers, to the first hour (or
   period) at which the engine would serve it;
4. **concurrency**: with the tier's limit reached by ``running`` tasks, the
   task waits for the earliest slot (defer) or is refused, as
   ``policy.on_full`` says (the rule of :mod:`codex_credits.tasks.concurrency`).

Only an allowed task changes anything: its ``state_after`` is the engine's
new state. A deferred or refused task costs zero and ``state_after`` is the
state passed in. For the credit decision alone (no lint), pass
``DispatchPolicy(refuse_at=None)``; to price at a known amount, give the spec a
``ccu`` or pass ``amount=``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, final

from pydantic import Field, model_validator

from codex_credits.core.account import AccountState, Transition, advance, apply
from codex_credits.core.events import Mode, Outcome, Reason, Request, Status
from codex_credits.core.model import Frozen
from codex_credits.core.ratecard import RateCard
from codex_credits.core.timeutil import HOUR, epoch_us, from_epoch_us, hour_floor, require_utc
from codex_credits.core.units import ZERO, Quantity
from codex_credits.display import Displayed
from codex_credits.errors import ConfigError
from codex_credits.tasks.concurrency import OnFull, next_slot
from codex_credits.tasks.estimate import TaskEstimate, TaskRecord, estimate_task
from codex_credits.tasks.lint import LINT_RULES, Finding, LintRule, Severity, lint_task
from codex_credits.tasks.spec import TaskSpec

__all__ = [
    "Decision",
    "DecisionReason",
    "DispatchPolicy",
    "Gate",
    "decide",
    "price_task",
    "task_minutes",
]

Gate = Callable[[TaskSpec, datetime], Sequence[str]]
"""A pre-credit check: the reasons to refuse ``spec`` at ``at`` (empty: pass)."""

Verdict = Literal["allow", "defer", "refuse"]


@final
class DispatchPolicy(Frozen):
    """How :func:`decide` judges a task (the ``[dispatch]`` table of a policy file).

    ``price``: which figure a task without a known ``ccu`` is charged at
    (``p50``, ``p90`` or ``cap``: its ``max_ccu``, else P90). ``refuse_at``:
    the lint severity that refuses (None: lint never refuses). ``concurrency``:
    overrides the tier's concurrent-task limit (0: unlimited). ``duration``:
    minutes a task without a ``timeout`` is expected to hold its slot.
    ``defer_horizon_hours``: how far ahead a deferred task's fitting hour is
    looked for. ``rules``: the lint table; ``lint`` (in a policy file) adds
    rows to the built-in one.
    """

    refuse_at: Severity | None = Severity.ERROR
    price: Literal["p50", "p90", "cap"] = "p90"
    mode: Mode = Mode.REQUEST
    on_full: OnFull = "wait"
    concurrency: int | None = Field(default=None, ge=0)
    duration: Quantity = Field(default=Decimal(30), gt=0)
    defer_horizon_hours: int = Field(default=48, ge=1)
    rules: tuple[LintRule, ...] = LINT_RULES

    @model_validator(mode="before")
    @classmethod
    def _extra_rules(cls, data: Any) -> Any:
        """``lint = [...]`` (a policy file's ``[[dispatch.lint]]``) extends the built-in table."""
        if isinstance(data, dict) and "lint" in data:
            data = dict(data)
            extra = data.pop("lint")
            data["rules"] = (*data.get("rules", LINT_RULES), *extra)
        return data


@final
@dataclass(frozen=True, slots=True)
class DecisionReason:
    """One reason not to allow a task: where it came from, its code, and words.

    ``refuses`` is True for a reason that refuses, False for one that defers.
    """

    source: Literal["gate", "lint", "engine", "concurrency"]
    code: str
    message: str
    refuses: bool


@final
@dataclass(frozen=True, slots=True, repr=False)
class Decision(Displayed):
    """The verdict on one task and everything behind it.

    ``cost`` is what dispatching now charges (0 unless allowed); ``fits_at``
    is when a deferred task would fit; ``state_after`` is the account after
    dispatch (the state passed in, unless allowed).
    """

    verdict: Verdict
    reasons: tuple[DecisionReason, ...]
    amount: Decimal
    cost: Decimal
    fits_at: datetime | None
    outcome: Outcome
    findings: tuple[Finding, ...]
    estimate: TaskEstimate | None
    state_after: AccountState

    @property
    def allowed(self) -> bool:
        """True when the task may be dispatched now."""
        return self.verdict == "allow"

    @property
    def engine_reason(self) -> Reason | None:
        """The engine's reason when it would not serve the task whole."""
        return self.outcome.reason

    def row(self) -> dict[str, Any]:
        """The verdict as one plain row: amount, cost, fits_at, estimate source, findings, reasons."""
        return {
            "verdict": self.verdict,
            "amount": self.amount,
            "cost": self.cost,
            "fits_at": self.fits_at,
            "estimate": self.estimate.source if self.estimate is not None else "given",
            "findings": [f.code for f in self.findings],
            "reasons": [f"{r.source}:{r.code}: {r.message}" for r in self.reasons],
        }


class Lookahead:
    """A memo of the engine's answers for one state (for deciding many tasks in a row).

    :func:`~codex_credits.tasks.plan.plan_tasks` decides many tasks against
    one state until one is allowed; tasks of the same amount and labels get
    the same answer from the engine, now and at each later hour. Pass one
    ``Lookahead`` to every :func:`decide` call; it forgets everything when the
    state changes. It only remembers what :func:`~codex_credits.core.account.apply`
    returned; it decides nothing itself.
    """

    __slots__ = ("_advanced", "_answers", "_state")

    def __init__(self) -> None:
        self._state: AccountState | None = None
        self._advanced: dict[datetime, AccountState] = {}
        self._answers: dict[tuple[datetime, Request, Mode], Transition] = {}

    def _for(self, state: AccountState) -> None:
        if state is not self._state:
            self._state, self._advanced, self._answers = state, {}, {}

    def at(self, state: AccountState, when: datetime) -> AccountState:
        """``state`` advanced to ``when`` (computed once per state and instant)."""
        self._for(state)
        found = self._advanced.get(when)
        if found is None:
            found = advance(state, when)[0]
            self._advanced[when] = found
        return found

    def apply(
        self, state: AccountState, request: Request, when: datetime, mode: Mode
    ) -> Transition:
        """:func:`~codex_credits.core.account.apply`, remembered for this state."""
        self._for(state)
        key = (when, request, mode)
        found = self._answers.get(key)
        if found is None:
            found = apply(self.at(state, when), request, when, mode)
            self._answers[key] = found
        return found


def price_task(
    spec: TaskSpec,
    policy: DispatchPolicy,
    history: Sequence[TaskRecord] | None = None,
    card: RateCard | None = None,
    findings: Sequence[Finding] | None = None,
) -> tuple[Decimal, TaskEstimate | None]:
    """The amount ``decide`` charges for ``spec`` and the estimate behind it (if any)."""
    if spec.ccu is not None:
        return spec.ccu, None
    est = estimate_task(spec, history, card=card, rules=policy.rules, findings=findings)
    if policy.price == "p50":
        return est.p50_ccu, est
    if policy.price == "cap" and spec.max_ccu is not None:
        return spec.max_ccu, est
    return est.p90_ccu, est


def decide(
    spec: TaskSpec,
    state: AccountState,
    at: datetime,
    policy: DispatchPolicy | None = None,
    *,
    gates: Sequence[Gate] = (),
    running: Sequence[datetime] = (),
    history: Sequence[TaskRecord] | None = None,
    card: RateCard | None = None,
    amount: Decimal | None = None,
    lookahead: Lookahead | None = None,
) -> Decision:
    """Allow, defer or refuse ``spec`` at ``at`` on the account in ``state``.

    Args:
        spec: the task.
        state: the account (not changed; see ``Decision.state_after``).
        at: the instant of dispatch (not before ``state.as_of``).
        policy: how to judge (default :class:`DispatchPolicy`).
        gates: pre-credit checks, run first.
        running: end times of the tasks running now (concurrency).
        history: finished tasks the estimate is calibrated on.
        card: the account's card, when it is not a built-in one.
        amount: price the task at this amount (overrides ``spec.ccu`` and the estimate).
        lookahead: a memo shared by many calls (see :class:`Lookahead`).

    Raises:
        OutOfOrderEventError: ``at`` is before ``state.as_of``.
    """
    policy = policy if policy is not None else DispatchPolicy()
    at = require_utc(at)
    reasons: list[DecisionReason] = []
    for gate in gates:
        reasons += [
            DecisionReason(source="gate", code="gate", message=r, refuses=True)
            for r in gate(spec, at)
        ]
    findings = tuple(lint_task(spec, policy.rules))
    if policy.refuse_at is not None:
        reasons += [
            DecisionReason(
                source="lint", code=f.code, message=f"{f.severity}: {f.reason}", refuses=True
            )
            for f in findings
            if f.severity.at_least(policy.refuse_at)
        ]
    estimate: TaskEstimate | None = None
    if amount is None:
        amount, estimate = price_task(spec, policy, history, card, findings)
    request = Request(
        amount=amount,
        project_id=spec.project,
        user_id=spec.user,
        task_type=spec.task_type,
        feature=spec.feature,
    )
    lookahead = lookahead if lookahead is not None else Lookahead()
    transition = lookahead.apply(state, request, at, policy.mode)
    outcome = transition.outcome
    fits_at: datetime | None = None
    if outcome.status is not Status.SERVED and outcome.reason is not None:
        reason = outcome.reason
        if reason.blocks:
            reasons.append(_engine(reason, outcome, refuses=True))
        elif any(r.refuses for r in reasons):  # refused anyway: no need to look ahead
            reasons.append(_engine(reason, outcome, refuses=False))
        else:
            fits_at = _fits_at(state, request, at, policy, reason, lookahead)
            reasons.append(_engine(reason, outcome, refuses=fits_at is None))
    slot = _concurrency(state, at, policy, running, card)
    if slot is not None:
        refuse = policy.on_full == "refuse"
        reasons.append(
            DecisionReason(
                source="concurrency",
                code="concurrency",
                message=f"every concurrent-task slot is busy until {slot.isoformat()}",
                refuses=refuse,
            )
        )
        if not refuse:
            fits_at = slot if fits_at is None else max(fits_at, slot)
    if any(r.refuses for r in reasons):
        verdict: Verdict = "refuse"
        fits_at = None
    elif reasons:
        verdict = "defer"
    else:
        verdict = "allow"
    allowed = verdict == "allow"
    return Decision(
        verdict=verdict,
        reasons=tuple(reasons),
        amount=amount,
        cost=outcome.served if allowed else ZERO,
        fits_at=fits_at,
        outcome=outcome,
        findings=findings,
        estimate=estimate,
        state_after=transition.state if allowed else state,
    )


def _engine(reason: Reason, outcome: Outcome, *, refuses: bool) -> DecisionReason:
    words = {
        Reason.RATE_LIMITED: "the hour's rate limit and the savings reserve cannot hold it now",
        Reason.TOO_LARGE: "it is larger than any hour can hold (the limit plus the reserve cap)",
        Reason.NO_CREDITS: "no credits left on a tier without overage",
        Reason.BUDGET_HARD_STOP: f"hard-stop budget {outcome.budget} would be exceeded",
        Reason.BUDGET_QUEUED: f"queue budget {outcome.budget} would be exceeded: held",
    }
    return DecisionReason(
        source="engine", code=reason.value, message=words[reason], refuses=refuses
    )


def _fits_at(
    state: AccountState,
    request: Request,
    at: datetime,
    policy: DispatchPolicy,
    reason: Reason,
    lookahead: Lookahead,
) -> datetime | None:
    """The first hour start (or period start, for a queue budget) the engine would serve it."""
    if reason is Reason.BUDGET_QUEUED:
        candidates: Iterable[datetime] = (max(state.period.end, at),)
    else:
        first = hour_floor(at) + HOUR
        candidates = (first + k * HOUR for k in range(policy.defer_horizon_hours))
    for when in candidates:
        if lookahead.apply(state, request, when, policy.mode).outcome.status is Status.SERVED:
            return when
    return None


def _concurrency(
    state: AccountState,
    at: datetime,
    policy: DispatchPolicy,
    running: Sequence[datetime],
    card: RateCard | None,
) -> datetime | None:
    """When a slot frees, if every slot is busy at ``at``; None when one is free."""
    if not running:
        return None
    if policy.concurrency is not None:
        limit = policy.concurrency or None
    else:
        if card is None or card.name != state.plan.card:
            try:
                card = RateCard.resolve(state.plan.card)
            except ConfigError:
                return None
        limit = card.tier(state.plan.tier).concurrency
    if limit is None:
        return None
    busy = sorted(epoch_us(require_utc(end, "running")) for end in running)
    start = next_slot(busy, epoch_us(at), limit)
    if start is None or start == epoch_us(at):
        return None
    return from_epoch_us(start)


def task_minutes(spec: TaskSpec, policy: DispatchPolicy) -> timedelta:
    """How long ``spec`` holds a concurrency slot: its timeout, else the policy's duration."""
    minutes = spec.timeout if spec.timeout is not None else policy.duration
    return timedelta(microseconds=int(minutes * 60_000_000))
