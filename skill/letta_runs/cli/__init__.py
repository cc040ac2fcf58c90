"""The ``letta-runs`` command line: noun → verb commands over the core.

>>> from click.testing import CliRunner                                    # doctest: +SKIP
>>> CliRunner().invoke(cli, ["--demo", "runs", "list", "--json"]).output   # doctest: +SKIP

``run_tool`` is the entry point of the ``tools/*.py`` scripts: the same commands with JSON forced.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from .._version import __version__
from ._app import EXIT_CODES_EPILOG, CLIState, LettaRunsGroup, root_options
from .report import report
from .reports import REPORT_COMMANDS
from .runs import runs
from .serve import mcp_command, serve_command
from .skill import skill

__all__ = ["CLIState", "cli", "main", "run_tool"]


@click.group(
    cls=LettaRunsGroup,
    epilog=EXIT_CODES_EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@root_options
@click.version_option(__version__, prog_name="letta-runs")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Inspect and diagnose runs of Letta stateful agents.

    Start with `triage` (what went wrong lately), then `diagnose RUN_ID` (why), then drill
    down with `timeline`, `runs steps` and `runs messages`.

    \b
    Example (no server, no key: embedded recorded runs):
      letta-runs --demo diagnose run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
    """
    ctx.ensure_object(CLIState)


cli.add_command(runs)
cli.add_command(skill)
cli.add_command(mcp_command)
cli.add_command(serve_command)
cli.add_command(report)
for _command in REPORT_COMMANDS:
    cli.add_command(_command)


def _skip_httpx_command_line() -> None:
    """Keep httpx from importing its own command line (``httpx._main``) in this process.

    ``import httpx`` tries ``from ._main import main``, which loads rich and pygments whenever
    they are installed (the ``mcp`` extra brings rich): about a fifth of the start-up of every
    command that reads from a server, for a console script letta-runs never calls. Marking the
    module absent makes httpx fall back to its stub ``httpx.main``. Only done before httpx is
    first imported, and only by the command line, never by ``import letta_runs``.
    """
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the ``letta-runs`` console script)."""
    _skip_httpx_command_line()
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="letta-runs")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def run_tool(*command: str, argv: Sequence[str] | None = None) -> int:
    """Run ``letta-runs COMMAND… --json ARGV…`` and return the exit code (for ``tools/*.py``).

    >>> raise SystemExit(run_tool("runs", "get"))            # doctest: +SKIP
    """
    args = list(sys.argv[1:] if argv is None else argv)
    return main([*command, "--json", *args])
