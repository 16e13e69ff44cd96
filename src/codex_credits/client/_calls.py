"""The usage API's calls: build each request, decode its answer, follow its pages.

Theory of operation (docs/api-client.md). Nothing here performs I/O, reads the
clock or imports httpx; :class:`~codex_credits.client.UsageClient` and
:class:`~codex_credits.client.AsyncUsageClient` both drive it, so the two
clients cannot drift apart (h11's sans-I/O split):

* :class:`Call` describes one request (method, path, query) and how to decode
  its answer. The ``*_call`` builders make them.
* :func:`decode` turns response text into a model: ``json.loads`` with
  ``parse_float=Decimal`` (exact amounts), then ``model_validate``; any failure
  is an :class:`~codex_credits.errors.ApiDecodeError` naming the JSON path.
* :func:`with_page` and :func:`next_cursor` walk the pages of a list.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from codex_credits.client._models import (
    CodexUsagePage,
    CompletionsUsagePage,
    CostsPage,
    CreditStatus,
    RateLimitEventsPage,
    Subscription,
)
from codex_credits.client._secrets import one_line
from codex_credits.core.timeutil import epoch_seconds, require_utc
from codex_credits.errors import ApiDecodeError, ConfigError

__all__ = [
    "BucketWidth",
    "Call",
    "codex_usage_call",
    "completions_usage_call",
    "costs_call",
    "credit_status_call",
    "decode",
    "next_cursor",
    "rate_limit_events_call",
    "subscription_call",
    "with_page",
]

M = TypeVar("M", bound=BaseModel)

BucketWidth = Literal["1h", "1d"]
Instant = datetime | int


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
