"""The operation catalog: every Runs API operation and composite, written once, next to its metadata.

An operation is an ``async`` function of an :class:`~letta_runs.AsyncRunsClient` decorated with
:func:`operation`, which reads everything a face needs from the function itself (its docstring,
parameter annotations and return annotation) and takes the rest as arguments: the title, the
safety hints, the Letta route and how the CLI spells the call. The CLI, the LangChain tools, the
MCP server and the REST adapter all run these operations through :meth:`Operation.run`, so they
cannot drift apart and none holds logic of its own.

One job per module:

- :mod:`~letta_runs.operations.catalog` — what an operation is (:class:`Operation`,
  :class:`Page`, :class:`Face`, :class:`NextStep`), the :func:`operation` decorator, the
  registry (:data:`OPERATIONS`, :func:`get_operation`) and :func:`render_next_step`;
- :mod:`~letta_runs.operations.presenting` — a result fitted to a face's budgets: JSON-ready
  ``data``, compact ``text`` for a model, the typed ``artifact``;
- :mod:`~letta_runs.operations.runs` — the Runs API operations (Letta's own routes);
- :mod:`~letta_runs.operations.composites` — the composites (diagnosis, report, timeline,
  triage, stuck runs, comparison, watch).

The definition modules are imported here in catalog order — the Runs API first, then the
composites — which is the order every face lists them in.

>>> from letta_runs.operations import OPERATIONS
>>> [op.name for op in OPERATIONS][:3]
['list_runs', 'list_active_runs', 'retrieve_run']
"""

from __future__ import annotations

from .catalog import (
    FACES,
    OPERATIONS,
    CliCommand,
    Face,
    FaceName,
    NextStep,
    Operation,
    OperationResult,
    Page,
    Route,
    get_operation,
    operation,
    render_next_step,
)

# isort: split
# The definition modules, in catalog order: importing one registers its operations.
from .runs import StreamCapture

# isort: split
from . import composites as _composites  # noqa: F401

__all__ = [
    "COMPOSITE_OPERATIONS",
    "FACES",
    "OPERATIONS",
    "CliCommand",
    "Face",
    "FaceName",
    "NextStep",
    "Operation",
    "OperationResult",
    "Page",
    "Route",
    "StreamCapture",
    "get_operation",
    "operation",
    "render_next_step",
]

COMPOSITE_OPERATIONS: list[Operation] = [op for op in OPERATIONS if op.composite]
"""The operations that combine several calls with the diagnosis (kept for compatibility)."""
