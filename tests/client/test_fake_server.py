"""The fake usage API, in process and over real loopback HTTP, read by both clients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_credits.client import (
    AccountStatus,
    AsyncUsageClient,
    UsageClient,
    usage_events,
    usage_log,
)
from codex_credits.core.units import from_micro
from codex_credits.core.usage import UsageEvent, UsageLog
from codex_credits.errors import (
    ApiDecodeError,
    ApiTimeoutError,
    AuthenticationError,
    RateLimitError,
)
from codex_credits.testing import FakeServer, FakeTransport, FakeUsageApi, Fault

KEY = "sk-fake-SECRET-987654321"
START = datetime(2026, 6, 1, tzinfo=UTC)
USAGE = "/organization/usage/codex"


def _events(n: int = 60) -> list[UsageEvent]:
    users, projects, kinds = ["ana", "bo", None], ["web", "api"], ["review", "build", None]
    return [
        UsageEvent(
            timestamp=START + timedelta(minutes=37 * i),
            ccu=Decimal(f"{i % 7}.{i:06d}"),
            reasoning_tokens=100 * i,
            tool_calls=i % 4,
            sandbox_minutes=Decimal(i % 3) / 2,
            output_tokens=10 * i,
            user_id=users[i % 3],
            project_id=projects[i % 2],
            task_type=kinds[i % 3],
        )
        for i in range(n)
    ]


def _sum(log: UsageLog) -> Decimal:
    return from_micro(int(log.column("ccu_micro").sum()))


def _fetch_sync(base_url: str | None, transport: Any = None, **kw: Any) -> UsageLog:
    with UsageClient(KEY, base_url=base_url, transport=transport, sleep=lambda s: None) as c:
        return c.usage_log(start=START, end=START + timedelta(days=3), **kw)


def _fetch_async(base_url: str | None, transport: Any = None, **kw: Any) -> UsageLog:
    async def nothing(seconds: float) -> None:
        del seconds

    async def main() -> UsageLog:
        async with AsyncUsageClient(
            KEY, base_url=base_url, transport=transport, sleep=nothing
        ) as c:
            return await c.usage_log(start=START, end=START + timedelta(days=3), **kw)

    return anyio.run(main)


def _rows(log: UsageLog) -> list[UsageEvent]:
    return list(log)


FAULTS = (Fault.error(429, retry_after=0), Fault.error(503), None, Fault.truncated())


@pytest.mark.parametrize(("width", "requests"), [("1h", 6), ("1d", 3)])
def test_totals_match_over_loopback_with_faults(width: str, requests: int) -> None:
    # 1h: 72 buckets in 3 pages; page 1 needs 2 retries (429, 503), page 2 one (truncated).
    # 1d: 3 buckets in 1 page, 2 retries.
    api = FakeUsageApi(events=_events(), api_key=KEY)
    api.faults.add(USAGE, *FAULTS)
    with FakeServer(api) as server:
        log = _fetch_sync(server.url, bucket_width=width)
        assert [r.status for r in api.requests][:3] == [429, 503, 200]
        assert api.count(USAGE) == requests
        api.requests.clear()
        api.faults.clear()
        api.faults.add(USAGE, *FAULTS)
        alog = _fetch_async(server.url, bucket_width=width)
        assert api.count(USAGE) == requests
    assert _sum(log) == api.total_ccu() == sum((e.ccu or 0 for e in _events()), Decimal(0))
    assert _rows(log) == _rows(alog)
    assert {e.user_id for e in log} == {"ana", "bo", None}
    assert all(r.authorized for r in api.requests)


def test_group_totals_equal_the_events() -> None:
    events = _events()
    api = FakeUsageApi(events=events, api_key=KEY)
    log = _fetch_sync(None, FakeTransport(api), bucket_width="1h")
    by_user: dict[str | None, Decimal] = {}
    for e in events:
        by_user[e.user_id] = by_user.get(e.user_id, Decimal(0)) + (e.ccu or 0)
    got: dict[str | None, Decimal] = {}
    for e in log:
        got[e.user_id] = got.get(e.user_id, Decimal(0)) + (e.ccu or 0)
    assert got == by_user
    assert sum(e.tool_calls for e in log) == sum(e.tool_calls for e in events)
    assert sum(e.sandbox_minutes for e in log) == sum(e.sandbox_minutes for e in events)


@settings(max_examples=25)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3 * 86_400 - 1),
            st.decimals(min_value=0, max_value=500, places=6, allow_nan=False),
            st.sampled_from(["u1", "u2", None]),
        ),
        max_size=40,
    ),
    st.sampled_from(["1h", "1d"]),
    st.integers(1, 5),
)
def test_any_usage_round_trips_exactly(
    rows: list[tuple[int, Decimal, str | None]], width: str, limit: int
) -> None:
    events = [
        UsageEvent(timestamp=START + timedelta(seconds=s), ccu=c, user_id=u) for s, c, u in rows
    ]
    api = FakeUsageApi(events=events, api_key=KEY)
    transport = FakeTransport(api)
    with UsageClient(KEY, base_url="https://fake.test/v1", transport=transport) as client:
        buckets = list(
            client.codex_usage(
                start=START,
                end=START + timedelta(days=3),
                bucket_width=width,
                group_by=["user_id"],
                limit=limit,
            )
        )
    assert sum((r.compute_units_consumed for b in buckets for r in b.results), Decimal(0)) == sum(
        (c for _, c, _ in rows), Decimal(0)
    )
    assert sum(r.num_tasks for b in buckets for r in b.results) == len(rows)
    starts = [b.start_time for b in buckets]
    assert starts == sorted(set(starts))
    # re-fetching the same range never double-counts
    twice = UsageLog.from_events([*usage_events(buckets), *usage_events(buckets)])
    assert _sum(twice) == _sum(usage_log(buckets))
    assert twice.summary.duplicates == len(twice)


def test_event_ids_are_deterministic_and_stamped_at_bucket_start() -> None:
    api = FakeUsageApi(events=_events(), api_key=KEY)
    first = _fetch_sync(None, FakeTransport(api), bucket_width="1d")
    second = _fetch_sync(None, FakeTransport(api), bucket_width="1d")
    assert [e.event_id for e in first] == [e.event_id for e in second]
    assert all(e.timestamp.hour == 0 and e.timestamp.minute == 0 for e in first)
    assert len({e.event_id for e in first}) == len(first)


def test_slow_page_times_out_fast_and_succeeds_when_allowed() -> None:
    api = FakeUsageApi(events=_events(5), api_key=KEY)
    api.faults.always(USAGE, Fault.slow(0.3))
    with FakeServer(api) as server:
        with (
            pytest.raises(ApiTimeoutError, match="timed out"),
            UsageClient(
                KEY, base_url=server.url, timeout=0.05, max_retries=1, sleep=lambda s: None
            ) as client,
        ):
            client.codex_usage_page(start=START)
        assert api.count(USAGE) == 2
        with UsageClient(KEY, base_url=server.url, timeout=5) as client:
            assert client.codex_usage_page(start=START, end=START + timedelta(days=1)).data


def test_in_process_delay_longer_than_timeout_raises_without_waiting() -> None:
    api = FakeUsageApi(api_key=KEY)
    api.faults.always(USAGE, Fault.slow(3600))
    waited: list[float] = []
    with (
        pytest.raises(ApiTimeoutError),
        UsageClient(
            KEY,
            base_url="https://x.test/v1",
            transport=FakeTransport(api, sleep=waited.append),
            max_retries=0,
        ) as client,
    ):
        client.codex_usage_page(start=START)
    assert waited == []


def test_quota_exhausted_is_final_and_other_routes_still_work() -> None:
    api = FakeUsageApi(events=_events(), api_key=KEY)
    api.faults.always("/usage/codex", Fault.quota())
    with FakeServer(api) as server, UsageClient(KEY, base_url=server.url) as client:
        with pytest.raises(RateLimitError) as info:
            client.credit_status()
        assert info.value.quota_exhausted and info.value.request_id
        assert api.count("/usage/codex") == 1
        assert client.subscription().tier == "pro"


def test_repeating_cursor_and_malformed_body_over_http() -> None:
    api = FakeUsageApi(events=_events(), api_key=KEY)
    api.faults.always(USAGE, Fault.repeating_cursor())
    with FakeServer(api) as server, UsageClient(KEY, base_url=server.url) as client:
        with pytest.raises(ApiDecodeError, match="looping forever"):
            list(client.codex_usage(start=START, end=START + timedelta(days=2), bucket_width="1h"))
        assert api.count(USAGE) == 2
        api.faults.clear()
        api.faults.add(USAGE, Fault.malformed())
        with pytest.raises(ApiDecodeError, match="not valid JSON"):
            client.codex_usage_page(start=START)


def test_wrong_key_is_401_and_never_echoed() -> None:
    api = FakeUsageApi(api_key=KEY)
    with (
        FakeServer(api) as server,
        UsageClient("sk-wrong-key", base_url=server.url) as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.credit_status()
    assert "sk-wrong-key" not in str(info.value) and "sk-wrong-key" not in repr(client)
    assert api.requests[0].authorized is False


def test_account_status_round_trip() -> None:
    account = AccountStatus(
        tier="plus",
        seats=3,
        period_start=START,
        period_end=datetime(2026, 7, 1, tzinfo=UTC),
        monthly_ccu=Decimal(6000),
        consumed_ccu=Decimal("1234.5"),
        remaining_ccu=Decimal("4765.5"),
        rollover_ccu=Decimal("250.000001"),
        reserve_ccu=Decimal("3.25"),
        overage_usd_per_ccu=Decimal("0.018"),
        days_elapsed=10,
        days_total=30,
    )
    api = FakeUsageApi(api_key=KEY, account=account)
    with UsageClient(KEY, base_url="https://x.test/v1", transport=FakeTransport(api)) as client:
        assert client.account_status() == account
        raw = client.with_raw_response.credit_status()
    assert isinstance(raw.http_response, httpx.Response)
    assert raw.request_id == raw.http_response.headers["x-request-id"]
    assert raw.parsed.current_period_ccu_consumed == Decimal("1234.5")


def test_rate_limit_events_pages_and_totals() -> None:
    from codex_credits.client import RateLimitEvent

    events = [
        RateLimitEvent(
            timestamp=1_780_272_000 + 60 * i,
            requested_ccu=Decimal("1.5"),
            outcome="reserve" if i % 2 else "rate_limited",
            reserve_ccu_consumed=Decimal("0.5") if i % 2 else Decimal(0),
        )
        for i in range(7)
    ]
    api = FakeUsageApi(api_key=KEY, rate_limit_events=events)
    with UsageClient(KEY, base_url="https://x.test/v1", transport=FakeTransport(api)) as client:
        got = list(client.rate_limit_events(start=START, limit=3))
        page = client.rate_limit_events_page(start=START, limit=3)
    assert got == events
    assert api.count("/organization/usage/codex/rate_limit_events") == 4
    assert page.total_events == 7 and page.reserve_ccu_consumed == Decimal("1.5")
