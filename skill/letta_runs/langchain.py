"""LangChain tools for letta-runs: one tool per operation of the catalog.

>>> from letta_runs.langchain import LettaRunsToolkit
>>> from letta_runs import RunsClient
>>> tools = LettaRunsToolkit(RunsClient(base_url="demo")).get_tools()   # embedded recorded runs
>>> [t.name for t in tools][:3]
['list_runs', 'list_active_runs', 'retrieve_run']

Every tool is a thin adapter over :meth:`letta_runs.operations.Operation.run`: the tool's name,
description and argument schema come from the operation, its content is the operation's compact
text (next steps and the next page named as these tools) and its artifact the full typed result
(``response_format="content_and_artifact"``). An
expected API failure (run not found, not supported by this server, rate limited, read-only
refusal, ...) becomes a :class:`~langchain_core.tools.ToolException` whose message says what to
try next, and the tool hands that message back to the model instead of raising.

This is the only module of letta-runs that imports LangChain.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Sequence
from typing import Any

try:
    from langchain_core.tools import BaseTool, BaseToolkit, ToolException
except ModuleNotFoundError as exc:  # the base install has no LangChain: name the extra
    from ._extras import missing_extra

    raise missing_extra("langchain") from exc
from pydantic import ConfigDict, Field, PrivateAttr, SkipValidation

from ._blocking import run_blocking
from ._client import AsyncRunsClient, BaseRunsClient, RunsClient
from ._exceptions import LettaRunsError
from .operations import FACES, Operation, catalog, get_operation
from .params import invalid_arguments

__all__ = ["LettaRunsClients", "LettaRunsTool", "LettaRunsToolkit", "tool_names"]


def tool_names(*, read_only: bool = True) -> list[str]:
    """Names of the tools a toolkit offers, in catalog order.

    >>> "delete_run" in tool_names(), "delete_run" in tool_names(read_only=False)
    (False, True)
    """
    return [op.name for op in catalog.OPERATIONS if op.read_only or not read_only]


class LettaRunsClients:
    """Hands each tool call an :class:`AsyncRunsClient` that belongs to the running event loop.

    An async HTTP client is tied to the event loop it first ran on, so one client is created
    lazily per loop and reused by every tool sharing this object. A blocking ``invoke`` runs the
    call on an event loop of its own, with a fresh client that it closes afterwards.

    ``client`` may be a ``RunsClient`` (its settings are copied; it stays yours to close), an
    ``AsyncRunsClient`` (used as-is by async calls, which must then run on the loop it belongs
    to; blocking calls use a copy of its settings) or ``None``: settings from the environment
    (``LETTA_BASE_URL``, ``LETTA_API_KEY``, ``LETTA_PROJECT``, ``LETTA_RUNS_READ_ONLY``), read
    now, so a bad value fails here rather than at the first tool call.
    """

    def __init__(self, client: RunsClient | AsyncRunsClient | None = None) -> None:
        if client is not None and not isinstance(client, BaseRunsClient):
            raise TypeError(
                "client must be a RunsClient, an AsyncRunsClient or None, "
                f"not {type(client).__name__}"
            )
        self._given = client if isinstance(client, AsyncRunsClient) else None
        self._settings = (client or BaseRunsClient()).settings()
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncRunsClient] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LettaRunsClients(base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The server the tools talk to (``"demo"`` for the embedded recorded runs)."""
        return str(self._settings["base_url"])

    @property
    def settings(self) -> dict[str, Any]:
        """The client settings the tools use (they hold the API key: never log them)."""
        return dict(self._settings)

    def new_client(self) -> AsyncRunsClient:
        """A new client with these settings; the caller closes it."""
        return AsyncRunsClient(**self._settings)

    def for_running_loop(self) -> AsyncRunsClient:
        """The client of the running event loop, created on first use."""
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._per_loop.get(loop)
            if client is None:
                client = self._per_loop[loop] = self.new_client()
        return client

    async def aclose(self) -> None:
        """Close the client of the running loop (a client passed in is left to its owner)."""
        with self._lock:
            client = self._per_loop.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


