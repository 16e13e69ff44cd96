"""The organisation model: loading, validation naming every bad field, keys, the budget tree."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from codex_credits.check.policy import policy_from_data
from codex_credits.errors import ConfigError
from codex_credits.governance import (
    SECRET_PREFIX,
    ApiKey,
    KeyScopes,
    NodeBudget,
    Organisation,
    Permission,
    ServiceAccount,
    User,
    issue_key,
    organisation_from_data,
)
from tests.governance.conftest import SECRETS, T

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_toml_organisation_loads_and_finds_keys_by_secret(org: Organisation) -> None:
    assert org.find_key(SECRETS["k-bot"]) is org.key("k-bot")
    assert org.find_key(SECRETS["k-bot"] + "x") is None
    assert org.find_key("cck_test_bot-web_ssssssssssssssssssss3") is None
    bot = org.principal("bot-web")
    assert isinstance(bot, ServiceAccount)
    assert org.team_of(bot) == "web"
    assert org.permissions(bot, T) == frozenset({Permission.DISPATCH, Permission.READ_REPORTS})
    assert org.members("web") == ("alice", "carol", "bot-web")


def test_the_budget_tree_is_leaf_first_with_nearest_budgeted_parents(org: Organisation) -> None:
    tree = org.budgets()
    assert [(b.name, b.parent) for b in tree] == [
        ("key:k-alice", "user:alice"),
        ("user:alice", "team:web"),
        ("team:web", "org:acme"),
        ("org:acme", None),
    ]
    assert tree[2].members == ("alice", "carol", "bot-web")
    assert tree[0].window.every == "day"
    pool = org.pool("o1", "bot-web")
    assert (pool.scope, pool.value, pool.amount, pool.parent) == (
        "pool",
        "o1",
        Decimal(30),
        "team:web",
    )
    with pytest.raises(ConfigError, match="dave' has no budget"):
        org.pool("o2", "dave")


def test_validation_names_every_bad_field() -> None:
    key, _ = issue_key("k1", owner="ghost", created_at=T0, salt=bytes(16))
    data = {
        "name": "acme",
        "roles": [{"name": "dev", "permissions": ["dispatch", "fly"]}],
        "teams": [{"id": "web"}],
        "users": [
            {"id": "alice", "roles": ["dev", "boss"], "team": "mobile"},
            {"id": "alice"},
        ],
        "service_accounts": [{"id": "bot", "owner": "bot2"}, {"id": "bot2", "owner": "alice"}],
        "keys": [key.model_dump()],
    }
    with pytest.raises(ConfigError) as info:
        organisation_from_data(data)
    assert info.value.problems == (
        "roles.0.permissions.1: Input should be 'dispatch', 'approve_override', 'change_budgets', 'read_reports' or 'administer_keys'",
    )
    data["roles"] = [{"name": "dev", "permissions": ["dispatch"]}]
    with pytest.raises(ConfigError) as info:
        organisation_from_data(data)
    assert info.value.problems == (
        "users and service_accounts: ids must be unique, repeated: alice",
        "users.0.roles: role 'boss' is not defined",
        "users.0.team: team 'mobile' is not defined",
        "service_accounts.0.owner: 'bot2' is not a user (every agent must be owned by a real user)",
        "keys.0.owner: 'ghost' is not a user or service account",
    )
    with pytest.raises(ConfigError) as info:
        policy_from_data(
            {"account": {"tier": "pro", "anchor": "2026-01-01T00:00:00Z"}, "organisation": data}
        )
    assert (
        "organisation.keys.0.owner: 'ghost' is not a user or service account" in info.value.problems
    )
    with pytest.raises(ConfigError, match=r"access: \[\[access\]\] rules need an \[organisation\]"):
        policy_from_data(
            {
                "account": {"tier": "pro", "anchor": "2026-01-01T00:00:00Z"},
                "access": [{"name": "a", "key": "k"}],
            }
        )


def test_keys_store_a_prefix_and_a_salted_hash_never_the_secret() -> None:
    key, secret = issue_key("k1", owner="alice", created_at=T0)
    assert secret.startswith(SECRET_PREFIX) and len(secret) > 40
    assert key.verify(secret)
    assert not key.verify(secret[:-1] + ("a" if secret[-1] != "a" else "b"))
    assert secret not in key.model_dump_json() and secret not in repr(key)
    other, secret2 = issue_key("k2", owner="alice", created_at=T0)
    assert secret2 != secret and other.salt != key.salt
    same, _ = issue_key("k3", owner="alice", created_at=T0, secret=secret)
    assert same.hash != key.hash  # salted: one secret, two hashes
    with pytest.raises(ValueError, match="must start with"):
        issue_key("k4", owner="alice", created_at=T0, secret="short")
    revoked = key.revoke(T)
    assert revoked.revoked(T) and not revoked.revoked(T0) and revoked.verify(secret)


def test_scopes_wildcards_and_broadness() -> None:
    scopes = KeyScopes(repositories=("acme/*",), tools=("shell",), models=("*",))
    assert scopes.allows("repositories", "acme/web")
    assert not scopes.allows("repositories", "acme-prod/web")
    assert not scopes.allows("apis", "github")
    assert scopes.broad == ("repositories", "models")


def test_an_organisation_built_in_python() -> None:
    key, secret = issue_key(
        "k1",
        owner="bot",
        created_at=T0,
        scopes=KeyScopes(repositories=("acme/web",)),
        budget=NodeBudget(amount=Decimal(5), every="week"),
    )
    org = Organisation(
        name="acme",
        users=(User(id="alice"),),
        service_accounts=(ServiceAccount(id="bot", owner="alice"),),
        keys=(key,),
    )
    assert org.find_key(secret) == key
    assert isinstance(org.key("k1"), ApiKey)
    assert [b.name for b in org.budgets()] == ["key:k1"]
    with pytest.raises(ValueError, match=r"keys\.0\.owner"):
        Organisation(name="acme", keys=(key,))
