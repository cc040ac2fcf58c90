"""Report commands: ``diagnose``, ``timeline``, ``triage``, ``stuck``, ``compare``, ``watch``,
``export`` and ``prompt analyze``.

Each runs one operation of the catalog (reading bundle files written by ``export`` where a
``--bundle`` is given) and prints the Markdown report on a terminal, JSON otherwise.

The diagnosis engine, the composites, the templates (jinja2) and asyncio are imported inside
the command that needs them, never at module level: ``letta-runs --help`` and ``runs get`` must
not pay for them (``tests/unit/test_cli_startup.py`` guards this).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..durations import parse_duration
from ._app import OUTPUT_FILE, CLIState, CoreValue, global_options, state_of
from ._output import Output, output_options
from .runs import _event_line

if TYPE_CHECKING:
    from ..models import StreamEvent


DURATION = CoreValue("duration", parse_duration)
"""``30s``, ``10m``, ``1h``, ``2d`` → seconds."""


def _window(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    return parse_duration(value)


WINDOW = CoreValue("window", _window)
"""A duration, or ``all`` (every run) → ``None``."""
DETAIL = click.Choice(["summary", "standard", "full"])
BUNDLE = click.Path(exists=True, path_type=Path)


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _seconds(value: float) -> str:
    """Seconds as a duration argument (``90s``)."""
    return f"{value:.3f}".rstrip("0").rstrip(".") + "s"


def _report(out: Output, operation: str, arguments: dict[str, Any], **local: Any) -> None:
    """Run a report operation and print its Markdown on a terminal, its JSON otherwise."""
    state: CLIState = state_of(click.get_current_context())
    result = state.run(operation, arguments, **local)
    out.emit(result.data, lambda: result.text)


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
    out: Output, run_id: str, bundle: Path | None, stuck_after: float, detail: str
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
    arguments = {"run_id": run_id, "detail": detail, "stuck_after_seconds": stuck_after}
    _report(out, "diagnose_run", arguments, bundle=bundle)


@click.command("timeline")
@click.argument("run_id")
@click.option("--bundle", type=BUNDLE, help="Read a bundle file (from `export`) offline.")
@click.option("--full", is_flag=True, help="Do not fold repeated steps.")
@click.option("--detail", type=DETAIL, default="standard", show_default=True, help="How much.")
@output_options(human="markdown")
@global_options
def timeline(out: Output, run_id: str, bundle: Path | None, full: bool, detail: str) -> None:
    """Chronological timeline of a run: each step, its messages, tokens and timing.

    Repeated identical steps (a tool loop) are folded into one line unless --full.

    \b
    Example:
      letta-runs --demo timeline run-1bcd7407-1899-4bd3-9d6a-6058cfee7e69
    """
    arguments = {"run_id": run_id, "detail": detail, "full": full}
    _report(out, "run_timeline", arguments, bundle=bundle)


@click.command("triage")
@click.option(
    "--since",
    type=WINDOW,
    default="24h",
    show_default=True,
    help="Look back this far (30m, 24h, 7d), or 'all' for every run.",
)
@click.option("--agent-id", help="Only runs of this agent.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    help="Only runs in this status (repeatable). Default: every run of the window, finished or "
    "still active, because runs the server calls completed can still have failed.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Scan at most N runs, newest first (default: every run of the window; a cap is said "
    "on stderr and in the result).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    default=8,
    show_default=True,
    help="Runs read per run at the same time.",
)
@click.option(
    "--per-run",
    "per_run",
    is_flag=True,
    help="Read every run on its own instead of the bulk lists (slower; for servers whose bulk "
    "lists misbehave).",
)
@click.option("--detail", type=DETAIL, default="standard", show_default=True, help="How much.")
@output_options(human="markdown")
@global_options
def triage(
    out: Output,
    since: float | None,
    agent_id: str | None,
    statuses: tuple[str, ...],
    limit: int | None,
    concurrency: int,
    per_run: bool,
    detail: str,
) -> None:
    """Diagnose every run of a window and group the problems by root cause, error type and tool.

    Reads the window with the bulk lists (runs, every agent's messages, and steps where the
    server's /v1/steps/ works) and reads a run on its own only when its verdict needs more (its
    steps). Runs still created/running are counted and listed (see `stuck`). An empty window
    says how old the newest run is and which --since would include it. Progress, the count of
    runs read per run and every failed read go to stderr; exit 8 when some reads failed (the
    report is printed, and lists them).

    \b
    Example:
      letta-runs --demo triage --since all
      letta-runs triage --since 1h --agent-id agent-… --status failed --json
    """
    arguments: dict[str, Any] = {
        "since": "all" if since is None else _seconds(since),
        "agent_id": agent_id,
        "limit": limit,
        "concurrency": concurrency,
        "per_run": per_run,
        "detail": detail,
    }
    if statuses:
        arguments["statuses"] = list(statuses)
    state: CLIState = state_of(click.get_current_context())
    result = state.run("triage_runs", arguments, progress=_progress)
    out.emit(result.data, lambda: result.text)
    report = result.artifact
    _raise_if_partial("triage", report.failed_reads, report.read_errors)


def _raise_if_partial(what: str, failed: int, by_endpoint: dict[str, int]) -> None:
    """Exit 8 after the result was printed when some of its reads failed."""
    if not failed:
        return
    from .._exceptions import PartialResultError

    which = ", ".join(f"{name} {count}" for name, count in sorted(by_endpoint.items()))
    raise PartialResultError(
        f"{what}: {failed} read{'s' if failed != 1 else ''} failed ({which}); the result above "
        "is partial",
        hint="its 'errors' list says which runs and why; retry, or check the server",
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
    _report(out, "find_stuck_runs", {"older_than": _seconds(older_than), "agent_id": agent_id})


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
    arguments = {"run_id_a": run_a, "run_id_b": run_b}
    _report(out, "compare_runs", arguments, bundle_a=bundle_a, bundle_b=bundle_b)


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
    detail: str,
) -> None:
    """Follow a run until it ends (events on stderr), then print its diagnosis.

    Runs that cannot be streamed (not background, or older than 3 hours) are diagnosed at once.
    If the stream fails, or the watch stops before the run ends (--idle-timeout, --max-time),
    a warning on stderr and the diagnosis's limitations say so.

    \b
    Example:
      letta-runs --demo watch run-5ab019dd-6498-4ae8-9c53-271145402d1b
    """

    def on_event(event: StreamEvent) -> None:
        if event.kind != "ping":
            click.echo(_event_line(event), err=True)

    def on_notice(text: str) -> None:
        click.echo(f"warning: {text}", err=True)

    arguments = {
        "run_id": run_id,
        "idle_timeout": idle_timeout,
        "max_seconds": max_time,
        "stuck_after_seconds": stuck_after,
        "detail": detail,
    }
    _report(out, "watch_run", arguments, on_event=on_event, on_notice=on_notice)


@click.command("export")
@click.argument("run_id", required=False)
@click.option(
    "--output",
    "-o",
    "output",
    help="One run: write the bundle to FILE. A window: write one bundle per run into the folder "
    "DIR (created). Default: stdout (a window: one bundle per line).",
)
@click.option(
    "--since",
    type=WINDOW,
    help="Export every run of this window instead of one run (30m, 24h, 7d, or 'all').",
)
@click.option("--agent-id", help="With --since: only runs of this agent.")
@click.option("--status", "statuses", multiple=True, help="With --since: only runs in this status.")
@click.option("--limit", type=click.IntRange(min=1), help="With --since: at most N runs.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    default=8,
    show_default=True,
    help="With --since: runs read on their own at the same time.",
)
@click.option(
    "--with-usage",
    is_flag=True,
    help="With --since: also read each run's /usage and /metrics (two requests per run).",
)
@click.option("--no-trace", is_flag=True, help="Skip /trace (one run).")
@click.option("--no-stream", is_flag=True, help="Skip replaying the stream (one run).")
@click.option("--json", "json_flag", is_flag=True, help="Errors as JSON (the bundle is JSON).")
@global_options
def export(
    run_id: str | None,
    output: str | None,
    since: float | None,
    agent_id: str | None,
    statuses: tuple[str, ...],
    limit: int | None,
    concurrency: int,
    with_usage: bool,
    no_trace: bool,
    no_stream: bool,
    json_flag: bool,
) -> None:
    """Save everything about a run (run, steps, messages, usage, metrics, trace, stream) as
    one JSON bundle; `diagnose RUN_ID --bundle FILE` reads it offline.

    With --since instead of a run id, every run of the window is exported (run, steps,
    messages; --with-usage adds /usage and /metrics), read with the bulk lists like `triage`:
    one bundle per line on stdout, or one file per run in the folder given by -o. Progress
    goes to stderr; exit 8 when some reads failed (the bundles say which).

    \b
    Example:
      letta-runs --demo export run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011 --output loop.json
      letta-runs --demo export --since all -o bundles/
    """
    state = state_of(click.get_current_context())
    if json_flag:
        state.json_errors = True
    from click.core import ParameterSource

    source = click.get_current_context().get_parameter_source("since")
    window_given = source not in (None, ParameterSource.DEFAULT)
    if run_id is None and not window_given:
        raise click.UsageError("give a RUN_ID, or --since WINDOW to export every run of a window")
    if run_id is not None and window_given:
        raise click.UsageError("give a RUN_ID or --since, not both")
    if run_id is not None:
        _export_one(state, run_id, output, include_trace=not no_trace, include_stream=not no_stream)
        return
    _export_window(
        state,
        output,
        since=since,
        agent_id=agent_id,
        statuses=statuses,
        limit=limit,
        concurrency=concurrency,
        with_usage=with_usage,
    )


def _export_one(
    state: CLIState, run_id: str, output: str | None, *, include_trace: bool, include_stream: bool
) -> None:
    """One run's bundle to ``output`` (or stdout)."""
    from .._validation import check_output_path
    from ..composites import export_run

    if output is not None:
        check_output_path(output)
    bundle = state.blocking(
        lambda c: export_run(c, run_id, include_trace=include_trace, include_stream=include_stream)
    )
    Output(True, "json", output, "json").emit(bundle, what=f"bundle of {run_id}")


