"""What the synchronous and the asynchronous client share: their settings.

Both clients are built from the same arguments into one :class:`Settings`
(key, base URL, timeout, retries, limits); their key is registered for
redaction in log records, and their repr never shows it.
"""

from __future__ import annotations

from typing import Any

from codex_credits.client._attempts import Settings
from codex_credits.client._guard import LOG_REDACTION

__all__ = ["ClientBase"]


class ClientBase:
    """The settings of a usage API client (see :class:`UsageClient` for the arguments)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        LOG_REDACTION.register(self, settings.secret)

    def _http_options(self) -> dict[str, Any]:
        """The options of the httpx client: no redirects, the proxy setting of the base URL."""
        return {
            "timeout": self._settings.timeout,
            "follow_redirects": False,
            "trust_env": self._settings.trust_env,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"max_retries={self.max_retries}, api_key='**********')"
        )

    @property
    def base_url(self) -> str:
        """The base URL every path is appended to."""
        return self._settings.base_url

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._settings.max_retries
