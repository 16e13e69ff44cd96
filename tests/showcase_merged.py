"""One of every task, what-if, governance, sweep, summary and forecast-quality result.

Built once through the public functions on the bundled sample (and the test
organisation), like :mod:`tests.showcase`; ``large_results`` builds the big ones
(10,000 planned tasks, a 1,000-account sweep, a million audit entries).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import SecretStr

import codex_credits as cc
from codex_credits import governance as gov
from codex_credits.check import load_policy
from codex_credits.data import sample_usage_path
from codex_credits.synthetic import team_usage
from codex_credits.whatif.rank import example_card, rank_levers

ROOT = Path(__file__).resolve().parents[1]
ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
CUT = datetime(2026, 6, 15, tzinfo=UTC)
ORG_POLICY = ROOT / "tests" / "data" / "governance" / "codex-credits.toml"
ALICE = "cck_test_alice_ssssssssssssssssssss1"
ROLLOUT = ROOT / "tests" / "data" / "codex-rollout" / "rtchess-cli-0.60.1-tools.jsonl"

WELL = cc.TaskSpec(
    name="jwt-well-scoped",
    instruction="Fix the JWT validation failure in src/auth/jwt_validator.py",
    file_scope=["src/auth/jwt_validator.py", "tests/unit/test_jwt_validator.py"],
    tools=["file_read", "file_write", "run_tests"],
    test_filter="tests/unit/test_jwt_validator.py::TestJWTValidator",
    done_when="tests/unit/test_jwt_validator.py::TestJWTValidator passes",
    timeout="15m",
    max_iterations=4,
    project="api",
)
POOR = cc.TaskSpec(
    name="jwt-poorly-scoped",
    instruction="Fix the authentication bug in the user service",
    repository="full_repo_access",
    tools=["all_tools"],
    tests="full_test_suite",
    project="api",
)


def _request(**fields: Any) -> gov.AccessRequest:
    return gov.AccessRequest(
        secret=SecretStr(ALICE),
        repositories=("acme/web",),
        tools=("tests",),
        model="gpt-5.4",
        done_when="tests pass",
        estimate_ccu=Decimal(3),
        **fields,
    )


def _audit(path: Path, org: gov.Organisation, count: int) -> None:
    """An audit log of ``count`` decisions (and a task for every allowed one)."""
    at = datetime(2026, 1, 12, 10, tzinfo=UTC)
    request = _request()
    decision = gov.authorize(request, org, at)
    entry = gov.decision_entry(request, decision)
    with gov.AuditLog(path, key=b"k", checkpoint_every=1000) as audit:
        audit.extend([entry] * count)


@cache
def merged_results(tmp: Path) -> dict[str, Any]:
    """Name -> one result of each type the task, what-if and governance functions return."""
    log = cc.read_usage(sample_usage_path())
    card = cc.RateCard.default()
    state = cc.account_state_at(log, "pro", ANCHOR, CUT, seats=2)
    org = load_policy(ORG_POLICY).organisation
    assert org is not None
    at = datetime(2026, 1, 12, 10, tzinfo=UTC)
    audit_path = tmp / "audit.jsonl"
    _audit(audit_path, org, 50)
    entries = [e for _, e in gov.read_entries(audit_path)]
    guard = cc.TaskGuard.from_spec(WELL)
    history = team_usage(datetime(2026, 1, 1, tzinfo=UTC), 120, seed=3)
    forecast = cc.forecast_period(log, tier="pro", seats=2, anchor=ANCHOR, at=CUT, paths=200)
    account_state = cc.Account("pro", start=at).state
    minutes = [Decimal(30)] * len(log)
    return {
        "findings": cc.lint_task(POOR),
        "task_estimate": cc.estimate_task(WELL, log),
        "route": cc.route(WELL),
        "decision": cc.decide(WELL, state, CUT),
        "plan": cc.plan_tasks([WELL, POOR] * 3, state, CUT),
        "task_records": cc.task_records(log),
        "guard": guard,
        "codex_logs": cc.read_codex_logs(ROLLOUT.parent),
        "lever_ranks": rank_levers(log, start=ANCHOR, card=example_card()),
        "guard_verdict": guard.feed(cc.IterationStarted(at=at)),
        "guard_report": cc.watch_rollout(ROLLOUT, guard, card),
        "task_simulation": cc.simulate_tasks(log, minutes, "go", start=ANCHOR),
        "hold": cc.hold_concurrency(log, minutes, 3),
        "schedule": cc.schedule_tasks([0, 5, 10, 15], [30, 30, 30, 30], 2),
        "what_if": cc.what_if(log, "pro", [cc.CacheContext(hit_rate="0.6")], start=ANCHOR),
        "roi": cc.roi(log, start=ANCHOR),
        "roi_for_plan": cc.roi_for_plan("pro", hours_saved_per_1000_ccu=4),
        "throttle": cc.find_throttle(
            history, "pro", "2026-04", start=datetime(2026, 1, 1, tzinfo=UTC)
        ),
        "sweep": cc.simulate_many(log, {"a": "pro", "b": "plus"}, start=ANCHOR),
        "sweep_compare": cc.compare_tiers_many(log, start=ANCHOR, max_seats=1),
        "usage_summary": cc.summarize_usage(sample_usage_path(), card, by="project_id"),
        "log_prices": cc.price_log(log, card),
        "quality": forecast.quality,
        "backtest": cc.backtest(
            history,
            tier="pro",
            anchor=datetime(2026, 1, 1, tzinfo=UTC),
            paths=100,
            cut_days=(7, 14),
        ),
        "rollover": cc.forecast_rollover(allocation=100, projected=80, current_rollover=10, cap=50),
        "overage": cc.estimate_overage(10, allocation=100, rollover=0, rate=5),
        "linear": cc.project_linear(10, days_elapsed=3, days_total=30),
        "status": cc.status_from_state(state),
        "split": cc.period_spending(state),
        "node_statements": cc.budget_statement(state),
        "access_decision": gov.authorize(_request(), org, at),
        "governed": cc.governed_apply(_request(), org, account_state, Decimal(3), at),
        "audit_entry": entries[0],
        "verification": cc.verify_log(audit_path, key=b"k"),
        "access_rows": gov.access_summary(entries, "team"),
        "organisation": org,
        "account_state": state,
        **_engine(log, card, org, at),
    }


def _engine(
    log: cc.UsageLog, card: cc.RateCard, org: gov.Organisation, at: datetime
) -> dict[str, Any]:
    """The engine's values and the inputs its functions hand back."""
    budget = cc.Budget(name="api", scope="project", value="api", amount=900)
    state = cc.account_state_at(log, "pro", ANCHOR, CUT, seats=2, budgets=[budget])
    request = cc.request_from_event(log[0], card)
    transition = cc.apply(state, request, CUT)
    ledger = cc.grant(state.ledger, Decimal(5), at=CUT, expires=CUT + timedelta(days=30))
    spent = cc.spend(ledger, Decimal(1), at=CUT, allow_overage=False)
    assert isinstance(spent, tuple)
    account = cc.Account("pro", start=ANCHOR)
    engine_events = account.advance(ANCHOR + timedelta(days=31, hours=1))
    timeline = cc.simulate(log, "pro", seats=2, start=ANCHOR).timeline
    key, _ = gov.issue_key("ci", owner="alice", created_at=at)
    guard_events = [e for _, e in cc.rollout_events(ROLLOUT.read_text().splitlines(), card)]
    return {
        "transition": transition,
        "outcome": transition.outcome,
        "request": request,
        "admission": cc.admit(state.plan.limits, Decimal(0), Decimal(0), Decimal(1)),
        "refusal": cc.draw(state.reserve, Decimal(10**9)),
        "reserve": state.reserve,
        "account_plan": state.plan,
        "hourly_limits": state.plan.limits,
        "ledger": ledger,
        "ledger_entry": ledger.entries()[0],
        "spend_split": spent[1],
        "billing_period": cc.period_at(ANCHOR, 0),
        "budget": budget,
        "budget_states": state.budgets,
        "budget_verdict": cc.check_budgets(state.budgets, request, cc.Mode.REQUEST),
        "node_statements": cc.budget_statement(state),
        "engine_events": engine_events,
        "calibration": cc.calibrate(timeline.served, timeline.hour(0), ANCHOR, CUT),
        "api_key": key,
        "service_account": org.service_accounts[0],
        "task_spec": WELL,
        "tier_spec": card.tier("pro"),
        "model_rates": cc.RateCard.builtin("codex-tokens-2026-04").model_rates("gpt-5.4")[1],
        "pricing_window": cc.RateCard.load(ROOT / "examples" / "levers-card.toml").window(),
        "usage_meters": log[0].usage(),
        "guard_events": [*guard_events, cc.IterationStarted(at=at)],
    }
