"""Mapping httpx's transport failures onto the library's error tree.

httpx raises :class:`httpx.TimeoutException` and other
:class:`httpx.TransportError` subclasses; callers of the usage client only
ever see :class:`~codex_credits.errors.ApiTimeoutError` and
:class:`~codex_credits.errors.ApiConnectionError`, chained ``from`` the
original so a debugger still finds it. Messages are one line and never hold
the key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from codex_credits.client._calls import Call
from codex_credits.client._secrets import Secret, one_line, redact
from codex_credits.errors import ApiConnectionError, ApiTimeoutError

__all__ = ["connection_error", "map_httpx_errors"]


def connection_error(
    exc: httpx.TransportError, call: Call[Any], url: str, secret: Secret | None, retries: int = 0
) -> ApiConnectionError:
    """The most specific library error for a transport failure."""
    reason = one_line(redact(str(exc) or type(exc).__name__, secret), 200)
    after = f" (after {retries} {'retry' if retries == 1 else 'retries'})" if retries else ""
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return ApiTimeoutError(f"{call.describe()} to {url} timed out ({kind}: {reason}){after}")
    return ApiConnectionError(f"{call.describe()} to {url} failed: {reason}{after}")


@contextmanager
def map_httpx_errors(call: Call[Any], url: str, secret: Secret | None) -> Iterator[None]:
    """Re-raise httpx transport errors as :class:`ApiConnectionError` (``from exc``)."""
    try:
        yield
    except httpx.TransportError as exc:
        raise connection_error(exc, call, url, secret) from exc
