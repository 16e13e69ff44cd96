"""The hourly rules of one lane as integers: the figures, the reserve, the hour's room.

Theory of operation (docs/engine.md, "The kernel"): a lane is one independent run
of the account's rules (an account, a tier or seat candidate, a Monte Carlo path).
Its figures are the plan's, in integer micro-CCU (:class:`LaneRules`). The reserve
closes every hour: an hour that served ``s < T`` adds ``efficiency x (T - s)``,
rounded half-even to the micro-CCU (:func:`accrual`), capped at ``C``; an hour that
served more than ``L`` drew ``s - L``. So the level after an hour is
``min(C, level + accrual(s) - max(s - L, 0))``, and a stretch of hours whose service
is known has closed-form levels (:func:`levels_after`, a clamped cumulative sum).
The optional trailing-window rule (``reserve_window_hours``) is closed hour by hour
(:func:`close_hour`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from codex_credits.core.account import Plan
from codex_credits.core.events import Mode, Policy
from codex_credits.core.halfeven import div_half_even
from codex_credits.core.units import to_micro

__all__ = [
    "Int64Array",
    "LaneRules",
    "accrual",
    "close_hour",
    "close_reserve",
    "levels_after",
]

Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LaneRules:
    """One lane's figures in micro-CCU, its mode and its policy.

    Attributes:
        pool: the grant of every period.
        limit: ``L``, what an hour serves before the reserve.
        threshold: ``T``; an hour serving less adds to the reserve.
        reserve_cap: ``C``, the reserve's ceiling.
        efficiency: the reserve efficiency as an exact fraction ``(num, den)``.
        overage: True when spending past the credits is billed, not blocked.
        fluid: fluid mode (the part that fits is served) rather than request mode.
        defer: rate-limited work waits for the next hour (False: dropped).
        window_hours: the reserve's trailing window (None: off).
        window_cap: the most the reserve may gain over that window.
    """

    pool: int
    limit: int
    threshold: int
    reserve_cap: int
    efficiency: tuple[int, int]
    overage: bool
    fluid: bool = False
    defer: bool = True
    window_hours: int | None = None
    window_cap: int | None = None

    @classmethod
    def from_plan(cls, plan: Plan, mode: Mode, policy: Policy) -> LaneRules:
        """The figures of ``plan`` in the given mode and policy."""
        limits = plan.limits
        num, den = limits.efficiency.as_integer_ratio()
        return cls(
            pool=to_micro(plan.pool),
            limit=to_micro(limits.limit),
            threshold=to_micro(limits.threshold),
            reserve_cap=to_micro(limits.reserve_cap),
            efficiency=(int(num), int(den)),
            overage=plan.has_overage,
            fluid=mode is Mode.FLUID,
            defer=policy is Policy.DEFER,
            window_hours=limits.window_hours,
            window_cap=None if limits.window_cap is None else to_micro(limits.window_cap),
        )

    @property
    def most(self) -> int:
        """The most any hour can serve: ``L`` plus a full reserve."""
        return self.limit + self.reserve_cap


Efficiency = tuple[int, int] | tuple[Int64Array, Int64Array]
"""An exact fraction ``(num, den)``: one for every lane, or one per lane."""


def accrual(threshold: int | Int64Array, efficiency: Efficiency, served: Int64Array) -> Int64Array:
    """What closing an hour that served ``served`` adds to the reserve, before the cap.

    ``efficiency x (T - served)`` for hours below the threshold ``T``, rounded half-even
    to the micro-CCU; vectorised over hours (a stretch) or over lanes (paths); the
    threshold and the efficiency may be one per lane.
    """
    short: Int64Array = np.maximum(threshold - served, 0)
    num, den = efficiency
    if isinstance(den, int) and den % 2:  # an odd denominator has no ties: half up is half-even
        odd: Int64Array = (short * (2 * num) + den) // (2 * den)
        return odd
    scaled: Int64Array = short * num
    return div_half_even(scaled, den)


def close_reserve(
    level: Int64Array,
    served: Int64Array,
    limit: int | Int64Array,
    threshold: int | Int64Array,
    cap: int | Int64Array,
    efficiency: Efficiency,
) -> tuple[Int64Array, Int64Array]:
    """``(level, drawn)`` after closing an hour that served ``served``, over lanes.

    The hour drew ``max(served - L, 0)`` from the reserve and adds
    :func:`accrual`; the level is capped at ``C`` (no window rule). An hour never
    serves past ``L + level``, so the level stays at least zero.
    """
    drawn = np.maximum(served - limit, 0)
    after: Int64Array = np.minimum(accrual(threshold, efficiency, served) - drawn + level, cap)
    return after, drawn


def levels_after(rules: LaneRules, level: int, served: Int64Array) -> Int64Array:
    """The reserve after each hour of a stretch that served ``served`` (no window rule).

    ``x[h] = min(C, x[h-1] + g[h])`` with ``g = accrual - draw`` unrolls to
    ``x[h] = P[h] + min(x0, C - max(P[1..h]))``, ``P`` the cumulative sum of ``g``.
    The caller checks that each hour's service fitted (``s[h] <= L + x[h-1]``).
    """
    gain = accrual(rules.threshold, rules.efficiency, served) - np.maximum(served - rules.limit, 0)
    total = np.cumsum(gain)
    result: Int64Array = total + np.minimum(level, rules.reserve_cap - np.maximum.accumulate(total))
    return result


def close_hour(rules: LaneRules, level: int, recent: deque[int], served: int) -> int:
    """The reserve after closing one hour (draws already taken), the window rule included.

    ``recent`` (the accruals of the last ``window_hours - 1`` hours) is updated in place.
    """
    growth = 0
    cap = rules.reserve_cap
    if served < rules.threshold and level < cap:
        num, den = rules.efficiency
        q, r = divmod((rules.threshold - served) * num, den)
        if 2 * r > den or (2 * r == den and q % 2 == 1):
            q += 1
        growth = min(q, cap - level)
        if rules.window_cap is not None:
            growth = min(growth, max(rules.window_cap - sum(recent), 0))
    if rules.window_hours is not None:
        if rules.window_hours > 1:
            recent.append(growth)
            while len(recent) > rules.window_hours - 1:
                recent.popleft()
        else:
            recent.clear()
    return level + growth
