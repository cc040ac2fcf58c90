"""The MCP server: every catalog operation as an MCP tool, over stdio or streamable HTTP.

Tools are generated from the catalog (:data:`letta_runs.operations.OPERATIONS`): the tool name
is the operation's ``mcp_name``, the input schema its argument model, the output schema its
result model, the annotations its safety hints. A call validates the arguments, runs the
operation once and returns its JSON as structured content plus the same JSON and a short
summary as text, sized for a model: lists say ``has_more`` and give ``next_arguments`` for the
next call, long strings say how to read them whole, next steps name these tools. A failure
becomes a tool error (``isError``) whose text says what went wrong and what to try next — never
a traceback, never the API key.

The server is read-only unless started with ``allow_delete=True``: destructive operations
(``delete-run``) are then listed; otherwise they do not exist.

>>> server = create_server(lambda: AsyncRunsClient(base_url="demo"))  # doctest: +SKIP
>>> run_mcp(transport="http", port=9090)  # http://127.0.0.1:9090/mcp  # doctest: +SKIP

Needs the optional ``mcp`` dependency (``pip install 'letta-runs[mcp]'``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from ._exceptions import InvalidArgumentError, LettaRunsError
from ._secrets import redact, secret_safe_logger
from .operations import FACES, OPERATIONS, Operation

if TYPE_CHECKING:
    from mcp.server import Server
    from mcp.server.context import ServerRequestContext
    from mcp.types import (
        CallToolRequestParams,
        CallToolResult,
        ListResourcesResult,
        ListResourceTemplatesResult,
        ListToolsResult,
        ReadResourceRequestParams,
        ReadResourceResult,
        Tool,
    )

    from ._client import AsyncRunsClient

__all__ = [
    "DEFAULT_MCP_HOST",
    "DEFAULT_MCP_PATH",
    "DEFAULT_MCP_PORT",
    "ClientFactory",
    "create_http_app",
    "create_server",
    "mcp_tools",
    "run_mcp",
    "served_operations",
]

logger = secret_safe_logger(__name__)

DEFAULT_MCP_HOST = "127.0.0.1"
DEFAULT_MCP_PORT = 9090
DEFAULT_MCP_PATH = "/mcp"
SERVER_NAME = "letta-runs"
INSTRUCTIONS = (
    "Inspect and diagnose runs of Letta agents. Start with diagnose-run for one run, "
    "triage-runs to find what went wrong recently, or list-runs to find runs; the other tools "
    "read one Runs API endpoint each. Every tool is read-only unless delete-run is listed."
)

ClientFactory = Callable[[], "AsyncRunsClient"]
"""Makes the one client the server uses (called once at start-up, closed at shut-down)."""


def _default_client_factory() -> AsyncRunsClient:
    from ._client import AsyncRunsClient

    # Configured from LETTA_API_KEY / LETTA_BASE_URL / LETTA_PROJECT; the key stays here.
    return AsyncRunsClient()


def served_operations(*, allow_delete: bool = False) -> list[Operation]:
    """The operations this server exposes: every catalog entry, destructive ones only if allowed."""
    return [op for op in OPERATIONS if allow_delete or not op.destructive]


def _tool(op: Operation) -> Tool:
    from mcp.types import Tool, ToolAnnotations

    hints = op.hints
    return Tool(
        name=op.mcp_name,
        title=op.title,
        description=op.description,
        input_schema=op.args_model.model_json_schema(),
        output_schema=output_schema(op),
        annotations=ToolAnnotations(
            title=op.title,
            read_only_hint=hints["readOnlyHint"],
            destructive_hint=hints["destructiveHint"],
            idempotent_hint=hints["idempotentHint"],
            open_world_hint=hints["openWorldHint"],
        ),
    )


def output_schema(op: Operation) -> dict[str, Any]:
    """The JSON schema of ``op``'s structured result, from its result model.

    Reports trimmed by ``detail`` (the diagnosis, triage, timeline) keep the shape of their model
    but not every field, so their schema requires none.
    """
    from pydantic import TypeAdapter

    schema: dict[str, Any] = TypeAdapter(op.result_model).json_schema(mode="serialization")
    if schema.get("type") != "object":
        schema = {"type": "object", "additionalProperties": True}
    if op.composite:
        schema = _optional_fields(schema)
        schema["additionalProperties"] = True
    return schema


def _optional_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _optional_fields(v) for k, v in value.items() if k != "required"}
    if isinstance(value, list):
        return [_optional_fields(v) for v in value]
    return value


def mcp_tools(*, allow_delete: bool = False) -> list[Tool]:
    """The MCP tool definitions, in catalog order."""
    return [_tool(op) for op in served_operations(allow_delete=allow_delete)]


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, LettaRunsError):
        lines = [f"Error: {exc.message}"]
        if exc.hint:
            lines.append(f"What to do: {exc.hint}")
        return "\n".join(lines)
    # Unexpected: name the failure, keep the details (and any traceback) on stderr only.
    return redact(
        f"Error: unexpected {type(exc).__name__}: {exc}\n"
        "What to do: retry once; if it happens again, report it with the server's log."
    )


def _error_result(exc: BaseException, *, tool: str) -> CallToolResult:
    from mcp.types import CallToolResult, TextContent

    if isinstance(exc, LettaRunsError):
        logger.info("tool %s failed: %s", tool, exc)
        payload: dict[str, Any] = exc.to_dict()
    else:
        logger.error("tool %s raised %s", tool, type(exc).__name__, exc_info=exc)
        payload = {"error": "unexpected", "message": redact(str(exc)), "hint": None}
    return CallToolResult(
        content=[TextContent(type="text", text=_error_text(exc))],
        structured_content=payload,
        is_error=True,
    )


async def call_operation(
    op: Operation, client: AsyncRunsClient, arguments: dict[str, Any]
) -> CallToolResult:
    """Run ``op`` once and turn its result, or its failure, into an MCP tool result."""
    from mcp.types import CallToolResult, TextContent

    try:
        result = await op.run(client, arguments, face=FACES["mcp"])
    except Exception as exc:  # boundary: every failure becomes a readable tool error
        return _error_result(exc, tool=op.mcp_name)
    structured: dict[str, Any] = result.data
    content: list[Any] = [TextContent(type="text", text=json.dumps(structured, default=str))]
    if result.text:
        content.append(TextContent(type="text", text=result.text))
    if op.route.media_type == "text/html":
        content.append(_report_link(result.artifact))
    return CallToolResult(content=content, structured_content=structured)


# --------------------------------------------------------------------------- the HTML report


def _report_link(report: Any) -> Any:
    """A link to the resource that serves ``report``'s page, for clients that show HTML."""
    from mcp.types import ResourceLink

    return ResourceLink(
        type="resource_link",
        uri=report.uri,
        name=f"report of {report.run_id}",
        title=f"HTML report: {report.verdict}",
        mime_type="text/html",
        size=report.bytes,
    )


