"""Retry policy as small pure functions: which failures to retry and how long to wait.

The policy follows the official ``letta-client``: retry connection errors, timeouts, 408, 409
(Letta answers database lock conflicts with ``409`` + ``Retry-After: 1``), 429 and 5xx — except
501, which means the server lacks a capability (``/trace`` without ClickHouse) and never heals by
retrying. Waits double from 0.5 s up to 8 s with jitter; a server's ``retry-after-ms`` or
``Retry-After`` (seconds or an HTTP date) wins, capped at 60 s.
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
    "backoff_delay",
    "is_retryable_exception",
    "is_retryable_status",
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
    return isinstance(exc, httpx.TransportError) and not isinstance(
        exc, httpx.UnsupportedProtocol | httpx.ProxyError
    )


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
