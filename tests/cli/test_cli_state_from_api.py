"""``simulate`` and ``forecast`` with ``--state-from-api``, against the fake server on loopback.

The account is the plus x2 account of tests/client/test_account_bridge.py: 1,500 CCU
of rollover and a reserve of 5 at 1 June 2026, then 40 CCU in each of the first
120 hours (4,800 CCU: 1,500 from rollover, 3,300 from the 4,000 grant).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from codex_credits import AccountStatus, status_from_state
from codex_credits.cli import main
from codex_credits.testing import FakeServer, FakeUsageApi
from tests.client.test_account_bridge import JULY, JUNE, simulated_account

KEY = "sk-admin-STATE-SECRET-4242"
ELEVENTH = datetime(2026, 6, 11, tzinfo=UTC)


def _run(
    argv: list[str], api: FakeUsageApi, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with FakeServer(api) as server:
        monkeypatch.setenv("OPENAI_ADMIN_KEY", KEY)
        monkeypatch.setenv("CODEX_CREDITS_BASE_URL", server.url)
        code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def served() -> FakeUsageApi:
    account, events = simulated_account(ELEVENTH)
    return FakeUsageApi(events=events, account=status_from_state(account.state), api_key=KEY)


def test_simulate_replays_the_period_from_the_real_opening(
    served: FakeUsageApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["simulate", "--state-from-api", "--from-api", "--format", "json"]
    code, out, err = _run(argv, served, monkeypatch)
    assert code == 0, err
    june = json.loads(out)["periods"][0]
    assert (june["start"], june["end"]) == ("2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z")
    assert june["rollover_in"] == "1500.000000"
    assert june["consumed"] == "4800.000000"
    assert june["consumed_from_rollover"] == "1500.000000"
    assert june["consumed_from_grant"] == "3300.000000"
    assert june["rollover_out"] == "700.000000"
    assert june["total_cost"] == "40.00"
    assert served.count("/usage/codex") == 1
    assert KEY not in out + err


def test_forecast_starts_from_the_status_not_from_replayed_usage(
    served: FakeUsageApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No usage in the file: only the status knows that 4,800 CCU are consumed.
    # 4,800 in 10 days -> 14,400 by 1 July; credits 4,000 + 1,500 = 5,500, so
    # 8,900 CCU of overage at 0.018 = 160.20.
    empty = FakeUsageApi(account=served.account, api_key=KEY)
    argv = ["forecast", "--state-from-api", "--from-api", "--at", "2026-06-11", "--method"]
    code, out, err = _run([*argv, "linear", "--format", "json"], empty, monkeypatch)
    assert code == 0, err
    data = json.loads(out)
    assert data["consumed"] == "4800.000000"
    assert data["credits_at_period_start"] == "5500.000000"
    assert data["p50"] == "14400.000000"
    assert data["expected_overage_ccu"] == "8900.000000"
    assert data["expected_overage_cost"] == "160.20"


SIM = ["simulate", "--state-from-api", "--usage", "none.csv"]
FORECAST = ["forecast", "--from-api", "--at", "2026-06-11"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*SIM, "--reserve", "3"], "drop --rollover-balance and --reserve"),
        ([*SIM, "--tier", "pro"], "differs from the account's tier plus"),
        ([*SIM, "--seats", "3"], "differs from the account's 2 seat"),
        ([*SIM, "--anchor", "2026-05-01"], "not the start of the account's current period"),
        (["simulate", "--from-api", "--end", "2026-06-02"], "give --tier and --anchor"),
        (
            ["simulate", "--tier", "pro", "--anchor", "2026-06-01", "--rollover-consumed", "1"],
            "--rollover-consumed needs --state-from-api",
        ),
        ([*FORECAST, "--state-from-api", "--anchor", "2026-06-02"], "not a period start"),
        ([*FORECAST, "--state-from-api", "--rollover-balance", "5"], "drop --rollover-balance"),
        ([*FORECAST, "--anchor", "2026-06-01"], "give --tier, --anchor (the billing anchor) and"),
        (["forecast", "--state-from-api", "--usage", "x.csv", "--at", "2026-07-01"], "outside"),
    ],
)
def test_mistakes_exit_2(
    argv: list[str], message: str, served: FakeUsageApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run(argv, served, monkeypatch)
    assert code == 2, err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_status_the_card_cannot_hold_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    status = AccountStatus(
        tier="plus",
        seats=6,
        period_start=JUNE,
        period_end=JULY,
        consumed_ccu=Decimal(0),
        remaining_ccu=Decimal(12000),
    )
    api = FakeUsageApi(account=status, api_key=KEY)
    code, out, err = _run(["simulate", "--state-from-api", "--usage", "x.csv"], api, monkeypatch)
    assert code == 3
    assert out == ""
    assert "does not fit card codex-ccu-2026-06" in err and "at most 5 seat" in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
