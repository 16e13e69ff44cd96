"""The result of an organisation sweep: one tidy table of statements, and plans per account.

Theory of operation (docs/engine.md, "Organisation sweeps"): the lane kernel
(:mod:`codex_credits.core.kernel.lanes`) leaves integer counters per lane and
period; the statements (and, for a comparison, every account's ranked options)
are made from them when first asked for, so a sweep of thousands of lanes costs
the kernel's time, and the Decimal statements are built once, on demand.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal, final

import numpy as np
from pydantic import Field

from codex_credits.core.account import Plan
from codex_credits.core.compare import TierComparison, TierOption
from codex_credits.core.kernel.ledger import epoch_us
from codex_credits.core.kernel.rules import Int64Array
from codex_credits.core.model import Frozen
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.statement import (
    MICRO_FIELDS,
    STATEMENT_FIELDS,
    PeriodStatement,
    micro_decimals,
    period_costs,
    trusted_statement,
)
from codex_credits.core.timeutil import from_epoch_us
from codex_credits.core.units import ZERO, to_micro
from codex_credits.display import Displayed

__all__ = ["ROW_FIELDS", "AccountStatement", "LaneBlock", "SweepResult", "sweep_columns"]

ROW_FIELDS: tuple[str, ...] = ("account_id", "tier", "seats", "period", *STATEMENT_FIELDS)
"""The columns of :meth:`SweepResult.table`, in order."""


@final
class AccountStatement(Frozen):
    """One billing period of one account on one plan."""

    account_id: str
    tier: str
    seats: int
    period: int = Field(ge=0, description="0 for the first simulated period")
    statement: PeriodStatement

    def row(self) -> dict[str, Any]:
        """The statement as one row of the tidy table (:data:`ROW_FIELDS`)."""
        return {
            "account_id": self.account_id,
            "tier": self.tier,
            "seats": self.seats,
            "period": self.period,
            **self.statement.to_dict(),
        }


_OVERAGE = MICRO_FIELDS.index("overage_ccu")


@dataclass(frozen=True)
class LaneBlock:
    """Lanes that ran together: their plans, periods and counters (or finished statements)."""

    plans: tuple[Plan, ...]
    periods: tuple[BillingPeriod, ...]
    micro: Int64Array | None = None
    """``(lanes, periods, fields)`` counters of the lane kernel (None: all in ``done``)."""
    rate_limited_events: Int64Array | None = None
    done: Mapping[int, tuple[PeriodStatement, ...]] = field(default_factory=dict)
    """Lanes whose statements were made elsewhere (run alone)."""
    _costs: dict[tuple[int, int], tuple[Decimal, Decimal]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def counters(self, lane: int) -> tuple[Int64Array, Int64Array]:
        """``(periods, fields)`` micro-CCU counters and ``(periods,)`` rate-limited events."""
        found = self.done.get(lane)
        if found is None:
            assert self.micro is not None
            assert self.rate_limited_events is not None
            return self.micro[lane], self.rate_limited_events[lane]
        micro = [[to_micro(getattr(p, name)) for name in MICRO_FIELDS] for p in found]
        events = [p.rate_limited_events for p in found]
        shape = (len(found), len(MICRO_FIELDS))
        return np.array(micro, dtype=np.int64).reshape(shape), np.array(events, dtype=np.int64)

    def costs(self, lane: int) -> list[tuple[Decimal, Decimal]]:
        """``(overage_cost, subscription_cost)`` of each period (:func:`period_costs`)."""
        found = self.done.get(lane)
        if found is not None:
            return [(p.overage_cost, p.subscription_cost) for p in found]
        assert self.micro is not None
        plan = self.plans[lane]
        known = self._costs
        made = []
        for overage in self.micro[lane, :, _OVERAGE].tolist():
            key = (id(plan), overage)  # the plans live as long as the block
            cost = known.get(key)
            if cost is None:
                cost = known[key] = period_costs(plan, overage)
            made.append(cost)
        return made

    def statements(self, lane: int) -> tuple[PeriodStatement, ...]:
        """The period statements of one lane."""
        found = self.done.get(lane)
        if found is not None:
            return found
        micro, events = self.counters(lane)
        costs = self.costs(lane)
        return tuple(
            trusted_statement(p.start, p.end, counters, limited, cost)
            for p, counters, limited, cost in zip(
                self.periods, micro.tolist(), events.tolist(), costs, strict=True
            )
        )

    def totals(self, lane: int) -> PeriodStatement:
        """The sum of one lane's periods (:meth:`PeriodStatement.total`), from its counters."""
        found = self.done.get(lane)
        if found is not None:
            return PeriodStatement.total(found)
        micro, events = self.counters(lane)
        costs = self.costs(lane)
        return trusted_statement(
            self.periods[0].start,
            self.periods[-1].end,
            micro.sum(axis=0).tolist(),
            int(events.sum()),
            (sum((c[0] for c in costs), ZERO), sum((c[1] for c in costs), ZERO)),
        )


