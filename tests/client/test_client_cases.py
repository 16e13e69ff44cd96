"""One table of cases, each run through both the sync and the async client."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest

from codex_credits.client import (
    Call,
    codex_usage_call,
    credit_status_call,
    rate_limit_events_call,
)
from codex_credits.errors import (
    ApiConnectionError,
    ApiDecodeError,
    ApiError,
    ApiStatusError,
    ApiTimeoutError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from tests.client.conftest import KEY, Runner

STATUS = {
    "object": "codex.credit_status",
    "current_period_ccu_consumed": "REPLACED",
    "current_period_ccu_remaining": 7654.321,
    "rollover_ccu_balance": 0,
    "tier": "pro",
    "seats": 3,
    "some_future_field": {"nested": [1, 2]},
}
STATUS_TEXT = json.dumps(STATUS).replace('"REPLACED"', "12345678901234567890.123456789")

Reply = tuple[int, dict[str, str], str] | type[httpx.TransportError]


def ok(text: str = STATUS_TEXT) -> Reply:
    return (200, {"x-request-id": "req_ok"}, text)


def err(status: int, headers: dict[str, str] | None = None, **error: Any) -> Reply:
    body = {"error": {"message": error.pop("message", "boom"), **error}}
    return (status, {"x-request-id": f"req_{status}", **(headers or {})}, json.dumps(body))


def page(data: list[Any], next_page: str | None) -> Reply:
    body = {"object": "page", "data": data, "has_more": next_page is not None}
    body["next_page"] = next_page
    return ok(json.dumps(body))


BUCKET = {"object": "bucket", "start_time": 0, "end_time": 3600, "results": []}


@dataclass
class Case:
    id: str
    replies: list[Reply]
    sleeps: list[float] = field(default_factory=list)
    error: type[ApiError] | None = None
    check: Callable[[Any, list[httpx.Request], ApiError | None], None] | None = None
    call: Call[Any] = field(default_factory=credit_status_call)
    paginate: bool = False
    options: dict[str, Any] = field(default_factory=dict)


def _exact_status(result: Any, requests: list[httpx.Request], error: Any) -> None:
    assert result.current_period_ccu_consumed == Decimal("12345678901234567890.123456789")
    assert result.current_period_ccu_remaining == Decimal("7654.321")
    assert result.seats == 3
    auth = requests[0].headers["authorization"]
    assert auth == f"Bearer {KEY}"


def _message_has(*parts: str) -> Callable[[Any, list[httpx.Request], ApiError | None], None]:
    def check(result: Any, requests: list[httpx.Request], error: ApiError | None) -> None:
        for part in parts:
            assert part in str(error)
        assert "\n" not in str(error)
        assert KEY not in str(error)

    return check


def _quota(result: Any, requests: list[httpx.Request], error: ApiError | None) -> None:
    assert isinstance(error, RateLimitError)
    assert error.quota_exhausted is True
    assert error.status_code == 429
    assert error.request_id == "req_429"


def _redacted(result: Any, requests: list[httpx.Request], error: ApiError | None) -> None:
    assert isinstance(error, ApiStatusError)
    assert KEY not in str(error) and KEY not in error.body and KEY not in repr(error)
    assert "[REDACTED]" in error.body


def _exact_event(result: Any, requests: list[httpx.Request], error: Any) -> None:
    event = result.data[0]
    assert event.requested_ccu == Decimal("0.1")  # exact: not 0.1000000000000000055...
    assert event.outcome == "reserve"
    assert result.reserve_ccu_consumed == Decimal("0.05")
    assert dict(requests[0].url.params) == {"start_time": "0", "end_time": "10"}


def _cursor_unchanged(result: Any, requests: list[httpx.Request], error: Any) -> None:
    assert len(result) == 2
    sent = [dict(r.url.params.multi_items()).get("page") for r in requests]
    assert sent == [None, "page_AAA+/=&x"]


USAGE = codex_usage_call(start=0, end=7200, bucket_width="1h", group_by=["user_id"])

CASES = [
    Case("ok-exact-decimals-unknown-fields", [ok()], check=_exact_status),
    Case("429-retry-after-seconds", [err(429, {"retry-after": "3"}), ok()], sleeps=[3.0]),
    Case(
        "429-retry-after-ms-wins",
        [err(429, {"retry-after-ms": "1500", "retry-after": "9"}), ok()],
        sleeps=[1.5],
    ),
    Case("retry-after-too-long-uses-backoff", [err(429, {"retry-after": "120"}), ok()], [0.5]),
    Case("5xx-exponential-backoff", [err(503), err(502), ok()], sleeps=[0.5, 1.0]),
    Case("408-retried", [err(408), ok()], sleeps=[0.5]),
    Case("409-retried", [err(409), ok()], sleeps=[0.5]),
    Case(
        "5xx-gives-up-after-max-retries",
        [err(500), err(500), err(500)],
        sleeps=[0.5, 1.0],
        error=ServerError,
        check=_message_has("HTTP 500", "req_500", "after 2 retries"),
    ),
    Case("max-retries-0", [err(503)], error=ServerError, options={"max_retries": 0}),
    Case(
        "max-retries-3", [err(503)] * 3 + [ok()], sleeps=[0.5, 1.0, 2.0], options={"max_retries": 3}
    ),
    Case(
        "429-insufficient-quota-is-final",
        [err(429, {"retry-after": "1"}, code="insufficient_quota", type="insufficient_quota")],
        error=RateLimitError,
        check=_quota,
    ),
    Case(
        "429-quota-message-is-final",
        [err(429, message="Monthly quota exhausted for this organization", type="requests")],
        error=RateLimitError,
        check=_message_has("quota exhausted"),
    ),
    Case("x-should-retry-false", [err(503, {"x-should-retry": "false"})], error=ServerError),
    Case("401", [err(401)], error=AuthenticationError),
    Case("403", [err(403)], error=PermissionDeniedError),
    Case("404", [err(404)], error=NotFoundError),
    Case("400-not-retried", [err(400)], error=ApiStatusError),
    Case(
        "key-echoed-by-server-is-redacted",
        [err(400, message=f"bad header Authorization: Bearer {KEY}")],
        error=ApiStatusError,
        check=_redacted,
    ),
    Case("connect-error-retried", [httpx.ConnectError, ok()], sleeps=[0.5]),
    Case(
        "timeouts-exhaust-retries",
        [httpx.ReadTimeout] * 3,
        sleeps=[0.5, 1.0],
        error=ApiTimeoutError,
        check=_message_has("timed out", "after 2 retries"),
    ),
    Case("dropped-connection", [httpx.RemoteProtocolError] * 3, [0.5, 1.0], ApiConnectionError),
    Case("malformed-json-not-retried", [ok("{not json")], error=ApiDecodeError),
    Case(
        "missing-field-reported-with-path",
        [page([{**BUCKET, "results": [{"num_tasks": 1}]}], None)],
        error=ApiDecodeError,
        check=_message_has("$.data[0].results[0].compute_units_consumed", "Field required"),
        call=USAGE,
    ),
    Case(
        "rate-limit-events-with-totals",
        [
            ok(
                '{"object": "page", "data": [{"timestamp": 5, "requested_ccu": 0.1,'
                ' "outcome": "reserve", "reserve_ccu_consumed": 0.05}], "has_more": false,'
                ' "next_page": null, "total_events": 1, "reserve_ccu_consumed": 0.05}'
            )
        ],
        check=_exact_event,
        call=rate_limit_events_call(start=0, end=10),
    ),
    Case(
        "pagination-passes-cursor-unchanged",
        [page([BUCKET], "page_AAA+/=&x"), page([BUCKET], None)],
        check=_cursor_unchanged,
        call=USAGE,
        paginate=True,
    ),
    Case(
        "pagination-retry-mid-way",
        [page([BUCKET], "c1"), err(503), page([BUCKET], None)],
        sleeps=[0.5],
        call=USAGE,
        paginate=True,
    ),
    Case(
        "repeating-cursor-stops",
        [page([BUCKET], "c1"), page([BUCKET], "c2"), page([BUCKET], "c1")],
        error=ApiDecodeError,
        check=_message_has("again", "looping forever"),
        call=USAGE,
        paginate=True,
    ),
    Case(
        "has-more-without-cursor",
        [ok(json.dumps({"data": [], "has_more": True, "next_page": None}))],
        error=ApiDecodeError,
        call=USAGE,
        paginate=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, runner: Runner) -> None:
    replies = list(case.replies)
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        reply = replies.pop(0)
        if isinstance(reply, type):
            raise reply("injected", request=request)
        status, headers, text = reply
        return httpx.Response(status, headers=headers, text=text)

    transport = httpx.MockTransport(handler)
    result: Any = None
    error: ApiError | None = None
    try:
        if case.paginate:
            result = runner.pages(transport, case.call, **case.options)
        else:
            result = runner.send(transport, case.call, **case.options)
    except ApiError as exc:
        error = exc
    if case.error is None:
        assert error is None, error
    else:
        assert type(error) is case.error
    assert replies == [], "every scripted reply is consumed, no more"
    assert runner.sleeps == case.sleeps
    if case.check is not None:
        case.check(result, requests, error)
