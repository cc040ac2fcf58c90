"""The root ``letta-runs`` group: global options, running catalog operations, error reporting.

Every command is an adapter: it parses its arguments, runs one operation of the catalog
(:meth:`CLIState.run`) and hands the result to :class:`Output`. Errors never escape as tracebacks: ``LettaRunsGroup.invoke``
turns them into ``error: …`` / ``hint: …`` lines on stderr (a JSON object with ``--json``) and
the exit code of the error's kind.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .._constants import DEMO_BASE_URL, ENV_API_KEY, ENV_BASE_URL, ENV_PROJECT
from .._exceptions import InvalidArgumentError, LettaRunsError
from .._secrets import redact, register_secret
from .._validation import check_output_path, check_seconds

if TYPE_CHECKING:
    from .._client import AsyncRunsClient, RunsClient
    from ..operations import OperationResult

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

EXIT_INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)."""

EXIT_CODES_EPILOG = """\b
Exit codes:
  0  ok
  1  unexpected error (run again with --debug for a traceback)
  2  usage error, invalid argument, refused (missing --yes, LETTA_RUNS_READ_ONLY=1),
       or an extra that is not installed (mcp, serve)
  3  not found (or a run stream that expired)
  4  authentication or permission denied (check LETTA_API_KEY / LETTA_PROJECT)
  5  not supported by this server (e.g. /trace without ClickHouse)
  6  network error or timeout
  7  other API error, or a response that could not be parsed
  8  partial result: printed, but some reads behind it failed (triage lists them)
130  interrupted (Ctrl-C)

\b
Output: JSON on stdout when stdout is not a terminal or with --json, a table or Markdown
report on a terminal; diagnostics and errors on stderr. Global options may also be given
after the command (letta-runs runs get RUN_ID --demo).
"""


@dataclass
class CLIState:
    """Settings gathered from the global options (root group and leaf commands)."""

    base_url: str | None = None
    api_key: str | None = None
    project: str | None = None
    timeout: float | None = None
    max_retries: int | None = None
    debug: bool = False
    json_errors: bool = False
    transport: Any = None
    """An ``httpx`` transport for the client (tests pass ``httpx.MockTransport``)."""

    def check(self) -> None:
        """Validate the settings now (key, base URL, headers, timeout), before any I/O.

        For commands that start a server: a bad setting is a usage error at start-up, not a
        failure of every later request."""
        from .._client import BaseRunsClient

        BaseRunsClient(**{k: v for k, v in self.client_settings().items() if k != "transport"})

    def client(self) -> RunsClient:
        from .._client import RunsClient

        return RunsClient(**self.client_settings())

    def async_client(self) -> AsyncRunsClient:
        from .._client import AsyncRunsClient

        return AsyncRunsClient(**self.client_settings())

    def cli_options(self) -> tuple[str, ...]:
        """The global options a command printed for the user keeps (never the key)."""
        if self.base_url == DEMO_BASE_URL:
            options: tuple[str, ...] = ("--demo",)
        elif self.base_url:
            options = ("--base-url", self.base_url)
        else:
            options = ()
        return options + (("--project", self.project) if self.project else ())

    def run(self, operation: str, arguments: dict[str, Any], **local: Any) -> OperationResult:
        """Run a catalog operation with these settings; next steps keep the global options."""
        from .._blocking import run_blocking
        from ..operations import Face, get_operation

        op = get_operation(operation)
        face = Face("cli", cli_options=self.cli_options())
        return run_blocking(
            self.client_settings(), lambda client: op.run(client, arguments, face=face, **local)
        )

    def blocking(self, fn: Callable[[AsyncRunsClient], Awaitable[T]]) -> T:
        """Run ``fn(client)`` on an async client with these settings, from this command."""
        from .._blocking import run_blocking

        return run_blocking(self.client_settings(), fn)

    def client_settings(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "project": self.project,
            "debug": self.debug,
        }
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        if self.max_retries is not None:
            kwargs["max_retries"] = self.max_retries
        if self.transport is not None:
            kwargs["transport"] = self.transport
        return kwargs


def state_of(ctx: click.Context) -> CLIState:
    return ctx.ensure_object(CLIState)