def _report_template() -> Any:
    from mcp.types import ResourceTemplate

    from .report import REPORT_URI_TEMPLATE

    return ResourceTemplate(
        name="run-report",
        title="HTML report of a run",
        uri_template=REPORT_URI_TEMPLATE,
        description="The post-mortem of one run as one self-contained HTML page (no scripts or "
        "requests of its own beyond folding): verdict, root cause, remedy, step waterfall, "
        "tokens per step, tool calls and the transcript. For MCP clients that render HTML; "
        "the diagnose-run tool gives the same diagnosis as data.",
        mime_type="text/html",
    )


async def read_report(client: AsyncRunsClient, uri: str) -> Any:
    """The ``ReadResourceResult`` of a report URI (``letta-runs://runs/RUN_ID/report.html``)."""
    from mcp.types import ReadResourceResult, TextResourceContents

    from .operations import get_operation
    from .report import REPORT_URI_TEMPLATE

    prefix, suffix = REPORT_URI_TEMPLATE.split("{run_id}")
    if not (uri.startswith(prefix) and uri.endswith(suffix)):
        raise InvalidArgumentError(
            f"unknown resource {uri!r}",
            hint=f"read {REPORT_URI_TEMPLATE} with a run id",
        )
    run_id = uri[len(prefix) : -len(suffix)]
    result = await get_operation("run_report").run(client, {"run_id": run_id}, face=FACES["mcp"])
    return ReadResourceResult(
        contents=[TextResourceContents(uri=uri, mime_type="text/html", text=result.artifact.html)]
    )


