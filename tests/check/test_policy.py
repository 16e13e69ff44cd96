from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from codex_credits.check import load_policy
from codex_credits.check.policy import policy_from_data
from codex_credits.errors import ConfigError

ACCOUNT = {"tier": "plus", "seats": 2, "anchor": "2026-06-01T00:00:00Z"}


def test_loads_every_table(policy_file: Path) -> None:
    policy = load_policy(policy_file)
    assert policy.account.tier == "pro"
    assert [b.name for b in policy.budgets] == ["api-hard", "web-soft", "ann"]
    assert policy.budgets[1].alert_at == (Decimal("0.5"), Decimal("0.9"))
    assert policy.budgets[2].control == "hard_stop"


@pytest.mark.parametrize(
    "budget",
    [
        {"scope": "project", "value": "api"},
        {"scope": "project_id", "value": "api"},
        {"scope": "project:api"},
        {"scope": {"project": "api"}},
        {"project": "api"},
    ],
)
def test_scope_forms(budget: dict[str, object]) -> None:
    policy = policy_from_data(
        {"account": ACCOUNT, "budgets": [{"name": "b", "amount": 5, **budget}]}
    )
    assert (policy.budgets[0].scope, policy.budgets[0].value) == ("project", "api")
    assert policy.budgets[0].dimension == "project_id"


def test_every_bad_field_is_named(tmp_path: Path) -> None:
    path = tmp_path / "codex-credits.toml"
    path.write_text(
        """
[account]
tier = "pro"
seats = 0
anchor = "2026-06-01T00:00:00"

[[budgets]]
name = "x"
scope = "team"
value = "a"
amount = -1
control = "explode"

[forecast]
method = "crystal-ball"
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    problems = "\n".join(info.value.problems)
    for field in (
        "account.seats",
        "account.anchor",
        "budgets.0.scope",
        "budgets.0.amount",
        "budgets.0.control",
        "forecast.method",
    ):
        assert field in problems, field
    assert str(path) in str(info.value)


def test_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.codex-credits.account]\ntier = "go"\n'
        'anchor = "2026-01-31T00:00:00Z"\n',
        encoding="utf-8",
    )
    assert load_policy(tmp_path).account.tier == "go"
    assert load_policy(tmp_path / "pyproject.toml").account.anchor.day == 31


def test_pyproject_without_table_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no \[tool.codex-credits\] table"):
        load_policy(tmp_path / "pyproject.toml")
    with pytest.raises(ConfigError, match="cannot read policy"):
        load_policy(tmp_path / "nope.toml")


def test_duplicate_budget_names() -> None:
    with pytest.raises(ConfigError, match="repeated: b"):
        policy_from_data(
            {
                "account": ACCOUNT,
                "budgets": [
                    {"name": "b", "scope": "user:a", "amount": 1},
                    {"name": "b", "scope": "user:c", "amount": 1},
                ],
            }
        )


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[account\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid"):
        load_policy(path)


def test_the_example_policy_is_valid() -> None:
    root = Path(__file__).resolve().parents[2]
    policy = load_policy(root / "examples" / "codex-credits.toml")
    assert policy.account.seats == 2
    assert {b.control for b in policy.budgets} == {"hard_stop", "soft_limit", "degraded"}
    assert policy.batch[0].count == 12
