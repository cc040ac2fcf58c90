"""``letta-runs mcp`` and ``letta-runs serve``: the MCP and REST faces, started from the CLI.

Both use the root group's settings (``--base-url``/``--demo``, key, project), so
``letta-runs --demo mcp`` serves the embedded recorded runs. Without their extra installed
they print the ``pip install`` hint and exit 2.
"""

from __future__ import annotations

import click

from .._extras import require_extra
from ._app import global_options, state_of


@click.command("mcp")
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    show_default=True,
    help="stdio for an agent that launches the server; http for streamable HTTP at /mcp.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP only.")
@click.option("--port", type=click.IntRange(1, 65535), default=9090, show_default=True)
@click.option(
    "--token",
    envvar="LETTA_RUNS_SERVE_TOKEN",
    default=None,
    help="HTTP only: bearer token callers must send (env LETTA_RUNS_SERVE_TOKEN; required "
    "beyond loopback).",
)
@click.option("--allow-delete", is_flag=True, help="Also expose the destructive delete-run tool.")
@global_options
@click.pass_context
def mcp_command(
    ctx: click.Context,
    transport: str,
    host: str,
    port: int,
    token: str | None,
    allow_delete: bool,
) -> None:
    """Serve the Runs tools to coding agents over MCP (read-only unless --allow-delete).

    \b
    Examples:
      letta-runs mcp                                   # stdio, for `claude mcp add … -- letta-runs mcp`
      letta-runs mcp --transport http --port 9090      # then register http://127.0.0.1:9090/mcp
    """
    require_extra("mcp")
    from ..mcp_server import run_mcp

    state = state_of(ctx)
    state.check()
    run_mcp(
        transport="http" if transport == "http" else "stdio",
        host=host,
        port=port,
        allow_delete=allow_delete,
        client_factory=state.async_client,
        token=token,
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option(
    "--token",
    envvar="LETTA_RUNS_SERVE_TOKEN",
    default=None,
    help="Bearer token callers must send (env LETTA_RUNS_SERVE_TOKEN; required beyond loopback).",
)
@click.option("--allow-delete", is_flag=True, help="Pass DELETE /v1/runs/{id} through to Letta.")
@global_options
@click.pass_context
def serve_command(
    ctx: click.Context, host: str, port: int, token: str | None, allow_delete: bool
) -> None:
    """Serve Letta's Runs routes plus /diagnosis and /timeline over REST (OpenAPI at /docs).

    The Letta key stays in this process; callers never see it.

    \b
    Example:
      letta-runs serve --port 8080 && curl http://127.0.0.1:8080/v1/runs/?limit=5
    """
    require_extra("rest")
    from ..rest import run_rest

    state = state_of(ctx)
    state.check()
    run_rest(
        host=host,
        port=port,
        token=token,
        allow_delete=allow_delete,
        client_factory=state.async_client,
    )
