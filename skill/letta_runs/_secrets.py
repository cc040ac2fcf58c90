"""Keeping secrets out of every text letta-runs writes: messages, JSON errors, logs, tracebacks.

One mechanism serves every face. A secret (the API key, a serve token, the value of a secret
custom header) is registered once, when it enters the process; ``redact`` then replaces it in
any text and ``redact_data`` in any JSON-like value. A secret can reach a text in more than its
own spelling — the HTTP stack quotes header values as ``repr`` of bytes (``b'Bearer sk-…\\r\\n'``),
JSON escapes control characters, URLs percent-encode — so each registered secret is also removed
in those spellings, and by its stripped core (the part a stray newline cannot change).

Loggers of the package come from ``secret_safe_logger``: their records are redacted (message,
arguments and traceback) before any handler formats them, whoever configured the handlers.

>>> register_secret("sk-let-0123456789\\r\\n")
>>> redact("Illegal header value b'Bearer sk-let-0123456789\\\\r\\\\n'")
"Illegal header value b'Bearer ***'"
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

__all__ = [
    "LOGGABLE_HEADERS",
    "REDACTED",
    "RedactingFilter",
    "headers_for_log",
    "looks_secret_header",
    "protect_http_stack_loggers",
    "redact",
    "redact_data",
    "register_secret",
    "secret_safe_logger",
]

REDACTED = "***"
MIN_SECRET_LENGTH = 4
"""Shorter values are not registered: replacing two letters everywhere would garble every text."""

LOGGABLE_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "connection",
        "content-length",
        "content-type",
        "host",
        "user-agent",
        "x-project",
    }
)
"""Request headers whose values ``--debug`` shows; every other value (the key, every custom
header from ``LETTA_CUSTOM_HEADERS``) is logged as ``***``, its name only."""

_SECRET_NAME = re.compile(
    r"auth|key|token|secret|passw|cookie|session|credential|signature|bearer", re.IGNORECASE
)

_SECRETS: set[str] = set()


def _spellings(value: str) -> set[str]:
    """``value`` as it may appear in a text: raw, stripped, escaped, quoted, percent-encoded."""
    forms = {value, value.strip()}
    forms.add(repr(value)[1:-1])
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    forms.add(repr(value.encode("utf-8", "backslashreplace"))[2:-1])
    forms.add(quote(value, safe=""))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def register_secret(value: str | None) -> None:
    """Remember ``value`` so that ``redact`` removes it (in every spelling) from any text."""
    if isinstance(value, str) and len(value.strip()) >= MIN_SECRET_LENGTH:
        _SECRETS.update(_spellings(value))


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    if not _SECRETS or not isinstance(text, str):
        return text
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_data(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings) with every registered secret redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact(str(k)): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


def looks_secret_header(name: str) -> bool:
    """True for header names that usually carry credentials (``Authorization``, ``X-Api-Key``…)."""
    return bool(_SECRET_NAME.search(name))


def headers_for_log(headers: Mapping[str, str]) -> dict[str, str]:
    """Request headers for a debug log line: names always, values only of ``LOGGABLE_HEADERS``."""
    return {
        str(name): (redact(str(value)) if str(name).lower() in LOGGABLE_HEADERS else REDACTED)
        for name, value in headers.items()
    }


class RedactingFilter(logging.Filter):
    """Redacts a record in place: its message (arguments merged) and its traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _SECRETS:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(
                "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            )
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


HTTP_STACK_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)
"""The HTTP stack's loggers: their debug records quote requests and exceptions verbatim."""


def protect_http_stack_loggers() -> None:
    """Attach the redacting filter to the HTTP stack's loggers too (called by the client)."""
    for name in HTTP_STACK_LOGGERS:
        secret_safe_logger(name)


def secret_safe_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with the redacting filter attached (once).

    A logger's filters do not see records of its child loggers, so each module of the package
    takes its logger from here.
    """
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
