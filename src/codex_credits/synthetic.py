"""Synthetic team usage: seeded, reproducible demand for demos, tests and benchmarks.

:func:`team_usage` draws tasks for a team over a span of days with a weekday
rhythm (quiet weekends), working hours, optional two-week sprints with
review-day peaks, growth, and holidays. Every task has meter quantities
(reasoning tokens, tool calls, sandbox minutes, output tokens) and labels
(user, project, task type, feature), so it can be priced on any CCU card.
The same arguments and seed always give the same log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import numpy as np

from codex_credits.core.timeutil import require_utc
from codex_credits.core.usage import UsageLog
from codex_credits.core.usagebuilder import UsageLogBuilder

__all__ = ["team_usage"]

_PROJECTS = ("api", "web", "infra", "mobile")
_TASK_TYPES = ("review", "bugfix", "feature", "tests", "docs")
_CLASSES = ("small", "medium", "medium", "large")


def team_usage(
    start: datetime,
    days: int,
    *,
    engineers: int = 6,
    tasks_per_engineer_day: float = 6.0,
    seed: int = 0,
    projects: Sequence[str] = _PROJECTS,
    sprint_days: int | None = 14,
    review_days: Sequence[int] = (3, 4, 12, 13),
    review_boost: float = 1.8,
    weekend_factor: float = 0.1,
    growth_per_day: float = 0.0,
    holidays: Sequence[date] = (),
    size_scale: float = 1.0,
) -> UsageLog:
    """Generate ``days`` days of tasks starting at ``start`` (aware; usually midnight UTC).

    Args:
        engineers: people dispatching tasks (user_id ``u1`` ... ``uN``).
        tasks_per_engineer_day: mean tasks per engineer on an ordinary weekday.
        seed: the random seed; equal arguments give equal logs.
        sprint_days / review_days / review_boost: a sprint rhythm; days of the sprint
            (0-based) on which review pushes demand up by ``review_boost``.
        weekend_factor: demand on Saturday and Sunday relative to a weekday.
        growth_per_day: relative growth of demand per day (0.01 = 1% a day).
        holidays: dates with weekend-level demand.
        size_scale: multiplies every task's size.
    """
    start = require_utc(start, "start")
    rng = np.random.default_rng(seed)
    builder = UsageLogBuilder()
    holiday_set = set(holidays)
    start_us = int(start.timestamp()) * 1_000_000
    serial = 0
    for day in range(days):
        day_start_us = start_us + day * 86_400_000_000
        current = datetime.fromtimestamp(day_start_us / 1e6, tz=start.tzinfo).date()
        level = 1.0 + growth_per_day * day
        if current.weekday() >= 5 or current in holiday_set:
            level *= weekend_factor
        if sprint_days and (day % sprint_days) in review_days:
            level *= review_boost
        n = int(rng.poisson(engineers * tasks_per_engineer_day * level))
        if n == 0:
            continue
        # Working hours: centred on 14:00 UTC, spread over the day.
        seconds = np.clip(rng.normal(14 * 3600, 3.2 * 3600, n), 0, 86_399).astype(np.int64)
        seconds.sort()
        kinds = rng.integers(0, len(_TASK_TYPES), n)
        users = rng.integers(1, engineers + 1, n)
        proj = rng.choice(len(projects), n, p=_weights(len(projects)))
        size = rng.lognormal(0.0, 0.6, n) * size_scale
        reasoning = (rng.gamma(2.0, 1500.0, n) * size).astype(np.int64)
        tools = rng.poisson(6 * size).astype(np.int64)
        minutes = np.round(rng.gamma(1.5, 1.6, n) * size, 1)
        output = (rng.gamma(2.0, 600.0, n) * size).astype(np.int64)
        classes = rng.integers(0, len(_CLASSES), n)
        for i in range(n):
            serial += 1
            kind = _TASK_TYPES[int(kinds[i])]
            project = projects[int(proj[i])]
            builder.summary_rows += 1
            builder.add(
                day_start_us + int(seconds[i]) * 1_000_000,
                reasoning_tokens=int(reasoning[i]),
                tool_calls=int(tools[i]),
                sandbox_micro_minutes=round(float(minutes[i]) * 10) * 100_000,
                sandbox_class=_CLASSES[int(classes[i])],
                output_tokens=int(output[i]),
                event_id=f"t{serial:07d}",
                user_id=f"u{int(users[i])}",
                project_id=project,
                task_type=kind,
                feature=f"{project}-{1 + (day // 7) % 4}",
            )
    return builder.build()


def _weights(n: int) -> list[float]:
    raw = [1.0 / (i + 1) for i in range(n)]
    total = sum(raw)
    return [w / total for w in raw]
