"""letta-runs: inspect and diagnose runs of Letta stateful agents.

>>> from letta_runs import RunsClient
>>> with RunsClient(base_url="demo") as client:          # embedded recorded runs, no server
...     runs = client.runs.list(limit=5).items

Importing this package never imports LangChain, MCP or a web framework; those faces live in
``letta_runs.langchain``, ``letta_runs.mcp_server`` and ``letta_runs.rest``. It does not import
pydantic, httpx or the diagnosis engine either: the models, the clients and the engine load on
first use, so ``letta-runs --help`` and every light command start fast.
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
    ConfigurationError,
    ConflictError,
    GoneError,
    InvalidArgumentError,
    LettaRunsError,
    NotFoundError,
    NotSupportedError,
    PartialResultError,
    PermissionDeniedError,
    RateLimitError,
    ReadOnlyError,
    ServerError,
    ValidationError,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._client import AsyncRunsClient, RunsClient
    from .diagnosis import RunDiagnosis, diagnose
    from .evidence import Evidence
    from .models import Message, Run, RunMetrics, Step, StreamEvent, Usage

_LAZY = {
    "RunsClient": "._client",
    "AsyncRunsClient": "._client",
    "Evidence": ".evidence",
    "RunDiagnosis": ".diagnosis",
    "diagnose": ".diagnosis",
    "Message": ".models",
    "Run": ".models",
    "RunMetrics": ".models",
    "Step": ".models",
    "StreamEvent": ".models",
    "Usage": ".models",
}

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncRunsClient",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "Evidence",
    "GoneError",
    "InvalidArgumentError",
    "LettaRunsError",
    "Message",
    "NotFoundError",
    "NotSupportedError",
    "PartialResultError",
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
    # The models, the clients and the diagnosis engine load on first use so that
    # `import letta_runs` (and so every CLI command) stays cheap.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'letta_runs' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