SweepKind = Literal["micro", "time_us", "decimal", "plain"]
"""What a column of :meth:`SweepResult.columns` holds (as in :mod:`codex_credits.tabular`)."""

LaneRef = tuple[str, LaneBlock, int]
"""``(account id, block, lane)``: one lane of a sweep, in output order."""

Ranking = Callable[[Mapping[str, list[tuple[Plan, PeriodStatement]]]], Any]
"""Ranks each account's ``(plan, totals)`` options."""


class SweepResult(Displayed):
    """Statements of every account (and option), and a recommended plan per account.

    Built by :func:`~codex_credits.core.sweep.simulate_many` and
    :func:`~codex_credits.core.sweep.compare_tiers_many`. The kernel's integer
    counters are kept; the recommendations are ranked from each lane's totals, the
    table (:meth:`columns`, :meth:`to_pandas`) is made column by column, and the
    Decimal statements only when :attr:`statements` is read.
    """

    def __init__(self, lanes: Sequence[LaneRef], rank: Ranking | None = None) -> None:
        self._lanes = tuple(lanes)
        self._rank = rank

    def _lane_statements(self) -> Iterator[tuple[str, Plan, tuple[PeriodStatement, ...]]]:
        for account, block, i in self._lanes:
            yield account, block.plans[i], block.statements(i)

    @cached_property
    def statements(self) -> tuple[AccountStatement, ...]:
        """One statement per account, option and billing period, in order."""
        return tuple(  # the sweep's own values: no need to validate them again
            AccountStatement.model_construct(
                account_id=account, tier=plan.tier, seats=plan.seats, period=k, statement=p
            )
            for account, plan, periods in self._lane_statements()
            for k, p in enumerate(periods)
        )

    @cached_property
    def comparisons(self) -> Mapping[str, TierComparison]:
        """Per account, every option ranked (:func:`compare_tiers_many` only)."""
        if self._rank is None:
            return {}
        grouped: dict[str, list[tuple[Plan, PeriodStatement]]] = {}
        for account, block, i in self._lanes:
            grouped.setdefault(account, []).append((block.plans[i], block.totals(i)))
        result: Mapping[str, TierComparison] = self._rank(grouped)
        return result

    @property
    def recommended(self) -> dict[str, TierOption | None]:
        """The recommended option of every compared account (None: none within tolerance)."""
        return {account: c.recommended for account, c in self.comparisons.items()}

    @cached_property
    def _columns(self) -> dict[str, tuple[SweepKind, Any]]:
        return sweep_columns(self._lanes)

    def columns(self) -> dict[str, tuple[SweepKind, Any]]:
        """The table by column (:data:`ROW_FIELDS`): ``name -> (kind, values)``.

        Kinds follow :mod:`codex_credits.tabular`: ``micro`` (int64 micro-CCU),
        ``time_us`` (int64 epoch microseconds, UTC), ``decimal`` (exact USD) and
        ``plain`` (labels and counts).
        """
        return dict(self._columns)

    def table(self) -> list[dict[str, Any]]:
        """One row per account, option and period (Decimals and datetimes as is)."""
        cols = self._columns
        values: list[list[Any]] = []
        for name in ROW_FIELDS:
            kind, column = cols[name]
            if kind == "micro":
                values.append(micro_decimals(column.tolist()))
            elif kind == "time_us":
                values.append([from_epoch_us(n) for n in column.tolist()])
            else:
                values.append(column.tolist() if isinstance(column, np.ndarray) else column)
        return [dict(zip(ROW_FIELDS, row, strict=True)) for row in zip(*values, strict=True)]

    def totals(
        self, account_id: str, tier: str | None = None, seats: int | None = None
    ) -> PeriodStatement:
        """The sum of one account's periods (on one option, when several were run).

        Raises:
            KeyError: no such account or option.
        """
        lanes = [
            (block, i)
            for account, block, i in self._lanes
            if account == account_id
            and (tier is None or block.plans[i].tier == tier)
            and (seats is None or block.plans[i].seats == seats)
        ]
        if not lanes:
            raise KeyError(f"no statements for account {account_id!r}")
        if len(lanes) == 1:
            return lanes[0][0].totals(lanes[0][1])
        return PeriodStatement.total(tuple(p for b, i in lanes for p in b.statements(i)))

    def to_pandas(self, *, exact: bool = False) -> Any:
        """The table as a pandas DataFrame (needs the ``pandas`` extra).

        Amounts are ``float64`` (``exact=True``: Decimal objects), times UTC, as
        :func:`codex_credits.to_dataframe`.
        """
        frames = importlib.import_module("codex_credits.frames")
        return frames.to_dataframe(self, exact=exact)


