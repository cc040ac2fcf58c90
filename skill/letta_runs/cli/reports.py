"""Report commands: ``diagnose``, ``timeline``, ``triage``, ``stuck``, ``compare``, ``watch``,
``export`` and ``prompt analyze``.

Each calls one composite of ``letta_runs.composites`` (or reads bundle files written by
``export``) and prints the Markdown report on a terminal, JSON otherwise.

The diagnosis engine, the composites, the templates (jinja2) and asyncio are imported inside
the command that needs them, never at module level: ``letta-runs --help`` and ``runs get`` must
not pay for them (``tests/unit/test_cli_startup.py`` guards this).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .._exceptions import InvalidArgumentError, LettaRunsError
from ..durations import parse_duration
from ._app import global_options, state_of
from ._output import Output, output_options
from .runs import _event_line

if TYPE_CHECKING:
    from .._client import AsyncRunsClient
    from ..evidence import Evidence
    from ..models import StreamEvent
    from ..rendering import Detail

T = TypeVar("T")


class Duration(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.3
    """``30s``, ``10m``, ``1h``, ``2d`` → seconds."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()
DETAIL = click.Choice(["summary", "standard", "full"])
BUNDLE = click.Path(exists=True, path_type=Path)


def with_client(fn: Callable[[AsyncRunsClient], Awaitable[T]]) -> T:
    """Run ``fn(client)`` on a fresh async client built from the global options."""
    import asyncio

    state = state_of(click.get_current_context())

    async def go() -> T:
        async with state.async_client() as client:
            return await fn(client)

    return asyncio.run(go())


def _progress(message: str) -> None:
    click.echo(message, err=True)


@click.command("diagnose")
@click.argument("run_id")
@click.option("--bundle", type=BUNDLE, help="Diagnose a bundle file (from `export`) offline.")
@click.option(
    "--stuck-after",
    type=DURATION,
    default="10m",
    show_default=True,
    help="An unfinished run older than this is stuck (30s, 10m, 1h, 2d).",
)
@click.option("--detail", type=DETAIL, default="standard", show_default=True, help="How much.")
@output_options(human="markdown")
@global_options
def diagnose(
    out: Output, run_id: str, bundle: Path | None, stuck_after: float, detail: Detail
) -> None:
    """Post-mortem of one run: verdict, root cause, evidence, next steps.

    Reads the run, every step and message, usage, metrics and trace (or a bundle written by
    `letta-runs export`) and explains what the server's status hides: a "completed" run that
    looped until max_steps, a failed sync run without stop reason, a tool that errored.

    \b
    Example:
      letta-runs --demo diagnose run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
      letta-runs diagnose run-… --detail summary --json
      letta-runs diagnose run-… --bundle run.bundle.json
    """
    from .. import composites, rendering
    from ..diagnosis.engine import diagnose as diagnose_evidence

    if bundle is not None:
        diag = diagnose_evidence(_load(bundle, run_id), stuck_after=stuck_after)
    else:
        diag = with_client(lambda c: composites.diagnose_run(c, run_id, stuck_after=stuck_after))
    out.emit(
        None,
        lambda: rendering.render_diagnosis(diag, detail=detail, fmt="markdown"),
        json_text=lambda: rendering.render_diagnosis(diag, detail=detail, fmt="json"),
    )


def _load(bundle: Path, run_id: str) -> Evidence:
    """The evidence in ``bundle``, which must be about ``run_id``."""
    from ..evidence import load_bundle

    try:
        ev = load_bundle(bundle)
    except LettaRunsError:
        raise
    except (ValueError, OSError) as exc:
        raise InvalidArgumentError(
            f"cannot read the bundle {bundle}: {exc}",
            hint="pass a file written by `letta-runs export` (or a folder of recorded responses)",
        ) from exc
    if ev.run.id != run_id:
        raise InvalidArgumentError(
            f"the bundle {bundle} holds {ev.run.id}, not {run_id}",
            hint="pass the run id the bundle was exported for",
        )
    return ev


