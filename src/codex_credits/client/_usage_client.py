"""``UsageClient``: the usage API over httpx, synchronously.

It sends each request through :mod:`codex_credits.client._attempts` (settings,
retries, judging) and the pure layer (:mod:`codex_credits.client._calls` and
:mod:`codex_credits.client._retry`), which build every request, decide every
retry and decode every payload. This module only moves bytes, sleeps between
attempts and walks pages.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

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
    Watchdog,
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
from codex_credits.client._retry import DEFAULT_MAX_RETRIES
from codex_credits.clock import Clock
from codex_credits.core.account import Account
from codex_credits.core.ratecard import RateCard
from codex_credits.core.statefromstatus import account_from_status
from codex_credits.core.usage import UsageLog
from codex_credits.errors import ApiError

__all__ = ["UsageClient"]

M = TypeVar("M", bound=BaseModel)
P = TypeVar("P", bound=Page[Any])


class UsageClient(ClientBase):
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
        settings = Settings(
            api_key, base_url, timeout, max_retries, environ, random, clock, default_headers, limits
        )
        super().__init__(settings)
        self._sleep = sleep or time.sleep
        self._http = httpx.Client(transport=transport, **self._http_options())

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
            except OTHER_HTTPX_ERRORS as exc:
                raise httpx_error(exc, call, settings.url(call), settings.secret) from exc
            except ApiError:
                raise
            except Exception as exc:  # a socket closed under a read by the watchdog
                if watchdog.fired:
                    raise deadline.error(call, "waiting for the server") from exc
                raise
            outcome = judge(settings, call, retries, response, failure)
            if outcome.response is not None:
                parsed = decode_response(call, outcome.response, settings.secret)
                return RawResponse(parsed, outcome.response)
            self._sleep(wait(outcome, deadline, call, failure))
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
        :func:`~codex_credits.core.statefromstatus.account_from_status`; the account keeps
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
