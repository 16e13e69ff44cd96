"""What-ifs that save credits: replay usage with levers applied, and the ROI case.

See docs/what-if.md and docs/levers/. Every lever is a small frozen value
object applied to a usage log by a pure function; :func:`what_if` replays the
log before and after through the engine and compares the statements.
"""

from __future__ import annotations

from codex_credits.whatif.base import Applied, Change, Saving, Scope, Where
from codex_credits.whatif.batch import SHARED_SHARE_PRIOR, Batch, estimate_shared_share
from codex_credits.whatif.changes import CacheContext, RouteModels, ShiftOffPeak
from codex_credits.whatif.rank import (
    NIGHT_WINDOW,
    LeverRank,
    example_card,
    example_levers,
    rank_levers,
)
from codex_credits.whatif.roi import FeatureCost, RoiCase, roi, roi_for_plan
from codex_credits.whatif.run import Difference, PeriodDifference, WhatIf, what_if
from codex_credits.whatif.stacking import ThrottlePlan, find_throttle
from codex_credits.whatif.throttle import ThrottleBefore

__all__ = [
    "NIGHT_WINDOW",
    "SHARED_SHARE_PRIOR",
    "Applied",
    "Batch",
    "CacheContext",
    "Change",
    "Difference",
    "FeatureCost",
    "LeverRank",
    "PeriodDifference",
    "RoiCase",
    "RouteModels",
    "Saving",
    "Scope",
    "ShiftOffPeak",
    "ThrottleBefore",
    "ThrottlePlan",
    "WhatIf",
    "Where",
    "estimate_shared_share",
    "example_card",
    "example_levers",
    "find_throttle",
    "rank_levers",
    "roi",
    "roi_for_plan",
    "what_if",
]