@click.command("timeline")
@click.argument("run_id")
@click.option("--bundle", type=BUNDLE, help="Read a bundle file (from `export`) offline.")
@click.option("--full", is_flag=True, help="Do not fold repeated steps.")
@click.option("--detail", type=DETAIL, default="standard", show_default=True, help="How much.")
@output_options(human="markdown")
@global_options
def timeline(out: Output, run_id: str, bundle: Path | None, full: bool, detail: Detail) -> None:
    """Chronological timeline of a run: each step, its messages, tokens and timing.

    Repeated identical steps (a tool loop) are folded into one line unless --full.

    \b
    Example:
      letta-runs --demo timeline run-1bcd7407-1899-4bd3-9d6a-6058cfee7e69
    """
    from .. import composites, rendering
    from ..diagnosis.timeline import build_timeline

    if bundle is not None:
        result = build_timeline(_load(bundle, run_id), compact=not full)
    else:
        result = with_client(lambda c: composites.run_timeline(c, run_id, compact=not full))
    out.emit(
        None,
        lambda: rendering.render_timeline(result, detail=detail, fmt="markdown"),
        json_text=lambda: rendering.render_timeline(result, detail=detail, fmt="json"),
    )


@click.command("triage")
@click.option(
    "--since", type=DURATION, default="24h", show_default=True, help="Look back this far."
)
@click.option("--agent-id", help="Only runs of this agent.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    help="Statuses to scan (repeatable). Default: every finished run (completed, failed, "
    "cancelled), because runs the server calls completed can still have failed; "
    "--status failed is a cheaper scan.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Scan at most N runs (newest first).",
)
@click.option("--detail", type=DETAIL, default="standard", show_default=True, help="How much.")
@output_options(human="markdown")
@global_options
def triage(
    out: Output,
    since: float,
    agent_id: str | None,
    statuses: tuple[str, ...],
    limit: int,
    detail: Detail,
) -> None:
    """Diagnose recent runs and group the problems by root cause, error type and tool.

    Progress goes to stderr.

    \b
    Example:
      letta-runs --demo triage --since 30d
      letta-runs triage --since 1h --agent-id agent-… --status failed --json
    """
    from .. import composites, rendering

    kwargs: dict[str, Any] = {
        "since": timedelta(seconds=since),
        "agent_id": agent_id,
        "limit": limit,
        "progress": _progress,
    }
    if statuses:
        kwargs["statuses"] = list(statuses)
    report = with_client(lambda c: composites.triage_runs(c, **kwargs))
    out.emit(
        None,
        lambda: rendering.render_triage(report, detail=detail, fmt="markdown"),
        json_text=lambda: rendering.render_triage(report, detail=detail, fmt="json"),
    )


@click.command("stuck")
@click.option(
    "--older-than",
    type=DURATION,
    default="10m",
    show_default=True,
    help="Active runs older than this are stuck.",
)
@click.option("--agent-id", help="Only runs of this agent.")
@output_options(human="markdown")
@global_options
def stuck(out: Output, older_than: float, agent_id: str | None) -> None:
    """Runs still created/running long after they started, and why each looks stuck.

    \b
    Example:
      letta-runs --demo stuck --older-than 10m
    """
    from .. import composites, rendering

    report = with_client(
        lambda c: composites.find_stuck_runs(c, older_than=older_than, agent_id=agent_id)
    )
    out.emit(report, lambda: rendering.render_stuck(report, fmt="markdown"))


@click.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--bundle-a", type=BUNDLE, help="Read RUN_A from a bundle file.")
@click.option("--bundle-b", type=BUNDLE, help="Read RUN_B from a bundle file.")
@output_options(human="markdown")
@global_options
def compare(
    out: Output, run_a: str, run_b: str, bundle_a: Path | None, bundle_b: Path | None
) -> None:
    """Compare two runs (e.g. a good one and a bad one): outcome, steps, tools, tokens, time.

    \b
    Example:
      letta-runs --demo compare run-69218f56-d739-427f-a971-333ece5c2cdc \\
          run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
    """
    import asyncio

    from .. import rendering
    from ..diagnosis.compare import compare_runs
    from ..evidence import gather_evidence

    async def evidence(client: AsyncRunsClient, run_id: str, bundle: Path | None) -> Evidence:
        if bundle is not None:
            return _load(bundle, run_id)
        return await gather_evidence(client, run_id, include_trace=False)

    async def both(client: AsyncRunsClient) -> tuple[Evidence, Evidence]:
        return await asyncio.gather(
            evidence(client, run_a, bundle_a), evidence(client, run_b, bundle_b)
        )

    ev_a, ev_b = with_client(both)
    result = compare_runs(ev_a, ev_b)
    out.emit(result, lambda: rendering.render_comparison(result, fmt="markdown"))


@click.command("watch")
@click.argument("run_id")
@click.option(
    "--idle-timeout",
    type=DURATION,
    default="30s",
    show_default=True,
    help="Give up following after this long without data.",
)
@click.option("--max-time", type=DURATION, help="Stop following after this long.")
@click.option("--stuck-after", type=DURATION, default="10m", show_default=True)
@click.option("--detail", type=DETAIL, default="standard", show_default=True)
@output_options(human="markdown")
@global_options
def watch(
    out: Output,
    run_id: str,
    idle_timeout: float,
    max_time: float | None,
    stuck_after: float,
    detail: Detail,
) -> None:
    """Follow a run until it ends (events on stderr), then print its diagnosis.

    Runs that cannot be streamed (not background, or older than 3 hours) are diagnosed at once.

    \b
    Example:
      letta-runs --demo watch run-5ab019dd-6498-4ae8-9c53-271145402d1b
    """

    from .. import composites, rendering

    def on_event(event: StreamEvent) -> None:
        if event.kind != "ping":
            click.echo(_event_line(event), err=True)

    diag = with_client(
        lambda c: composites.watch_run(
            c,
            run_id,
            on_event=on_event,
            idle_timeout=idle_timeout,
            max_seconds=max_time,
            stuck_after=stuck_after,
        )
    )
    out.emit(
        None,
        lambda: rendering.render_diagnosis(diag, detail=detail, fmt="markdown"),
        json_text=lambda: rendering.render_diagnosis(diag, detail=detail, fmt="json"),
    )


@click.command("export")
@click.argument("run_id")
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the bundle to FILE (default: stdout).",
)
@click.option("--no-trace", is_flag=True, help="Skip /trace.")
@click.option("--no-stream", is_flag=True, help="Skip replaying the stream.")
@click.option("--json", "json_flag", is_flag=True, help="Errors as JSON (the bundle is JSON).")
@global_options
def export(
    run_id: str, output: str | None, no_trace: bool, no_stream: bool, json_flag: bool
) -> None:
    """Save everything about a run (run, steps, messages, usage, metrics, trace, stream) as
    one JSON bundle; `diagnose RUN_ID --bundle FILE` reads it offline.

    \b
    Example:
      letta-runs --demo export run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011 --output loop.json
    """
    from .. import composites

    if json_flag:
        state_of(click.get_current_context()).json_errors = True
    bundle = with_client(
        lambda c: composites.export_run(
            c, run_id, include_trace=not no_trace, include_stream=not no_stream
        )
    )
    Output(True, "json", output, "json").emit(bundle, what=f"bundle of {run_id}")


