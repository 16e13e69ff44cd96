"""Loopback: a simulated account served by the fake API -> client -> bridge -> simulate.

The account: plus x2 (pool 4,000 CCU) from 1 June 2026, opening with 1,500 CCU of
rollover and a reserve of 5. It serves 40 CCU at the start of each of the first
120 hours (4,800 CCU, always under the hourly allowance of 55.55556), then the
status is read on 10 June at 14:20. By hand: the rollover goes first (1,500),
the grant gives 3,300 and 700 is left; nothing is overage.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio
import pytest

from codex_credits import (
    Account,
    AccountStatus,
    ConfigError,
    FixedClock,
    UsageEvent,
    opening_state,
    simulate,
    status_from_state,
)
from codex_credits.client import AsyncUsageClient, UsageClient
from codex_credits.testing import FakeServer, FakeUsageApi

KEY = "sk-admin-bridge-0123456789"
JUNE = datetime(2026, 6, 1, tzinfo=UTC)
JULY = datetime(2026, 7, 1, tzinfo=UTC)
AT = datetime(2026, 6, 10, 14, 20, tzinfo=UTC)


def simulated_account(at: datetime = AT) -> tuple[Account, list[UsageEvent]]:
    account = Account("plus", 2, JUNE, rollover_balance="1500", reserve="5")
    events = [
        UsageEvent(timestamp=JUNE + timedelta(hours=h), ccu=Decimal(40), user_id=f"u{h % 3}")
        for h in range(120)
    ]
    for event in events:
        assert account.apply(event).served == Decimal(40)
    account.advance(at)
    return account, events


def test_status_served_over_http_becomes_the_engine_state_and_a_simulation() -> None:
    account, events = simulated_account()
    status = status_from_state(account.state)
    assert (status.consumed_ccu, status.remaining_ccu, status.rollover_ccu) == (
        Decimal("4800"),
        Decimal("700"),
        Decimal("0"),
    )
    assert (status.days_elapsed, status.days_total, status.monthly_ccu) == (10, 30, Decimal(4000))
    api = FakeUsageApi(events=events, account=status, api_key=KEY)
    with (
        FakeServer(api) as server,
        UsageClient(KEY, base_url=server.url, clock=FixedClock(AT)) as c,
    ):
        fetched = c.account_status()
        live = c.account()
        log = c.usage_log(start=JUNE, end=AT, bucket_width="1h")
    assert fetched == status
    state = live.state
    assert state.as_of == AT
    assert state.ledger.balance == Decimal("700") == account.state.ledger.balance
    assert state.reserve.level == account.state.reserve.level
    assert live.clock.now() == AT

    result = simulate(log, opening_state(fetched))
    june = result.periods[0]
    assert (june.start, june.end) == (JUNE, JULY)
    assert june.rollover_in == Decimal("1500")
    assert june.consumed == Decimal("4800")
    assert june.consumed_from_rollover == Decimal("1500")
    assert june.consumed_from_grant == Decimal("3300")
    assert june.overage_ccu == Decimal("0")
    assert june.rollover_out == Decimal("700")
    assert june.total_cost == Decimal("40.00")


def test_sync_and_async_clients_build_the_same_account() -> None:
    account, events = simulated_account()
    status = status_from_state(account.state)
    api = FakeUsageApi(events=events, account=status, api_key=KEY)

    async def fetch(url: str) -> Account:
        async with AsyncUsageClient(KEY, base_url=url, clock=FixedClock(AT)) as client:
            return await client.account()

    with FakeServer(api) as server:
        with UsageClient(KEY, base_url=server.url, clock=FixedClock(AT)) as client:
            sync = client.account()
        asynchronous = anyio.run(fetch, server.url)
    assert sync.state == asynchronous.state
    assert api.count("/usage/codex") == api.count("/organization/billing/subscription") == 2


def test_a_status_the_card_cannot_hold_is_a_config_error() -> None:
    status = AccountStatus(
        tier="team",
        seats=1,
        period_start=JUNE,
        period_end=JULY,
        consumed_ccu=Decimal(0),
        remaining_ccu=Decimal(0),
    )
    api = FakeUsageApi(account=status, api_key=KEY)
    with (
        FakeServer(api) as server,
        UsageClient(KEY, base_url=server.url) as client,
        pytest.raises(ConfigError, match=r"tier 'team'.*tiers: free, go, plus, pro"),
    ):
        client.account(at=AT)
