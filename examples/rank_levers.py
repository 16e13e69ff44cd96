"""Rank the credit-saving levers for a team, on its own usage (notebook style).

Run it as a script or paste the cells into a notebook. It uses the bundled sample month;
point ``USAGE`` at your own file. Each lever is replayed alone through the same rules, then
the best ones together, and the ROI case closes the tour.

    PYTHONPATH=src python3 examples/rank_levers.py
"""

from __future__ import annotations

from datetime import timedelta

from codex_credits import read_usage, roi, roi_for_plan
from codex_credits.data import sample_usage_path
from codex_credits.whatif import (
    Batch,
    CacheContext,
    RouteModels,
    ShiftOffPeak,
    estimate_shared_share,
    example_card,
    rank_levers,
    what_if,
)

# %% 1. The usage, the plan and the card.
USAGE = sample_usage_path()
log = read_usage(USAGE)
anchor = log.start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
card = example_card()  # default CCU card + a 2-7 AM US Eastern window + model tiers
plan = {"seats": 1, "card": card, "start": anchor}
print(f"{len(log)} tasks from {log.start.date()} to {log.end.date()} on {card.name}")

# %% 2. What can the log tell us? A shared-context share needs cached vs uncached input.
share = estimate_shared_share(log)
print(f"shared context share from the log: {share or 'not measurable (the prior 0.30 applies)'}")

# %% 3. Each lever alone, ranked by the money it saves.
tolerant = {"task_type": ("tests", "docs", "review")}
levers = {
    "batch (2 h)": Batch(max_wait=timedelta(hours=2), where=tolerant),
    "cache 60%": CacheContext(hit_rate="0.6"),
    "off-peak (24 h)": ShiftOffPeak(max_delay=timedelta(hours=24), where=tolerant),
    "route docs+review": RouteModels({"docs": "codex-mini", "review": "codex-mini"}),
}
ranking = rank_levers(log, "pro", levers, **plan)
print(f"\n{'rank':>4}  {'lever':<18} {'saved CCU':>13} {'share':>7} {'saved USD':>9}")
for r in ranking:
    print(f"{r.rank:>4}  {r.lever:<18} {r.saved:>13} {r.saved_share:>7.2%} {r.saved_usd:>9}")

# %% 4. The two best levers together (order matters: each acts on the previous result).
best = [levers[r.lever] for r in ranking[:2]]
together = what_if(log, "pro", best, **plan)
print(
    f"\ntop two together: {together.before.totals.total_cost} -> "
    f"{together.after.totals.total_cost} USD"
)
for row in together.by_project:
    print(f"  {row.key:<8} {row.before:>14} -> {row.after:>14} CCU")

# %% 5. The ROI case: break-even per 1,000 CCU (0.235 h for one pro seat, not 2.35).
print(
    f"\nbreak-even, one pro seat: {roi_for_plan('pro').break_even_hours_per_1000_ccu} h/1,000 CCU"
)
case = roi(together.after, log=together.log_after, card=card, hours_saved_per_1000_ccu=10)
print(
    f"after the levers: {case.cost_usd} USD for {case.ccu} CCU, break-even "
    f"{case.break_even_hours_per_1000_ccu} h/1,000 CCU, payback {case.payback_weeks} weeks"
)