@click.group("prompt")
def prompt() -> None:
    """Prompts for a language model, filled with a run's evidence.

    \b
    Example:
      letta-runs --demo prompt analyze run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
    """


@prompt.command("analyze")
@click.argument("run_id")
@click.option("--bundle", type=BUNDLE, help="Read a bundle file (from `export`) offline.")
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the prompt to FILE.",
)
@click.option("--json", "json_flag", is_flag=True, help='Print {"prompt": …} as JSON.')
@global_options
def analyze(run_id: str, bundle: Path | None, output: str | None, json_flag: bool) -> None:
    """Render the analyze_run prompt: the diagnosis and evidence of a run, for an LLM.

    \b
    Example:
      letta-runs --demo prompt analyze run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
    """
    from .. import rendering
    from ..diagnosis.engine import diagnose as diagnose_evidence
    from ..evidence import gather_evidence

    if bundle is not None:
        ev = _load(bundle, run_id)
    else:
        ev = with_client(lambda c: gather_evidence(c, run_id, include_trace=True))
    text = rendering.render_analyze_prompt(ev, diagnose_evidence(ev))
    if json_flag:
        state_of(click.get_current_context()).json_errors = True
    out = Output(json_flag, None if json_flag else "markdown", output, "markdown")
    out.emit({"run_id": run_id, "prompt": text}, lambda: text, what="prompt")


REPORT_COMMANDS: list[click.Command] = [
    diagnose,
    timeline,
    triage,
    stuck,
    compare,
    watch,
    export,
    prompt,
]
