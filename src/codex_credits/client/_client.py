"""``UsageClient`` and ``AsyncUsageClient``: the usage API over httpx.

Both clients drive the same pure layer (:mod:`codex_credits.client._calls`
and :mod:`codex_credits.client._retry`): it builds every request, decides every retry and decodes every payload, so
the sync and async clients give identical results by construction. This
module only moves bytes, sleeps between attempts and walks pages.

Retries: connection errors, timeouts, 408, 409, 429 and 5xx are retried up to
``max_retries`` times (default 2) with exponential backoff and jitter, or
after the delay the server asks for (``retry-after-ms``, ``Retry-After``). A
429 that says the quota is exhausted is raised at once. ``sleep`` and
``random`` are injectable so tests never wait.
"""

from __future__ import annotations

import logging
import os
import random as _random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import anyio
import httpx
from pydantic import BaseModel

from codex_credits._version import __version__
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
    decode,
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
    Watchdog,
    aread_body,
    httpx_error,
    read_body,
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
from codex_credits.client._retry import DEFAULT_MAX_RETRIES, retry_delay, should_retry, status_error
from codex_credits.client._secrets import Secret, redact, resolve_api_key, resolve_base_url, scrub
from codex_credits.clock import Clock, SystemClock
from codex_credits.core.account import Account
from codex_credits.core.ratecard import RateCard
from codex_credits.core.status import account_from_status
from codex_credits.core.usage import UsageLog
from codex_credits.errors import ApiError, ConfigError

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncUsageClient",
    "RawResponse",
    "UsageClient",
]

M = TypeVar("M", bound=BaseModel)
P = TypeVar("P", bound=Page[Any])

logger = logging.getLogger("codex_credits.client")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""30 s to read a (slow) page, 5 s to connect: a dead server fails in seconds."""


@dataclass(frozen=True)
class RawResponse(Generic[M]):
    """A decoded payload and the :class:`httpx.Response` it came from."""

    parsed: M
    http_response: httpx.Response

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id``."""
        return _request_id(self.http_response)


