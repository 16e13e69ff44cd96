"""The fake server answers as docs/openapi.yaml says (schemathesis, over loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from codex_credits.client import RateLimitEvent
from codex_credits.core.usage import UsageEvent
from codex_credits.testing import FakeServer, FakeUsageApi

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
KEY = "sk-fake-conformance"
START = datetime(2026, 6, 1, tzinfo=UTC)

# The fuzzing and examples phases only: the coverage phase (every boundary value
# and every HTTP method of every operation) takes far longer than CI allows here.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    events = [
        UsageEvent(
            timestamp=START + timedelta(hours=5 * i),
            ccu=Decimal(f"{i}.25"),
            user_id=f"u{i % 3}",
            project_id="web",
            task_type="review",
        )
        for i in range(40)
    ]
    limits = [
        RateLimitEvent(timestamp=1_780_272_000 + i, requested_ccu=Decimal(2), outcome="reserve")
        for i in range(5)
    ]
    api = FakeUsageApi(events=events, api_key=KEY, rate_limit_events=limits)
    with FakeServer(api) as running:
        yield running


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_fake_server_conforms(case: schemathesis.Case, server: FakeServer) -> None:
    case.call_and_validate(
        base_url=server.url,
        headers={"Authorization": f"Bearer {KEY}"},
        checks=CHECKS,
        timeout=10,
    )


def test_spec_is_valid_openapi() -> None:
    import yaml
    from openapi_spec_validator import validate

    validate(yaml.safe_load(SPEC.read_text(encoding="utf-8")))
