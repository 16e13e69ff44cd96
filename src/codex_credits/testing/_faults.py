"""Fault injection for the fake usage API: what can go wrong, and when.

A :class:`Fault` changes one answer: an error status (with ``Retry-After`` or
``retry-after-ms``), a delay, a malformed or truncated body, a page cursor that
repeats, or a 429 saying the quota is exhausted; and the hostile ones: a page
served again under a new cursor (an endless walk, or one bucket on several
pages), an answer trickled a byte at a time, a bad gzip body, and an error that
echoes the API key back in one of several forms. A :class:`FaultPlan` holds,
per route, a queue of faults used one per request (``None`` in a queue lets
that request through untouched) and, optionally, a fault for every request
once the queue is empty.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["ANY_ROUTE", "Fault", "FaultPlan"]

ANY_ROUTE = "*"
"""Route key matching every path."""


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour. Build it with the class methods.

    Attributes:
        status: answer with this error status instead of the real answer.
        retry_after: the ``Retry-After`` header value (seconds or an HTTP date).
        retry_after_ms: the ``retry-after-ms`` header value.
        delay: seconds to wait before answering.
        body: ``"malformed"`` (invalid JSON with status 200), ``"truncated"``
            (the connection closes mid-body), or literal text to send.
        quota_exhausted: a 429 whose body says the quota is exhausted (final).
        repeat_cursor: the page's ``next_page`` repeats the cursor just sent.
        replay_first_page: the answer is the range's first page again, with a
            brand-new cursor to where the request asked for (``always`` makes
            the walk endless; queued twice, the first page is served three times).
        trickle: send the answer (status line, headers, body) one byte every
            ``trickle`` seconds (real sockets only).
        bad_gzip: ``content-encoding: gzip`` on a body that is not gzip.
        echo_key: an error status whose answer holds the key: ``"raw"`` in the
            message, ``"unicode"`` JSON-escaped (``\\u0073k...``), ``"code"`` in
            ``error.code``, ``"header"`` in ``x-request-id``.
    """

    status: int | None = None
    retry_after: str | None = None
    retry_after_ms: str | None = None
    delay: float = 0.0
    body: Literal["malformed", "truncated"] | str | None = None
    quota_exhausted: bool = False
    repeat_cursor: bool = False
    replay_first_page: bool = False
    trickle: float = 0.0
    bad_gzip: bool = False
    echo_key: Literal["raw", "unicode", "code", "header"] | None = None

    @classmethod
    def error(
        cls,
        status: int,
        *,
        retry_after: float | str | None = None,
        retry_after_ms: float | str | None = None,
    ) -> Fault:
        """An error status, e.g. ``Fault.error(503)`` or ``Fault.error(429, retry_after=2)``."""
        return cls(
            status=status,
            retry_after=None if retry_after is None else _text(retry_after),
            retry_after_ms=None if retry_after_ms is None else _text(retry_after_ms),
        )

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """The normal answer, after ``seconds``."""
        return cls(delay=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        """Status 200 with a body that is not JSON."""
        return cls(body="malformed")

    @classmethod
    def truncated(cls) -> Fault:
        """The normal status and headers, then the connection drops halfway through the body."""
        return cls(body="truncated")

    @classmethod
    def quota(cls) -> Fault:
        """A final 429: ``insufficient_quota``; retrying cannot help."""
        return cls(status=429, quota_exhausted=True)

    @classmethod
    def repeating_cursor(cls) -> Fault:
        """A page whose ``next_page`` is the cursor it was asked with (a server bug)."""
        return cls(repeat_cursor=True)

    @classmethod
    def replayed_first_page(cls) -> Fault:
        """The range's first page again under a fresh cursor (a cursor that never ends)."""
        return cls(replay_first_page=True)

    @classmethod
    def trickled(cls, seconds_per_byte: float) -> Fault:
        """The normal answer, sent one byte (headers included) every ``seconds_per_byte``."""
        return cls(trickle=seconds_per_byte)

    @classmethod
    def bad_gzip_body(cls) -> Fault:
        """Status 200, ``content-encoding: gzip``, and a body that is not gzip."""
        return cls(bad_gzip=True)

    @classmethod
    def echoing_key(
        cls, form: Literal["raw", "unicode", "code", "header"], status: int = 400
    ) -> Fault:
        """An error answer that echoes the request's API key back in ``form``."""
        return cls(status=status, echo_key=form)


def _text(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else repr(value)


class FaultPlan:
    """Per-route fault queues, safe to use from the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault | None]] = {}
        self._always: dict[str, Fault] = {}

    def add(self, route: str, *faults: Fault | None) -> None:
        """Queue ``faults`` for the next requests to ``route`` (``None`` = no fault)."""
        with self._lock:
            self._queues.setdefault(_route(route), deque()).extend(faults)

    def always(self, route: str, fault: Fault | None) -> None:
        """Apply ``fault`` to every request of ``route`` once its queue is empty (None clears)."""
        with self._lock:
            if fault is None:
                self._always.pop(_route(route), None)
            else:
                self._always[_route(route)] = fault

    def clear(self) -> None:
        """Forget every fault."""
        with self._lock:
            self._queues.clear()
            self._always.clear()

    def pending(self, route: str) -> int:
        """Faults still queued for ``route``."""
        with self._lock:
            return len(self._queues.get(_route(route), ()))

    def take(self, path: str) -> Fault | None:
        """The fault for this request of ``path`` (route queue first, then ``*``)."""
        with self._lock:
            for key in (path, ANY_ROUTE):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
            for key in (path, ANY_ROUTE):
                if key in self._always:
                    return self._always[key]
            return None

    def extend(self, plan: Iterable[tuple[str, Fault | None]]) -> None:
        """Queue ``(route, fault)`` pairs in order."""
        for route, fault in plan:
            self.add(route, fault)


def _route(route: str) -> str:
    if route == ANY_ROUTE:
        return route
    route = "/" + route.strip("/")
    return route.removeprefix("/v1") or "/"
