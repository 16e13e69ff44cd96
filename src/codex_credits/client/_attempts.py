"""What both usage clients share: their settings and the judging of every attempt.

:class:`~codex_credits.client.UsageClient` and
:class:`~codex_credits.client.AsyncUsageClient` send the same requests and judge
each answer here, so they give identical results by construction; they only
move bytes, sleep between attempts and walk pages.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from codex_credits._version import __version__
from codex_credits.client._calls import Call, decode
from codex_credits.client._guard import Deadline, Limits, httpx_error
from codex_credits.client._retry import retry_delay, should_retry, status_error
from codex_credits.client._secrets import Secret, redact, resolve_api_key, resolve_base_url, scrub
from codex_credits.clock import Clock, SystemClock
from codex_credits.errors import ApiError, ConfigError

__all__ = [
    "DEFAULT_TIMEOUT",
    "OTHER_HTTPX_ERRORS",
    "Outcome",
    "RawResponse",
    "Settings",
    "decode_response",
    "judge",
    "wait",
]

M = TypeVar("M", bound=BaseModel)

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


class Settings:
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


class Outcome:
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


def judge(
    settings: Settings,
    call: Call[Any],
    retries: int,
    response: httpx.Response | None,
    exc: httpx.TransportError | None,
) -> Outcome:
    """Decide what an attempt means: success, a retry after ``delay``, or a final error."""
    can_retry = retries < settings.max_retries
    if exc is not None:
        error: ApiError = httpx_error(exc, call, settings.url(call), settings.secret, retries)
        delay = retry_delay(retries, {}, random=settings.random) if can_retry else None
        if delay is not None:
            settings.retry_log(call, type(exc).__name__, delay, retries)
        return Outcome(error=error, delay=delay)
    assert response is not None
    logger.debug(
        "%s %s -> %d (request id %s)",
        call.method,
        response.request.url,
        response.status_code,
        _request_id(response, settings.secret),
    )
    if response.is_success:
        return Outcome(response=response)
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
        return Outcome(error=error, delay=delay)
    return Outcome(error=error)


def decode_response(call: Call[M], response: httpx.Response, secret: Secret) -> M:
    try:
        return decode(call, response.text, request_id=_request_id(response, secret))
    except ApiError as exc:
        raise scrub(exc, secret) from None


OTHER_HTTPX_ERRORS = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL)


def wait(
    outcome: Outcome, deadline: Deadline, call: Call[Any], failure: BaseException | None
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
