from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from codex_credits import UsageEvent, read_usage
from codex_credits.check import Status, check, load_policy
from codex_credits.check.policy import policy_from_data

AT = datetime(2026, 6, 10, tzinfo=UTC)


def test_budget_statuses_match_hand_computation(policy_file: Path, usage_file: Path) -> None:
    result = check(load_policy(policy_file), read_usage(usage_file), at=AT)
    by_name = {rule.name: rule for rule in result.rules}
    # api this period: 60 + 40 = 100 (the 500 on May 31 belongs to the previous period)
    api = by_name["budget:api-hard"]
    assert api.status is Status.FAIL
    assert api.figures["spent"] == Decimal("100")
    # web: 55 + 10 = 65 of 100: past 0.5, not 0.9 -> warn
    web = by_name["budget:web-soft"]
    assert web.status is Status.WARN
    assert web.figures["thresholds_crossed"] == [Decimal("0.5")]
    # ann: 60 + 55 = 115 of 1000, hard stop with no thresholds -> pass
    ann = by_name["budget:ann"]
    assert ann.status is Status.PASS
    assert ann.figures["spent"] == Decimal("115")
    assert result.passed is False


def test_events_after_at_are_ignored(policy_file: Path, usage_file: Path) -> None:
    result = check(
        load_policy(policy_file), read_usage(usage_file), at=datetime(2026, 6, 2, tzinfo=UTC)
    )
    api = next(r for r in result.rules if r.name == "budget:api-hard")
    assert api.figures["spent"] == Decimal("60")
    assert api.status is Status.PASS


def test_json_shape(policy_file: Path, usage_file: Path) -> None:
    data = check(load_policy(policy_file), read_usage(usage_file), at=AT).to_json()
    assert set(data) >= {"passed", "rules"}
    rule = data["rules"][0]
    assert set(rule) == {"name", "kind", "status", "figures", "message"}
    assert rule["figures"]["spent"] == "100.000000"


@given(
    st.lists(st.integers(0, 50), max_size=20),
    st.integers(1, 400),
    st.sampled_from(["hard_stop", "soft_limit", "degraded", "queue"]),
)
def test_budget_status_rule(spends: list[int], amount: int, control: str) -> None:
    events = [
        UsageEvent(
            timestamp=datetime(2026, 6, 2, h % 24, tzinfo=UTC), ccu=Decimal(c), project_id="p"
        )
        for h, c in enumerate(spends)
    ]
    policy = policy_from_data(
        {
            "account": {"tier": "pro", "anchor": "2026-06-01T00:00:00Z"},
            "budgets": [{"name": "b", "scope": "project:p", "amount": amount, "control": control}],
        }
    )
    rule = check(policy, events, at=AT).rules[0]
    spent = sum(spends)
    if control == "hard_stop":
        expected = Status.FAIL if spent >= amount else Status.PASS
    else:
        expected = Status.WARN if spent >= amount else Status.PASS
    assert rule.status is expected
    assert rule.figures["spent"] == Decimal(spent)
