"""``codex-credits plan`` and check's ``[[tasks]]`` rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from codex_credits.cli import main
from codex_credits.core.account import open_account
from codex_credits.core.ratecard import RateCard
from codex_credits.tasks.plan import plan_tasks
from codex_credits.tasks.spec import TaskSpec
from tests.tasks.conftest import BOUNDED, SEED_BAD

TASKS = [{"name": "poorly-scoped", **SEED_BAD}, {"name": "well-scoped", **BOUNDED}]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tasks_file(tmp_path: Path) -> Path:
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in TASKS) + "\n")
    return path


def test_plan_prices_and_decides_exit_1_when_one_is_refused(
    capsys: pytest.CaptureFixture[str], tasks_file: Path
) -> None:
    code, out, _ = _run(
        capsys, "plan", str(tasks_file), "--tier", "pro", "--anchor", "2026-01-01T00:00:00Z",
        "--format", "json",
    )  # fmt: skip
    assert code == 1
    data = json.loads(out)
    assert (data["allowed"], data["refused"], data["total_cost"]) == (1, 1, "3.000000")
    assert [t["verdict"] for t in data["tasks"]] == ["refuse", "allow"]
    assert data["tasks"][0]["estimate"] == "prior"


def test_plan_exit_0_when_lint_never_refuses(
    capsys: pytest.CaptureFixture[str], tasks_file: Path
) -> None:
    code, out, _ = _run(
        capsys, "plan", str(tasks_file), "--tier", "pro", "--anchor", "2026-01-01T00:00:00Z",
        "--refuse-at", "never", "--format", "markdown",
    )  # fmt: skip
    assert code == 0 and "| allow |" in out.replace("  ", " ")


def test_plan_against_a_replayed_account(
    capsys: pytest.CaptureFixture[str], tasks_file: Path, tmp_path: Path
) -> None:
    usage = tmp_path / "usage.csv"
    rows = [
        "2026-01-01T00:10:00Z,0.5".replace("01T00", f"{1 + h // 24:02d}T{h % 24:02d}")
        for h in range(100)
    ]
    usage.write_text("timestamp,ccu\n" + "\n".join(rows) + "\n")  # free: 50 CCU, all spent
    code, out, _ = _run(
        capsys, "plan", str(tasks_file), "--tier", "free", "--anchor", "2026-01-01T00:00:00Z",
        "--usage", str(usage), "--at", "2026-01-06T00:00:00Z", "--refuse-at", "never",
        "--format", "json",
    )  # fmt: skip
    assert code == 1
    reasons = [t["reasons"] for t in json.loads(out)["tasks"]]
    assert all(any("no_credits" in r for r in rs) for rs in reasons)


def test_plan_bad_task_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "t.json"
    bad.write_text('[{"instruction": "x", "max_iterations": -1}]')
    code, _, err = _run(
        capsys, "plan", str(bad), "--tier", "pro", "--anchor", "2026-01-01T00:00:00Z"
    )
    assert code == 2 and "t.json:1: max_iterations" in err


def test_plan_tasks_commits_allowed_tasks_in_order() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    state = open_account(RateCard.default(), "free", 1, t0)  # L = 0.694440 per hour
    spec = TaskSpec.model_validate({**BOUNDED, "ccu": "0.4"})
    plan = plan_tasks([spec, spec], state, t0)
    assert [d.verdict for d in plan.decisions] == ["allow", "defer"]
    assert plan.final_state.ledger.balance == Decimal("49.6")
    assert plan.decisions[1].fits_at == datetime(2026, 1, 1, 1, tzinfo=UTC)


POLICY = """
[account]
tier = "go"
anchor = "2026-06-01T00:00:00Z"

[dispatch]
price = "p50"

[[dispatch.lint]]
code = "team.needs_type"
bound = "output"
field = "task_type"
when = "missing"
severity = "error"
reason = "every task says its type"

[[tasks]]
name = "typed"
instruction = "Fix the JWT check"
file_scope = ["src/auth/jwt_validator.py"]
tools = ["file_read", "file_write", "run_tests"]
test_filter = "tests/unit/test_jwt_validator.py"
done_when = "the test passes"
timeout = 15
max_iterations = 3
task_type = "bugfix"

[[tasks]]
name = "untyped"
instruction = "Fix the JWT check"
file_scope = ["src/auth/jwt_validator.py"]
tools = ["file_read", "file_write", "run_tests"]
test_filter = "tests/unit/test_jwt_validator.py"
done_when = "the test passes"
timeout = 15
max_iterations = 3
"""


def test_check_tasks_rule_uses_the_policy_dispatch_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "codex-credits.toml"
    policy.write_text(POLICY)
    usage = tmp_path / "usage.csv"
    usage.write_text("timestamp,ccu\n2026-06-01T09:00:00Z,5\n")
    code, out, _ = _run(
        capsys, "check", "--policy", str(policy), "--usage", str(usage),
        "--at", "2026-06-01T12:00:00Z", "--format", "json",
    )  # fmt: skip
    assert code == 1
    rules = {r["name"]: r for r in json.loads(out)["rules"]}
    assert rules["task:typed"]["status"] == "pass"
    assert rules["task:typed"]["figures"]["amount"] == "2.250000"  # the P50 prior
    assert rules["task:untyped"]["status"] == "fail"
    assert "every task says its type" in rules["task:untyped"]["message"]
