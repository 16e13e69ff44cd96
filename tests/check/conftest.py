from __future__ import annotations

from pathlib import Path

import pytest

POLICY = """
[account]
tier = "pro"
seats = 1
anchor = "2026-06-01T00:00:00Z"

[[budgets]]
name = "api-hard"
scope = "project"
value = "api"
amount = 100
control = "hard_stop"

[[budgets]]
name = "web-soft"
scope = "project"
value = "web"
amount = 100
control = "soft_limit"
alert_at = [0.5, 0.9]

[[budgets]]
name = "ann"
scope = "user"
value = "ann"
amount = 1000
"""

USAGE = """timestamp,ccu,project_id,user_id
2026-05-31T23:00:00Z,500,api,ann
2026-06-01T10:00:00Z,60,api,ann
2026-06-02T10:00:00Z,40,api,bob
2026-06-02T11:00:00Z,55,web,ann
2026-06-03T09:00:00Z,10,web,bob
2026-07-01T09:00:00Z,999,api,ann
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "codex-credits.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture
def usage_file(tmp_path: Path) -> Path:
    path = tmp_path / "usage.csv"
    path.write_text(USAGE, encoding="utf-8")
    return path
