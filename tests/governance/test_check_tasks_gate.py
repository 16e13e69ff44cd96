"""check's ``[[tasks]]`` rule authorizes each task with the ``[organisation]`` first."""

from __future__ import annotations

import io
import json
from pathlib import Path

from codex_credits.cli import main
from tests.governance.conftest import POLICY

TASKS = """
[[tasks]]
name = "alice fixes the web tests"
instruction = "Fix the JWT check"
repository = "acme/web"
file_scope = ["src/auth/jwt_validator.py"]
tools = ["tests"]
model = "gpt-5.4"
test_filter = "tests/unit/test_jwt_validator.py"
done_when = "the test passes"
timeout = 15
max_iterations = 3
ccu = 2
key_id = "k-alice"

[[tasks]]
name = "the viewer dispatches"
instruction = "Fix the JWT check"
repository = "acme/web"
file_scope = ["src/auth/jwt_validator.py"]
tools = ["tests"]
model = "gpt-5.4"
test_filter = "tests/unit/test_jwt_validator.py"
done_when = "the test passes"
timeout = 15
max_iterations = 3
ccu = 2
key_id = "k-ops"
"""


def test_governance_refuses_before_the_credit_check(tmp_path: Path) -> None:
    policy = tmp_path / "codex-credits.toml"
    text = POLICY.read_text(encoding="utf-8")
    head = text.split("[[access]]", 1)[0]  # the organisation, not its access rules
    policy.write_text(head + TASKS, encoding="utf-8")
    usage = tmp_path / "usage.csv"
    usage.write_text("timestamp,ccu\n2026-01-12T09:00:00Z,5\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["check", "--policy", str(policy), "--usage", str(usage),
         "--at", "2026-01-12T10:00:00Z", "--format", "json"],
        stdout=out, stderr=err,
    )  # fmt: skip
    assert code == 1, err.getvalue()
    rules = {r["name"]: r for r in json.loads(out.getvalue())["rules"]}
    allowed = rules["task:alice fixes the web tests"]
    refused = rules["task:the viewer dispatches"]
    assert allowed["status"] == "pass", allowed["message"]
    assert refused["status"] == "fail"
    assert "permission" in refused["message"]
