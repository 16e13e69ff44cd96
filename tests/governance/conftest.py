"""The test organisation (tests/data/governance/codex-credits.toml) and its key secrets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from codex_credits.check.policy import Policy, load_policy
from codex_credits.governance import Organisation

DATA = Path(__file__).parent.parent / "data" / "governance"
POLICY = DATA / "codex-credits.toml"

SECRETS = {
    "k-alice": "cck_test_alice_ssssssssssssssssssss1",
    "k-bot": "cck_test_bot-web_ssssssssssssssssssss2",
    "k-ops": "cck_test_dave_ssssssssssssssssssss3",
    "k-old": "cck_test_carol_ssssssssssssssssssss4",
}
"""Test secrets: no output of the library may ever contain one of these."""

T = datetime(2026, 1, 12, 10, tzinfo=UTC)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(POLICY)


@pytest.fixture(scope="session")
def org(policy: Policy) -> Organisation:
    assert policy.organisation is not None
    return policy.organisation
