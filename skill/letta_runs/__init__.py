"""letta-runs: inspect and diagnose runs of Letta stateful agents.

>>> from letta_runs import RunsClient
>>> with RunsClient(base_url="demo") as client:          # embedded recorded runs, no server
...     runs = client.runs.list(limit=5).items

Importing this package never imports LangChain, MCP or a web framework; those faces live in
``letta_runs.langchain``, ``letta_runs.mcp_server`` and ``letta_runs.rest``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GoneError,
    InvalidArgumentError,
    LettaRunsError,
    NotFoundError,
    NotSupportedError,
    PermissionDeniedError,
    RateLimitError,
    ReadOnlyError,
    ServerError,
    ValidationError,
)
from .models import Message, Run, RunMetrics, Step, StreamEvent, Usage

if TYPE_CHECKING:
    from ._client import AsyncRunsClient, RunsClient
    from .diagnosis import RunDiagnosis, diagnose
    from .evidence import Evidence

__version__ = "0.1.0"

_LAZY = {
    "RunsClient": "._client",
    "AsyncRunsClient": "._client",
    "Evidence": ".evidence",
    "RunDiagnosis": ".diagnosis",
    "diagnose": ".diagnosis",
}

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncRunsClient",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "Evidence",
    "GoneError",
    "InvalidArgumentError",
    "LettaRunsError",
    "Message",
    "NotFoundError",
    "NotSupportedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReadOnlyError",
    "Run",
    "RunDiagnosis",
    "RunMetrics",
    "RunsClient",
    "ServerError",
    "Step",
    "StreamEvent",
    "Usage",
    "ValidationError",
    "__version__",
    "diagnose",
]


def __getattr__(name: str) -> Any:
    # The client and the diagnosis engine load on first use so `import letta_runs` stays cheap.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'letta_runs' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
