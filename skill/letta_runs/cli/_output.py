"""How a command's result reaches the user: JSON, a table, Markdown, or a file."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from .._exceptions import InvalidArgumentError
from ..output import dump_json
from ._app import OUTPUT_FILE, state_of

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Output:
    """Where and how to print one result.

    JSON when asked (``--json`` / ``--format json``), when writing ``--output FILE`` without a
    format, or when stdout is not a terminal (an agent or a pipe); otherwise the human view
    (``table`` for API objects, ``markdown`` for reports).
    """

    json_flag: bool
    fmt: str | None
    path: str | None
    human: str

    @property
    def mode(self) -> str:
        if self.json_flag:
            return "json"
        if self.fmt:
            return self.fmt
        if self.path:
            return "json"
        return self.human if sys.stdout.isatty() else "json"

    @property
    def is_json(self) -> bool:
        return self.mode == "json"

    def emit(
        self,
        data: Any,
        human: Callable[[], str] | None = None,
        *,
        json_text: Callable[[], str] | None = None,
        what: str = "",
    ) -> None:
        """Print ``data`` as JSON (or ``json_text()``, already rendered), or ``human()`` for the
        human view; ``--output FILE`` gets the same text."""
        if self.is_json or human is None:
            text = json_text() if json_text is not None else dump_json(data)
        else:
            text = human()
        if not text.endswith("\n"):
            text += "\n"
        if self.path:
            try:
                Path(self.path).write_text(text, encoding="utf-8")
            except OSError as exc:  # checked up front; a full disk or a race can still fail
                raise InvalidArgumentError(
                    f"cannot write {self.path}: {exc.strerror or exc}",
                    hint="write somewhere else (--output FILE), or to stdout",
                ) from None
            label = f"{what} " if what else ""
            click.echo(f"wrote {label}({self.mode}) to {self.path}", err=True)
            return
        click.echo(text, nl=False)


def _json_callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
    if value:
        state_of(ctx).json_errors = True
    return value


def _format_callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
    if value == "json":
        state_of(ctx).json_errors = True
    return value


def output_options(human: str = "table") -> Callable[[F], F]:
    """Add ``--json``, ``--format`` and ``--output``; the command receives ``out: Output``."""
    choices = [human, "json"]

    def decorator(func: F) -> F:
        @functools.wraps(func)  # keeps the click params declared below this decorator
        def wrapper(
            *args: Any, json_flag: bool, fmt: str | None, output: str | None, **kw: Any
        ) -> Any:
            return func(*args, out=Output(json_flag, fmt, output, human), **kw)

        wrapped: Any = wrapper
        wrapped = click.option(
            "--output",
            "-o",
            "output",
            type=OUTPUT_FILE,
            help="Write the full result to FILE (JSON unless --format says otherwise).",
        )(wrapped)
        wrapped = click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            callback=_format_callback,
            help=f"Output format (default: {human} on a terminal, json otherwise).",
        )(wrapped)
        wrapped = click.option(
            "--json",
            "json_flag",
            is_flag=True,
            callback=_json_callback,
            help="Print JSON (errors too, on stderr).",
        )(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorator
