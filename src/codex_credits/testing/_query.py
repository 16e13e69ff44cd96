"""How the fake usage API reads a request's query: parameters, limits and page cursors.

A cursor encodes the offset of the next page and a fingerprint of the query
it belongs to, so a cursor from another query is refused.
"""

from __future__ import annotations

import base64
import hashlib
import json

__all__ = ["MAX_TIME", "BadRequest", "Params", "page_cursor", "query_fingerprint"]

MAX_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z


class BadRequest(Exception):
    """A request the fake refuses: the message, the parameter at fault and the status."""

    def __init__(self, message: str, param: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.param = param
        self.status = status


class Params:
    """The query of one request, read as the API reads it."""

    def __init__(self, query: tuple[tuple[str, str], ...]) -> None:
        self.query = query

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.query if k in (name, f"{name}[]")]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        if len(values) > 1:
            raise BadRequest(f"{name} given more than once", name)
        return values[0] if values else None

    def start_time(self) -> int:
        value = self.time("start_time")
        if value is None:
            raise BadRequest("start_time is required", "start_time")
        return value

    def time(self, name: str) -> int | None:
        text = self.one(name)
        if text is None:
            return None
        try:
            value = int(text)
        except ValueError:
            raise BadRequest(f"{name} must be Unix seconds", name) from None
        if not 0 <= value <= MAX_TIME:
            raise BadRequest(f"{name} is out of range", name)
        return value

    def limit(self, default: int, maximum: int) -> int:
        text = self.one("limit")
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise BadRequest("limit must be a whole number", "limit") from None
        if not 1 <= value <= maximum:
            raise BadRequest(f"limit must be between 1 and {maximum}", "limit")
        return value

    def cursor(self, fingerprint: str) -> int:
        text = self.one("page")
        if text is None:
            return 0
        try:
            raw = base64.urlsafe_b64decode(text.removeprefix("page_").encode()).decode()
            offset_text, mark = raw.split(":", 2)[:2]
            offset = int(offset_text)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("page is not a cursor this server issued", "page") from None
        if mark != fingerprint or offset < 0:
            raise BadRequest("page belongs to a different query", "page")
        return offset


def query_fingerprint(params: Params) -> str:
    kept = sorted((k, v) for k, v in params.query if k not in ("page", "limit"))
    return hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:8]


def page_cursor(offset: int, fingerprint: str, nonce: int | None = None) -> str:
    text = f"{offset}:{fingerprint}" + ("" if nonce is None else f":{nonce}")
    return "page_" + base64.urlsafe_b64encode(text.encode()).decode()
