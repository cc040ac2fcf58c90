"""Retry policy: which failures are retried and how long the client waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from letta_runs._retry import (
    backoff_delay,
    is_retryable_exception,
    is_retryable_status,
    retry_after_seconds,
    retry_delay,
    should_retry_response,
)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422, 501])
def test_final_statuses(status: int) -> None:
    assert not is_retryable_status(status)


def test_x_should_retry_overrides_status() -> None:
    assert not should_retry_response(503, {"x-should-retry": "false"})
    assert should_retry_response(400, {"x-should-retry": "true"})


def test_backoff_doubles_and_caps() -> None:
    assert [backoff_delay(i, rand=lambda: 0.0) for i in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert backoff_delay(0, rand=lambda: 1.0) == pytest.approx(0.375)


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after": "1"}) == 1.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "3600"}) == 60.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    now = datetime(2026, 1, 1, tzinfo=UTC)
    date = format_datetime(now + timedelta(seconds=5), usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=lambda: now) == 5.0
    assert retry_after_seconds({}) is None


def test_retry_delay_prefers_server_hint() -> None:
    assert retry_delay(3, {"retry-after": "2"}) == 2.0
    assert retry_delay(1, {}, rand=lambda: 0.0) == 1.0


def test_retryable_exceptions() -> None:
    request = httpx.Request("GET", "http://x")
    assert is_retryable_exception(httpx.ConnectError("no", request=request))
    assert is_retryable_exception(httpx.ReadTimeout("slow", request=request))
    assert not is_retryable_exception(httpx.UnsupportedProtocol("ftp", request=request))
    assert not is_retryable_exception(ValueError("bug"))
