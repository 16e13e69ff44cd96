"""Estimates from the seed's priors and from a team's history; routing."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.tasks.estimate import TaskRecord, estimate_task, task_records
from codex_credits.tasks.route import route
from codex_credits.tasks.spec import TaskSpec
from tests.tasks.conftest import BOUNDED

# Per task type: (mu, sigma) of log CCU and the mean tool calls. Costs are skewed.
TYPES = {"bugfix": (0.9, 0.7, 4), "refactor": (2.2, 0.9, 15), "docs": (-0.3, 0.5, 2)}


def _sample(kind: str, n: int, rng: random.Random) -> list[TaskRecord]:
    mu, sigma, calls = TYPES[kind]
    return [
        TaskRecord(
            task_type=kind,
            ccu=Decimal(str(round(rng.lognormvariate(mu, sigma), 6))),
            tool_calls=max(0, round(rng.gauss(calls, calls / 3))),
        )
        for _ in range(n)
    ]


def test_priors_are_the_seed_figures(bad: TaskSpec, bounded: TaskSpec) -> None:
    poor, well = estimate_task(bad), estimate_task(bounded)
    assert (poor.source, well.source) == ("prior", "prior")
    assert (poor.p50_ccu, poor.p90_ccu) == (Decimal("18.5"), Decimal(25))
    assert (poor.p50_tool_calls, poor.p90_tool_calls) == (Decimal(30), Decimal(40))
    assert (well.p50_ccu, well.p90_ccu) == (Decimal("2.25"), Decimal(3))
    assert (well.p50_tool_calls, well.p90_tool_calls) == (Decimal(3), Decimal(4))
    assert "seed" in well.basis


def test_a_partly_bounded_spec_sits_between_the_priors(bounded: TaskSpec) -> None:
    spec = TaskSpec.model_validate({**BOUNDED, "timeout": None, "max_iterations": None})
    est = estimate_task(spec)
    # 1.25 + 1.5 = 2.75 of the seed's 16.25 CCU at risk
    share = Decimal("2.75") / Decimal("16.25")
    assert est.p50_ccu == (Decimal("2.25") + share * Decimal("16.25")).quantize(Decimal("1e-6"))
    assert estimate_task(bounded).p50_ccu < est.p50_ccu < Decimal("18.5")


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_history_p50_is_near_the_mean_and_p90_covers_about_90_percent(kind: str) -> None:
    rng = random.Random(7)
    history = [r for k in TYPES for r in _sample(k, 300, rng)]  # fitted on this
    fresh = _sample(kind, 4000, random.Random(11))  # judged on this
    est = estimate_task(TaskSpec(instruction="x", task_type=kind), history)
    mu, sigma, _ = TYPES[kind]
    true_mean = Decimal(str(math.exp(mu + sigma**2 / 2)))
    assert est.source == "history" and est.samples == 300
    assert abs(est.p50_ccu - true_mean) / true_mean < Decimal("0.15")
    covered = sum(1 for r in fresh if r.ccu <= est.p90_ccu) / len(fresh)
    assert 0.85 <= covered <= 0.95
    assert est.median_ccu < est.p50_ccu  # skewed: the mean is above the median


def test_history_from_a_usage_log_groups_events_by_session() -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    events = []
    for task in range(6):
        for step in range(3):
            events.append(
                UsageEvent(
                    timestamp=t0 + timedelta(hours=task, minutes=step),
                    ccu=Decimal(task + 1),
                    tool_calls=2,
                    task_type="bugfix",
                    session_id=f"s{task}",
                )
            )
    records = task_records(UsageLog.from_events(events))
    assert sorted(r.ccu for r in records) == [Decimal(3 * k) for k in range(1, 7)]
    est = estimate_task(TaskSpec(instruction="x", task_type="bugfix"), UsageLog.from_events(events))
    assert est.p50_ccu == Decimal("10.5")  # (3 + 6 + ... + 18) / 6
    assert est.p50_tool_calls == Decimal(6)


def test_too_little_history_falls_back_to_the_priors_and_says_so(bounded: TaskSpec) -> None:
    history = [TaskRecord(task_type="bugfix", ccu=Decimal(9))] * 3
    est = estimate_task(TaskSpec.model_validate({**BOUNDED, "task_type": "bugfix"}), history)
    assert est.source == "prior" and "only 3 task(s)" in est.basis


def test_labelled_bounds_narrow_the_history() -> None:
    history = [TaskRecord(task_type="bugfix", ccu=Decimal(2), scoped=True)] * 5 + [
        TaskRecord(task_type="bugfix", ccu=Decimal(20), scoped=False)
    ] * 5
    scoped = estimate_task(TaskSpec.model_validate({**BOUNDED, "task_type": "bugfix"}), history)
    unscoped = estimate_task(TaskSpec(instruction="fix it", task_type="bugfix"), history)
    assert (scoped.p50_ccu, unscoped.p50_ccu) == (Decimal(2), Decimal(20))


def test_route_follows_the_seeds_four_criteria(bad: TaskSpec, bounded: TaskSpec) -> None:
    good = route(bounded)
    assert good.endpoint == "codex"
    assert good.criteria == ("code_execution", "multi_file_edits")
    assert good.model == "gpt-5.1-codex-max"
    wide = route(bad)
    assert "repository_exploration" in wide.criteria and wide.task_class == "exploration"
    tests = route(TaskSpec(instruction="Write tests for the parser", tools=["run_tests"]))
    assert "test_generation" in tests.criteria


def test_text_only_work_goes_to_a_cheaper_endpoint_with_its_saving() -> None:
    spec = TaskSpec(
        instruction="Explain what the validator does",
        file_scope=["src/auth/jwt_validator.py"],
        tools=["file_read"],
        done_when="an explanation",
        timeout=5,
        max_iterations=1,
    )
    r = route(spec)
    assert (r.endpoint, r.task_class, r.model) == ("cheaper_endpoint", "text", "gpt-5.1-codex-mini")
    # text profile: 10,000 uncached + 10,000 cached input, 2,000 output tokens
    gpt55 = (
        Decimal(10_000) * 125 / 10**6
        + Decimal(10_000) * Decimal("12.5") / 10**6
        + 2 * 750 / Decimal(1000)
    )
    mini = (
        Decimal(10_000) * Decimal("6.25") / 10**6
        + Decimal(10_000) * Decimal("0.625") / 10**6
        + 2 * 50 / Decimal(1000)
    )
    assert r.credits_saved == gpt55 - mini
    assert r.usd_saved_token_card == ((gpt55 - mini) / 25).quantize(Decimal("0.01"))
    # the CCU card: the agentic meters avoided (tool calls at 0.3 CCU), priced at pro's overage
    assert r.ccu_saved > 0
    assert r.usd_saved_ccu_card == (r.ccu_saved * Decimal("0.012")).quantize(Decimal("0.01"))


def test_history_may_be_events_or_codex_logs() -> None:
    from pathlib import Path

    from codex_credits.io.rollout import read_codex_logs

    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    events = [UsageEvent(timestamp=t0 + timedelta(hours=i), ccu=Decimal(i + 1)) for i in range(5)]
    assert estimate_task(TaskSpec(instruction="x"), events).p50_ccu == Decimal(3)
    logs = read_codex_logs([Path(__file__).parents[1] / "data" / "codex-rollout"])
    sessions = len(set(logs.log.dimension_values("session_id")))
    est = estimate_task(TaskSpec(instruction="x"), logs, min_samples=1)
    # one session is one task, its requests priced on the CCU card
    assert est.source == "history" and est.samples == sessions
    assert (
        estimate_task(TaskSpec(instruction="x"), logs, min_samples=sessions + 1).source == "prior"
    )


def test_p90_covers_nine_new_tasks_in_ten_even_from_ten_tasks() -> None:
    rng = random.Random(3)
    mu, sigma = 1.0, 0.8
    coverage = []
    for _ in range(400):
        history = [
            TaskRecord(task_type="t", ccu=Decimal(str(round(rng.lognormvariate(mu, sigma), 6))))
            for _ in range(10)
        ]
        p90 = estimate_task(TaskSpec(instruction="x", task_type="t"), history).p90_ccu
        z = (math.log(float(p90)) - mu) / (sigma * math.sqrt(2))
        coverage.append(0.5 * (1 + math.erf(z)))  # the true share of tasks under P90
    assert 0.87 <= sum(coverage) / len(coverage) <= 0.93
