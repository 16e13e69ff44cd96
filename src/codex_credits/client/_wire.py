"""The client's pure layer: build requests, judge responses, decode payloads.

Theory of operation (docs/api-client.md). Nothing here performs I/O, reads the
clock or imports httpx; :class:`~codex_credits.client.UsageClient` and
:class:`~codex_credits.client.AsyncUsageClient` both drive it, so the two
clients cannot drift apart (h11's sans-I/O split):

* :class:`Call` describes one request (method, path, query) and how to decode
  its answer. The ``*_call`` builders make them.
* :func:`decode` turns response text into a model: ``json.loads`` with
  ``parse_float=Decimal`` (exact amounts), then ``model_validate``; any failure
  is an :class:`~codex_credits.errors.ApiDecodeError` naming the JSON path.
* :func:`status_error` maps an error status to the error tree;
  :func:`should_retry` and :func:`retry_delay` decide whether and when to try
  again (408, 409, 429 and 5xx; ``retry-after-ms`` then ``Retry-After``; a 429
  that says the quota is exhausted is final).
* :func:`check_base_url` refuses plain ``http://`` except to loopback, and
  :class:`Secret` keeps the key out of every repr and message.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from codex_credits.client._models import (
    CodexUsagePage,
    CompletionsUsagePage,
    CostsPage,
    CreditStatus,
    RateLimitEventsPage,
    Subscription,
)
from codex_credits.core.timeutil import epoch_seconds, require_utc
from codex_credits.errors import (
    ApiDecodeError,
    ApiStatusError,
    AuthenticationError,
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "RETRYABLE_STATUSES",
    "BucketWidth",
    "Call",
    "Secret",
    "check_base_url",
    "codex_usage_call",
    "completions_usage_call",
    "costs_call",
    "credit_status_call",
    "decode",
    "is_quota_exhausted",
    "next_cursor",
    "one_line",
    "rate_limit_events_call",
    "redact",
    "resolve_api_key",
    "resolve_base_url",
    "retry_after_seconds",
    "retry_delay",
    "scrub",
    "should_retry",
    "status_error",
    "subscription_call",
    "with_page",
]

M = TypeVar("M", bound=BaseModel)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_RETRIES = 2
RETRYABLE_STATUSES = frozenset({408, 409, 429})
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
KEY_ENV_VARS = ("OPENAI_ADMIN_KEY", "OPENAI_API_KEY")
BASE_URL_ENV_VAR = "CODEX_CREDITS_BASE_URL"
REDACTED = "[REDACTED]"

BucketWidth = Literal["1h", "1d"]
Instant = datetime | int


# -- secrets and configuration ----------------------------------------------------------------


class Secret:
    """An API key that never shows itself: ``repr`` and ``str`` are masked."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        value = value.strip()
        if not value:
            raise ConfigError("the API key is empty")
        if any(c in value for c in "\r\n\0"):
            raise ConfigError("the API key contains a line break or NUL character")
        self._value = value

    def reveal(self) -> str:
        """The key itself; only the ``Authorization`` header should see it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # never pickle the key by accident
        raise TypeError("a Secret cannot be pickled")


def resolve_api_key(api_key: str | None, environ: Mapping[str, str]) -> Secret:
    """The key given, else ``OPENAI_ADMIN_KEY``, else ``OPENAI_API_KEY``.

    Raises:
        ConfigError: if there is none.
    """
    if api_key is not None:
        return Secret(api_key)
    for name in KEY_ENV_VARS:
        value = environ.get(name, "").strip()
        if value:
            return Secret(value)
    raise ConfigError(
        "no API key: pass api_key=... or set OPENAI_ADMIN_KEY (or OPENAI_API_KEY) "
        "to an admin key of the organization"
    )


def resolve_base_url(base_url: str | None, environ: Mapping[str, str]) -> str:
    """The URL given, else ``CODEX_CREDITS_BASE_URL``, else the OpenAI API; checked."""
    chosen = base_url or environ.get(BASE_URL_ENV_VAR, "").strip() or DEFAULT_BASE_URL
    return check_base_url(chosen)


def _loopback_address(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [str(info[4][0]) for info in infos]


def _is_loopback(host: str, resolve: Callable[[str], list[str]] = _resolve) -> bool:
    """Loopback by address: an IP literal in 127.0.0.0/8 or ::1, or ``localhost``
    when every address it resolves to is one. Other names (``*.localhost``
    included) are never trusted by name."""
    host = host.strip("[]").lower().rstrip(".")
    if _loopback_address(host):
        return True
    if host != "localhost":
        return False
    addresses = resolve(host)
    return bool(addresses) and all(_loopback_address(a) for a in addresses)


def check_base_url(url: str) -> str:
    """Refuse a base URL that would expose the key; return it without a trailing slash.

    ``https://`` is accepted for any host; plain ``http://`` only for loopback
    addresses (127.0.0.0/8, ::1; ``localhost`` only if it resolves to them alone),
    where the traffic never leaves the machine; names such as
    ``api.localhost`` are not trusted. Credentials or a query in the URL are refused too.

    Raises:
        ConfigError: before any request is sent.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        host = parts.hostname or ""
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ConfigError(f"base URL {_safe_url(url)!r} has an invalid port") from None
    if scheme not in ("http", "https") or not host:
        raise ConfigError(
            f"base URL {_safe_url(url)!r} must be an absolute https:// URL "
            "(for example https://api.openai.com/v1)"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigError("base URL must not contain credentials; the key goes in a header")
    if parts.query or parts.fragment:
        raise ConfigError(f"base URL {_safe_url(url)!r} must not have a query or fragment")
    if scheme == "http" and not _is_loopback(host):
        raise ConfigError(
            f"refusing plain http:// to {host}: the API key would travel unencrypted; "
            "use https://, or http:// only to a loopback address (127.0.0.1, ::1, localhost)"
        )
    return url.strip().rstrip("/")


def _safe_url(url: str) -> str:
    parts = urlsplit(url.strip())
    netloc = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else netloc + parts.path


def _key_pattern(key: str) -> re.Pattern[str]:
    """The key in any form a server may echo it: each character literal, ``\\uXXXX``
    (JSON), ``%XX`` (URL) or ``&#NN;`` / ``&#xXX;`` (HTML)."""
    forms = []
    for char in key:
        code = ord(char)
        forms.append(
            f"(?:{re.escape(char)}|\\\\u{code:04x}|%{code:02x}|&\\#{code};|&\\#x{code:x};)"
        )
    return re.compile("".join(forms), re.IGNORECASE)


def redact(text: str, secret: Secret | None) -> str:
    """``text`` with every occurrence of the key (and any bearer token) masked.

    The key is found literally and in every escaped form a server can echo it
    (JSON ``\\u`` escapes, URL and HTML encodings), so redacting the raw body
    and the text decoded from it are both safe.
    """
    if secret is not None:
        text = _key_pattern(secret.reveal()).sub(REDACTED, text)
    return re.sub(r"(?i)(bearer\s+)[^\s\"',;]+", r"\1" + REDACTED, text)


E = TypeVar("E", bound=BaseException)


def scrub(error: E, secret: Secret | None) -> E:
    """``error`` with the key redacted from its message and every text it carries
    (``body``, ``raw``, ``request_id``); returned for ``raise scrub(...)``."""
    error.args = tuple(redact(a, secret) if isinstance(a, str) else a for a in error.args)
    for name in ("body", "raw", "request_id"):
        value = getattr(error, name, None)
        if isinstance(value, str):
            setattr(error, name, redact(value, secret))
    return error


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace (newlines included) and cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# -- calls ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call(Generic[M]):
    """One GET request and the model that decodes its answer.

    ``path`` is relative to the base URL; ``params`` keeps repeated keys
    (``group_by``) in order.
    """

    path: str
    params: tuple[tuple[str, str], ...]
    model: type[M]
    method: str = "GET"

    @property
    def page(self) -> str | None:
        """The ``page`` cursor this call sends, if any."""
        return next((v for k, v in self.params if k == "page"), None)

    def describe(self) -> str:
        """``GET /path`` for messages (no query: it may be long)."""
        return f"{self.method} {self.path}"


def _seconds(value: Instant, name: str) -> str:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a datetime or Unix seconds, got a bool")
    if isinstance(value, int):
        return str(value)
    return str(epoch_seconds(require_utc(value, name)))


def _range_params(start: Instant, end: Instant | None) -> list[tuple[str, str]]:
    params = [("start_time", _seconds(start, "start"))]
    if end is not None:
        params.append(("end_time", _seconds(end, "end")))
        if int(params[1][1]) <= int(params[0][1]):
            raise ConfigError("end must be later than start")
    return params


def _tail_params(limit: int | None, page: str | None) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"limit must be >= 1, got {limit}")
        params.append(("limit", str(limit)))
    if page is not None:
        params.append(("page", page))
    return params


