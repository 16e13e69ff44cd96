"""Finding the throttle that stacks rollover for a known heavy month.

Theory of operation (docs/levers/rollover.md): the heavy period's total cost
under :class:`~codex_credits.whatif.throttle.ThrottleBefore` can only fall as
the cap falls (less is spent before, more rolls over, up to the tier's cap),
and it is lowest with a cap of 0. :func:`find_throttle` bisects, in whole
multiples of ``step`` CCU, for the largest cap that already reaches that
lowest cost: the least throttling that buys the whole saving.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, final

from codex_credits.core.account import Account, AccountState
from codex_credits.core.model import Frozen
from codex_credits.core.periods import period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.units import Ccu, Usd, amount, from_micro
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.errors import ConfigError
from codex_credits.whatif.base import Where
from codex_credits.whatif.run import WhatIf, what_if
from codex_credits.whatif.throttle import ThrottleBefore, month_instant

__all__ = ["ThrottlePlan", "find_throttle"]


@final
class ThrottlePlan(Frozen):
    """The least throttle that minimises the heavy period's cost."""

    cap: Ccu
    months_before: int
    heavy_start: datetime
    heavy_cost_before: Usd
    heavy_cost_after: Usd
    total_cost_before: Usd
    total_cost_after: Usd
    displaced: Ccu
    displaced_events: int
    evaluations: int


def find_throttle(
    usage: UsageLog | Iterable[UsageEvent],
    account: Account | AccountState | str = "pro",
    month: datetime | date | str = "",
    *,
    months_before: int = 2,
    step: Decimal | int | str = 1,
    start: datetime | None = None,
    months: int | None = None,
    where: Where = None,
    card: RateCard | str | None = None,
    **options: Any,
) -> ThrottlePlan:
    """The largest per-period cap before ``month`` that gives its lowest cost.

    ``months`` defaults to every period up to and including the heavy one.

    Raises:
        ConfigError: the heavy month is not after the anchor, or bad options.
    """
    log = usage if isinstance(usage, UsageLog) else UsageLog.from_events(usage)
    unit = amount(step)
    if unit <= 0:
        raise ConfigError(f"step must be > 0, got {unit}")
    probe = what_if(log, account, (), start=start, card=card, months=1, **options)
    anchor = probe.before.plan.anchor
    heavy = period_containing(anchor, month_instant(month))
    if heavy.index < 1:
        raise ConfigError("the heavy month must come after the first billing period")
    span = months if months is not None else heavy.index + 1
    if span <= heavy.index:
        raise ConfigError(f"months={span} does not reach the heavy period {heavy.start.date()}")

    runs: dict[int, WhatIf] = {}

    def run(steps: int) -> WhatIf:
        if steps not in runs:
            change = ThrottleBefore(month, unit * steps, months_before, where)
            runs[steps] = what_if(
                log, account, [change], start=start, card=card, months=span, **options
            )
        return runs[steps]

    def heavy_cost(result: WhatIf) -> Decimal:
        return result.after.periods[heavy.index].total_cost

    baseline = run(0).before
    demand = from_micro(int(baseline.outcomes.requested.sum()))
    upper = int(demand / unit) + 1  # a cap above all demand throttles nothing
    best = heavy_cost(run(0))
    if heavy_cost(run(upper)) == best:
        lo = upper
    else:
        lo, hi = 0, upper  # cost(lo) == best, cost(hi) > best
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if heavy_cost(run(mid)) == best:
                lo = mid
            else:
                hi = mid
    chosen = run(lo)
    saving = chosen.savings[0]
    return ThrottlePlan(
        cap=unit * lo,
        months_before=months_before,
        heavy_start=heavy.start,
        heavy_cost_before=baseline.periods[heavy.index].total_cost,
        heavy_cost_after=heavy_cost(chosen),
        total_cost_before=baseline.totals.total_cost,
        total_cost_after=chosen.after.totals.total_cost,
        displaced=saving.displaced,
        displaced_events=saving.displaced_events,
        evaluations=len(runs),
    )
