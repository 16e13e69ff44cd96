"""What the fake usage API answers, and the requests it records.

:class:`FakeResponse` is one answer and how to misbehave while sending it;
:class:`SeenRequest` is one request received. The bodies are exact JSON
(:func:`dumps`) and OpenAI's error shape (:func:`error_body`, :func:`fault_body`,
and :func:`key_echo` for a server that gives the key back).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from codex_credits.testing._faults import Fault

__all__ = ["FakeResponse", "SeenRequest", "dumps", "error_body", "fault_body", "key_echo"]


def dumps(value: Any) -> str:
    """JSON text in which every Decimal is written as an exact JSON number."""
    numbers: list[str] = []

    def mark(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            numbers.append(format(obj, "f"))
            return f"\x00{len(numbers) - 1}\x00"
        if isinstance(obj, dict):
            return {k: mark(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [mark(v) for v in obj]
        return obj

    text = json.dumps(mark(value), separators=(",", ":"))
    for index, number in enumerate(numbers):
        text = text.replace(f'"\\u0000{index}\\u0000"', number, 1)
    return text


@dataclass(frozen=True)
class FakeResponse:
    """What the fake answers: status, headers, body, and how to misbehave while sending."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0
    trickle: float = 0.0
    truncated: bool = False


@dataclass(frozen=True)
class SeenRequest:
    """A request the fake received (the key itself is never recorded)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    authorized: bool
    status: int
    fault: Fault | None = None


def error_body(message: str, type_: str, code: str | None, param: str | None = None) -> bytes:
    error = {"message": message, "type": type_, "code": code, "param": param}
    return json.dumps({"error": error}).encode()


def fault_body(fault: Fault) -> bytes:
    if fault.quota_exhausted:
        return error_body(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        )
    status = fault.status or 500
    if status == 429:
        return error_body("Rate limit reached; retry later.", "requests", "rate_limit_exceeded")
    if status >= 500:
        return error_body("The server had an error processing the request.", "server_error", None)
    return error_body(f"injected error {status}", "invalid_request_error", None)


def key_echo(key: str, fault: Fault, headers: dict[str, str], delay: float) -> FakeResponse:
    """An error that gives the key back, as careless servers do."""
    status = fault.status or 400
    if fault.echo_key == "header":
        headers["x-request-id"] = f"req_{key}"
        body = error_body("Invalid request.", "invalid_request_error", None)
    elif fault.echo_key == "code":
        body = error_body("Invalid key.", "invalid_request_error", f"bad_key_{key}")
    elif fault.echo_key == "unicode":
        escaped = "".join(f"\\u{ord(c):04x}" for c in key)
        text = f'{{"error": {{"message": "Incorrect API key provided: {escaped}", '
        text += '"type": "invalid_request_error", "code": "invalid_api_key", "param": null}}'
        body = text.encode()
    else:
        body = error_body(f"Incorrect API key provided: {key}.", "invalid_request_error", None)
    return FakeResponse(status, headers, body, delay)