def _repeated(
    name: str, values: Iterable[str], allowed: Sequence[str] | None
) -> list[tuple[str, str]]:
    out = []
    for value in values:
        if allowed is not None and value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        out.append((name, value))
    return out


CODEX_GROUPS = ("user_id", "project_id", "task_type")


def credit_status_call() -> Call[CreditStatus]:
    """``GET /usage/codex``."""
    return Call("/usage/codex", (), CreditStatus)


def subscription_call() -> Call[Subscription]:
    """``GET /organization/billing/subscription``."""
    return Call("/organization/billing/subscription", (), Subscription)


def codex_usage_call(
    *,
    start: Instant,
    end: Instant | None = None,
    bucket_width: BucketWidth = "1d",
    group_by: Iterable[str] = (),
    limit: int | None = None,
    page: str | None = None,
) -> Call[CodexUsagePage]:
    """``GET /organization/usage/codex``: one page of buckets."""
    if bucket_width not in ("1h", "1d"):
        raise ConfigError(f"bucket_width must be 1h or 1d; got {bucket_width!r}")
    params = _range_params(start, end)
    params.append(("bucket_width", bucket_width))
    params += _repeated("group_by", group_by, CODEX_GROUPS)
    params += _tail_params(limit, page)
    return Call("/organization/usage/codex", tuple(params), CodexUsagePage)


