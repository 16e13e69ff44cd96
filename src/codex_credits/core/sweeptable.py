"""The result of an organisation sweep: one tidy table of statements, and plans per account.

Theory of operation (docs/engine.md, "Organisation sweeps"): the lane kernel
(:mod:`codex_credits.core.kernel.lanes`) leaves integer counters per lane and
period; the statements (and, for a comparison, every account's ranked options)
are made from them when first asked for, so a sweep of thousands of lanes costs
the kernel's time, and the Decimal statements are built once, on demand.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, final

from pydantic import Field

from codex_credits.core.account import Plan
from codex_credits.core.compare import TierComparison, TierOption
from codex_credits.core.kernel.rules import Int64Array
from codex_credits.core.model import Frozen
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.statement import (
    MICRO_FIELDS,
    STATEMENT_FIELDS,
    PeriodStatement,
    PeriodTally,
)

__all__ = ["ROW_FIELDS", "AccountStatement", "LaneBlock", "SweepResult"]

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

    def statements(self, lane: int) -> tuple[PeriodStatement, ...]:
        """The period statements of one lane."""
        found = self.done.get(lane)
        if found is not None:
            return found
        assert self.micro is not None
        assert self.rate_limited_events is not None
        plan = self.plans[lane]
        counters = self.micro[lane].tolist()
        events = self.rate_limited_events[lane].tolist()
        return tuple(
            PeriodTally(
                start=p.start,
                end=p.end,
                micro=dict(zip(MICRO_FIELDS, counters[k], strict=True)),
                rate_limited_events=events[k],
            ).statement(plan)
            for k, p in enumerate(self.periods)
        )


LaneRef = tuple[str, LaneBlock, int]
"""``(account id, block, lane)``: one lane of a sweep, in output order."""


class SweepResult:
    """Statements of every account (and option), and a recommended plan per account.

    Built by :func:`~codex_credits.core.sweep.simulate_many` and
    :func:`~codex_credits.core.sweep.compare_tiers_many`; the statements and
    comparisons are made from the kernel's counters when first read.
    """

    def __init__(
        self,
        lanes: Sequence[LaneRef],
        rank: Callable[[Mapping[str, list[tuple[Plan, tuple[PeriodStatement, ...]]]]], Any]
        | None = None,
    ) -> None:
        self._lanes = tuple(lanes)
        self._rank = rank

    @cached_property
    def _by_lane(self) -> tuple[tuple[str, Plan, tuple[PeriodStatement, ...]], ...]:
        return tuple(
            (account, block.plans[i], block.statements(i)) for account, block, i in self._lanes
        )

    @cached_property
    def statements(self) -> tuple[AccountStatement, ...]:
        """One statement per account, option and billing period, in order."""
        return tuple(
            AccountStatement(
                account_id=account, tier=plan.tier, seats=plan.seats, period=k, statement=p
            )
            for account, plan, periods in self._by_lane
            for k, p in enumerate(periods)
        )

    @cached_property
    def comparisons(self) -> Mapping[str, TierComparison]:
        """Per account, every option ranked (:func:`compare_tiers_many` only)."""
        if self._rank is None:
            return {}
        grouped: dict[str, list[tuple[Plan, tuple[PeriodStatement, ...]]]] = {}
        for account, plan, periods in self._by_lane:
            grouped.setdefault(account, []).append((plan, periods))
        result: Mapping[str, TierComparison] = self._rank(grouped)
        return result

    @property
    def recommended(self) -> dict[str, TierOption | None]:
        """The recommended option of every compared account (None: none within tolerance)."""
        return {account: c.recommended for account, c in self.comparisons.items()}

    def table(self) -> list[dict[str, Any]]:
        """One row per account, option and period (Decimals and datetimes as is)."""
        return [s.row() for s in self.statements]

    def totals(
        self, account_id: str, tier: str | None = None, seats: int | None = None
    ) -> PeriodStatement:
        """The sum of one account's periods (on one option, when several were run).

        Raises:
            KeyError: no such account or option.
        """
        periods = tuple(
            p
            for account, plan, lane in self._by_lane
            if account == account_id
            and (tier is None or plan.tier == tier)
            and (seats is None or plan.seats == seats)
            for p in lane
        )
        if not periods:
            raise KeyError(f"no statements for account {account_id!r}")
        return PeriodStatement.total(periods)

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame (needs the ``pandas`` extra)."""
        pandas = importlib.import_module("pandas")
        return pandas.DataFrame(self.table(), columns=list(ROW_FIELDS))
