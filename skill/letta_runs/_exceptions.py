"""Errors raised by letta-runs.

    LettaRunsError
    ├── InvalidArgumentError        bad input caught locally, before any I/O (malformed id, limit)
    │   └── ConfigurationError      a bad setting (key with a stray newline, base URL, header)
    ├── PartialResultError          a report was produced but some of its reads failed (exit 8)
    ├── ReadOnlyError               a destructive call refused by read-only mode
    ├── APIConnectionError          could not reach the server
    │   └── APITimeoutError         the server did not answer in time (also a stream gone idle)
    ├── APIResponseError            the server answered something we cannot parse
    └── APIStatusError              the server answered with an error status
        ├── BadRequestError         400
        ├── AuthenticationError     401
        ├── PermissionDeniedError   403
        ├── NotFoundError           404
        ├── ConflictError           409
        ├── GoneError               410 (a background stream older than 3 hours)
        ├── ValidationError         422
        ├── RateLimitError          429
        ├── NotSupportedError       501 (e.g. /trace on a server without ClickHouse)
        └── ServerError             other 5xx

Every message says what went wrong and what to try next. Messages never contain the API key:
``redact`` (``letta_runs._secrets``) scrubs every registered secret from anything that reaches a
message. ``facts`` carries machine-readable extras of an error (e.g. ``{"deleted": False}``
after a failed delete); ``to_dict`` merges them into the JSON form.
"""

from __future__ import annotations

from typing import Any, Self

from ._secrets import redact, redact_data, register_secret

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "GoneError",
    "InvalidArgumentError",
    "LettaRunsError",
    "NotFoundError",
    "NotSupportedError",
    "PartialResultError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReadOnlyError",
    "ServerError",
    "ValidationError",
    "exit_code_for",
    "redact",
    "register_secret",
    "status_error_class",
]


class LettaRunsError(Exception):
    """Base of every letta-runs error. ``hint`` says what to try next."""

    exit_code = 1
    kind = "error"

    def __init__(
        self, message: str, *, hint: str | None = None, facts: dict[str, Any] | None = None
    ) -> None:
        self.message = redact(message)
        self.hint = redact(hint) if hint else None
        self.facts: dict[str, Any] = redact_data(dict(facts)) if facts else {}
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.kind, "message": self.message, "hint": self.hint, **self.facts}

    def restated(
        self,
        message: str | None = None,
        *,
        hint: str | None = None,
        facts: dict[str, Any] | None = None,
    ) -> Self:
        """A copy of this error (same class, exit code and status) that tells more: a new
        message and hint, extra facts. Used when a follow-up check learned what happened."""
        cls = type(self)
        new = cls.__new__(cls)  # no __init__: a status error's constructor wants its status
        new.__dict__.update(self.__dict__)
        if message is not None:
            new.message = redact(message)
            new.hint = redact(hint) if hint else None
        new.facts = {**self.facts, **redact_data(dict(facts or {}))}
        new.args = (new.__str__(),)
        return new


class InvalidArgumentError(LettaRunsError, ValueError):
    """Bad input caught before any I/O.

    ``letta_status`` and ``letta_detail`` say what Letta itself answers to the same input, where
    that is known (a malformed run id: 400 and Letta's message), so a face that speaks Letta's
    HTTP contract answers exactly what Letta would.
    """

    exit_code = 2
    kind = "invalid_argument"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        letta_status: int | None = None,
        letta_detail: str | None = None,
        facts: dict[str, Any] | None = None,
    ) -> None:
        self.letta_status = letta_status
        self.letta_detail = redact(letta_detail) if letta_detail else None
        super().__init__(message, hint=hint, facts=facts)


class ConfigurationError(InvalidArgumentError):
    """A setting the client cannot use (API key, project, custom header, base URL, timeout).

    A usage error for the CLI (exit 2); the HTTP faces answer 500, because it is the adapter's
    own configuration that is wrong, not the caller's request."""

    kind = "invalid_configuration"


class PartialResultError(LettaRunsError):
    """The result was printed, but some reads behind it failed (it lists them)."""

    exit_code = 8
    kind = "partial_result"


class ReadOnlyError(LettaRunsError):
    exit_code = 2
    kind = "read_only"


class APIConnectionError(LettaRunsError):
    """``reached_server``: False when the request certainly never left (connection refused,
    connect timeout); True when it may have arrived before the connection failed."""

    exit_code = 6
    kind = "connection_error"
    reached_server: bool = True


class APITimeoutError(APIConnectionError):
    kind = "timeout"


class APIResponseError(LettaRunsError):
    exit_code = 7
    kind = "unparseable_response"


class APIStatusError(LettaRunsError):
    """The server answered ``status_code``; ``detail`` is its ``detail`` field (or body text)."""

    exit_code = 7
    kind = "api_error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        detail: Any = None,
        hint: str | None = None,
        method: str | None = None,
        url: str | None = None,
        facts: dict[str, Any] | None = None,
    ) -> None:
        self.status_code = status_code
        self.detail = redact_data(detail)
        self.method = method
        self.url = redact(url) if url else None
        super().__init__(message, hint=hint, facts=facts)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["status_code"] = self.status_code
        out["detail"] = self.detail
        return out


class BadRequestError(APIStatusError):
    kind = "bad_request"


class AuthenticationError(APIStatusError):
    exit_code = 4
    kind = "authentication_error"


class PermissionDeniedError(APIStatusError):
    exit_code = 4
    kind = "permission_denied"


class NotFoundError(APIStatusError):
    exit_code = 3
    kind = "not_found"


class ConflictError(APIStatusError):
    kind = "conflict"


class GoneError(APIStatusError):
    exit_code = 3
    kind = "gone"


class ValidationError(APIStatusError):
    kind = "validation_error"


class RateLimitError(APIStatusError):
    kind = "rate_limited"


class NotSupportedError(APIStatusError):
    exit_code = 5
    kind = "not_supported"


class ServerError(APIStatusError):
    kind = "server_error"


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: ValidationError,
    429: RateLimitError,
    501: NotSupportedError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    if status_code >= 500:
        return ServerError
    return APIStatusError


def exit_code_for(exc: BaseException) -> int:
    """The CLI exit code for an exception (1 for anything unexpected)."""
    if isinstance(exc, LettaRunsError):
        return exc.exit_code
    return 1
