"""The fake usage API as an in-process httpx transport (sync and async).

``FakeTransport(api)`` answers httpx requests from a :class:`FakeUsageApi`
without a socket. Faults behave as they would on the wire: a delay longer than
the request's read timeout raises :class:`httpx.ReadTimeout` at once (no real
waiting), a shorter one is passed to ``sleep``; a truncated body raises
:class:`httpx.RemoteProtocolError`, as a dropped connection does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from codex_credits.testing._fake import FakeUsageApi
from codex_credits.testing._responses import FakeResponse

__all__ = ["FakeTransport"]


def _no_wait(seconds: float) -> None:
    del seconds


async def _no_wait_async(seconds: float) -> None:
    del seconds


class FakeTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serve ``api`` to :class:`httpx.Client` and :class:`httpx.AsyncClient` alike.

    Args:
        api: the fake API.
        sleep: called with a fault's delay (default: return at once).
        async_sleep: the async twin of ``sleep``.
    """

    def __init__(
        self,
        api: FakeUsageApi,
        *,
        sleep: Callable[[float], None] | None = None,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.api = api
        self._sleep = sleep or _no_wait
        self._async_sleep = async_sleep or _no_wait_async

    def _answer(self, request: httpx.Request) -> tuple[FakeResponse, float]:
        target = request.url.raw_path.decode("ascii")
        answer = self.api.handle(request.method, target, dict(request.headers))
        timeout = request.extensions.get("timeout", {}).get("read")
        if answer.delay and timeout is not None and answer.delay >= timeout:
            raise httpx.ReadTimeout(
                f"the fake server took {answer.delay} s (read timeout {timeout} s)",
                request=request,
            )
        return answer, answer.delay

    @staticmethod
    def _response(answer: FakeResponse, request: httpx.Request) -> httpx.Response:
        if answer.truncated:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            )
        return httpx.Response(
            answer.status, headers=answer.headers, content=answer.body, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer, delay = self._answer(request)
        if delay:
            self._sleep(delay)
        return self._response(answer, request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer, delay = self._answer(request)
        if delay:
            await self._async_sleep(delay)
        return self._response(answer, request)