class LettaRunsTool(BaseTool):
    """One catalog operation as a LangChain tool.

    >>> from letta_runs import RunsClient
    >>> tool = LettaRunsTool(operation="retrieve_run", client=RunsClient(base_url="demo"))
    >>> tool.name, tool.metadata["readOnly"], tool.response_format
    ('retrieve_run', True, 'content_and_artifact')

    ``operation`` is an :class:`Operation` or its name; the tool's name, description, argument
    schema, tags and metadata (the safety hints ``readOnly``, ``destructive``, ``idempotent``
    and the operation's MCP-style ``*Hint`` names) come from it. Give either ``client`` (see
    :class:`LettaRunsClients`) or ``clients`` (shared by the tools of a toolkit); with neither,
    settings come from the environment.
    """

    _operation: Operation = PrivateAttr()
    _clients: LettaRunsClients = PrivateAttr()

    def __init__(
        self,
        operation: Operation | str,
        *,
        client: RunsClient | AsyncRunsClient | None = None,
        clients: LettaRunsClients | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(operation, str):
            try:
                operation = get_operation(operation)
            except KeyError:
                known = ", ".join(tool_names(read_only=False))
                raise ValueError(f"unknown operation {operation!r}; known: {known}") from None
        if clients is not None and client is not None:
            raise ValueError("pass either client or clients, not both")
        op = operation
        hints = {
            "readOnly": op.read_only,
            "destructive": op.destructive,
            "idempotent": op.idempotent,
            "openWorld": True,
        }
        fields: dict[str, Any] = {
            "name": op.name,
            "description": op.description,
            "args_schema": op.args_model,
            "tags": list(op.tags) or None,
            "metadata": {**hints, **op.hints, "title": op.title, "composite": op.composite},
            "response_format": "content_and_artifact",
            "handle_tool_error": True,
            # Arguments LangChain refuses before the call reach the model as the same message.
            "handle_validation_error": lambda exc: str(invalid_arguments(exc)),
        }
        super().__init__(**{**fields, **kwargs})
        self._operation = op
        self._clients = clients if clients is not None else LettaRunsClients(client)

    @property
    def operation(self) -> Operation:
        """The catalog operation this tool runs."""
        return self._operation

    @property
    def clients(self) -> LettaRunsClients:
        """Where the tool gets its :class:`AsyncRunsClient` (shared by a toolkit's tools)."""
        return self._clients

    @property
    def base_url(self) -> str:
        """The server this tool talks to (``"demo"`` for the embedded recorded runs)."""
        return self.clients.base_url

    async def _call(self, client: AsyncRunsClient, arguments: dict[str, Any]) -> tuple[str, Any]:
        try:
            result = await self.operation.run(client, arguments, face=FACES["langchain"])
        except LettaRunsError as exc:
            # str(exc) is "what went wrong — what to try next"; the model reads exactly that.
            raise ToolException(str(exc)) from exc
        return result.text, result.artifact

    def _run(self, **kwargs: Any) -> tuple[str, Any]:
        kwargs.pop("run_manager", None)
        return run_blocking(self.clients.settings, lambda client: self._call(client, kwargs))

    async def _arun(self, **kwargs: Any) -> tuple[str, Any]:
        kwargs.pop("run_manager", None)
        return await self._call(self.clients.for_running_loop(), kwargs)


class LettaRunsToolkit(BaseToolkit):
    """Every letta-runs operation as a LangChain tool, read-only unless asked otherwise.

    >>> from letta_runs import RunsClient
    >>> toolkit = LettaRunsToolkit(RunsClient(base_url="demo"), include=["list_runs", "retrieve_run"])
    >>> [t.name for t in toolkit.get_tools()]
    ['list_runs', 'retrieve_run']

    ``client`` is a ``RunsClient``, an ``AsyncRunsClient`` or ``None`` (settings from the
    environment; ``LETTA_BASE_URL=demo`` serves the embedded recorded runs). ``delete_run`` is
    offered only with ``read_only=False``. ``include`` keeps only the named tools; an unknown
    name is a ``ValueError``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: SkipValidation[Any] = Field(default=None, exclude=True)
    read_only: bool = True
    include: list[str] | None = None

    _clients: LettaRunsClients = PrivateAttr()

    def __init__(
        self,
        client: RunsClient | AsyncRunsClient | None = None,
        *,
        read_only: bool = True,
        include: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if include is not None:
            include = _check_include(include, read_only=read_only)
        super().__init__(client=client, read_only=read_only, include=include, **kwargs)
        self._clients = LettaRunsClients(client)

    @property
    def clients(self) -> LettaRunsClients:
        """The client source shared by this toolkit's tools."""
        return self._clients

    def get_tools(self) -> list[BaseTool]:
        """The tools, in catalog order (``include`` filters, it does not reorder)."""
        offered = tool_names(read_only=self.read_only)
        wanted = offered if self.include is None else [n for n in offered if n in self.include]
        return [LettaRunsTool(operation=name, clients=self._clients) for name in wanted]

    async def aclose(self) -> None:
        """Close the client the tools opened on the running event loop."""
        await self._clients.aclose()


def _check_include(include: Sequence[str], *, read_only: bool) -> list[str]:
    if isinstance(include, str):
        raise ValueError(f"include must be a list of tool names, not the string {include!r}")
    offered = tool_names(read_only=read_only)
    unknown = [name for name in include if name not in offered]
    destructive = [name for name in unknown if name in tool_names(read_only=False)]
    if destructive:
        raise ValueError(
            f"{', '.join(destructive)} is destructive and the toolkit is read-only; "
            "pass read_only=False to offer it"
        )
    if unknown:
        raise ValueError(
            f"unknown tool name(s): {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(offered)}"
        )
    return list(include)
