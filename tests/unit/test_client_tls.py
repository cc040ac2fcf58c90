"""TLS settings: one shared verifying context for https, none built for plain http."""

from __future__ import annotations

import ssl

from letta_runs._client import _tls_verify


def test_https_base_url_gets_a_verifying_context_shared_by_every_client() -> None:
    first = _tls_verify("https://api.letta.com")
    second = _tls_verify("https://example.invalid")
    assert isinstance(first, ssl.SSLContext)
    assert first.verify_mode == ssl.CERT_REQUIRED
    assert first.check_hostname is True
    assert first is second


def test_plain_http_base_url_builds_no_tls_context() -> None:
    assert _tls_verify("http://localhost:8283") is False
