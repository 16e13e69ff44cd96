"""A hostile server over real loopback HTTP: the client ends, caps, maps and redacts."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import anyio
import pytest

from codex_credits.cli import main
from codex_credits.client import AsyncUsageClient, UsageClient, codex_usage_call
from codex_credits.client._secrets import check_base_url
from codex_credits.core.usage import UsageEvent
from codex_credits.errors import (
    ApiDeadlineError,
    ApiDecodeError,
    ApiError,
    ApiPageLimitError,
    ApiResponseTooLargeError,
    ConfigError,
)
from codex_credits.testing import FakeServer, FakeUsageApi, Fault

KEY = "sk-admin-HOSTILE-4f2a-9c1e-SECRET"
ESCAPED = "".join(f"\\u{ord(c):04x}" for c in KEY)  # the key as JSON \\u escapes
USAGE = "/organization/usage/codex"
START = datetime(2026, 6, 1, tzinfo=UTC)
CALL = codex_usage_call(start=START, end=START + timedelta(days=3), bucket_width="1h")


def _events() -> list[UsageEvent]:
    return [
        UsageEvent(
            timestamp=START + timedelta(minutes=37 * i),
            ccu=Decimal(f"{i % 4}.{i:02d}5"),
            user_id=("ana", "bo")[i % 2],
            project_id=("web", "api")[i % 2],
            task_type="review",
        )
        for i in range(80)
    ]


@pytest.fixture
def api() -> FakeUsageApi:
    return FakeUsageApi(events=_events(), api_key=KEY)


def _client(server: FakeServer, **options: Any) -> UsageClient:
    options.setdefault("max_retries", 0)
    return UsageClient(api_key=KEY, base_url=server.url, **options)


# -- deadlines --------------------------------------------------------------------------------


def test_a_trickling_server_is_dropped_at_the_request_deadline(api: FakeUsageApi) -> None:
    api.faults.always(USAGE, Fault.trickled(0.5))
    with FakeServer(api) as server, _client(server, timeout=3, request_deadline=1.5) as client:
        began = time.monotonic()
        with pytest.raises(ApiDeadlineError, match=r"deadline of 1\.5 s"):
            client.send(CALL)
        elapsed = time.monotonic() - began
        api.faults.clear()
        assert client.send(CALL).data  # the client still works after the watchdog fired
    assert elapsed < 4.0, elapsed  # a byte every 0.5 s never trips the 3 s read timeout


def test_a_trickling_server_is_dropped_by_the_async_client(api: FakeUsageApi) -> None:
    api.faults.always(USAGE, Fault.trickled(0.5))

    async def fetch(url: str) -> None:
        async with AsyncUsageClient(
            api_key=KEY, base_url=url, timeout=3, max_retries=0, request_deadline=1.5
        ) as client:
            await client.send(CALL)

    with FakeServer(api) as server:
        began = time.monotonic()
        with pytest.raises(ApiDeadlineError):
            anyio.run(fetch, server.url)
    assert time.monotonic() - began < 4.0


def test_the_walk_deadline_bounds_a_whole_list(api: FakeUsageApi) -> None:
    api.faults.always(USAGE, Fault.slow(0.3))
    with FakeServer(api) as server, _client(server, deadline=0.5) as client:
        began = time.monotonic()
        with pytest.raises(ApiDeadlineError, match="overall deadline"):
            list(client.iter_pages(CALL))
    assert time.monotonic() - began < 3.0


def test_a_retry_that_would_wait_past_the_deadline_is_not_made(api: FakeUsageApi) -> None:
    api.faults.always(USAGE, Fault.error(503, retry_after=30))
    sleeps: list[float] = []
    with (
        FakeServer(api) as server,
        _client(server, max_retries=3, request_deadline=5, sleep=sleeps.append) as client,
        pytest.raises(ApiDeadlineError, match="waiting to retry"),
    ):
        client.send(CALL)
    assert sleeps == []


# -- caps -------------------------------------------------------------------------------------


def test_endless_cursors_stop_at_the_page_cap(api: FakeUsageApi) -> None:
    api.faults.always(USAGE, Fault.replayed_first_page())
    with (
        FakeServer(api) as server,
        _client(server, max_pages=7) as client,
        pytest.raises(ApiPageLimitError, match="7 pages"),
    ):
        list(client.iter_pages(CALL))
    assert api.count(USAGE) == 7


def test_a_response_over_the_size_cap_is_refused(api: FakeUsageApi) -> None:
    small = codex_usage_call(start=START, end=START + timedelta(hours=1))
    with FakeServer(api) as server, _client(server, max_response_bytes=2_000) as client:
        assert client.send(small).data  # a small page fits
        with pytest.raises(ApiResponseTooLargeError, match="2,000 bytes"):
            client.send(CALL)


def test_a_bad_gzip_body_is_a_decode_error(api: FakeUsageApi) -> None:
    api.faults.add(USAGE, Fault.bad_gzip_body())
    with (
        FakeServer(api) as server,
        _client(server) as client,
        pytest.raises(ApiDecodeError, match="could not be decoded"),
    ):
        client.send(CALL)


@pytest.mark.parametrize(
    "options",
    [{"max_pages": 0}, {"max_response_bytes": 0}, {"deadline": 0}, {"request_deadline": -1}],
)
def test_limits_are_checked_when_the_client_is_made(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        UsageClient(api_key=KEY, **options)


# -- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["raw", "unicode", "code", "header"])
def test_an_echoed_key_never_reaches_an_error(api: FakeUsageApi, form: Any) -> None:
    api.faults.always(USAGE, Fault.echoing_key(form))
    with (
        FakeServer(api) as server,
        _client(server) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.send(CALL)
    error = caught.value
    texts = [str(error), repr(error), *(str(getattr(error, n, "")) for n in ("body", "raw"))]
    texts.append(str(error.request_id))
    for text in texts:
        assert KEY not in text
        assert "HOSTILE" not in text
        assert ESCAPED not in text.lower()
    assert "[REDACTED]" in " ".join(texts)


@pytest.mark.parametrize("form", ["raw", "unicode", "code", "header"])
def test_an_echoed_key_never_reaches_the_cli_output(
    api: FakeUsageApi, form: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    api.faults.always(USAGE, Fault.echoing_key(form))
    caplog.set_level("DEBUG")
    with FakeServer(api) as server:
        monkeypatch.setenv("OPENAI_ADMIN_KEY", KEY)
        monkeypatch.setenv("CODEX_CREDITS_BASE_URL", server.url)
        out, err = io.StringIO(), io.StringIO()
        argv = ["usage", "--from-api", "--start", "2026-06-01", "--end", "2026-06-02", "--debug"]
        code = main(argv, stdout=out, stderr=err)
    assert code == 3
    everything = out.getvalue() + err.getvalue() + caplog.text
    assert "HOSTILE" not in everything
    assert ESCAPED not in everything.lower()


def test_loopback_is_decided_by_address_not_by_name() -> None:
    assert check_base_url("http://127.0.0.1:8080/v1")
    assert check_base_url("http://127.4.5.6/v1")
    assert check_base_url("http://[::1]:9/v1")
    assert check_base_url("http://[::ffff:127.0.0.1]/v1")
    for url in (
        "http://api.localhost/v1",
        "http://localhost.evil.example/v1",
        "http://127.0.0.1.nip.io/v1",
        "http://10.0.0.1/v1",
    ):
        with pytest.raises(ConfigError, match="plain http"):
            check_base_url(url)


# -- one rule for repeated buckets ------------------------------------------------------------


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _totals(api: FakeUsageApi, monkeypatch: pytest.MonkeyPatch) -> tuple[Decimal, Decimal]:
    window = ["--from-api", "--start", "2026-06-01", "--end", "2026-06-03"]
    with FakeServer(api) as server:
        monkeypatch.setenv("OPENAI_ADMIN_KEY", KEY)
        monkeypatch.setenv("CODEX_CREDITS_BASE_URL", server.url)
        code, out, err = _cli(["usage", *window, "--format", "json"])
        assert code == 0, err
        usage = Decimal(json.loads(out)["total"]["ccu"])
        code, out, err = _cli(
            ["simulate", *window, "--tier", "pro", "--months", "1", "--format", "json"]
        )
        assert code == 0, err
    simulated = _consumed(json.loads(out))
    return usage, simulated


def _consumed(data: Any) -> Decimal:
    return Decimal(data["totals"]["consumed"])


def test_a_bucket_served_on_three_pages_counts_once_everywhere(
    api: FakeUsageApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = _totals(api, monkeypatch)
    api.faults.add(USAGE, Fault.replayed_first_page(), Fault.replayed_first_page())
    api.faults.add(USAGE, None, None, Fault.replayed_first_page(), Fault.replayed_first_page())
    repeated = _totals(api, monkeypatch)
    expected = api.total_ccu(int(START.timestamp()), int((START + timedelta(days=2)).timestamp()))
    assert clean == repeated == (expected, expected)
