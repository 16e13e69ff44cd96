"""Test the tools that read the usage API, offline: a fake server with fault injection.

>>> from codex_credits.testing import FakeServer, FakeUsageApi, Fault
>>> api = FakeUsageApi(events=[], api_key="sk-test")
>>> api.faults.add("/organization/usage/codex", Fault.error(429, retry_after=1))
>>> with FakeServer(api) as server:           # doctest: +SKIP
...     ...  # point any tool at server.url with OPENAI_ADMIN_KEY=sk-test

See docs/api-client.md, "The fake server".
"""

from __future__ import annotations

from codex_credits.testing._fake import FakeUsageApi
from codex_credits.testing._faults import ANY_ROUTE, Fault, FaultPlan
from codex_credits.testing._responses import FakeResponse, SeenRequest
from codex_credits.testing._server import FakeServer
from codex_credits.testing._transport import FakeTransport

__all__ = [
    "ANY_ROUTE",
    "FakeResponse",
    "FakeServer",
    "FakeTransport",
    "FakeUsageApi",
    "Fault",
    "FaultPlan",
    "SeenRequest",
]