class _Settings:
    """Configuration shared by both clients; holds the key as a :class:`~._secrets.Secret`."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        environ: Mapping[str, str] | None,
        random: Callable[[], float] | None,
        clock: Clock | None,
        default_headers: Mapping[str, str] | None,
        limits: Limits | None = None,
    ) -> None:
        self.limits = limits or Limits()
        env = os.environ if environ is None else environ
        self.base_url = resolve_base_url(base_url, env)
        self.secret = resolve_api_key(api_key, env)
        if max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0, got {max_retries}")
        self.max_retries = max_retries
        self.timeout = (
            DEFAULT_TIMEOUT
            if timeout is None
            else timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout)
        )
        self.random = random or _random.random
        self.clock = clock or SystemClock()
        self.extra_headers = dict(default_headers or {})
        # Proxies from the environment are honoured for https only: a plain-http
        # (loopback) request must never be handed to a proxy with the key.
        self.trust_env = self.base_url.lower().startswith("https://")

    def request_deadline(self, within: Deadline | None) -> Deadline:
        """The deadline of one request (retries included), inside ``within`` if given."""
        return Deadline(self.limits.request_deadline, "request", parent=within)

    def walk_deadline(self) -> Deadline:
        """The deadline of one walk of pages."""
        return Deadline(self.limits.deadline, "overall")

    def request(
        self, http: httpx.Client | httpx.AsyncClient, call: Call[Any], deadline: Deadline
    ) -> httpx.Request:
        headers = {
            **self.extra_headers,
            "Accept": "application/json",
            "User-Agent": f"codex-credits/{__version__}",
            "Authorization": f"Bearer {self.secret.reveal()}",
        }
        return http.build_request(
            call.method,
            self.base_url + call.path,
            params=list(call.params),
            headers=headers,
            timeout=deadline.timeout(self.timeout),
        )

    def url(self, call: Call[Any]) -> str:
        return self.base_url + call.path

    def now(self) -> datetime:
        return self.clock.now()

    def retry_log(self, call: Call[Any], why: str, delay: float, retries: int) -> None:
        logger.info(
            "retrying %s after %s in %.2f s (retry %d of %d)",
            call.describe(),
            why,
            delay,
            retries + 1,
            self.max_retries,
        )


def _request_id(response: httpx.Response, secret: Secret | None = None) -> str | None:
    value: str | None = response.headers.get("x-request-id")
    return None if value is None else redact(value, secret)


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items()}


class _Outcome:
    """What one attempt produced: a result, or an error and whether to retry it."""

    __slots__ = ("delay", "error", "response")

    def __init__(
        self,
        response: httpx.Response | None = None,
        error: ApiError | None = None,
        delay: float | None = None,
    ) -> None:
        self.response = response
        self.error = error
        self.delay = delay


def _judge(
    settings: _Settings,
    call: Call[Any],
    retries: int,
    response: httpx.Response | None,
    exc: httpx.TransportError | None,
) -> _Outcome:
    """Decide what an attempt means: success, a retry after ``delay``, or a final error."""
    can_retry = retries < settings.max_retries
    if exc is not None:
        error: ApiError = httpx_error(exc, call, settings.url(call), settings.secret, retries)
        delay = retry_delay(retries, {}, random=settings.random) if can_retry else None
        if delay is not None:
            settings.retry_log(call, type(exc).__name__, delay, retries)
        return _Outcome(error=error, delay=delay)
    assert response is not None
    logger.debug(
        "%s %s -> %d (request id %s)",
        call.method,
        response.request.url,
        response.status_code,
        _request_id(response, settings.secret),
    )
    if response.is_success:
        return _Outcome(response=response)
    text = response.text
    headers = _headers(response)
    status = response.status_code
    error = status_error(
        call,
        status,
        text,
        request_id=_request_id(response, settings.secret),
        secret=settings.secret,
        retries=retries,
    )
    if can_retry and should_retry(status, headers, text):
        delay = retry_delay(retries, headers, random=settings.random, now=settings.now())
        settings.retry_log(call, f"HTTP {status}", delay, retries)
        return _Outcome(error=error, delay=delay)
    return _Outcome(error=error)


def _decode(call: Call[M], response: httpx.Response, secret: Secret) -> M:
    try:
        return decode(call, response.text, request_id=_request_id(response, secret))
    except ApiError as exc:
        raise scrub(exc, secret) from None


_OTHER_HTTPX_ERRORS = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL)


def _wait(
    outcome: _Outcome, deadline: Deadline, call: Call[Any], failure: BaseException | None
) -> float:
    """The delay before the next attempt; raise the error when there is none to make."""
    assert outcome.error is not None
    if deadline.expired():  # a timeout cut short by the deadline names the deadline
        raise deadline.error(call, f"after {outcome.error}") from failure
    if outcome.delay is None:
        raise outcome.error from failure
    left = deadline.remaining()
    if left is not None and outcome.delay >= left:
        raise deadline.error(call, f"waiting to retry ({outcome.error})") from failure
    return outcome.delay


class UsageClient:
    """A synchronous client of the usage API.

    Args:
        api_key: the key; else ``OPENAI_ADMIN_KEY``, else ``OPENAI_API_KEY``.
        base_url: else ``CODEX_CREDITS_BASE_URL``, else ``https://api.openai.com/v1``.
            Plain ``http://`` is refused unless the host is loopback.
        timeout: seconds, or an :class:`httpx.Timeout`; default 5 s to connect, 30 s to read.
        max_retries: retries after the first attempt (0 disables them).
        transport: an httpx transport, e.g. :class:`httpx.MockTransport` or the fake API's.
        sleep: called with the seconds to wait between attempts (tests pass a recorder).
        random: a ``() -> float`` in [0, 1) for the backoff jitter.
        clock: tells "now" for ``Retry-After`` dates.
        environ: the environment to read the key and base URL from (default ``os.environ``).
        default_headers: extra headers for every request.
        request_deadline: seconds one request may take in all, retries and waits
            included (default 120; None: no limit). A server trickling bytes is
            dropped when it passes (:class:`~codex_credits.errors.ApiDeadlineError`).
        deadline: seconds one walk of pages may take (default 900; None: no limit).
        max_pages: most pages one list may take (default 1,000;
            :class:`~codex_credits.errors.ApiPageLimitError`).
        max_response_bytes: largest body accepted, decompressed (default 64 MiB;
            :class:`~codex_credits.errors.ApiResponseTooLargeError`).

    Raises:
        ConfigError: no key, or an unsafe or malformed base URL; before any request.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
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
        self._settings = _Settings(
            api_key, base_url, timeout, max_retries, environ, random, clock, default_headers, limits
        )
        self._sleep = sleep or time.sleep
        LOG_REDACTION.register(self, self._settings.secret)
        self._http = httpx.Client(
            transport=transport,
            timeout=self._settings.timeout,
            follow_redirects=False,
            trust_env=self._settings.trust_env,
        )

    def __repr__(self) -> str:
        return (
            f"UsageClient(base_url={self.base_url!r}, max_retries={self.max_retries}, "
            "api_key='**********')"
        )

    @property
    def base_url(self) -> str:
        """The base URL every path is appended to."""
        return self._settings.base_url

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._settings.max_retries

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool."""
        LOG_REDACTION.forget(self)
        self._http.close()

    def __enter__(self) -> UsageClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- core --------------------------------------------------------------------------------

    def send_raw(self, call: Call[M], *, within: Deadline | None = None) -> RawResponse[M]:
        """Send ``call`` with retries; the decoded payload and the raw response.

        ``within``: an outer deadline (a walk of pages) the request must also meet.
        """
        settings = self._settings
        deadline = settings.request_deadline(within)
        retries = 0
        while True:
            deadline.check(call)
            request = settings.request(self._http, call, deadline)
            response: httpx.Response | None = None
            failure: httpx.TransportError | None = None
            watchdog = Watchdog(self._http, deadline)
            try:
                with watchdog:
                    response = self._http.send(request, stream=True)
                    try:
                        read_body(response, call, settings.limits, deadline)
                    finally:
                        response.close()
            except httpx.TransportError as exc:
                response, failure = None, exc
            except _OTHER_HTTPX_ERRORS as exc:
                raise httpx_error(exc, call, settings.url(call), settings.secret) from exc
            except ApiError:
                raise
            except Exception as exc:  # a socket closed under a read by the watchdog
                if watchdog.fired:
                    raise deadline.error(call, "waiting for the server") from exc
                raise
            outcome = _judge(settings, call, retries, response, failure)
            if outcome.response is not None:
                parsed = _decode(call, outcome.response, settings.secret)
                return RawResponse(parsed, outcome.response)
            self._sleep(_wait(outcome, deadline, call, failure))
            retries += 1

    def send(self, call: Call[M]) -> M:
        """Send ``call`` with retries and return the decoded payload."""
        return self.send_raw(call).parsed

    def iter_pages(self, call: Call[P]) -> Iterator[P]:
        """Every page of a list call, following ``next_page`` until ``has_more`` is false.

        Raises:
            ApiDecodeError: when the server repeats a cursor (instead of looping forever).
            ApiPageLimitError: past ``max_pages`` pages.
            ApiDeadlineError: past the overall ``deadline``.
        """
        seen: set[str] = set()
        walk = self._settings.walk_deadline()
        pages = 0
        while True:
            pages += 1
            self._settings.limits.check_pages(call, pages)
            page = self.send_raw(call, within=walk).parsed
            yield page
            cursor = next_cursor(call, page, seen)
            if cursor is None:
                return
            call = with_page(call, cursor)

    # -- endpoints ---------------------------------------------------------------------------

    @property
    def with_raw_response(self) -> _RawView:
        """The same single-request methods, returning :class:`RawResponse` values."""
        return _RawView(self)

    def credit_status(self) -> CreditStatus:
        """``GET /usage/codex``: the current period's consumption and balances."""
        return self.send(credit_status_call())

    def subscription(self) -> Subscription:
        """``GET /organization/billing/subscription``."""
        return self.send(subscription_call())

    def account_status(self) -> AccountStatus:
        """The subscription and the credit status joined into one :class:`AccountStatus`."""
        return account_status(self.credit_status(), self.subscription())

    def account(
        self,
        card: RateCard | str | None = None,
        *,
        at: datetime | None = None,
        rollover_consumed: Decimal | int | str | None = None,
    ) -> Account:
        """A live :class:`~codex_credits.Account` standing where the API says it is now.

        Fetches :meth:`account_status` and builds the engine state at ``at``
        (default: the client's clock after the fetch) with
        :func:`~codex_credits.core.status.account_from_status`; the account keeps
        the client's clock.

        Raises:
            ConfigError: the status does not fit ``card`` (see docs/api-client.md).
        """
        status = self.account_status()
        when = at if at is not None else self._settings.now()
        return account_from_status(
            status, card, at=when, clock=self._settings.clock, rollover_consumed=rollover_consumed
        )

    def codex_usage_page(self, **query: Any) -> CodexUsagePage:
        """One page of ``GET /organization/usage/codex`` (see :func:`~._calls.codex_usage_call`)."""
        return self.send(codex_usage_call(**query))

    def codex_usage(
        self,
        *,
        start: Instant,
        end: Instant | None = None,
        bucket_width: BucketWidth = "1d",
        group_by: Iterable[str] = (),
        limit: int | None = None,
    ) -> Iterator[CodexUsageBucket]:
        """Every usage bucket in ``[start, end)``, across all pages."""
        call = codex_usage_call(
            start=start, end=end, bucket_width=bucket_width, group_by=tuple(group_by), limit=limit
        )
        for page in self.iter_pages(call):
            yield from page.data

    def usage_log(
        self,
        *,
        start: Instant,
        end: Instant | None = None,
        bucket_width: BucketWidth = "1h",
        group_by: Iterable[str] = CODEX_GROUPS,
    ) -> UsageLog:
        """The usage of ``[start, end)`` as a :class:`UsageLog`, one event per bucket x group."""
        return usage_log(
            self.codex_usage(start=start, end=end, bucket_width=bucket_width, group_by=group_by)
        )

    def rate_limit_events(
        self, *, start: Instant, end: Instant | None = None, limit: int | None = None
    ) -> Iterator[RateLimitEvent]:
        """Every rate-limit event in ``[start, end)``, across all pages."""
        call = rate_limit_events_call(start=start, end=end, limit=limit)
        for page in self.iter_pages(call):
            yield from page.data

    def rate_limit_events_page(self, **query: Any) -> RateLimitEventsPage:
        """One page of rate-limit events, with the range's totals."""
        return self.send(rate_limit_events_call(**query))

    def completions_usage(self, **query: Any) -> Iterator[CompletionsUsageBucket]:
        """Every bucket of OpenAI's completions usage (query: ``completions_usage_call``)."""
        for page in self.iter_pages(completions_usage_call(**query)):
            yield from page.data

    def costs(self, **query: Any) -> Iterator[CostsBucket]:
        """Every bucket of OpenAI's costs (see :func:`~._calls.costs_call`)."""
        for page in self.iter_pages(costs_call(**query)):
            yield from page.data


