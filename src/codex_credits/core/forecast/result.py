"""What a forecast reports: frozen values with exact amounts and plain probabilities.

Amounts (CCU) are Decimals quantized to 0.000001; money is rounded to cents;
probabilities are floats in ``[0, 1]`` (docs/forecasts.md, "Reading a forecast").
"""

from __future__ import annotations

from enum import StrEnum
from typing import final

from pydantic import Field

from codex_credits.core.forecast.projection import LinearProjection, RolloverForecast
from codex_credits.core.model import Frozen
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.timeutil import UtcDatetime
from codex_credits.core.units import Ccu, Usd
from codex_credits.display import Displayed

__all__ = ["Exhaustion", "ForecastMethod", "ForecastQuality", "PeriodForecast", "RolloverOutlook"]


class ForecastMethod(StrEnum):
    """How the rest of the period is forecast (``auto`` chooses on the account's own past)."""

    AUTO = "auto"
    LINEAR = "linear"
    SEASONAL = "seasonal"
    MONTECARLO = "montecarlo"


@final
class Exhaustion(Frozen):
    """When the credits (rollover plus grant) run out, if they do within the period.

    ``p10``/``p50``/``p90`` are the times by which 10%, 50% and 90% of outcomes have
    run out (the start of the hour in which the balance reached zero); None when
    fewer outcomes than that run out before the period ends.
    """

    credits_at_cut: Ccu
    already_exhausted: bool
    probability_before_end: float = Field(ge=0, le=1)
    p10: UtcDatetime | None = None
    p50: UtcDatetime | None = None
    p90: UtcDatetime | None = None


@final
class RolloverOutlook(Frozen):
    """The rollover forecast: the seed's formula on the P50, and the rules' own figures.

    ``formula`` applies ``min(current + max(0, allocation - projected), cap)`` to the
    method's P50. ``p10``/``p50``/``p90`` are the rollover balance after the period
    end as the rules settle it (blocks expire, the grant's leftover rolls over up
    to the cap), where the method runs the rules.
    """

    formula: RolloverForecast
    p10: Ccu | None = None
    p50: Ccu | None = None
    p90: Ccu | None = None


@final
class ForecastQuality(Frozen):
    """How far to trust a forecast: its record on the account's own past periods.

    Attributes:
        rule: the point rule the backtest chose (docs/forecasts.md, "Point forecasts");
            for ``auto``, the rule standing for this period's pace.
        periods: complete past periods read.
        samples: past cuts read at a similar number of days left.
        mape: the P50's mean absolute percentage error on those cuts (percent;
            None without history; for ``auto`` each past period forecast with
            the weights chosen on the periods before it).
        bias: its mean signed percentage error (positive: too high).
        coverage: share of past outcomes inside the P10-P90 interval, each past
            period checked against the interval the other periods give (None
            when too few).
        calibrated: False when history was too short and the prior set the interval.
        run_rate_share / seasonal_share: ``auto`` only: the weights of the
            28-day run rate and of the seasonal model in the P50 (the rest is
            the pace rule's), chosen on the account's own past.
    """

    rule: str
    periods: int
    samples: int
    mape: float | None
    bias: float | None
    coverage: float | None = Field(default=None, ge=0, le=1)
    calibrated: bool
    run_rate_share: float | None = None
    seasonal_share: float | None = None


@final
class PeriodForecast(Displayed, Frozen):
    """Where the billing period containing ``at`` will land.

    Attributes:
        method: how the rest of the period was forecast.
        at: the cut (whole hour); usage before it is known.
        period: the billing period.
        consumed: CCU served in the period before ``at``.
        credits_at_period_start: rollover plus the period's grant.
        p10, p50, p90: period-end consumption (CCU).
        linear_projection: the seed's linear projection, for comparison.
        probability_overage: chance that consumption exceeds the credits.
        expected_overage_ccu / expected_overage_cost: means over outcomes; the cost
            of each outcome is rounded to cents before averaging.
        probability_rate_limited: chance that any work is rate limited before the
            period ends (None when the method does not run the rules).
        exhaustion: when the credits run out.
        rollover: the rollover forecast.
        paths / seed: the Monte Carlo sample (None for the other methods).
        quality: the interval's calibration on the account's own past (None for
            ``linear``).
        warnings: what the model could not learn (e.g. ``short_history``).
    """

    method: ForecastMethod
    at: UtcDatetime
    period: BillingPeriod
    consumed: Ccu
    credits_at_period_start: Ccu
    p10: Ccu
    p50: Ccu
    p90: Ccu
    linear_projection: LinearProjection | None
    probability_overage: float = Field(ge=0, le=1)
    expected_overage_ccu: Ccu
    expected_overage_cost: Usd | None
    probability_rate_limited: float | None = Field(default=None, ge=0, le=1)
    exhaustion: Exhaustion
    rollover: RolloverOutlook
    paths: int | None = None
    seed: int | None = None
    quality: ForecastQuality | None = None
    warnings: tuple[str, ...] = ()
