"""What every rule of a check looks at: the policy, the card, the usage and the period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from codex_credits.check.policy import Policy
from codex_credits.core.periods import BillingPeriod
from codex_credits.core.ratecard import RateCard
from codex_credits.core.usage import UsageLog

__all__ = ["CheckContext", "percent"]


@dataclass(frozen=True)
class CheckContext:
    """What every rule needs: the policy, the card, the usage and the period."""

    policy: Policy
    card: RateCard
    log: UsageLog
    at: datetime
    period: BillingPeriod
    amounts: npt.NDArray[np.int64]  # micro-units of every event in ``log``
    in_period: npt.NDArray[np.bool_]  # events in [period.start, at)

    def spend_micro(self, dimension: str, value: str) -> int:
        """Micro-units spent this period by events whose ``dimension`` is ``value``."""
        labels = self.log.labels(dimension)
        try:
            code = labels.index(value)
        except ValueError:
            return 0
        mask = self.in_period & (self.log.column(dimension) == code)
        return int(self.amounts[mask].sum())


def percent(fraction: Decimal) -> str:
    """``0.8`` as ``80.0%``."""
    return f"{(fraction * 100).quantize(Decimal('0.1'))}%"
