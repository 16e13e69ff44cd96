"""The pure layer: URL safety, redaction, retry timing, decoding, cursors."""

from __future__ import annotations

import ipaddress
import json
import pickle
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_credits.client import CodexUsagePage, codex_usage_call
from codex_credits.client._calls import decode, next_cursor
from codex_credits.client._retry import (
    is_quota_exhausted,
    retry_after_seconds,
    retry_delay,
    should_retry,
)
from codex_credits.client._secrets import (
    Secret,
    check_base_url,
    redact,
    resolve_api_key,
    resolve_base_url,
)
from codex_credits.errors import ApiDecodeError, ConfigError

KEY = "sk-admin-abcdef0123456789"


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1",
        "https://10.0.0.5/v1",
        "http://127.0.0.1:8080/v1",
        "http://127.9.9.9/v1",
        "http://[::1]:9000/v1",
        "http://localhost:1234",
        "HTTP://LOCALHOST/v1/",
    ],
)
def test_safe_urls_accepted(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://api.openai.com/v1", "plain http"),
        ("http://10.0.0.5/v1", "plain http"),
        ("http://128.0.0.1/v1", "plain http"),
        ("http://localhost.evil.com/v1", "plain http"),
        ("http://[::2]/v1", "plain http"),
        ("ftp://127.0.0.1/v1", "absolute https"),
        ("api.openai.com/v1", "absolute https"),
        (f"https://user:{KEY}@api.example.com/v1", "credentials"),
        ("https://api.example.com/v1?key=x", "query"),
    ],
)
def test_unsafe_urls_refused(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why) as info:
        check_base_url(url)
    assert KEY not in str(info.value)


@given(st.ip_addresses())
def test_plain_http_only_to_loopback(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    host = f"[{address}]" if address.version == 6 else str(address)
    url = f"http://{host}:8000/v1"
    if address.is_loopback:
        assert check_base_url(url) == url
    else:
        with pytest.raises(ConfigError):
            check_base_url(url)


def test_key_and_url_from_environment() -> None:
    env = {"OPENAI_API_KEY": "sk-plain", "OPENAI_ADMIN_KEY": "sk-admin"}
    assert resolve_api_key(None, env).reveal() == "sk-admin"
    assert resolve_api_key(None, {"OPENAI_API_KEY": "sk-plain"}).reveal() == "sk-plain"
    assert resolve_api_key("sk-arg", env).reveal() == "sk-arg"
    with pytest.raises(ConfigError, match="OPENAI_ADMIN_KEY"):
        resolve_api_key(None, {})
    assert resolve_base_url(None, {}) == "https://api.openai.com/v1"
    local = {"CODEX_CREDITS_BASE_URL": "http://127.0.0.1:1/v1"}
    assert resolve_base_url(None, local) == "http://127.0.0.1:1/v1"
    assert resolve_base_url("https://x.test/v1", local) == "https://x.test/v1"


def test_secret_never_shows() -> None:
    secret = Secret(KEY)
    assert KEY not in repr(secret) and KEY not in str(secret) and KEY not in f"{secret}"
    assert secret.reveal() == KEY
    with pytest.raises(TypeError):
        pickle.dumps(secret)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_redact_removes_the_key_anywhere(noise: str) -> None:
    text = f"{noise}{KEY}{noise} Authorization: Bearer {KEY}"
    assert KEY not in redact(text, Secret(KEY))


def test_redact_masks_any_bearer_token() -> None:
    assert redact("Authorization: Bearer sk-other-123", None) == "Authorization: Bearer [REDACTED]"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "7"}, 0.25),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "Mon, 01 Jun 2026 12:00:05 GMT"}, 5.0),
        ({"retry-after": "Mon, 01 Jun 2026 11:59:00 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after-ms": "x"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    now = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(headers, now) == expected


@given(st.integers(0, 20), st.floats(0, 1, exclude_max=True))
def test_backoff_is_bounded_with_jitter(retries: int, r: float) -> None:
    delay = retry_delay(retries, {}, random=lambda: r)
    nominal = min(0.5 * 2**retries, 8.0)
    assert 0.75 * nominal <= delay <= nominal


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (408, {}, "", True),
        (409, {}, "", True),
        (429, {}, '{"error": {"code": "rate_limit_exceeded"}}', True),
        (429, {}, '{"error": {"code": "insufficient_quota"}}', False),
        (429, {}, '{"error": {"type": "insufficient_quota", "code": null}}', False),
        (429, {}, '{"error": {"message": "You exceeded your current quota"}}', False),
        (429, {}, "quota exhausted", False),
        (500, {}, "", True),
        (503, {"x-should-retry": "false"}, "", False),
        (400, {"x-should-retry": "true"}, "", True),
        (400, {}, "", False),
        (401, {}, "", False),
        (404, {}, "", False),
    ],
)
def test_should_retry(status: int, headers: dict[str, str], body: str, expected: bool) -> None:
    assert should_retry(status, headers, body) is expected


