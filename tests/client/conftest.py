from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from codex_credits.client import AsyncUsageClient, Call, UsageClient

KEY = "sk-admin-TOPSECRET-0123456789"


class Runner:
    """Run one call through the sync or the async client, with the same interface.

    ``sleeps`` records every backoff the client asked for (nothing really waits).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.sleeps: list[float] = []

    def _sync_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def _async_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def run(self, transport: Any, action: Callable[[Any], Any], **options: Any) -> Any:
        """``action(client)`` returns a value (sync) or an awaitable (async)."""
        options.setdefault("api_key", KEY)
        options.setdefault("base_url", "https://usage.example.test/v1")
        options.setdefault("random", lambda: 0.0)
        if self.kind == "sync":
            with UsageClient(transport=transport, sleep=self._sync_sleep, **options) as client:
                return action(client)

        async def main() -> Any:
            async with AsyncUsageClient(
                transport=transport, sleep=self._async_sleep, **options
            ) as client:
                result = action(client)
                if isinstance(result, Awaitable):
                    return await result
                return [item async for item in result]

        return anyio.run(main)

    def send(self, transport: Any, call: Call[Any], **options: Any) -> Any:
        return self.run(transport, lambda c: c.send(call), **options)

    def pages(self, transport: Any, call: Call[Any], **options: Any) -> list[Any]:
        if self.kind == "sync":
            return self.run(transport, lambda c: list(c.iter_pages(call)), **options)
        return self.run(transport, lambda c: c.iter_pages(call), **options)


@pytest.fixture(params=["sync", "async"])
def runner(request: pytest.FixtureRequest) -> Runner:
    return Runner(request.param)
