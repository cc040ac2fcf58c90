"""Retry policy as small pure functions: which failures to retry and how long to wait.

The policy follows the official ``letta-client``: retry connection errors, timeouts, 408, 409
(Letta answers database lock conflicts with ``409`` + ``Retry-After: 1``), 429 and 5xx — except
501, which means the server lacks a capability (``/trace`` without ClickHouse) and never heals by
retrying. Waits double from 0.5 s up to 8 s with jitter; a server's ``retry-after-ms`` or
``Retry-After`` (seconds or an HTTP date) wins, capped at 60 s.

A request that changes something (``DELETE``) is sent again only when it certainly did not act:
the connection was never made (connect error or timeout, no free connection), or the server said
it did not process it (408, 425, 429, and 503 with ``Retry-After``). After anything else — a reset
or timeout once the request was out, a 500 — a second DELETE could answer 404 for a run the first
one deleted, so the client reads the run instead to learn what happened.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ._constants import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RETRYABLE_STATUSES,
)

__all__ = [
    "NOT_PROCESSED_STATUSES",
    "backoff_delay",
    "is_retryable_exception",
    "is_retryable_status",
    "may_have_reached_server",
    "may_resend",
    "retry_after_seconds",
    "retry_delay",
    "should_retry_response",
]


def is_retryable_status(status_code: int) -> bool:
    """True for 408, 409, 429 and every 5xx except 501."""
    if status_code in RETRYABLE_STATUSES:
        return True
    return status_code >= 500 and status_code != 501


def should_retry_response(status_code: int, headers: Mapping[str, str]) -> bool:
    """The status decides, unless the server says otherwise with ``x-should-retry``."""
    override = headers.get("x-should-retry")
    if override == "true":
        return True
    if override == "false":
        return False
    return is_retryable_status(status_code)


def is_retryable_exception(exc: BaseException) -> bool:
    """Connection failures and timeouts are worth another try; anything else is a bug."""
    # A local protocol error is our own request being malformed: sending it again cannot help.
    return isinstance(exc, httpx.TransportError) and not isinstance(
        exc, httpx.UnsupportedProtocol | httpx.ProxyError | httpx.LocalProtocolError
    )


NOT_PROCESSED_STATUSES = frozenset({408, 425, 429})
"""Statuses by which a server says it did not act on the request (safe to send it again)."""

_NEVER_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


def may_have_reached_server(exc: BaseException) -> bool:
    """False only when the request certainly never left: the connection was never made.

    A read error, a read or write timeout or a dropped connection can come after the server got
    the whole request (and acted on it).
    """
    return not isinstance(exc, _NEVER_SENT)


def may_resend(
    method: str,
    *,
    status_code: int | None = None,
    headers: Mapping[str, str] | None = None,
    exc: BaseException | None = None,
) -> bool:
    """Whether sending ``method`` again is harmless after this failure (reads: always)."""
    if method in ("GET", "HEAD", "OPTIONS", "POST"):
        # POST is only used for the stream, a read; its reconnects resume from a seq_id.
        return True
    if exc is not None:
        return not may_have_reached_server(exc)
    if status_code in NOT_PROCESSED_STATUSES:
        return True
    return status_code == 503 and headers is not None and "retry-after" in headers


def retry_after_seconds(
    headers: Mapping[str, str], *, now: Callable[[], datetime] | None = None
) -> float | None:
    """Seconds the server asks us to wait (``retry-after-ms`` first), capped at 60 s.

    >>> retry_after_seconds({"retry-after": "1"})
    1.0
    >>> retry_after_seconds({"retry-after": "600"})
    60.0
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return _cap(float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return _cap(float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now is not None else datetime.now(UTC)
    return _cap((when - current).total_seconds())


def _cap(seconds: float) -> float | None:
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def backoff_delay(retry_index: int, *, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff for the ``retry_index``-th retry (0-based) with up to 25 % jitter.

    >>> backoff_delay(0, rand=lambda: 0.0), backoff_delay(3, rand=lambda: 0.0)
    (0.5, 4.0)
    """
    base: float = min(INITIAL_RETRY_DELAY * float(2**retry_index), MAX_RETRY_DELAY)
    return base * (1.0 - 0.25 * rand())


def retry_delay(
    retry_index: int,
    headers: Mapping[str, str] | None = None,
    *,
    rand: Callable[[], float] = random.random,
) -> float:
    """How long to sleep before the ``retry_index``-th retry."""
    if headers is not None:
        asked = retry_after_seconds(headers)
        if asked is not None:
            return float(asked)
    return backoff_delay(retry_index, rand=rand)