def test_rate_limit_message_is_not_quota() -> None:
    assert not is_quota_exhausted('{"error": {"message": "Rate limit reached for requests"}}')


@given(
    st.lists(
        st.decimals(min_value=0, max_value=10**12, places=9, allow_nan=False, allow_infinity=False),
        max_size=5,
    )
)
def test_amounts_decode_exactly(amounts: list[Decimal]) -> None:
    results = ",".join(f'{{"compute_units_consumed": {a}}}' for a in amounts)
    text = (
        '{"data": [{"start_time": 0, "end_time": 3600, "results": [' + results + "]}],"
        ' "has_more": false}'
    )
    page = decode(codex_usage_call(start=0), text)
    assert [r.compute_units_consumed for r in page.data[0].results] == amounts


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"has_more": false}', "$.data"),
        ('{"data": [{"start_time": 0, "results": []}], "has_more": false}', "$.data[0].end_time"),
        (
            '{"data": [{"start_time": 0, "end_time": 1, "results": [{"compute_units_consumed": -1}]}],'
            ' "has_more": false}',
            "$.data[0].results[0].compute_units_consumed",
        ),
        ('{"data": [], "has_more": "maybe"}', "$.has_more"),
    ],
)
def test_bad_shapes_name_their_path(text: str, path: str) -> None:
    with pytest.raises(ApiDecodeError, match=path.replace("$", r"\$").replace("[", r"\[")) as info:
        decode(codex_usage_call(start=0), text, request_id="req_1")
    assert info.value.raw == text
    assert info.value.request_id == "req_1"


@pytest.mark.parametrize("text", ["", "[1,", '{"data": NaN}', "<html>bad gateway</html>"])
def test_invalid_json(text: str) -> None:
    with pytest.raises(ApiDecodeError, match="not valid JSON"):
        decode(codex_usage_call(start=0), text)


def test_call_builds_repeated_group_by_and_seconds() -> None:
    call = codex_usage_call(
        start=datetime(2026, 6, 1, tzinfo=UTC),
        end=datetime(2026, 6, 2, tzinfo=UTC),
        bucket_width="1h",
        group_by=["user_id", "task_type"],
        limit=24,
        page="p 1",
    )
    assert call.params == (
        ("start_time", "1780272000"),
        ("end_time", "1780358400"),
        ("bucket_width", "1h"),
        ("group_by", "user_id"),
        ("group_by", "task_type"),
        ("limit", "24"),
        ("page", "p 1"),
    )
    with pytest.raises(ConfigError):
        codex_usage_call(start=0, group_by=["model"])
    with pytest.raises(ConfigError):
        codex_usage_call(start=10, end=10)
    with pytest.raises(ConfigError):
        codex_usage_call(start=0, bucket_width="1m")  # type: ignore[arg-type]


def test_next_cursor_detects_repeats() -> None:
    call = codex_usage_call(start=0)
    seen: set[str] = set()
    first = CodexUsagePage.model_validate({"data": [], "has_more": True, "next_page": "a"})
    assert next_cursor(call, first, seen) == "a"
    with pytest.raises(ApiDecodeError, match="again"):
        next_cursor(call, first, seen)
    last = CodexUsagePage.model_validate(json.loads('{"data": [], "has_more": false}'))
    assert next_cursor(call, last, seen) is None


def test_iso_times_from_a_lenient_server_are_read_as_seconds() -> None:
    text = (
        '{"data": [{"start_time": "2026-06-01T00:00:00Z", "end_time": 1780275600,'
        ' "results": []}], "has_more": false}'
    )
    bucket = decode(codex_usage_call(start=0), text).data[0]
    assert (bucket.start_time, bucket.end_time) == (1780272000, 1780275600)
    with pytest.raises(ApiDecodeError, match=r"\$\.data\[0\]\.start_time"):
        decode(codex_usage_call(start=0), text.replace("2026-06-01T00:00:00Z", "yesterday"))
