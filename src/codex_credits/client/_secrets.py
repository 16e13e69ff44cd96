"""The API key and the base URL: where they come from, what is refused, how the key is hidden.

Nothing here performs I/O beyond resolving ``localhost``, and nothing imports httpx.

* :func:`check_base_url` refuses plain ``http://`` except to loopback, and
  :class:`Secret` keeps the key out of every repr and message.
* :func:`redact` and :func:`scrub` mask the key in any text or error, in every
  escaped form a server may echo it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from codex_credits.errors import ConfigError

__all__ = [
    "DEFAULT_BASE_URL",
    "Secret",
    "check_base_url",
    "one_line",
    "redact",
    "resolve_api_key",
    "resolve_base_url",
    "scrub",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
KEY_ENV_VARS = ("OPENAI_ADMIN_KEY", "OPENAI_API_KEY")
BASE_URL_ENV_VAR = "CODEX_CREDITS_BASE_URL"
REDACTED = "[REDACTED]"


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