def report_error(exc: BaseException, *, state: CLIState, code: int) -> None:
    """Write ``exc`` to stderr: two readable lines, or one JSON object with ``--json``."""
    if isinstance(exc, LettaRunsError):
        if state.json_errors:
            payload = {**exc.to_dict(), "exit_code": code}
            click.echo(redact(json.dumps(payload, default=str)), err=True)
            return
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        return
    message = redact(f"{type(exc).__name__}: {exc}")
    if state.json_errors:
        payload = {"error": "unexpected", "message": message, "hint": None, "exit_code": code}
        click.echo(json.dumps(payload), err=True)
    else:
        click.echo(f"error: unexpected {message}", err=True)
        if not state.debug:
            click.echo("hint: run again with --debug to see the traceback", err=True)


class LettaRunsGroup(click.Group):
    """A group whose commands' errors become one-line messages and distinct exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except LettaRunsError as exc:
            state = state_of(ctx)
            if state.debug:
                click.echo(redact(traceback.format_exc()), err=True)
            report_error(exc, state=state, code=exc.exit_code)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # `letta-runs … | head`: the reader left; nothing useful to say.
            sys.stderr.close()
            ctx.exit(0)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            state = state_of(ctx)
            if state.debug:
                click.echo(redact(traceback.format_exc()), err=True)
            report_error(exc, state=state, code=1)
            ctx.exit(1)


# --------------------------------------------------------------------------- global options


class CoreValue(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.3
    """A parameter checked by a validator of the core: its ``InvalidArgumentError`` becomes
    click's usage error (exit 2), so every face refuses the same values."""

    def __init__(self, name: str, parse: Callable[[Any], Any]) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self._parse(value)
        except InvalidArgumentError as exc:
            self.fail(str(exc), param, ctx)


def _seconds(value: Any) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InvalidArgumentError(f"{value[:40]!r} is not a number of seconds") from None
    return check_seconds("the value", value)


SECONDS = CoreValue("seconds", _seconds)
"""A finite, positive number of seconds (``nan``, ``inf``, ``0`` are usage errors)."""

OUTPUT_FILE = CoreValue("file", lambda value: str(check_output_path(value)))
"""A file that can be written (its folder exists and is writable; not a folder), checked before
any request so a long read does not end in a failed write."""


def _set(attr: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return
        state = state_of(ctx)
        if attr == "demo":
            state.base_url = DEMO_BASE_URL
            return
        if attr == "api_key":
            register_secret(value)
        setattr(state, attr, value)

    return callback


def _global_option_decorators(*, root: bool) -> list[Callable[[F], F]]:
    """The global options; on the root they read env vars, on commands they are hidden."""
    hidden = not root

    def env(name: str) -> str | None:
        return name if root else None

    return [
        click.option(
            "--base-url",
            envvar=env(ENV_BASE_URL),
            expose_value=False,
            callback=_set("base_url"),
            hidden=hidden,
            help=f"Letta server URL (env {ENV_BASE_URL}; default https://api.letta.com; "
            "'demo' serves embedded recorded runs).",
        ),
        click.option(
            "--api-key",
            envvar=env(ENV_API_KEY),
            expose_value=False,
            callback=_set("api_key"),
            hidden=hidden,
            show_envvar=False,
            help=f"API key. Prefer the env var {ENV_API_KEY}: a flag shows up in shell history.",
        ),
        click.option(
            "--project",
            envvar=env(ENV_PROJECT),
            expose_value=False,
            callback=_set("project"),
            hidden=hidden,
            help=f"Letta Cloud project (env {ENV_PROJECT}).",
        ),
        click.option(
            "--demo",
            is_flag=True,
            default=None,
            expose_value=False,
            callback=_set("demo"),
            hidden=hidden,
            help="Read the embedded recorded runs instead of a server (same as --base-url demo).",
        ),
        click.option(
            "--debug",
            is_flag=True,
            default=None,
            expose_value=False,
            callback=_set("debug"),
            hidden=hidden,
            help="Log every request to stderr (key redacted) and show tracebacks.",
        ),
        click.option(
            "--timeout",
            type=SECONDS,
            expose_value=False,
            callback=_set("timeout"),
            hidden=hidden,
            help="Read timeout per request, in seconds.",
        ),
        click.option(
            "--max-retries",
            type=click.IntRange(min=0),
            expose_value=False,
            callback=_set("max_retries"),
            hidden=hidden,
            help="Retries for 408/409/429/5xx and connection errors (default 2).",
        ),
    ]


def global_options(func: F) -> F:
    """Accept the global options after a command too (``letta-runs runs get X --demo``)."""
    for decorator in reversed(_global_option_decorators(root=False)):
        func = decorator(func)
    return func


def root_options(func: F) -> F:
    for decorator in reversed(_global_option_decorators(root=True)):
        func = decorator(func)
    return func
