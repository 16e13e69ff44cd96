"""When to try a request again, and which error an error status is.

Pure, like :mod:`codex_credits.client._calls`: no I/O, no clock, no httpx.
:func:`status_error` maps an error status to the error tree;
:func:`should_retry` and :func:`retry_delay` decide whether and when to try
again (408, 409, 429 and 5xx; ``retry-after-ms`` then ``Retry-After``; a 429
that says the quota is exhausted is final).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

from codex_credits.client._calls import Call
from codex_credits.client._secrets import Secret, one_line, redact
from codex_credits.errors import (
    ApiStatusError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "RETRYABLE_STATUSES",
    "is_quota_exhausted",
    "retry_after_seconds",
    "retry_delay",
    "should_retry",
    "status_error",
]

DEFAULT_MAX_RETRIES = 2
RETRYABLE_STATUSES = frozenset({408, 409, 429})
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0

_QUOTA_CODES = ("insufficient_quota", "quota_exceeded", "quota_exhausted")
_QUOTA_WORDS = re.compile(
    r"quota\W+(?:\w+\W+){0,3}?(?:exhausted|exceeded|used up|reached)|"
    r"(?:exhausted|exceeded|insufficient)\W+(?:\w+\W+){0,3}?quota",
    re.I,
)


def _error_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        return {}
    if isinstance(data, dict):
        inner = data.get("error", data)
        if isinstance(inner, dict):
            return inner
        if isinstance(inner, str):
            return {"message": inner}
    return {}


def is_quota_exhausted(text: str) -> bool:
    """Whether an error body says the quota is used up (retrying cannot help)."""
    error = _error_object(text)
    for field in ("code", "type"):
        value = error.get(field)
        if isinstance(value, str) and value.lower() in _QUOTA_CODES:
            return True
    message = error.get("message")
    probe = message if isinstance(message, str) else text
    return bool(_QUOTA_WORDS.search(probe)) or any(code in text for code in _QUOTA_CODES)


def should_retry(status: int, headers: Mapping[str, str], text: str) -> bool:
    """Whether a response with ``status`` may be retried.

    ``x-should-retry: true|false`` from the server wins; otherwise 408, 409,
    429 and 5xx are retried, except a 429 whose body says the quota is exhausted.
    """
    if status == 429 and is_quota_exhausted(text):
        return False
    hint = headers.get("x-should-retry", "").lower()
    if hint in ("true", "false"):
        return hint == "true"
    return status in RETRYABLE_STATUSES or status >= 500


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The delay the server asks for: ``retry-after-ms``, else ``Retry-After`` (seconds or date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    after = headers.get("retry-after")
    if after is None:
        return None
    try:
        return max(0.0, float(after))
    except ValueError:
        pass
    if now is None:
        return None
    try:
        when = parsedate_to_datetime(after)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def retry_delay(
    retries_done: int,
    headers: Mapping[str, str],
    *,
    random: Callable[[], float],
    now: datetime | None = None,
) -> float:
    """Seconds to wait before retry number ``retries_done + 1``.

    A server's ``retry-after-ms``/``Retry-After`` of at most 60 s is obeyed;
    otherwise exponential backoff from 0.5 s, doubled per retry, capped at 8 s,
    minus up to 25% jitter (as the official OpenAI SDKs do).
    """
    asked = retry_after_seconds(headers, now)
    if asked is not None and asked <= MAX_RETRY_AFTER:
        return asked
    delay = min(INITIAL_RETRY_DELAY * 2.0**retries_done, MAX_RETRY_DELAY)
    return delay * (1 - 0.25 * random())


def status_error(
    call: Call[Any],
    status: int,
    text: str,
    *,
    request_id: str | None,
    secret: Secret | None,
    retries: int = 0,
) -> ApiStatusError:
    """The typed error for an error status, with a one-line, key-free message."""
    body = redact(text, secret)
    error = _error_object(text)  # decoded first, then redacted: escapes cannot hide the key
    detail = error.get("message") if isinstance(error.get("message"), str) else body
    detail = redact(str(detail), secret)
    code = error.get("code") or error.get("type")
    code = redact(code, secret) if isinstance(code, str) else code
    request_id = None if request_id is None else redact(request_id, secret)
    parts = [f"HTTP {status} from {call.describe()}"]
    if request_id:
        parts.append(f"(request id {one_line(request_id, 80)})")
    message = " ".join(parts)
    if isinstance(code, str) and code:
        message += f": {one_line(code, 60)}"
    if detail:
        message += f": {one_line(str(detail), 200)}"
    if retries:
        message += f" (after {retries} {'retry' if retries == 1 else 'retries'})"
    kwargs: dict[str, Any] = {"status_code": status, "body": body, "request_id": request_id}
    if status == 429:
        quota = is_quota_exhausted(body)
        if quota:
            message += " (quota exhausted: not retried)"
        return RateLimitError(message, quota_exhausted=quota, **kwargs)
    error_type: type[ApiStatusError] = {
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
    }.get(status, ServerError if status >= 500 else ApiStatusError)
    return error_type(message, **kwargs)
