"""The seed's JWT task, poorly and well scoped, as specs."""

from __future__ import annotations

import pytest

from codex_credits.tasks.spec import TaskSpec

SEED_BAD = {
    "instruction": "Fix the authentication bug in the user service",
    "repository": "full_repo_access",
    "tools": ["all_tools"],
    "tests": "full_test_suite",
}
SEED_GOOD = {
    "instruction": "Fix the JWT validation failure in src/auth/jwt_validator.py.",
    "file_scope": ["src/auth/jwt_validator.py", "tests/unit/test_jwt_validator.py"],
    "tools": ["file_read", "file_write", "run_tests"],
    "test_filter": "tests/unit/test_jwt_validator.py::TestJWTValidator",
}
BOUNDED = {
    **SEED_GOOD,
    "done_when": "tests/unit/test_jwt_validator.py::TestJWTValidator passes",
    "timeout": "15m",
    "max_iterations": 4,
}


@pytest.fixture
def bad() -> TaskSpec:
    return TaskSpec.model_validate(SEED_BAD)


@pytest.fixture
def bounded() -> TaskSpec:
    return TaskSpec.model_validate(BOUNDED)
