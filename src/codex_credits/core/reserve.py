"""The savings reserve: unused hourly throughput saved for bursts.

Theory of operation (docs/engine.md, "The savings reserve"):

* Every UTC hour is closed, including hours in which nothing was served.
  When the CCU served in the hour is below the threshold ``T`` (0.70 x H by
  default) the reserve grows by ``efficiency x (T - served)`` (0.60 by default),
  quantized to 0.000001, and is then capped at ``cap`` (``reserve_cap_hours``
  x H: 4 x H on pro, 2 x H on plus, nothing on free and go): :func:`close_hour`.
* A request that does not fit in what is left of the hour's allowance draws
  the missing part from the reserve: :func:`draw`. A draw larger than the level
  is refused as a value (:class:`~codex_credits.core.events.Refusal`).
* Optional anti-gaming rule, off by default: with ``window_hours`` W and
  ``window_cap`` K set, the accrual of the last W hours (this one included) may
  not exceed K. Accrual here is what the level actually gained.
* The reserve persists across billing periods.

>>> terms = ReserveTerms(threshold=Decimal("9.722222"), efficiency=Decimal("0.60"),
...                      cap=Decimal("55.555556"))
>>> close_hour(ReserveState(), Decimal(0), terms).level
Decimal('5.833333')
"""

from __future__ import annotations

from decimal import Decimal
from typing import final

from pydantic import Field, model_validator

from codex_credits.core.events import Reason, Refusal
from codex_credits.core.model import Frozen
from codex_credits.core.units import ZERO, Ccu, quantize_ccu

__all__ = ["ReserveState", "ReserveTerms", "accrual", "close_hour", "draw"]


@final
class ReserveTerms(Frozen):
    """The reserve's figures for one account, all in CCU except the efficiency."""

    threshold: Ccu = Field(ge=0, description="T: hours serving less than this accrue")
    efficiency: Ccu = Field(ge=0, le=1, description="share of (T - served) saved")
    cap: Ccu = Field(ge=0, description="most the reserve can hold")
    window_hours: int | None = Field(default=None, gt=0)
    window_cap: Ccu | None = Field(default=None, ge=0, description="most accrual per window")

    @model_validator(mode="after")
    def _window_complete(self) -> ReserveTerms:
        if (self.window_hours is None) != (self.window_cap is None):
            raise ValueError("window_hours and window_cap are set together or not at all")
        return self


@final
class ReserveState(Frozen):
    """The reserve level, and (window rule only) the accruals of the latest closed hours.

    ``recent`` holds the accruals of the last ``window_hours - 1`` closed hours,
    oldest first; it stays empty when the window rule is off.
    """

    level: Ccu = Field(default=ZERO, ge=0)
    recent: tuple[Ccu, ...] = ()


def accrual(state: ReserveState, served: Decimal, terms: ReserveTerms) -> Decimal:
    """What closing an hour that served ``served`` CCU adds to the reserve."""
    if served >= terms.threshold or state.level >= terms.cap:
        return ZERO
    growth = quantize_ccu(terms.efficiency * (terms.threshold - served))
    growth = min(growth, terms.cap - state.level)
    if terms.window_cap is not None:
        room = terms.window_cap - sum(state.recent, ZERO)
        growth = min(growth, max(room, ZERO))
    return growth


def close_hour(state: ReserveState, served: Decimal, terms: ReserveTerms) -> ReserveState:
    """Close one UTC hour in which ``served`` CCU were served (draws already taken).

    Args:
        state: the reserve after the hour's draws.
        served: every CCU served in the hour, including what was drawn.
        terms: threshold, efficiency, cap and the optional window rule.
    """
    gained = accrual(state, served, terms)
    recent: tuple[Decimal, ...] = ()
    if terms.window_hours is not None and terms.window_hours > 1:
        recent = (*state.recent, gained)[-(terms.window_hours - 1) :]
    return ReserveState(level=state.level + gained, recent=recent)


def draw(state: ReserveState, amount: Decimal) -> ReserveState | Refusal:
    """Take ``amount`` from the reserve, or refuse (RATE_LIMITED) when it holds less."""
    if amount < 0:
        raise ValueError(f"cannot draw a negative amount ({amount})")
    if amount > state.level:
        return Refusal(
            reason=Reason.RATE_LIMITED,
            amount=amount,
            detail=f"the reserve holds {state.level} CCU, {amount} needed",
        )
    return ReserveState(level=state.level - amount, recent=state.recent)
