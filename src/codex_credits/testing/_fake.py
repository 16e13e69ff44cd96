"""A fake usage API: the documented routes, served from usage events in memory.

Theory of operation (docs/api-client.md, "The fake server"). :class:`FakeUsageApi`
is a pure request handler, ``handle(method, target, headers) -> FakeResponse``;
:class:`~codex_credits.testing.FakeTransport` runs it inside httpx and
:class:`~codex_credits.testing.FakeServer` behind a real socket on 127.0.0.1.

* Usage events are aggregated on request into hour or day buckets (UTC,
  ``[start, end)``), grouped by any of ``user_id``, ``project_id`` and
  ``task_type``. A bucket's ``compute_units_consumed`` is the exact sum of its
  events' amounts on the rate card (``ccu`` when an event has one).
* Pages hold ``limit`` buckets (OpenAI's defaults: 24 hours or 7 days; at most
  168 or 31) and a ``next_page`` cursor that encodes the offset.
* ``Authorization: Bearer <api_key>`` is checked on every route; errors use
  OpenAI's ``{"error": {"message", "type", "code", "param"}}`` body and every
  answer has an ``x-request-id``.
* :attr:`faults` (a :class:`~codex_credits.testing.FaultPlan`) injects error
  statuses, delays, bad bodies and repeating cursors; :attr:`requests` records
  what was asked, so a test can count retries.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from codex_credits.client._models import RateLimitEvent
from codex_credits.core.periods import period_containing
from codex_credits.core.ratecard import RateCard
from codex_credits.core.status import AccountStatus
from codex_credits.core.timeutil import epoch_seconds, from_epoch
from codex_credits.core.units import ZERO
from codex_credits.core.usage import UsageEvent
from codex_credits.testing._faults import Fault, FaultPlan
from codex_credits.testing._query import (
    MAX_TIME,
    BadRequest,
    Params,
    page_cursor,
    query_fingerprint,
)
from codex_credits.testing._responses import (
    FakeResponse,
    SeenRequest,
    dumps,
    error_body,
    fault_body,
    key_echo,
)

__all__ = ["FakeUsageApi"]

_WIDTHS = {"1h": 3600, "1d": 86_400, "1m": 60}
_LIMITS = {"1h": (24, 168), "1d": (7, 31), "1m": (60, 1440)}
_GROUPS = ("user_id", "project_id", "task_type")


@dataclass(frozen=True)
class _Row:
    ts: int
    ccu: Decimal
    reasoning_tokens: int
    tool_calls: int
    sandbox_minutes: Decimal
    output_tokens: int
    labels: tuple[str | None, str | None, str | None]


@dataclass
class FakeUsageApi:
    """The usage API in memory. Every argument is optional.

    Args:
        events: usage to serve (a :class:`~codex_credits.UsageLog` or any events).
        api_key: the only key accepted (``Authorization: Bearer <api_key>``).
        account: the subscription and credit status to serve; by default one
            pro seat whose current period is the month of the last event.
        rate_limit_events: served by ``/organization/usage/codex/rate_limit_events``.
        rollover_ccu_consumed: the total that route reports.
        card: prices events that carry meters but no ``ccu``.
    """

    events: Iterable[UsageEvent] = ()
    api_key: str = "sk-fake-admin-key"
    account: AccountStatus | None = None
    rate_limit_events: Iterable[RateLimitEvent] = ()
    rollover_ccu_consumed: Decimal = ZERO
    card: RateCard = field(default_factory=RateCard.default)
    faults: FaultPlan = field(default_factory=FaultPlan)
    requests: list[SeenRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        rows = [
            _Row(
                ts=epoch_seconds(e.timestamp),
                ccu=e.amount(self.card),
                reasoning_tokens=e.reasoning_tokens,
                tool_calls=e.tool_calls,
                sandbox_minutes=e.sandbox_minutes,
                output_tokens=e.output_tokens,
                labels=(e.user_id, e.project_id, e.task_type),
            )
            for e in self.events
        ]
        rows.sort(key=lambda r: r.ts)
        self._rows = rows
        self._times = [r.ts for r in rows]
        self._limit_events = sorted(self.rate_limit_events, key=lambda e: e.timestamp)
        if self.account is None:
            self.account = self._default_account()
        self._lock = threading.Lock()
        self._counter = 0

    # -- totals a test can compare with -------------------------------------------------------

    def total_ccu(self, start: int | None = None, end: int | None = None) -> Decimal:
        """The exact CCU of the events in ``[start, end)`` (Unix seconds)."""
        return sum((r.ccu for r in self._slice(start, end)), ZERO)

    def count(self, path: str) -> int:
        """How many requests reached ``path`` (retries included)."""
        return sum(1 for r in self.requests if r.path == path)

    # -- the handler ----------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str]) -> FakeResponse:
        """Answer one request. ``target`` is the path and query, e.g. ``/v1/usage/codex?x=1``."""
        parts = urlsplit(target)
        path = "/" + parts.path.strip("/")
        path = path.removeprefix("/v1") or "/"
        query = tuple(parse_qsl(parts.query, keep_blank_values=True))
        lowered = {k.lower(): v for k, v in headers.items()}
        authorized = lowered.get("authorization", "") == f"Bearer {self.api_key}"
        with self._lock:
            self._counter += 1
            request_id = f"req_fake_{self._counter:06d}"
        fault = self.faults.take(path)
        response = self._answer(method, path, query, authorized, fault, request_id)
        with self._lock:
            self.requests.append(
                SeenRequest(method, path, query, authorized, response.status, fault)
            )
        return response

    def _answer(
        self,
        method: str,
        path: str,
        query: tuple[tuple[str, str], ...],
        authorized: bool,
        fault: Fault | None,
        request_id: str,
    ) -> FakeResponse:
        headers = {"content-type": "application/json", "x-request-id": request_id}
        delay = fault.delay if fault else 0.0
        if fault is not None and fault.retry_after is not None:
            headers["retry-after"] = fault.retry_after
        if fault is not None and fault.retry_after_ms is not None:
            headers["retry-after-ms"] = fault.retry_after_ms
        if fault is not None and fault.echo_key is not None:
            return key_echo(self.api_key, fault, headers, delay)
        if fault is not None and fault.status is not None:
            return FakeResponse(fault.status, headers, fault_body(fault), delay)
        if not authorized:
            body = error_body(
                "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
            return FakeResponse(401, headers, body, delay)
        try:
            if method.upper() != "GET":
                raise BadRequest(f"method {method} is not allowed on {path}", status=405)
            payload = self._route(path, query, fault)
        except BadRequest as exc:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "invalid_value")
            body = error_body(str(exc), "invalid_request_error", code, exc.param)
            if exc.status == 405:
                headers["allow"] = "GET"
            return FakeResponse(exc.status, headers, body, delay)
        body_text = dumps(payload)
        if fault is not None and fault.body == "malformed":
            return FakeResponse(200, headers, b'{"object": "page", "data": [', delay)
        if fault is not None and fault.body == "truncated":
            return FakeResponse(200, headers, body_text.encode(), delay, truncated=True)
        if fault is not None and fault.body is not None:
            return FakeResponse(200, headers, fault.body.encode(), delay)
        if fault is not None and fault.bad_gzip:
            headers["content-encoding"] = "gzip"
            return FakeResponse(200, headers, b"this is not gzip" * 8, delay)
        trickle = fault.trickle if fault is not None else 0.0
        return FakeResponse(200, headers, body_text.encode(), delay, trickle=trickle)

    def _route(
        self, path: str, query: tuple[tuple[str, str], ...], fault: Fault | None
    ) -> dict[str, Any]:
        params = Params(query)
        if path == "/usage/codex":
            return self._credit_status()
        if path == "/organization/billing/subscription":
            return self._subscription()
        if path == "/organization/usage/codex":
            return self._codex_usage(params, fault)
        if path == "/organization/usage/codex/rate_limit_events":
            return self._rate_limit_events(params, fault)
        if path in ("/organization/usage/completions", "/organization/costs"):
            return self._empty_buckets(path, params, fault)
        raise BadRequest(f"no such route: {path}", status=404)

    # -- routes -----------------------------------------------------------------------------------

    def _credit_status(self) -> dict[str, Any]:
        a = self._account()
        return {
            "object": "codex.credit_status",
            "current_period_ccu_consumed": a.consumed_ccu,
            "current_period_ccu_remaining": a.remaining_ccu,
            "rollover_ccu_balance": a.rollover_ccu,
            "billing_period_days_elapsed": a.days_elapsed,
            "billing_period_days_total": a.days_total,
            "tier": a.tier,
            "seats": a.seats,
            "current_period_start": _seconds(a.period_start),
            "current_period_end": _seconds(a.period_end),
            "savings_reserve_ccu": a.reserve_ccu,
        }

    def _subscription(self) -> dict[str, Any]:
        a = self._account()
        return {
            "object": "billing.subscription",
            "tier": a.tier or "pro",
            "seats": a.seats or 1,
            "codex_monthly_ccu": a.monthly_ccu,
            "codex_rollover_balance": a.rollover_ccu,
            "codex_overage_rate": a.overage_usd_per_ccu,
            "current_period_start": _seconds(a.period_start),
            "current_period_end": _seconds(a.period_end),
        }

    def _codex_usage(self, params: Params, fault: Fault | None) -> dict[str, Any]:
        start, end, width_name = self._range(params, ("1h", "1d"))
        groups = params.all("group_by")
        for group in groups:
            if group not in _GROUPS:
                raise BadRequest(f"group_by must be one of {', '.join(_GROUPS)}", "group_by")
        bounds, cursor_in, next_offset, total = self._page_bounds(
            params, start, end, width_name, fault
        )
        indices = tuple(_GROUPS.index(g) for g in groups)
        data = []
        for lo, hi in bounds:
            data.append(
                {
                    "object": "bucket",
                    "start_time": lo,
                    "end_time": hi,
                    "results": self._results(lo, hi, indices),
                }
            )
        return self._page(data, params, next_offset, total, cursor_in, fault)

    def _results(self, lo: int, hi: int, indices: tuple[int, ...]) -> list[dict[str, Any]]:
        groups: dict[tuple[str | None, ...], list[_Row]] = {}
        for row in self._slice(lo, hi):
            key = tuple(row.labels[i] for i in indices)
            groups.setdefault(key, []).append(row)
        results = []
        for key in sorted(groups, key=lambda k: tuple((v is None, v or "") for v in k)):
            rows = groups[key]
            result: dict[str, Any] = {
                "object": "organization.usage.codex.result",
                "compute_units_consumed": sum((r.ccu for r in rows), ZERO),
                "num_tasks": len(rows),
                "reasoning_tokens": sum(r.reasoning_tokens for r in rows),
                "tool_calls": sum(r.tool_calls for r in rows),
                "sandbox_minutes": sum((r.sandbox_minutes for r in rows), ZERO),
                "output_tokens": sum(r.output_tokens for r in rows),
            }
            for name in _GROUPS:
                position = _GROUPS.index(name)
                result[name] = key[indices.index(position)] if position in indices else None
            results.append(result)
        return results

    def _rate_limit_events(self, params: Params, fault: Fault | None) -> dict[str, Any]:
        start = params.start_time()
        end = params.time("end_time")
        end = MAX_TIME if end is None else end
        if end <= start:
            raise BadRequest("end_time must be after start_time", "end_time")
        limit = params.limit(100, 1000)
        chosen = [e for e in self._limit_events if start <= e.timestamp < end]
        offset = params.cursor(query_fingerprint(params))
        page = chosen[offset : offset + limit]
        data = [e.model_dump(mode="python") for e in page]
        next_offset = offset + limit if offset + limit < len(chosen) else None
        result = self._page(data, params, next_offset, len(chosen), offset, fault)
        result["total_events"] = len(chosen)
        result["reserve_ccu_consumed"] = sum((e.reserve_ccu_consumed for e in chosen), ZERO)
        result["rollover_ccu_consumed"] = self.rollover_ccu_consumed
        return result

    def _empty_buckets(self, path: str, params: Params, fault: Fault | None) -> dict[str, Any]:
        widths = ("1d",) if path == "/organization/costs" else ("1m", "1h", "1d")
        start, end, width_name = self._range(params, widths)
        for name in ("project_ids", "user_ids", "api_key_ids", "models", "group_by"):
            params.all(name)
        bounds, cursor_in, next_offset, total = self._page_bounds(
            params, start, end, width_name, fault
        )
        data = [
            {"object": "bucket", "start_time": lo, "end_time": hi, "results": []}
            for lo, hi in bounds
        ]
        return self._page(data, params, next_offset, total, cursor_in, fault)

    # -- helpers ----------------------------------------------------------------------------------

    def _range(self, params: Params, widths: tuple[str, ...]) -> tuple[int, int, str]:
        start = params.start_time()
        width_name = params.one("bucket_width") or "1d"
        if width_name not in widths:
            raise BadRequest(f"bucket_width must be one of {', '.join(widths)}", "bucket_width")
        width = _WIDTHS[width_name]
        end = params.time("end_time")
        if end is None:
            last = self._times[-1] if self._times else start
            end = max(start, last) // width * width + width
        if end <= start:
            raise BadRequest("end_time must be after start_time", "end_time")
        return start, min(end, MAX_TIME), width_name

    def _page_bounds(
        self, params: Params, start: int, end: int, width_name: str, fault: Fault | None
    ) -> tuple[list[tuple[int, int]], int, int | None, int]:
        default, maximum = _LIMITS[width_name]
        width = _WIDTHS[width_name]
        limit = params.limit(default, maximum)
        asked = params.cursor(query_fingerprint(params))
        offset = 0 if fault is not None and fault.replay_first_page else asked
        first = start // width * width
        total = -(-(end - first) // width)
        bounds = []
        for k in range(offset, min(offset + limit, total)):
            lo = first + k * width
            bounds.append((max(lo, start), min(lo + width, end)))
        next_offset = offset + limit if offset + limit < total else None
        return bounds, asked, next_offset, total

    def _page(
        self,
        data: list[dict[str, Any]],
        params: Params,
        next_offset: int | None,
        total: int,
        offset: int,
        fault: Fault | None,
    ) -> dict[str, Any]:
        next_page = (
            None if next_offset is None else page_cursor(next_offset, query_fingerprint(params))
        )
        if fault is not None and fault.repeat_cursor:
            sent = params.one("page")
            next_page = sent if sent is not None else page_cursor(offset, query_fingerprint(params))
        if fault is not None and fault.replay_first_page:
            with self._lock:
                self._counter += 1
                nonce = self._counter
            next_page = page_cursor(offset, query_fingerprint(params), nonce)
        return {
            "object": "page",
            "data": data,
            "has_more": next_page is not None,
            "next_page": next_page,
        }

    def _slice(self, start: int | None, end: int | None) -> list[_Row]:
        lo = 0 if start is None else bisect.bisect_left(self._times, start)
        hi = len(self._times) if end is None else bisect.bisect_left(self._times, end)
        return self._rows[lo:hi]

    def _account(self) -> AccountStatus:
        assert self.account is not None
        return self.account

    def _default_account(self) -> AccountStatus:
        anchor_s = (self._times[-1] if self._times else 1_780_272_000) // 86_400 * 86_400
        day = from_epoch(anchor_s)
        anchor = day.replace(day=1)
        period = period_containing(anchor, day)
        start, end = epoch_seconds(period.start), epoch_seconds(period.end)
        consumed = self.total_ccu(start, end)
        pool = self.card.tier("pro").pool(1) if "pro" in self.card.tiers else consumed
        return AccountStatus(
            tier="pro",
            seats=1,
            period_start=period.start,
            period_end=period.end,
            monthly_ccu=pool,
            consumed_ccu=consumed,
            remaining_ccu=max(ZERO, pool - consumed),
            overage_usd_per_ccu=self.card.tiers["pro"].overage_usd_per_ccu
            if "pro" in self.card.tiers
            else None,
            days_elapsed=(anchor_s - start) // 86_400 + 1,
            days_total=period.days,
        )


def _seconds(at: datetime | None) -> int | None:
    return None if at is None else epoch_seconds(at)