class _RawView:
    """``client.with_raw_response``: single requests returning :class:`RawResponse`."""

    def __init__(self, client: UsageClient) -> None:
        self._client = client

    def credit_status(self) -> RawResponse[CreditStatus]:
        return self._client.send_raw(credit_status_call())

    def subscription(self) -> RawResponse[Subscription]:
        return self._client.send_raw(subscription_call())

    def codex_usage_page(self, **query: Any) -> RawResponse[CodexUsagePage]:
        return self._client.send_raw(codex_usage_call(**query))

    def rate_limit_events_page(self, **query: Any) -> RawResponse[RateLimitEventsPage]:
        return self._client.send_raw(rate_limit_events_call(**query))


class AsyncUsageClient:
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
        self._settings = _Settings(
            api_key, base_url, timeout, max_retries, environ, random, clock, default_headers, limits
        )
        self._sleep = sleep or anyio.sleep
        LOG_REDACTION.register(self, self._settings.secret)
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=self._settings.timeout,
            follow_redirects=False,
            trust_env=self._settings.trust_env,
        )

    def __repr__(self) -> str:
        return (
            f"AsyncUsageClient(base_url={self.base_url!r}, max_retries={self.max_retries}, "
            "api_key='**********')"
        )

    @property
    def base_url(self) -> str:
        """The base URL every path is appended to."""
        return self._settings.base_url

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._settings.max_retries

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
            except _OTHER_HTTPX_ERRORS as exc:
                raise httpx_error(exc, call, settings.url(call), settings.secret) from exc
            outcome = _judge(settings, call, retries, response, failure)
            if outcome.response is not None:
                parsed = _decode(call, outcome.response, settings.secret)
                return RawResponse(parsed, outcome.response)
            await self._sleep(_wait(outcome, deadline, call, failure))
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
