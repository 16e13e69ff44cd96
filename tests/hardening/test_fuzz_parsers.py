"""Fuzzing the policy, rate card and baseline parsers: a clean error or a correct
result, never an uncaught exception.

Run with the default budget in CI; for a long run::

    HYPOTHESIS_PROFILE=fuzz python3 -m pytest -p no:cacheprovider tests/hardening/test_fuzz_parsers.py

(the ``fuzz`` profile, registered in tests/conftest.py, tries 5,000 examples per test).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_credits.check.policy import Policy, load_policy, policy_from_data
from codex_credits.check.render import diff_baseline, load_baseline, render
from codex_credits.check.rules import check
from codex_credits.cli import main
from codex_credits.core.ratecard import RateCard
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.errors import ConfigError, CreditError

BASE_POLICY: dict[str, Any] = {
    "account": {
        "tier": "pro",
        "seats": 2,
        "anchor": "2026-06-01T00:00:00Z",
        "rollover_balance": "10",
        "reserve": "5",
    },
    "budgets": [
        {"name": "api", "scope": "project", "value": "api", "amount": "90", "alert_at": ["0.5"]},
        {"name": "ann", "scope": "user:ann", "amount": "40", "control": "soft_limit"},
    ],
    "alerts": {"task_threshold": "30", "burn_factor": "2", "burn_window_hours": 24},
    "forecast": {"method": "linear", "max_expected_overage_usd": "10"},
    "batch": [{"name": "nightly", "count": 3, "reasoning_tokens": 20000, "project": "api"}],
}

LOG = UsageLog.from_events(
    [
        UsageEvent(
            timestamp=datetime(2026, 6, 1 + i // 5, i % 24, tzinfo=UTC),
            ccu=Decimal(f"{i % 9}.25"),
            project_id=("api", "web")[i % 2],
            user_id=("ann", "bo")[i % 3 == 0],
            event_id=f"e{i}",
        )
        for i in range(40)
    ]
)
AT = datetime(2026, 6, 10, tzinfo=UTC)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=9),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["1e400", "-1", "0.0000001", "NaN", "9999-12-31T23:00:00Z", "", "\ud800"]),
)
json_like = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """``base`` with a few values replaced by hostile ones (or keys dropped)."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_like)
    return data


def _clean_or_policy(data: Any) -> Policy | None:
    try:
        return policy_from_data(data)
    except ConfigError:
        return None


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(mutated(BASE_POLICY))
def test_a_mutated_policy_is_refused_cleanly_or_checked(data: Any) -> None:
    policy = _clean_or_policy(data)
    if policy is None:
        return
    try:  # a policy valid alone can still not fit its card (reserve above the cap...)
        result = check(policy, LOG, at=AT)
    except CreditError:
        return
    for fmt in ("table", "json", "markdown", "github"):
        render(result, fmt).encode("utf-8")


@given(json_like)
def test_any_json_value_is_a_policy_or_a_config_error(data: Any) -> None:
    _clean_or_policy(data)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
    st.sampled_from([".toml", ".json"]),
)
def test_any_policy_file_is_read_or_refused(tmp_path: Path, raw: bytes, suffix: str) -> None:
    path = tmp_path / f"policy{suffix}"
    path.write_bytes(raw)
    with contextlib.suppress(ConfigError):
        load_policy(path)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutated(BASE_POLICY))
def test_a_policy_written_as_toml_round_trips_or_is_refused(tmp_path: Path, data: Any) -> None:
    try:
        text = tomli_w.dumps(data if isinstance(data, dict) else {"x": data})
    except (TypeError, ValueError):
        return  # not representable as TOML (None, NaN...): nothing to write
    path = tmp_path / "codex-credits.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        policy = load_policy(path)
    except ConfigError:
        return
    assert policy == policy_from_data(data)


CARD = RateCard.default().to_data()


@given(mutated(CARD))
def test_a_mutated_card_is_refused_cleanly_or_prices(data: Any) -> None:
    try:
        card = RateCard.from_data(data)
    except ConfigError:
        return
    for tier in card.tiers:
        card.hourly_allocation(tier)
        card.tier(tier).pool(1)


@given(st.text(max_size=300), st.sampled_from(["toml", "json"]))
def test_any_card_text_is_a_card_or_a_config_error(text: str, fmt: Any) -> None:
    with contextlib.suppress(ConfigError):
        RateCard.from_text(text, fmt)


RESULT = check(policy_from_data(BASE_POLICY), LOG, at=AT)
BASELINE = json.loads(render(RESULT, "json"))


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutated(BASELINE))
def test_a_mutated_baseline_is_diffed_or_refused(tmp_path: Path, data: Any) -> None:
    path = tmp_path / "baseline.json"
    try:
        path.write_text(json.dumps(data, default=str), encoding="utf-8", errors="surrogatepass")
    except ValueError:
        return
    try:
        baseline = load_baseline(path)
    except ConfigError:
        return
    diff = diff_baseline(RESULT, baseline)
    for fmt in ("table", "json", "markdown", "github"):
        render(RESULT, fmt, diff).encode("utf-8")


@settings(
    max_examples=12,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(mutated(BASE_POLICY))
def test_the_cli_exits_in_its_classes_on_a_mutated_policy(tmp_path: Path, data: Any) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data, default=str), encoding="utf-8", errors="surrogatepass")
    usage = tmp_path / "usage.csv"
    usage.write_text("timestamp,ccu,project_id\n2026-06-02T10:00:00Z,5,api\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    argv = ["check", "--policy", str(path), "--usage", str(usage), "--at", "2026-06-10"]
    code = main(argv, stdout=out, stderr=err)
    assert code in (0, 1, 2), err.getvalue()
    assert "Traceback" not in err.getvalue()
    assert len(err.getvalue().strip().splitlines()) <= 1
