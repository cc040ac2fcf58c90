"""``letta-runs runs …``: one command per Runs API operation.

The models are imported for type checking only: the client loads them (and pydantic) when a
command runs, so ``--help`` stays fast (``tests/unit/test_cli_startup.py`` guards this).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from .._exceptions import InvalidArgumentError
from ..output import dump_json, render_mapping, render_table, shorten
from ._app import SECONDS, CLIState, global_options, state_of
from ._output import Output, output_options

if TYPE_CHECKING:
    from ..models import Message, Run, Step, StreamEvent

RUN_COLUMNS = ["id", "status", "stop_reason", "run_type", "background", "created_at", "agent_id"]
STEP_COLUMNS = [
    "id",
    "status",
    "stop_reason",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "error_type",
]


def _list(
    state: CLIState,
    operation: str,
    arguments: dict[str, Any],
    *,
    walk_all: bool,
    max_items: int | None,
) -> tuple[dict[str, Any], list[Any], list[str]]:
    """One page (default) or every page (``--all``/``--max-items``) of a list operation: the
    JSON payload, the items, and the commands that continue it."""
    arguments = {k: v for k, v in arguments.items() if v is not None and v != ()}
    if not (walk_all or max_items is not None):
        result = state.run(operation, arguments)
        return result.data, list(result.artifact.items), _steps(state, result.next_steps)

    from ..operations import Page, get_operation

    op = get_operation(operation)

    async def walk(client: Any) -> list[Page[Any]]:
        return [page async for page in op.walk(client, arguments, max_items=max_items)]

    pages = state.blocking(walk)
    items = [item for page in pages for item in page.items]
    last = pages[-1]
    payload = last.model_copy(update={"items": items}).model_dump(mode="json", by_alias=True)
    return payload, items, []


def _steps(state: CLIState, steps: Iterable[Any]) -> list[str]:
    from ..operations import Face

    face = Face("cli", cli_options=state.cli_options())
    return [f"… {step.why}: {face.step(step)}" for step in steps]


def _runs_table(runs: Iterable[Run]) -> str:
    rows = [r.to_json_dict() | {"created_at": r.created_at, "run_type": r.run_type} for r in runs]
    return render_table(rows, RUN_COLUMNS) if rows else "no runs"


def _with_notes(table: str, notes: list[str]) -> str:
    return "\n".join([table, *notes])


def page_options(func: Any) -> Any:
    for decorator in reversed(
        [
            click.option("--before", help="Cursor: an item id (see the API notes for meaning)."),
            click.option("--after", help="Cursor: an item id."),
            click.option("--limit", type=int, help="Page size (server default 100)."),
            click.option("--order", type=click.Choice(["asc", "desc"]), help="Sort order."),
            click.option("--all", "walk_all", is_flag=True, help="Walk every page."),
            click.option("--max-items", type=click.IntRange(min=1), help="Stop after N items."),
        ]
    ):
        func = decorator(func)
    return func


@click.group("runs")
def runs() -> None:
    """Call the Runs API: list, get, messages, steps, usage, metrics, trace, stream, delete.

    \b
    Example:
      letta-runs --demo runs list --status failed
    """


@runs.command("list")
@click.option("--agent-id", help="Only runs of this agent.")
@click.option("--agent-ids", multiple=True, help="Only runs of these agents (repeatable).")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    help="Only runs in this status (repeatable): created, running, completed, failed, cancelled.",
)
@click.option("--background/--no-background", default=None, help="Background runs or not.")
@click.option("--stop-reason", help="Only runs with this run-level stop reason.")
@click.option("--conversation-id", help="Only runs of this conversation.")
@click.option("--active", is_flag=True, default=None, help="Only runs still created or running.")
@page_options
@output_options()
@global_options
def list_runs(
    out: Output,
    agent_id: str | None,
    agent_ids: tuple[str, ...],
    statuses: tuple[str, ...],
    background: bool | None,
    stop_reason: str | None,
    conversation_id: str | None,
    active: bool | None,
    before: str | None,
    after: str | None,
    limit: int | None,
    order: str | None,
    walk_all: bool,
    max_items: int | None,
) -> None:
    """List runs, newest first, one page unless --all.

    To continue a listing, pass the last id as --before (Letta's runs cursor: "before" is the
    next page in the current order).

    \b
    Example:
      letta-runs --demo runs list --status failed --limit 5
      letta-runs runs list --agent-id agent-… --all --max-items 500 --json
    """
    payload, items, notes = _list(
        state_of(click.get_current_context()),
        "list_runs",
        {
            "agent_id": agent_id,
            "agent_ids": list(agent_ids) or None,
            "statuses": list(statuses) or None,
            "background": background,
            "stop_reason": stop_reason,
            "conversation_id": conversation_id,
            "before": before,
            "after": after,
            "limit": limit,
            "order": order,
            "active": active,
        },
        walk_all=walk_all,
        max_items=max_items,
    )
    out.emit(payload, lambda: _with_notes(_runs_table(items), notes), what=f"{len(items)} runs")


@runs.command("active")
@click.option("--agent-id", help="Only active runs of this agent.")
@click.option("--background/--no-background", default=None, help="Background runs or not.")
@output_options()
@global_options
def active_runs(out: Output, agent_id: str | None, background: bool | None) -> None:
    """List runs that are still created or running.

    Sync and async runs stay "created" while they execute; only streamed runs become
    "running". A run listed here for long is probably stuck: see `letta-runs stuck`.

    \b
    Example:
      letta-runs --demo runs active
    """
    result = state_of(click.get_current_context()).run(
        "list_active_runs", {"agent_id": agent_id, "background": background}
    )
    out.emit(result.data, lambda: _runs_table(result.artifact.items))


@runs.command("get")
@click.argument("run_id")
@output_options()
@global_options
def get_run(out: Output, run_id: str) -> None:
    """Show one run: status, stop reason, agent, timestamps, error metadata.

    \b
    Example:
      letta-runs --demo runs get run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
    """
    run = state_of(click.get_current_context()).run("retrieve_run", {"run_id": run_id}).artifact

    def human() -> str:
        data = run.to_json_dict() | {"run_type": run.run_type, "error": run.error_text}
        keys = ["id", "status", "stop_reason", "run_type", "background", "agent_id"]
        keys += ["conversation_id", "created_at", "completed_at", "total_duration_ns", "error"]
        return render_mapping(data, keys=keys)

    out.emit(run, human)


@runs.command("delete")
@click.argument("run_id")
@click.option("--yes", is_flag=True, help="Confirm: deleting a run cannot be undone.")
@output_options()
@global_options
def delete_run(out: Output, run_id: str, yes: bool) -> None:
    """Delete a run (needs --yes; always refused when LETTA_RUNS_READ_ONLY=1).

    The run is read first (unknown: exit 3). The DELETE is never sent twice once it may have
    reached the server; after a reset, a timeout or a 5xx a second read says whether the run is
    gone (exit 0), still there (the error says "was not deleted") or unknown. Letta 0.16.8
    answers 500 to every DELETE and deletes nothing (exit 7).

    \b
    Example:
      letta-runs runs delete run-… --yes
    """
    if not yes:
        raise InvalidArgumentError(
            f"refusing to delete {run_id} without --yes",
            hint="re-run with --yes if you really mean to delete this run",
        )
    result = state_of(click.get_current_context()).run("delete_run", {"run_id": run_id})
    out.emit(result.data["response"], lambda: result.text)


def _messages_table(messages: Sequence[Message]) -> str:
    rows = [
        {"date": m.date, "type": m.message_type, "step_id": m.step_id, "text": m.text}
        for m in messages
    ]
    return render_table(rows, ["date", "type", "step_id", "text"]) if rows else "no messages"


@runs.command("messages")
@click.argument("run_id")
@page_options
@output_options()
@global_options
def list_messages(
    out: Output,
    run_id: str,
    before: str | None,
    after: str | None,
    limit: int | None,
    order: str | None,
    walk_all: bool,
    max_items: int | None,
) -> None:
    """List a run's messages (oldest first by default).

    Cursors are chronological whatever the order: --after ID is later than ID, --before ID is
    earlier. Tool failures show as tool_return_message with status "error".

    \b
    Example:
      letta-runs --demo runs messages run-69218f56-d739-427f-a971-333ece5c2cdc --limit 20
    """
    _emit_items(
        out,
        "list_messages_for_run",
        run_id,
        before,
        after,
        limit,
        order,
        walk_all,
        max_items,
        _messages_table,
        "messages",
    )


def _steps_table(steps: Sequence[Step]) -> str:
    return render_table([s.to_json_dict() for s in steps], STEP_COLUMNS) if steps else "no steps"


@runs.command("steps")
@click.argument("run_id")
@page_options
@output_options()
@global_options
def list_steps(
    out: Output,
    run_id: str,
    before: str | None,
    after: str | None,
    limit: int | None,
    order: str | None,
    walk_all: bool,
    max_items: int | None,
) -> None:
    """List a run's steps (newest first by default): status, stop reason, tokens, errors.

    A provider failure shows on the step (error_type / error_data), not on the run.

    \b
    Example:
      letta-runs --demo runs steps run-1784de63-64f5-4f8f-be0a-197d17c67164
    """
    _emit_items(
        out,
        "list_steps_for_run",
        run_id,
        before,
        after,
        limit,
        order,
        walk_all,
        max_items,
        _steps_table,
        "steps",
    )


def _emit_items(
    out: Output,
    operation: str,
    run_id: str,
    before: str | None,
    after: str | None,
    limit: int | None,
    order: str | None,
    walk_all: bool,
    max_items: int | None,
    table: Any,
    what: str,
) -> None:
    arguments = {"run_id": run_id, "before": before, "after": after, "limit": limit, "order": order}
    payload, items, notes = _list(
        state_of(click.get_current_context()),
        operation,
        arguments,
        walk_all=walk_all,
        max_items=max_items,
    )
    out.emit(payload, lambda: _with_notes(table(items), notes), what=f"{len(items)} {what}")


@runs.command("usage")
@click.argument("run_id")
@output_options()
@global_options
def usage(out: Output, run_id: str) -> None:
    """Token totals of a run (the server sums only the newest 50 steps).

    For exact totals, cached and reasoning tokens use `letta-runs diagnose` or `runs steps --all`.

    \b
    Example:
      letta-runs --demo runs usage run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
    """
    result = state_of(click.get_current_context()).run("retrieve_usage_for_run", {"run_id": run_id})
    out.emit(result.data, lambda: render_mapping(result.data))


@runs.command("metrics")
@click.argument("run_id")
@output_options()
@global_options
def metrics(out: Output, run_id: str) -> None:
    """Metrics of a run: duration, step count (capped at 50), tool ids used.

    \b
    Example:
      letta-runs --demo runs metrics run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
    """
    result = state_of(click.get_current_context()).run(
        "retrieve_metrics_for_run", {"run_id": run_id}
    )
    out.emit(result.data, lambda: render_mapping(result.data))


@runs.command("trace")
@click.argument("run_id")
@click.option("--limit", type=int, help="Maximum number of spans.")
@output_options()
@global_options
def trace(out: Output, run_id: str, limit: int | None) -> None:
    """OpenTelemetry spans of a run (exit 5 on servers without ClickHouse).

    \b
    Example:
      letta-runs runs trace run-… --limit 100
    """
    result = state_of(click.get_current_context()).run(
        "retrieve_trace_for_run", {"run_id": run_id, "limit": limit}
    )
    spans = result.data["items"]
    out.emit(
        result.data,
        lambda: "\n".join(shorten(dump_json(s, indent=None), 160) for s in spans) or "no spans",
    )


def _event_data(event: StreamEvent) -> dict[str, Any]:
    """One NDJSON line: the decoded payload without the raw text it came from."""
    return {"kind": event.kind, "event": event.event, "seq_id": event.seq_id, "data": event.data}


def _event_line(event: StreamEvent) -> str:
    seq = f"[{event.seq_id}]" if event.seq_id is not None else "[-]"
    if event.message is not None:
        return f"{seq} {event.message.message_type}: {shorten(event.message.text, 120)}"
    return f"{seq} {event.kind}: {shorten(event.raw, 120)}"


@runs.command("stream")
@click.argument("run_id")
@click.option("--starting-after", type=int, help="Only events after this seq_id (resume).")
@click.option("--no-pings", is_flag=True, help="Ask the server not to send keep-alive pings.")
@click.option("--poll-interval", type=SECONDS, help="Server-side poll interval, in seconds.")
@click.option("--batch-size", type=int, help="Server-side batch size.")
@click.option(
    "--idle-timeout",
    type=SECONDS,
    default=30.0,
    show_default=True,
    help="Give up after this many seconds without a byte (the server may never end a stream).",
)
@click.option("--max-events", type=click.IntRange(min=1), help="Stop after N events.")
@click.option("--json", "json_flag", is_flag=True, help="NDJSON lines even on a terminal.")
@global_options
def stream(
    run_id: str,
    starting_after: int | None,
    no_pings: bool,
    poll_interval: float | None,
    batch_size: int | None,
    idle_timeout: float,
    max_events: int | None,
    json_flag: bool,
) -> None:
    """Replay or follow a background run's event stream.

    Prints one JSON object per event (NDJSON) when piped or with --json, readable lines on a
    terminal, then a summary (last seq_id, end reason) on stderr. Resume with
    --starting-after LAST_SEQ_ID. Only background runs younger than 3 hours can be streamed.

    \b
    Example:
      letta-runs --demo runs stream run-5ab019dd-6498-4ae8-9c53-271145402d1b --no-pings
    """
    ctx = click.get_current_context()
    state = state_of(ctx)
    if json_flag:
        state.json_errors = True
    as_json = json_flag or not sys.stdout.isatty()
    with state.client() as client:
        events = client.runs.stream(
            run_id,
            starting_after=starting_after,
            include_pings=False if no_pings else None,
            poll_interval=poll_interval,
            batch_size=batch_size,
            idle_timeout=idle_timeout,
            max_events=max_events,
        )
        count = 0
        try:
            for event in events:
                count += 1
                line = dump_json(_event_data(event), indent=None) if as_json else _event_line(event)
                click.echo(line)
        finally:
            click.echo(
                f"stream ended: reason={events.end_reason or 'failed'} "
                f"last_seq_id={events.last_seq_id} events={count}",
                err=True,
            )
