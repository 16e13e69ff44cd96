"""The task, what-if, governance and check commands fit an 80-column terminal too."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_credits.check import load_policy
from codex_credits.cli import main
from codex_credits.data import sample_usage_path
from tests.showcase_merged import ORG_POLICY, ROLLOUT, _audit

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(sample_usage_path())
TASKS = str(ROOT / "examples" / "tasks.toml")
POLICY = str(ROOT / "examples" / "codex-credits.toml")

COMMANDS = {
    "plan": ["plan", TASKS, "--tier", "pro", "--anchor", "2026-06-01", "--usage", SAMPLE,
             "--at", "2026-06-15"],
    "guard": ["guard", str(ROLLOUT), "--tasks", TASKS],
    "what-if": ["what-if", "--usage", SAMPLE, "--cache-hit", "0.5"],
    "roi": ["roi", "--usage", SAMPLE],
    "access": ["access", "--policy", str(ORG_POLICY), "--audit", "{audit}"],
    "audit verify": ["audit", "verify", "{audit}"],
    "audit export": ["audit", "export", "{audit}"],
    "check": ["check", "--policy", POLICY, "--usage", SAMPLE, "--at", "2026-06-15"],
    "logs": ["logs", str(ROLLOUT.parent)],
}  # fmt: skip


@pytest.fixture(scope="module")
def audit_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    org = load_policy(ORG_POLICY).organisation
    assert org is not None
    _audit(path, org, 30)
    return path


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("columns", [80, 60])
def test_tables_fit_the_terminal(
    name: str,
    columns: int,
    audit_log: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    argv = [a.replace("{audit}", str(audit_log)) for a in COMMANDS[name]]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 1), err  # 1: a verdict (a refused task, a failed rule)
    assert out.strip()
    # a single word longer than the terminal (a long path) is never cut
    widest = max((line for line in out.splitlines() if " " in line.strip()), key=len)
    assert len(widest) <= columns, widest
