"""Input checks shared by every face, made before any I/O.

Each check raises ``InvalidArgumentError`` (a usage error: CLI exit 2, REST 400, an MCP tool
error, a LangChain ``ToolException``) or, for the client's own settings, ``ConfigurationError``.
Messages say what is wrong and how to fix it; a secret (the API key, a custom header's value) is
described — "has a stray newline at its end" — and never shown.

>>> validate_run_id("run-39e39189-9b0f-49e1-aa16-49a02c1268f4")
'run-39e39189-9b0f-49e1-aa16-49a02c1268f4'
>>> check_seconds("timeout", 2.5)
2.5
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

from ._exceptions import ConfigurationError, InvalidArgumentError
from ._secrets import register_secret
from ._text import truncate

__all__ = [
    "MAX_DURATION_SECONDS",
    "MAX_TIMEOUT_SECONDS",
    "RUN_ID_PATTERN",
    "check_base_url",
    "check_header_name",
    "check_header_value",
    "check_output_path",
    "check_seconds",
    "is_run_id",
    "validate_run_id",
]

RUN_ID_PATTERN = r"^run-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
"""The server's run id form (``run-<uuid4>``, lowercase), anchored for JSON Schema ``pattern``."""
_RUN_ID = re.compile(RUN_ID_PATTERN[1:-1])

MAX_TIMEOUT_SECONDS = 86_400.0
"""A request or idle timeout longer than a day is a typo; the socket layer rejects huge values."""
MAX_DURATION_SECONDS = 100 * 365 * 86_400.0
"""Durations (``--since``, ``--stuck-after``) up to 100 years; more overflows date arithmetic."""

_TOKEN_CHARS = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""RFC 9110 ``token``: what an HTTP header name may be made of."""


def is_run_id(value: object) -> bool:
    """True when ``value`` is exactly a run id (no surrounding whitespace, no final newline)."""
    return isinstance(value, str) and _RUN_ID.fullmatch(value) is not None


def validate_run_id(run_id: object, *, name: str = "run id") -> str:
    """Check a run id has the server's ``run-<uuid4>`` form (before any I/O).

    The error carries what Letta itself answers for such an id (400 and its ``detail``), so a
    face that speaks Letta's HTTP contract can answer the same.
    """
    if is_run_id(run_id):
        return run_id  # type: ignore[return-value]
    hint = "copy the id from the run list or from the run's JSON"
    if isinstance(run_id, str) and is_run_id(run_id.strip()):
        hint = "remove the whitespace or line ending around the id"
    elif isinstance(run_id, str) and is_run_id(run_id.strip().lower()):
        hint = "write the id in lowercase, as the server gives it"
    shown = repr(run_id) if isinstance(run_id, str) else f"of type {type(run_id).__name__}"
    raise InvalidArgumentError(
        f"invalid {name} {truncate(shown, 120)}: expected 'run-<uuid4>' in lowercase, "
        "e.g. run-39e39189-9b0f-49e1-aa16-49a02c1268f4",
        hint=hint,
        letta_status=400,
        letta_detail=(
            f"INVALID_ARGUMENT: Invalid run ID format: {truncate(str(run_id), 120)}. "
            "Expected format: 'run-<uuid4>'"
        ),
    )


def check_seconds(
    name: str,
    value: Any,
    *,
    maximum: float = MAX_TIMEOUT_SECONDS,
    error: type[InvalidArgumentError] = InvalidArgumentError,
) -> float:
    """``value`` as a finite, positive number of seconds no larger than ``maximum``.

    Rejects booleans, strings, NaN and infinity (``--timeout nan`` would otherwise reach the
    socket layer and fail there)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(f"{name} must be a number of seconds, got {truncate(repr(value), 120)}")
    seconds = float(value)
    if math.isnan(seconds) or math.isinf(seconds):
        raise error(
            f"{name} must be a finite number of seconds, got {value}",
            hint="e.g. 30",
        )
    if seconds <= 0:
        raise error(f"{name} must be more than 0 seconds, got {value}")
    if seconds > maximum:
        raise error(
            f"{name} must be at most {maximum:g} seconds, got {value:g}",
            hint="pass a shorter time",
        )
    return seconds


# --------------------------------------------------------------------------- header values

_CONTROL_NAMES = {"\r": "carriage return \\r", "\n": "line feed \\n", "\t": "tab \\t"}


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _where(value: str, positions: list[int]) -> str:
    if all(p >= len(value.rstrip()) for p in positions):
        return "at its end"
    if all(p < len(value) - len(value.lstrip()) for p in positions):
        return "at its start"
    return "inside it"