def sweep_columns(lanes: Sequence[LaneRef]) -> dict[str, tuple[SweepKind, Any]]:
    """The tidy table of ``lanes`` column by column, from their counters."""
    accounts: list[str] = []
    tiers: list[str] = []
    seats: list[int] = []
    micro: list[Int64Array] = []
    events: list[Int64Array] = []
    bounds: list[Int64Array] = []
    overage: list[Decimal] = []
    subscription: list[Decimal] = []
    spans: dict[int, Int64Array] = {}
    for account, block, i in lanes:
        plan, n = block.plans[i], len(block.periods)
        accounts += [account] * n
        tiers += [plan.tier] * n
        seats += [plan.seats] * n
        counters, limited = block.counters(i)
        micro.append(counters)
        events.append(limited)
        span = spans.get(id(block))
        if span is None:
            us = [[epoch_us(p.start), epoch_us(p.end)] for p in block.periods]
            span = spans[id(block)] = np.array(us, dtype=np.int64).reshape(n, 2)
        bounds.append(span)
        for cost in block.costs(i):
            overage.append(cost[0])
            subscription.append(cost[1])
    width = len(MICRO_FIELDS)
    every = np.concatenate(micro) if micro else np.zeros((0, width), dtype=np.int64)
    times = np.concatenate(bounds) if bounds else np.zeros((0, 2), dtype=np.int64)
    period = [np.arange(len(b), dtype=np.int64) for b in bounds]
    cols: dict[str, tuple[SweepKind, Any]] = {
        "account_id": ("plain", accounts),
        "tier": ("plain", tiers),
        "seats": ("plain", np.array(seats, dtype=np.int64)),
        "period": ("plain", np.concatenate(period) if period else np.zeros(0, np.int64)),
        "start": ("time_us", times[:, 0].copy()),
        "end": ("time_us", times[:, 1].copy()),
        **{name: ("micro", every[:, j].copy()) for j, name in enumerate(MICRO_FIELDS)},
        "rate_limited_events": (
            "plain",
            np.concatenate(events) if events else np.zeros(0, np.int64),
        ),
        "overage_cost": ("decimal", overage),
        "subscription_cost": ("decimal", subscription),
        "total_cost": ("decimal", [s + o for s, o in zip(subscription, overage, strict=True)]),
    }
    return {name: cols[name] for name in ROW_FIELDS}
