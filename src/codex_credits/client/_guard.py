"""What keeps a hostile or broken server from holding the client.

* :class:`Limits`: an overall deadline per request (every attempt and retry
  wait included) and per walk of pages, a page cap and a response size cap.
  All are configurable on the clients; breaking one raises an error of the
  :class:`~codex_credits.errors.ApiError` tree.
* :class:`Deadline`: a monotonic clock budget. Bodies are read in chunks and the
  deadline is checked after every chunk, so a server trickling one byte every
  two seconds is dropped when the deadline passes, whatever the read timeout.
* :func:`httpx_error`: every httpx exception mapped into the tree (a bad gzip
  body is an :class:`~codex_credits.errors.ApiDecodeError`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from codex_credits.client._calls import Call
from codex_credits.client._errors import connection_error
from codex_credits.client._secrets import Secret, one_line, redact
from codex_credits.errors import (
    ApiConnectionError,
    ApiDeadlineError,
    ApiDecodeError,
    ApiError,
    ApiPageLimitError,
    ApiResponseTooLargeError,
    ConfigError,
)

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_REQUEST_DEADLINE",
    "LOG_REDACTION",
    "Deadline",
    "Limits",
    "Watchdog",
    "httpx_error",
]

DEFAULT_REQUEST_DEADLINE = 120.0
"""Seconds one request may take, every attempt and every wait between retries included."""
DEFAULT_DEADLINE = 900.0
"""Seconds one walk of pages (one list, one command's fetch) may take."""
DEFAULT_MAX_PAGES = 1_000
"""Most pages one list may take (an hourly year is 365 pages of 24 buckets)."""
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""Largest response body accepted, after decompression (64 MiB)."""


@dataclass(frozen=True)
class Limits:
    """The client's bounds; ``None`` turns a deadline off."""

    request_deadline: float | None = DEFAULT_REQUEST_DEADLINE
    deadline: float | None = DEFAULT_DEADLINE
    max_pages: int = DEFAULT_MAX_PAGES
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    def __post_init__(self) -> None:
        for name in ("request_deadline", "deadline"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"{name} must be > 0 seconds (or None), got {value}")
        if self.max_pages < 1:
            raise ConfigError(f"max_pages must be >= 1, got {self.max_pages}")
        if self.max_response_bytes < 1:
            raise ConfigError(f"max_response_bytes must be >= 1, got {self.max_response_bytes}")

    def check_pages(self, call: Call[Any], pages: int) -> None:
        """Raise :class:`ApiPageLimitError` once a walk needs more than ``max_pages``."""
        if pages > self.max_pages:
            raise ApiPageLimitError(
                f"{call.describe()}: the server still had more after {self.max_pages} pages "
                "(max_pages); stopping instead of following its cursors forever"
            )


class Deadline:
    """An instant, on a monotonic clock, by which something must be done."""

    __slots__ = ("_at", "_clock", "seconds", "what")

    def __init__(
        self,
        seconds: float | None,
        what: str,
        clock: Callable[[], float] = time.monotonic,
        parent: Deadline | None = None,
    ) -> None:
        self._clock = clock
        self.seconds = seconds
        self.what = what
        own = None if seconds is None else clock() + seconds
        outer = None if parent is None else parent._at
        if own is not None and (outer is None or own <= outer):
            self._at: float | None = own
        else:
            self._at = outer
            if parent is not None and outer is not None:
                self.seconds, self.what = parent.seconds, parent.what

    def remaining(self) -> float | None:
        """Seconds left (never below 0), or None without a deadline."""
        return None if self._at is None else max(0.0, self._at - self._clock())

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        left = self.remaining()
        return left is not None and left <= 0

    def error(self, call: Call[Any], during: str = "") -> ApiDeadlineError:
        """The error to raise when the deadline passed."""
        at = f" while {during}" if during else ""
        return ApiDeadlineError(
            f"{call.describe()}: the {self.what} deadline of {self.seconds:g} s passed{at}"
        )

    def check(self, call: Call[Any], during: str = "") -> None:
        """Raise :class:`ApiDeadlineError` if the deadline has passed."""
        if self.expired():
            raise self.error(call, during)

    def timeout(self, base: httpx.Timeout) -> httpx.Timeout:
        """``base`` with no phase longer than the time left."""
        left = self.remaining()
        if left is None:
            return base
        left = max(left, 0.001)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(base.connect),
            read=cap(base.read),
            write=cap(base.write),
            pool=cap(base.pool),
        )