def check_header_value(value: str, *, what: str, secret: bool) -> str:
    """``value`` if it can be sent as an HTTP header value, else a ``ConfigurationError``.

    A line ending (a CRLF ``.env`` file, a Kubernetes secret made from a file) or other control
    character, spaces around the value and non-ASCII characters are refused with a message that
    names the problem — for a ``secret`` without ever showing the value.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"{what} must be a string, got {type(value).__name__}")
    shown = "" if secret else f" {truncate(repr(value), 120)}"
    note = " (the value is not shown)" if secret else ""
    controls = [i for i, ch in enumerate(value) if _is_control(ch)]
    if controls:
        chars = []
        for i in controls:
            name = _CONTROL_NAMES.get(value[i], f"control character U+{ord(value[i]):04X}")
            if name not in chars:
                chars.append(name)
        newline = any(value[i] in "\r\n" for i in controls)
        kind = "a stray newline" if newline else "a stray control character"
        raise ConfigurationError(
            f"{what}{shown} has {kind} {_where(value, controls)} ({', '.join(chars)}){note}",
            hint="remove it: files with Windows (CRLF) line endings and secrets created from a "
            "file with a final newline add one; e.g. strip it with `tr -d '\\r\\n'`",
        )
    if value != value.strip():
        raise ConfigurationError(
            f"{what}{shown} has stray spaces {_where(value, _blank_positions(value))}{note}",
            hint="remove the spaces around the value",
        )
    bad = [i for i, ch in enumerate(value) if ord(ch) > 126]
    if bad:
        raise ConfigurationError(
            f"{what}{shown} contains a non-ASCII character (at position {bad[0] + 1}){note}",
            hint="HTTP headers carry ASCII only: check for a typographic quote or dash, or a "
            "character pasted by mistake",
        )
    return value


def _blank_positions(value: str) -> list[int]:
    lead = len(value) - len(value.lstrip())
    trail = len(value.rstrip())
    return [*range(lead), *range(trail, len(value))]


def check_header_name(name: str, *, what: str) -> str:
    """``name`` if it is a valid HTTP header name (an RFC 9110 token)."""
    if not isinstance(name, str) or not _TOKEN_CHARS.fullmatch(name):
        raise ConfigurationError(
            f"{what}: {truncate(repr(name), 120)} is not a valid HTTP header name",
            hint="write one 'Name: value' per line; names are letters, digits and -_.",
        )
    return name


# --------------------------------------------------------------------------- base URL


def check_base_url(raw: str, *, what: str = "base URL") -> str:
    """The server root from ``raw`` (no trailing slash), or a ``ConfigurationError``.

    An empty value is refused rather than silently meaning Letta Cloud; the URL must parse, use
    http or https and name a host. A password in the URL is registered as a secret.
    """
    hint = (
        "use the server root such as https://api.letta.com or http://localhost:8283, "
        "or 'demo' for the embedded recorded runs"
    )
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigurationError(f"the {what} is empty", hint=hint)
    text = raw.strip()
    if any(_is_control(ch) or ch == " " for ch in text):
        raise ConfigurationError(
            f"the {what} {truncate(repr(text), 120)} contains spaces or control characters",
            hint=hint,
        )
    if not text.lower().startswith(("http://", "https://")):
        raise ConfigurationError(
            f"invalid {what} {truncate(repr(text), 120)}: not http(s)", hint=hint
        )
    import httpx  # here, not at import time: the CLI's startup stays light

    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"invalid {what} {truncate(repr(text), 120)}: {exc}", hint=hint
        ) from None
    if url.password:
        register_secret(url.password)
    if not url.host:
        raise ConfigurationError(f"invalid {what} {truncate(repr(text), 120)}: no host", hint=hint)
    if url.port is not None and not 0 < url.port < 65536:
        raise ConfigurationError(
            f"invalid {what} {truncate(repr(text), 120)}: port {url.port} is not 1-65535", hint=hint
        )
    if url.query or url.fragment:
        raise ConfigurationError(
            f"invalid {what} {truncate(repr(text), 120)}: a server root has no query or fragment",
            hint=hint,
        )
    return text.rstrip("/")


# --------------------------------------------------------------------------- files


def check_output_path(path: str | os.PathLike[str], *, what: str = "--output") -> Path:
    """``path`` if a file can be written there, else an ``InvalidArgumentError`` — checked
    before any request, so a long read does not end in a failed write."""
    target = Path(path)
    if not str(path).strip():
        raise InvalidArgumentError(f"{what}: the file name is empty")
    if target.is_dir():
        raise InvalidArgumentError(
            f"{what} {str(target)!r} is a folder", hint="name a file inside it"
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidArgumentError(
            f"{what} {str(target)!r}: the folder {str(folder)!r} does not exist",
            hint="create the folder first, or write somewhere else",
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise InvalidArgumentError(f"{what} {str(target)!r} is not writable")
    if not target.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidArgumentError(
            f"{what} {str(target)!r}: cannot create files in {str(folder)!r}",
            hint="write somewhere you have permission to",
        )
    return target
