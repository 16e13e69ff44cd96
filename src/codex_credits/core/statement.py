"""What a simulation reports: period statements, an hourly timeline, per-event outcomes.

Theory of operation (docs/engine.md, "Simulation"): a simulation produces one
:class:`PeriodStatement` per billing period, ``totals`` with the same fields
summed, an hourly :class:`Timeline` and :class:`EventOutcomes` aligned with
the usage log's index order, for chargeback. Amounts are exact: statements
hold Decimals (CCU to 0.000001, USD to the cent); the timeline and outcomes
hold integer micro-CCU columns (``from_micro`` turns one into a Decimal).

Within a period, ``consumed = consumed_from_rollover + consumed_from_grant +
overage_ccu`` and ``rollover_in + granted - consumed_from_rollover -
consumed_from_grant - expired = rollover_out``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import TYPE_CHECKING, Any, final

import numpy as np
import numpy.typing as npt
from pydantic import Field

from codex_credits.core.events import BudgetAlert, Mode, Policy, Reason, Status
from codex_credits.core.model import Frozen
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import ZERO, Ccu, Usd, from_micro, round_cents
from codex_credits.display import Displayed

if TYPE_CHECKING:
    from codex_credits.core.account import AccountState, Plan

__all__ = [
    "EPOCH",
    "MICRO_FIELDS",
    "REASON_CODES",
    "STATEMENT_FIELDS",
    "STATUS_CODES",
    "EventOutcome",
    "EventOutcomes",
    "PeriodStatement",
    "PeriodTally",
    "SimulationResult",
    "Timeline",
    "micro_decimals",
    "period_costs",
    "trusted_statement",
]

STATEMENT_FIELDS: tuple[str, ...] = (
    "start",
    "end",
    "granted",
    "rollover_in",
    "consumed",
    "consumed_from_rollover",
    "consumed_from_grant",
    "overage_ccu",
    "overage_cost",
    "expired",
    "rollover_out",
    "reserve_drawn",
    "rate_limited_ccu",
    "rate_limited_events",
    "blocked_ccu",
    "unserved_ccu",
    "subscription_cost",
    "total_cost",
)
"""The fields of a statement, in output order."""

MICRO_FIELDS: tuple[str, ...] = (
    "granted",
    "rollover_in",
    "consumed",
    "consumed_from_rollover",
    "consumed_from_grant",
    "overage_ccu",
    "expired",
    "rollover_out",
    "reserve_drawn",
    "rate_limited_ccu",
    "blocked_ccu",
    "unserved_ccu",
)
"""Statement fields counted in micro-CCU while a simulation runs."""

STATUS_CODES: tuple[Status, ...] = tuple(Status)
"""``EventOutcomes.status`` holds indexes into this tuple."""

REASON_CODES: tuple[Reason | None, ...] = (None, *Reason)
"""``EventOutcomes.reason`` holds indexes into this tuple (0: no refusal)."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The Unix epoch, for microsecond timestamps."""


@final
class PeriodStatement(Displayed, Frozen):
    """One billing period (or, as ``totals``, the whole simulation)."""

    start: UtcDatetime
    end: UtcDatetime
    granted: Ccu
    rollover_in: Ccu
    consumed: Ccu
    consumed_from_rollover: Ccu
    consumed_from_grant: Ccu
    overage_ccu: Ccu
    overage_cost: Usd
    expired: Ccu
    rollover_out: Ccu
    reserve_drawn: Ccu
    rate_limited_ccu: Ccu
    rate_limited_events: int = Field(ge=0)
    blocked_ccu: Ccu
    unserved_ccu: Ccu
    subscription_cost: Usd
    total_cost: Usd

    def to_dict(self) -> dict[str, Any]:
        """Every field in :data:`STATEMENT_FIELDS` order (Decimals and datetimes as is)."""
        return {name: getattr(self, name) for name in STATEMENT_FIELDS}

    @classmethod
    def total(cls, periods: tuple[PeriodStatement, ...]) -> PeriodStatement:
        """The sum of ``periods`` (start of the first to end of the last)."""
        sums: dict[str, Any] = {}
        for name in STATEMENT_FIELDS[2:]:
            start: Decimal | int = 0 if name == "rate_limited_events" else ZERO
            sums[name] = sum((getattr(p, name) for p in periods), start)
        return cls(start=periods[0].start, end=periods[-1].end, **sums)


@dataclass
class PeriodTally:
    """Integer micro-CCU counters of one period while a simulation runs."""

    start: datetime
    end: datetime
    micro: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MICRO_FIELDS, 0))
    rate_limited_events: int = 0

    def statement(self, plan: Plan) -> PeriodStatement:
        """The finished statement: costs rounded to cents once."""
        values = {name: from_micro(v) for name, v in self.micro.items()}
        overage_cost, subscription = period_costs(plan, self.micro["overage_ccu"])
        return PeriodStatement(
            start=self.start,
            end=self.end,
            overage_cost=overage_cost,
            rate_limited_events=self.rate_limited_events,
            subscription_cost=subscription,
            total_cost=subscription + overage_cost,
            **values,
        )


def period_costs(plan: Plan, overage_micro: int) -> tuple[Decimal, Decimal]:
    """``(overage_cost, subscription_cost)`` of one period, each rounded to cents once."""
    rate = plan.overage_usd_per_ccu
    overage = round_cents(from_micro(overage_micro) * rate) if rate is not None else ZERO
    return round_cents(overage), round_cents(plan.subscription_usd)


_SIX = Context(prec=60, rounding=ROUND_HALF_EVEN)


def micro_decimals(micro: Sequence[int]) -> list[Decimal]:
    """Integer micro-CCU as exact Decimals with six places, as
    :func:`~codex_credits.core.units.from_micro` makes them, without its checks."""
    return [Decimal(n).scaleb(-6, _SIX) for n in micro]


