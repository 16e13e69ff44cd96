"""The whole exception tree of codex-credits.

Expected business outcomes (rate limited, over budget, free tier exhausted,
deferred) are *values*, never exceptions. Exceptions are raised only for a
caller's misuse or for bad outside data::

    CreditError
    ├── ConfigError            (also ValueError) bad rate card, tier, budget, policy or anchor
    ├── NaiveDatetimeError     (also ValueError) a datetime without a timezone
    ├── AmountTypeError        (also TypeError)  a float passed where an exact amount is needed
    ├── OutOfOrderEventError   (also ValueError) an event before the state's current time
    ├── UnknownModelError      (also KeyError)   a model the rate card does not price
    ├── UsageDataError         (also ValueError) a bad row in a usage file: file, line, field
    └── ApiError               raised only by the HTTP client; carries .request_id
        ├── ApiConnectionError     the server could not be reached
        │   └── ApiTimeoutError    the request timed out
        │       └── ApiDeadlineError   a request or a walk of pages ran past its deadline
        ├── ApiStatusError         .status_code, .body
        │   ├── AuthenticationError    401
        │   ├── PermissionDeniedError  403
        │   ├── NotFoundError          404
        │   ├── RateLimitError         429 (.quota_exhausted for a final 429)
        │   └── ServerError            5xx
        ├── ApiPageLimitError      a list went on past the client's page cap
        ├── ApiResponseTooLargeError   a response body was larger than the size cap
        └── ApiDecodeError         a payload failed validation; keeps the raw text
"""

from __future__ import annotations

__all__ = [
    "AmountTypeError",
    "ApiConnectionError",
    "ApiDeadlineError",
    "ApiDecodeError",
    "ApiError",
    "ApiPageLimitError",
    "ApiResponseTooLargeError",
    "ApiStatusError",
    "ApiTimeoutError",
    "AuthenticationError",
    "ConfigError",
    "CreditError",
    "NaiveDatetimeError",
    "NotFoundError",
    "OutOfOrderEventError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnknownModelError",
    "UsageDataError",
]


class CreditError(Exception):
    """Base class of every error this library raises on purpose."""


class ConfigError(CreditError, ValueError):
    """A rate card, tier, budget, policy or anchor is invalid.

    ``problems`` lists every problem found, each prefixed with its field path.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class NaiveDatetimeError(CreditError, ValueError):
    """A datetime without a timezone was given where an instant is needed."""


class AmountTypeError(CreditError, ValueError, TypeError):
    """A binary float was passed as an amount of credit or money."""


class OutOfOrderEventError(CreditError, ValueError):
    """An event is earlier than the time a state has already reached."""


class UnknownModelError(CreditError, KeyError):
    """A rate card was asked to price a model it does not know."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class UsageDataError(CreditError, ValueError):
    """A usage record could not be read. The message names file, line and field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.field = field


class ApiError(CreditError):
    """Base of every error raised by the usage API client."""

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


class ApiConnectionError(ApiError):
    """The server could not be reached (DNS, refused connection, broken stream)."""


class ApiTimeoutError(ApiConnectionError):
    """The request did not complete within its timeout."""


class ApiDeadlineError(ApiTimeoutError):
    """A request (with its retries) or a walk of pages ran past its overall deadline."""


class ApiPageLimitError(ApiError):
    """A list kept handing out new cursors past the client's ``max_pages``."""


class ApiResponseTooLargeError(ApiError):
    """A response body was larger than the client's ``max_response_bytes``."""


class ApiStatusError(ApiError):
    """The server answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str = "",
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.status_code = status_code
        self.body = body


class AuthenticationError(ApiStatusError):
    """401: the key is missing or wrong."""


class PermissionDeniedError(ApiStatusError):
    """403: the key may not read this resource."""


class NotFoundError(ApiStatusError):
    """404: no such resource."""


class RateLimitError(ApiStatusError):
    """429: too many requests, or (``quota_exhausted``) a quota that retrying cannot fix."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        body: str = "",
        request_id: str | None = None,
        quota_exhausted: bool = False,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body, request_id=request_id)
        self.quota_exhausted = quota_exhausted


class ServerError(ApiStatusError):
    """5xx: the server failed."""


class ApiDecodeError(ApiError):
    """A response body was not valid JSON or did not match the expected shape."""

    def __init__(self, message: str, *, raw: str = "", request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.raw = raw
