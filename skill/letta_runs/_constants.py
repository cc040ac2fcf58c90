"""Every default in one place."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.letta.com"
DEMO_BASE_URL = "demo"
"""``LETTA_BASE_URL=demo`` (or ``--demo``) serves reads from the embedded recorded runs."""

ENV_API_KEY = "LETTA_API_KEY"
ENV_BASE_URL = "LETTA_BASE_URL"
ENV_PROJECT = "LETTA_PROJECT"
ENV_READ_ONLY = "LETTA_RUNS_READ_ONLY"

DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
RETRYABLE_STATUSES = frozenset({408, 409, 429})
"""Plus every 5xx except 501 (a capability the server does not have; retrying cannot help)."""

RUNS_PAGE_LIMIT_MAX = 1000
DEFAULT_PAGE_SIZE = 100

STREAM_IDLE_TIMEOUT = 30.0
"""Seconds without any byte after which a stream is given up (the server may never end it)."""
STREAM_MAX_RECONNECTS = 5

DEFAULT_STUCK_AFTER_SECONDS = 600.0