class BodyReader:
    """Collects a streamed body under the size cap and the deadline."""

    def __init__(
        self, response: httpx.Response, call: Call[Any], limits: Limits, deadline: Deadline
    ) -> None:
        self._call = call
        self._limit = limits.max_response_bytes
        self._deadline = deadline
        self._chunks: list[bytes] = []
        self._size = 0
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._limit:
            raise self._too_large(int(declared))

    def _too_large(self, size: int) -> ApiResponseTooLargeError:
        return ApiResponseTooLargeError(
            f"{self._call.describe()}: the response is larger than "
            f"{self._limit:,} bytes ({size:,} or more; max_response_bytes)"
        )

    def add(self, chunk: bytes) -> None:
        """Keep ``chunk``; raise once over the size cap or past the deadline."""
        self._size += len(chunk)
        if self._size > self._limit:
            raise self._too_large(self._size)
        self._chunks.append(chunk)
        self._deadline.check(self._call, "reading the response")

    def body(self) -> bytes:
        """Everything read."""
        return b"".join(self._chunks)


def read_body(
    response: httpx.Response, call: Call[Any], limits: Limits, deadline: Deadline
) -> bytes:
    """The (decoded) body of a streamed response, under the size cap and the deadline."""
    reader = BodyReader(response, call, limits, deadline)
    chunks: Iterator[bytes] = response.iter_bytes()
    for chunk in chunks:
        reader.add(chunk)
    return _keep(response, reader.body())


async def aread_body(
    response: httpx.Response, call: Call[Any], limits: Limits, deadline: Deadline
) -> bytes:
    """:func:`read_body` for an async response."""
    reader = BodyReader(response, call, limits, deadline)
    chunks: AsyncIterator[bytes] = response.aiter_bytes()
    async for chunk in chunks:
        reader.add(chunk)
    return _keep(response, reader.body())


def _keep(response: httpx.Response, body: bytes) -> bytes:
    # The body was read chunk by chunk; store it so ``response.text`` works as after read().
    response._content = body
    return body


class Watchdog:
    """Closes a sync client's connections when a deadline passes.

    A blocking read cannot be cancelled; closing the pool's sockets makes the
    next read fail, so a server sending one byte at a time (headers included)
    cannot hold a request past its deadline by more than one byte's wait. The
    async client needs none: ``anyio.fail_after`` cancels the attempt.
    """

    def __init__(self, http: httpx.Client, deadline: Deadline) -> None:
        self.fired = False
        self._http = http
        left = deadline.remaining()
        self._timer = None if left is None else threading.Timer(left, self._fire)
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        transport = getattr(self._http, "_transport", None)
        close = getattr(transport, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                logging.getLogger("codex_credits.client").debug("closing the pool failed")

    def __enter__(self) -> Watchdog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


def httpx_error(
    exc: Exception, call: Call[Any], url: str, secret: Secret | None, retries: int = 0
) -> ApiError:
    """The library error for any httpx exception (never a bare httpx error)."""
    if isinstance(exc, httpx.TransportError):
        return connection_error(exc, call, url, secret, retries)
    reason = one_line(redact(str(exc) or type(exc).__name__, secret), 200)
    if isinstance(exc, httpx.DecodingError):
        return ApiDecodeError(
            f"{call.describe()}: the response body could not be decoded: {reason}"
        )
    return ApiConnectionError(f"{call.describe()} to {url} failed ({type(exc).__name__}: {reason})")


_HTTP_LOGGERS = (
    "httpx",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.connection",
    "httpcore.proxy",
)


class RedactingFilter(logging.Filter):
    """Masks the keys of every open client in the records of httpx's and httpcore's loggers
    (their debug traces print response headers, where a server may echo the key)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: dict[int, Secret] = {}

    def register(self, owner: object, secret: Secret) -> None:
        """Redact ``secret`` until :meth:`forget` is called for ``owner``."""
        with self._lock:
            self._secrets[id(owner)] = secret

    def forget(self, owner: object) -> None:
        """Stop redacting the secret of ``owner`` (a closed client)."""
        with self._lock:
            self._secrets.pop(id(owner), None)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            secrets = list(self._secrets.values())
        if secrets:
            text = record.getMessage()
            for secret in secrets:
                text = redact(text, secret)
            record.msg, record.args = text, ()
        return True


LOG_REDACTION = RedactingFilter()
"""The filter installed on httpx's and httpcore's loggers when the client is imported."""
for _name in _HTTP_LOGGERS:
    logging.getLogger(_name).addFilter(LOG_REDACTION)
