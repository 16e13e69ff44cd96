"""``AsyncUsageClient``: the asynchronous twin of ``UsageClient``, over httpx and anyio.

It judges every attempt with the same code as the synchronous client
(:mod:`codex_credits.client._attempts`), so both give identical results.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import anyio
import httpx
from pydantic import BaseModel

from codex_credits.client._attempts import (
    OTHER_HTTPX_ERRORS,
    RawResponse,
    Settings,
    decode_response,
    judge,
    wait,
)
from codex_credits.client._base import ClientBase
from codex_credits.client._bridge import AccountStatus, account_status, usage_log
from codex_credits.client._calls import (
    CODEX_GROUPS,
    BucketWidth,
    Call,
    Instant,
    codex_usage_call,
    completions_usage_call,
    costs_call,
    credit_status_call,
    next_cursor,
    rate_limit_events_call,
    subscription_call,
    with_page,
)
from codex_credits.client._guard import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_DEADLINE,
    LOG_REDACTION,
    Deadline,
    Limits,
    aread_body,
    httpx_error,
)
from codex_credits.client._models import (
    CodexUsageBucket,
    CodexUsagePage,
    CompletionsUsageBucket,
    CostsBucket,
    CreditStatus,
    Page,
    RateLimitEvent,
    RateLimitEventsPage,
    Subscription,
)
from codex_credits.client._retry import DEFAULT_MAX_RETRIES
from codex_credits.clock import Clock
from codex_credits.core.account import Account
from codex_credits.core.ratecard import RateCard
from codex_credits.core.statefromstatus import account_from_status
from codex_credits.core.usage import UsageLog

__all__ = ["AsyncUsageClient"]

M = TypeVar("M", bound=BaseModel)
P = TypeVar("P", bound=Page[Any])


class AsyncUsageClient(ClientBase):
    """The asynchronous twin of :class:`UsageClient`: same arguments, ``await`` the calls.

    ``sleep`` is an async ``(seconds) -> None`` (default :func:`anyio.sleep`), and
    the transport an :class:`httpx.AsyncBaseTransport`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        random: Callable[[], float] | None = None,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        default_headers: Mapping[str, str] | None = None,
        request_deadline: float | None = DEFAULT_REQUEST_DEADLINE,
        deadline: float | None = DEFAULT_DEADLINE,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        limits = Limits(request_deadline, deadline, max_pages, max_response_bytes)
        settings = Settings(
            api_key, base_url, timeout, max_retries, environ, random, clock, default_headers, limits
        )
        super().__init__(settings)
        self._sleep = sleep or anyio.sleep
        self._http = httpx.AsyncClient(transport=transport, **self._http_options())

    async def aclose(self) -> None:
        """Close the connection pool."""
        LOG_REDACTION.forget(self)
        await self._http.aclose()

    async def __aenter__(self) -> AsyncUsageClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def send_raw(self, call: Call[M], *, within: Deadline | None = None) -> RawResponse[M]:
        """Send ``call`` with retries; the decoded payload and the raw response."""
        settings = self._settings
        deadline = settings.request_deadline(within)
        retries = 0
        while True:
            deadline.check(call)
            request = settings.request(self._http, call, deadline)
            response: httpx.Response | None = None
            failure: httpx.TransportError | None = None
            try:
                with anyio.fail_after(deadline.remaining()):
                    response = await self._http.send(request, stream=True)
                    try:
                        await aread_body(response, call, settings.limits, deadline)
                    finally:
                        await response.aclose()
            except TimeoutError:
                raise deadline.error(call, "waiting for the server") from None
            except httpx.TransportError as exc:
                response, failure = None, exc
            except OTHER_HTTPX_ERRORS as exc:
                raise httpx_error(exc, call, settings.url(call), settings.secret) from exc
            outcome = judge(settings, call, retries, response, failure)
            if outcome.response is not None:
                parsed = decode_response(call, outcome.response, settings.secret)
                return RawResponse(parsed, outcome.response)
            await self._sleep(wait(outcome, deadline, call, failure))
            retries += 1

    async def send(self, call: Call[M]) -> M:
        """Send ``call`` with retries and return the decoded payload."""
        return (await self.send_raw(call)).parsed

    async def iter_pages(self, call: Call[P]) -> AsyncIterator[P]:
        """Every page of a list call (see :meth:`UsageClient.iter_pages`)."""
        seen: set[str] = set()
        walk = self._settings.walk_deadline()
        pages = 0
        while True:
            pages += 1
            self._settings.limits.check_pages(call, pages)
            page = (await self.send_raw(call, within=walk)).parsed
            yield page
            cursor = next_cursor(call, page, seen)
            if cursor is None:
                return
            call = with_page(call, cursor)

    @property
    def with_raw_response(self) -> _AsyncRawView:
        """The same single-request methods, returning :class:`RawResponse` values."""
        return _AsyncRawView(self)

    async def credit_status(self) -> CreditStatus:
        """``GET /usage/codex``."""
        return await self.send(credit_status_call())

    async def subscription(self) -> Subscription:
        """``GET /organization/billing/subscription``."""
        return await self.send(subscription_call())

    async def account_status(self) -> AccountStatus:
        """The subscription and the credit status joined into one :class:`AccountStatus`."""
        return account_status(await self.credit_status(), await self.subscription())

    async def account(
        self,
        card: RateCard | str | None = None,
        *,
        at: datetime | None = None,
        rollover_consumed: Decimal | int | str | None = None,
    ) -> Account:
        """:meth:`UsageClient.account`, awaited."""
        status = await self.account_status()
        when = at if at is not None else self._settings.now()
        return account_from_status(
            status, card, at=when, clock=self._settings.clock, rollover_consumed=rollover_consumed
        )

    async def codex_usage_page(self, **query: Any) -> CodexUsagePage:
        """One page of ``GET /organization/usage/codex``."""
        return await self.send(codex_usage_call(**query))

    async def codex_usage(
        self,
        *,
        start: Instant,
        end: Instant | None = None,
        bucket_width: BucketWidth = "1d",
        group_by: Iterable[str] = (),
        limit: int | None = None,
    ) -> AsyncIterator[CodexUsageBucket]:
        """Every usage bucket in ``[start, end)``, across all pages."""
        call = codex_usage_call(
            start=start, end=end, bucket_width=bucket_width, group_by=tuple(group_by), limit=limit
        )
        async for page in self.iter_pages(call):
            for bucket in page.data:
                yield bucket

    async def usage_log(
        self,
        *,
        start: Instant,
        end: Instant | None = None,
        bucket_width: BucketWidth = "1h",
        group_by: Iterable[str] = CODEX_GROUPS,
    ) -> UsageLog:
        """The usage of ``[start, end)`` as a :class:`UsageLog`."""
        buckets = [
            b
            async for b in self.codex_usage(
                start=start, end=end, bucket_width=bucket_width, group_by=group_by
            )
        ]
        return usage_log(buckets)

    async def rate_limit_events(
        self, *, start: Instant, end: Instant | None = None, limit: int | None = None
    ) -> AsyncIterator[RateLimitEvent]:
        """Every rate-limit event in ``[start, end)``, across all pages."""
        call = rate_limit_events_call(start=start, end=end, limit=limit)
        async for page in self.iter_pages(call):
            for event in page.data:
                yield event

    async def rate_limit_events_page(self, **query: Any) -> RateLimitEventsPage:
        """One page of rate-limit events, with the range's totals."""
        return await self.send(rate_limit_events_call(**query))

    async def completions_usage(self, **query: Any) -> AsyncIterator[CompletionsUsageBucket]:
        """Every bucket of OpenAI's completions usage."""
        async for page in self.iter_pages(completions_usage_call(**query)):
            for bucket in page.data:
                yield bucket

    async def costs(self, **query: Any) -> AsyncIterator[CostsBucket]:
        """Every bucket of OpenAI's costs."""
        async for page in self.iter_pages(costs_call(**query)):
            for bucket in page.data:
                yield bucket


class _AsyncRawView:
    """``async_client.with_raw_response``."""

    def __init__(self, client: AsyncUsageClient) -> None:
        self._client = client

    async def credit_status(self) -> RawResponse[CreditStatus]:
        return await self._client.send_raw(credit_status_call())

    async def subscription(self) -> RawResponse[Subscription]:
        return await self._client.send_raw(subscription_call())

    async def codex_usage_page(self, **query: Any) -> RawResponse[CodexUsagePage]:
        return await self._client.send_raw(codex_usage_call(**query))

    async def rate_limit_events_page(self, **query: Any) -> RawResponse[RateLimitEventsPage]:
        return await self._client.send_raw(rate_limit_events_call(**query))