def _export_window(
    state: CLIState,
    output: str | None,
    *,
    since: float | None,
    agent_id: str | None,
    statuses: tuple[str, ...],
    limit: int | None,
    concurrency: int,
    with_usage: bool,
) -> None:
    """Every run of the window: one bundle per line on stdout, or one file per run in the
    folder ``output``; exit 8 when some reads failed."""
    from datetime import timedelta

    from ..composites import export_window
    from ..fleet import ScanStats, WindowRead

    stats = ScanStats(window=WindowRead(since=None, agent_id=agent_id, statuses=None, limit=limit))
    folder = Path(output) if output else None
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.BadParameter(f"cannot create the folder {output!r}: {exc}") from exc

    async def run(client: Any) -> int:
        from ..output import dump_json

        written = 0
        async for bundle in export_window(
            client,
            since=timedelta(seconds=since) if since is not None else None,
            agent_id=agent_id,
            statuses=list(statuses) or None,
            limit=limit,
            include_usage=with_usage,
            concurrency=concurrency,
            stats=stats,
            progress=_progress,
        ):
            text = dump_json(bundle, indent=None) if folder is None else dump_json(bundle)
            if folder is None:
                click.echo(text.rstrip("\n"))
            else:
                (folder / f"{bundle['run']['id']}.json").write_text(text, encoding="utf-8")
            written += 1
        return written

    written = state.blocking(run)
    where = f" to {folder}" if folder is not None else ""
    click.echo(f"export: wrote {written} bundles{where}", err=True)
    failed = dict(stats.failed_reads)
    _raise_if_partial("export", sum(failed.values()), failed)


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
    type=OUTPUT_FILE,
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
    from ..diagnosis import diagnose
    from ..evidence import evidence_for
    from ..rendering import render_analyze_prompt

    state = state_of(click.get_current_context())
    ev = state.blocking(lambda c: evidence_for(c, run_id, bundle=bundle, include_trace=True))
    text = render_analyze_prompt(ev, diagnose(ev))
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