def create_server(
    client_factory: ClientFactory | None = None,
    *,
    allow_delete: bool = False,
    operations: Sequence[Operation] | None = None,
) -> Server[AsyncRunsClient]:
    """An MCP ``Server`` exposing the catalog (or ``operations``) as tools.

    ``client_factory`` makes the client when the server starts (default: an
    ``AsyncRunsClient`` configured from the environment); it is closed when the server stops.
    Connect to it in-process in tests with ``mcp.Client(server)``.
    """
    from mcp.server import Server
    from mcp.shared.exceptions import MCPError
    from mcp.types import (
        INVALID_PARAMS,
        ListResourcesResult,
        ListResourceTemplatesResult,
        ListToolsResult,
    )

    factory = client_factory or _default_client_factory
    ops = (
        list(operations) if operations is not None else served_operations(allow_delete=allow_delete)
    )
    if not allow_delete:
        ops = [op for op in ops if not op.destructive]
    by_name = {op.mcp_name: op for op in ops}
    tools = [_tool(op) for op in ops]

    @asynccontextmanager
    async def lifespan(_server: Server[AsyncRunsClient]) -> AsyncIterator[AsyncRunsClient]:
        client = factory()
        try:
            yield client
        finally:
            await client.aclose()

    async def list_tools(
        ctx: ServerRequestContext[AsyncRunsClient], params: Any
    ) -> ListToolsResult:
        return ListToolsResult(tools=tools)

    async def call_tool(
        ctx: ServerRequestContext[AsyncRunsClient], params: CallToolRequestParams
    ) -> CallToolResult:
        op = by_name.get(params.name)
        if op is None:
            hint = (
                "start the server with --allow-delete to enable delete-run"
                if params.name == "delete-run"
                else f"available tools: {', '.join(by_name)}"
            )
            return _error_result(
                InvalidArgumentError(f"unknown tool {params.name!r}", hint=hint),
                tool=params.name,
            )
        return await call_operation(op, ctx.lifespan_context, dict(params.arguments or {}))

    async def list_resource_templates(
        ctx: ServerRequestContext[AsyncRunsClient], params: Any
    ) -> ListResourceTemplatesResult:
        return ListResourceTemplatesResult(resource_templates=[_report_template()])

    async def list_resources(
        ctx: ServerRequestContext[AsyncRunsClient], params: Any
    ) -> ListResourcesResult:
        return ListResourcesResult(resources=[])  # one page per run: see the template

    async def read_resource(
        ctx: ServerRequestContext[AsyncRunsClient], params: ReadResourceRequestParams
    ) -> ReadResourceResult:
        try:
            return await read_report(ctx.lifespan_context, params.uri)  # type: ignore[no-any-return]
        except LettaRunsError as exc:
            raise MCPError(code=INVALID_PARAMS, message=_error_text(exc)) from exc

    def input_schema(name: str) -> dict[str, Any] | None:
        op = by_name.get(name)
        return op.args_model.model_json_schema() if op is not None else None

    from ._version import __version__

    return Server(
        SERVER_NAME,
        version=__version__,
        title="Letta runs",
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_resource_templates,
        on_read_resource=read_resource,
    )


def create_http_app(
    client_factory: ClientFactory | None = None,
    *,
    allow_delete: bool = False,
    host: str = DEFAULT_MCP_HOST,
    path: str = DEFAULT_MCP_PATH,
    token: str | None = None,
) -> Any:
    """The streamable-HTTP ASGI app (a Starlette app serving MCP at ``path``).

    With ``token``, every request needs ``Authorization: Bearer <token>``; without one the app
    only serves loopback (the server reads runs with the Letta key it holds).
    """
    from ._http_auth import BearerTokenGuard, guard_http

    token = guard_http(token, host=host, what="serve MCP")
    server = create_server(client_factory, allow_delete=allow_delete)
    # On loopback the SDK turns on DNS-rebinding protection (Host/Origin must be local).
    app = server.streamable_http_app(streamable_http_path=path, host=host)
    return app if token is None else BearerTokenGuard(app, token)


async def serve_stdio(
    client_factory: ClientFactory | None = None, *, allow_delete: bool = False
) -> None:
    """Serve MCP over this process's stdin/stdout until the client disconnects."""
    from mcp.server.stdio import stdio_server

    server = create_server(client_factory, allow_delete=allow_delete)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def run_mcp(
    transport: Literal["stdio", "http"] = "stdio",
    host: str = DEFAULT_MCP_HOST,
    port: int = DEFAULT_MCP_PORT,
    allow_delete: bool = False,
    client_factory: ClientFactory | None = None,
    token: str | None = None,
) -> None:
    """Run the MCP server until interrupted (blocking).

    ``stdio`` is what coding agents launch as a subprocess; ``http`` serves streamable HTTP at
    ``http://<host>:<port>/mcp`` — loopback by default; any other host needs ``token`` (callers
    send ``Authorization: Bearer <token>``), because the server reads runs with its Letta key.
    """
    if transport == "stdio":
        import anyio

        anyio.run(lambda: serve_stdio(client_factory, allow_delete=allow_delete))
        return
    if transport != "http":
        raise InvalidArgumentError(
            f"unknown MCP transport {transport!r}", hint="use 'stdio' or 'http'"
        )
    import uvicorn

    app = create_http_app(client_factory, allow_delete=allow_delete, host=host, token=token)
    print(
        f"letta-runs MCP server on http://{_url_host(host)}:{port}{DEFAULT_MCP_PATH}"
        + ("" if token else " (loopback only, no token)"),
        file=sys.stderr,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