def trusted_statement(
    start: datetime,
    end: datetime,
    micro: Sequence[int],
    rate_limited_events: int,
    costs: tuple[Decimal, Decimal],
) -> PeriodStatement:
    """A statement from a kernel's own counters, without validation (for lane sweeps).

    ``micro`` holds non-negative integer micro-CCU in :data:`MICRO_FIELDS` order,
    ``costs`` is :func:`period_costs` (or sums of it); ``start`` and ``end`` are
    aware UTC. The result equals ``PeriodTally(...).statement(plan)`` field for
    field, exponents included (``Decimal(n).scaleb(-6)`` is ``from_micro(n)``).
    """
    overage_cost, subscription = costs
    values: dict[str, Any] = dict(zip(MICRO_FIELDS, micro_decimals(micro), strict=True))
    values.update(
        start=start,
        end=end,
        overage_cost=overage_cost,
        rate_limited_events=rate_limited_events,
        subscription_cost=subscription,
        total_cost=subscription + overage_cost,
    )
    return PeriodStatement.model_construct(**{name: values[name] for name in STATEMENT_FIELDS})


Int64Array = npt.NDArray[np.int64]


@final
@dataclass(frozen=True, eq=False, repr=False)
class Timeline(Displayed):
    """Hourly columns in micro-CCU; ``hour_us`` is each hour's start (epoch µs, UTC).

    ``demand`` is the CCU of the hour's own events; ``served`` everything served
    in the hour (retries included); ``reserve`` the level after the hour's
    close; ``waiting`` the rate-limited work deferred past the hour.
    """

    hour_us: Int64Array
    demand: Int64Array
    served: Int64Array
    reserve: Int64Array
    drawn: Int64Array
    rate_limited: Int64Array
    blocked: Int64Array
    waiting: Int64Array

    COLUMNS = ("demand", "served", "reserve", "drawn", "rate_limited", "blocked", "waiting")

    def __len__(self) -> int:
        return int(self.hour_us.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeline):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, name), getattr(other, name))
            for name in ("hour_us", *self.COLUMNS)
        )

    def hour(self, i: int) -> datetime:
        """The start of hour ``i``."""
        return EPOCH + timedelta(microseconds=int(self.hour_us[i]))

    def row(self, i: int) -> dict[str, Any]:
        """Hour ``i`` as a mapping of Decimals."""
        return {
            "hour": self.hour(i),
            **{name: from_micro(int(getattr(self, name)[i])) for name in self.COLUMNS},
        }


@final
class EventOutcome(Frozen):
    """The fate of one usage event over a whole simulation."""

    index: int
    status: Status
    reason: Reason | None
    requested: Ccu
    served: Ccu
    from_rollover: Ccu
    from_grant: Ccu
    from_overage: Ccu
    from_reserve: Ccu
    waived: Ccu
    rate_limited: Ccu
    blocked: Ccu
    unserved: Ccu


@final
@dataclass(frozen=True, eq=False, repr=False)
class EventOutcomes(Displayed):
    """Per-event columns (micro-CCU), aligned with the usage log's index order.

    For every event ``requested = served + waived + blocked + unserved``;
    ``rate_limited`` is what was refused by the rate limit the first time
    (it may have been served later) and ``served = from_rollover + from_grant
    + from_overage``.
    """

    requested: Int64Array
    served: Int64Array
    from_rollover: Int64Array
    from_grant: Int64Array
    from_overage: Int64Array
    from_reserve: Int64Array
    waived: Int64Array
    rate_limited: Int64Array
    blocked: Int64Array
    unserved: Int64Array
    status: npt.NDArray[np.int8]
    reason: npt.NDArray[np.int8]

    COLUMNS = (
        "requested",
        "served",
        "from_rollover",
        "from_grant",
        "from_overage",
        "from_reserve",
        "waived",
        "rate_limited",
        "blocked",
        "unserved",
    )

    def __len__(self) -> int:
        return int(self.served.shape[0])

    def __getitem__(self, i: int) -> EventOutcome:
        return EventOutcome(
            index=i,
            status=STATUS_CODES[int(self.status[i])],
            reason=REASON_CODES[int(self.reason[i])],
            **{name: from_micro(int(getattr(self, name)[i])) for name in self.COLUMNS},
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EventOutcomes):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, name), getattr(other, name))
            for name in (*self.COLUMNS, "status", "reason")
        )

    def mismatches(self, other: EventOutcomes) -> list[tuple[int, str]]:
        """``(index, column)`` pairs where two outcome sets differ (for tests)."""
        found: list[tuple[int, str]] = []
        for name in (*self.COLUMNS, "status", "reason"):
            diff = np.nonzero(getattr(self, name) != getattr(other, name))[0]
            found.extend((int(i), name) for i in diff[:5])
        return found


@final
@dataclass(frozen=True, eq=False, repr=False)
class SimulationResult(Displayed):
    """Statements per period and in total, an hourly timeline, per-event outcomes.

    ``final_state`` is the account after the last period closed (the next
    period opened), so another simulation or a forecast can continue from it.
    """

    plan: Plan
    mode: Mode
    on_rate_limit: Policy
    periods: tuple[PeriodStatement, ...]
    totals: PeriodStatement
    timeline: Timeline
    outcomes: EventOutcomes
    alerts: tuple[BudgetAlert, ...]
    final_state: AccountState
    ignored_events: int = 0

    def to_dict(self) -> dict[str, Any]:
        """``{"periods": [...], "totals": {...}}`` with Decimals and datetimes as is."""
        return {
            "periods": [p.to_dict() for p in self.periods],
            "totals": self.totals.to_dict(),
        }