def rate_limit_events_call(
    *,
    start: Instant,
    end: Instant | None = None,
    limit: int | None = None,
    page: str | None = None,
) -> Call[RateLimitEventsPage]:
    """``GET /organization/usage/codex/rate_limit_events``: one page of events."""
    params = _range_params(start, end) + _tail_params(limit, page)
    return Call("/organization/usage/codex/rate_limit_events", tuple(params), RateLimitEventsPage)


def completions_usage_call(
    *,
    start: Instant,
    end: Instant | None = None,
    bucket_width: Literal["1m", "1h", "1d"] = "1d",
    group_by: Iterable[str] = (),
    project_ids: Iterable[str] = (),
    user_ids: Iterable[str] = (),
    models: Iterable[str] = (),
    limit: int | None = None,
    page: str | None = None,
) -> Call[CompletionsUsagePage]:
    """OpenAI's ``GET /organization/usage/completions``: one page of buckets."""
    params = _range_params(start, end)
    params.append(("bucket_width", bucket_width))
    params += _repeated(
        "group_by",
        group_by,
        ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier"),
    )
    params += _repeated("project_ids", project_ids, None)
    params += _repeated("user_ids", user_ids, None)
    params += _repeated("models", models, None)
    params += _tail_params(limit, page)
    return Call("/organization/usage/completions", tuple(params), CompletionsUsagePage)


def costs_call(
    *,
    start: Instant,
    end: Instant | None = None,
    group_by: Iterable[str] = (),
    project_ids: Iterable[str] = (),
    limit: int | None = None,
    page: str | None = None,
) -> Call[CostsPage]:
    """OpenAI's ``GET /organization/costs``: one page of daily buckets."""
    params = _range_params(start, end)
    params.append(("bucket_width", "1d"))
    params += _repeated("group_by", group_by, ("project_id", "line_item"))
    params += _repeated("project_ids", project_ids, None)
    params += _tail_params(limit, page)
    return Call("/organization/costs", tuple(params), CostsPage)


def with_page(call: Call[M], page: str) -> Call[M]:
    """The same call asking for the page ``page`` (the previous ``next_page``, unchanged)."""
    params = (*((k, v) for k, v in call.params if k != "page"), ("page", page))
    return Call(call.path, params, call.model, call.method)


# -- decoding ---------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _json_path(loc: Sequence[int | str]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def decode(call: Call[M], text: str, *, request_id: str | None = None) -> M:
    """Decode ``text`` as the model of ``call``, exactly.

    Raises:
        ApiDecodeError: invalid JSON, or a payload that does not match; the
            message names each problem by its JSON path.
    """
    where = call.describe()
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiDecodeError(
            f"{where}: the response is not valid JSON ({one_line(str(exc), 120)})",
            raw=text,
            request_id=request_id,
        ) from None
    try:
        return call.model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_json_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise ApiDecodeError(
            f"{where}: unexpected response shape: {shown}", raw=text, request_id=request_id
        ) from None


def next_cursor(call: Call[Any], page: Any, seen: set[str]) -> str | None:
    """The cursor of the page after ``page``, or None at the end.

    ``seen`` holds every cursor already sent; a cursor that comes back again
    would loop forever, so it is an error.

    Raises:
        ApiDecodeError: ``has_more`` without a ``next_page``, or a repeated cursor.
    """
    if not page.has_more:
        return None
    cursor = page.next_page
    if not cursor:
        raise ApiDecodeError(f"{call.describe()}: has_more is true but next_page is missing")
    if cursor in seen:
        raise ApiDecodeError(
            f"{call.describe()}: the server returned the page cursor {one_line(cursor, 60)!r} "
            "again; stopping instead of looping forever"
        )
    seen.add(cursor)
    return str(cursor)


# -- errors and retries -----------------------------------------------------------------------

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
