"""``letta-runs runs …``: one command per Runs API operation, made from the catalog.

Each command is an operation of ``letta_runs.operations``: its arguments are the operation's
argument model (the runs filter and the paging of ``letta_runs.params``, declared once), spelled
as the operation's ``CliCommand`` says — the same spelling the next steps of every result use, so
a printed command always parses. Only the help, the human view and ``--all`` are written here.
``runs stream`` prints a live stream event by event and stays a command of its own.

The models are imported for type checking only, and a command's options are built the first
time it parses or shows help: ``--help`` stays fast (``tests/unit/test_cli_startup.py``).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

import click

from .._exceptions import InvalidArgumentError
from ..output import dump_json, render_mapping, render_table, shorten
from ._app import SECONDS, CLIState, global_options, state_of
from ._output import Output, output_options

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from ..models import Message, Run, Step, StreamEvent
    from ..operations import Operation, OperationResult, Page

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


@click.group("runs")
def runs() -> None:
    """Call the Runs API: list, get, messages, steps, usage, metrics, trace, stream, delete.

    \b
    Example:
      letta-runs --demo runs list --status failed
    """


# --------------------------------------------------------------------------- human views


def _runs_table(result: OperationResult) -> str:
    rows = [
        r.to_json_dict() | {"created_at": r.created_at, "run_type": r.run_type}
        for r in result.artifact.items
    ]
    return render_table(rows, RUN_COLUMNS) if rows else "no runs"


def _messages_table(result: OperationResult) -> str:
    messages: Sequence[Message] = result.artifact.items
    rows = [
        {"date": m.date, "type": m.message_type, "step_id": m.step_id, "text": m.text}
        for m in messages
    ]
    return render_table(rows, ["date", "type", "step_id", "text"]) if rows else "no messages"


def _steps_table(result: OperationResult) -> str:
    steps: Sequence[Step] = result.artifact.items
    return render_table([s.to_json_dict() for s in steps], STEP_COLUMNS) if steps else "no steps"


def _run_view(result: OperationResult) -> str:
    run: Run = result.artifact
    data = run.to_json_dict() | {"run_type": run.run_type, "error": run.error_text}
    keys = ["id", "status", "stop_reason", "run_type", "background", "agent_id"]
    keys += ["conversation_id", "created_at", "completed_at", "total_duration_ns", "error"]
    return render_mapping(data, keys=keys)


def _mapping_view(result: OperationResult) -> str:
    return render_mapping(result.data)


def _spans_view(result: OperationResult) -> str:
    spans = result.data["items"]
    return "\n".join(shorten(dump_json(s, indent=None), 160) for s in spans) or "no spans"


# --------------------------------------------------------------------------- commands from the catalog


@dataclass(frozen=True)
class RunsCommand:
    """One ``runs`` command: the operation it runs and what only the command line adds."""

    name: str
    operation: str
    help: str
    human: Callable[[OperationResult], str]
    walks: bool = False
    """A list: ``--all`` / ``--max-items`` walk its pages."""
    confirm: str | None = None
    """A destructive call: ``--yes`` is required, and this says why."""


class OperationCommand(click.Command):
    """A command whose options are its operation's arguments, built on first use."""

    def __init__(self, spec: RunsCommand) -> None:
        self.spec = spec
        self._params: list[click.Parameter] | None = None
        super().__init__(spec.name, help=spec.help, callback=self._run)

    @property
    def params(self) -> list[click.Parameter]:
        """The parameters, built from the operation the first time anything asks for them."""
        if self._params is None:
            self._params = _parameters(self.spec)
        return self._params

    @params.setter
    def params(self, value: list[click.Parameter]) -> None:
        # click's constructor sets an empty list; the operation's arguments come on first use.
        if value:
            self._params = list(value)

    def _run(self, **values: Any) -> None:
        spec = self.spec
        state = state_of(click.get_current_context())
        out = Output(values.pop("json_flag"), values.pop("fmt"), values.pop("output"), "table")
        walk_all, max_items = values.pop("walk_all", False), values.pop("max_items", None)
        if spec.confirm is not None and not values.pop("yes"):
            raise InvalidArgumentError(
                spec.confirm.format(**values),
                hint="re-run with --yes if you really mean it",
            )
        arguments = {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in values.items()
            if v is not None and v != ()
        }
        if walk_all or max_items is not None:
            result = _walk(state, spec.operation, arguments, max_items)
        else:
            result = state.run(spec.operation, arguments)
        notes = [f"… {step.why}: {line}" for step, line in _continuations(state, result)]
        count = len(getattr(result.artifact, "items", ()) or ())
        out.emit(
            result.data,
            lambda: "\n".join([spec.human(result), *notes]),
            what=f"{count} {spec.name}" if spec.walks else "",
        )


def _continuations(state: CLIState, result: OperationResult) -> list[tuple[Any, str]]:
    from ..operations import Face

    face = Face("cli", cli_options=state.cli_options())
    return [(step, face.step(step)) for step in result.next_steps]


def _walk(
    state: CLIState, operation: str, arguments: dict[str, Any], max_items: int | None
) -> OperationResult:
    """Every page of a list (up to ``max_items`` items) as one result."""
    from ..operations import OperationResult, get_operation

    op = get_operation(operation)

    async def walk(client: Any) -> list[Page[Any]]:
        return [page async for page in op.walk(client, arguments, max_items=max_items)]

    pages = state.blocking(walk)
    whole = pages[-1].model_copy(update={"items": [i for p in pages for i in p.items]})
    return OperationResult(whole.model_dump(mode="json", by_alias=True), "", whole)


def _parameters(spec: RunsCommand) -> list[click.Parameter]:
    """The command's parameters: the operation's arguments, then what the command line adds."""
    from ..operations import get_operation

    op = get_operation(spec.operation)
    params: list[click.Parameter] = [click.Argument([name]) for name in op.cli.arguments]
    for name, info in op.args_model.model_fields.items():
        if name not in op.cli.arguments:
            params.append(_option(op, name, info))
    if spec.walks:
        params.append(click.Option(["--all", "walk_all"], is_flag=True, help="Walk every page."))
        params.append(
            click.Option(["--max-items"], type=click.IntRange(min=1), help="Stop after N items.")
        )
    if spec.confirm is not None:
        params.append(click.Option(["--yes"], is_flag=True, help="Confirm: it cannot be undone."))
    return params + _decorated_params(output_options(), global_options)


def _option(op: Operation, name: str, info: FieldInfo) -> click.Option:
    """``name``'s option as the operation's ``CliCommand`` spells it, typed from its model."""
    annotation = _strip_none(info.annotation)
    multiple = get_origin(annotation) is list
    if multiple:
        annotation = get_args(annotation)[0]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    common: dict[str, Any] = {
        "help": (info.description or "").split(". ")[0].rstrip(".") + ".",
        "hidden": bool(extra.get("deprecated")),
    }
    flag = op.cli.option(name)
    if annotation is bool:
        return click.Option([f"{flag}/--no-{flag[2:]}", name], default=None, **common)
    return click.Option([flag, name], type=_click_type(annotation), multiple=multiple, **common)


def _strip_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _click_type(annotation: Any) -> Any:
    from enum import Enum

    if get_origin(annotation) is Literal:
        return click.Choice([str(v) for v in get_args(annotation)])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return click.Choice([str(member.value) for member in annotation])
    return annotation if annotation in (int, float) else str


def _decorated_params(*decorators: Callable[[Any], Any]) -> list[click.Parameter]:
    """The parameters shared decorators add to a command, for a command built as an object."""

    def target(**_: Any) -> None:
        return None

    decorated: Any = target
    for decorator in reversed(decorators):
        decorated = decorator(decorated)
    return list(reversed(decorated.__click_params__))


RUNS_COMMANDS = (
    RunsCommand(
        "list",
        "list_runs",
        """List runs, newest first, one page unless --all.

        To continue a listing, pass the last id as --before (Letta's runs cursor: "before" is the
        next page in the current order); the table ends with that command.

        \b
        Example:
          letta-runs --demo runs list --status failed --limit 5
          letta-runs runs list --agent-id agent-… --all --max-items 500 --json
        """,
        _runs_table,
        walks=True,
    ),
    RunsCommand(
        "active",
        "list_active_runs",
        """List runs that are still created or running.

        Sync and async runs stay "created" while they execute; only streamed runs become
        "running". A run listed here for long is probably stuck: see `letta-runs stuck`.

        \b
        Example:
          letta-runs --demo runs active
        """,
        _runs_table,
    ),
    RunsCommand(
        "get",
        "retrieve_run",
        """Show one run: status, stop reason, agent, timestamps, error metadata.

        \b
        Example:
          letta-runs --demo runs get run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
        """,
        _run_view,
    ),
    RunsCommand(
        "delete",
        "delete_run",
        """Delete a run (needs --yes; always refused when LETTA_RUNS_READ_ONLY=1).

        The run is read first (unknown: exit 3). The DELETE is never sent twice once it may have
        reached the server; after a reset, a timeout or a 5xx a second read says whether the run
        is gone (exit 0), still there (the error says "was not deleted") or unknown. Letta 0.16.8
        answers 500 to every DELETE and deletes nothing (exit 7).

        \b
        Example:
          letta-runs runs delete run-… --yes
        """,
        lambda result: result.text,
        confirm="refusing to delete {run_id} without --yes",
    ),
    RunsCommand(
        "messages",
        "list_messages_for_run",
        """List a run's messages (oldest first by default).

        Cursors are chronological whatever the order: --after ID is later than ID, --before ID
        is earlier. Tool failures show as tool_return_message with status "error".

        \b
        Example:
          letta-runs --demo runs messages run-69218f56-d739-427f-a971-333ece5c2cdc --limit 20
        """,
        _messages_table,
        walks=True,
    ),
    RunsCommand(
        "steps",
        "list_steps_for_run",
        """List a run's steps (newest first by default): status, stop reason, tokens, errors.

        A provider failure shows on the step (error_type / error_data), not on the run.

        \b
        Example:
          letta-runs --demo runs steps run-1784de63-64f5-4f8f-be0a-197d17c67164
        """,
        _steps_table,
        walks=True,
    ),
    RunsCommand(
        "usage",
        "retrieve_usage_for_run",
        """Token totals of a run (the server sums only the newest 50 steps).

        For exact totals, cached and reasoning tokens use `letta-runs diagnose` or
        `runs steps --all`.

        \b
        Example:
          letta-runs --demo runs usage run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
        """,
        _mapping_view,
    ),
    RunsCommand(
        "metrics",
        "retrieve_metrics_for_run",
        """Metrics of a run: duration, step count (capped at 50), tool ids used.

        \b
        Example:
          letta-runs --demo runs metrics run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011
        """,
        _mapping_view,
    ),
    RunsCommand(
        "trace",
        "retrieve_trace_for_run",
        """OpenTelemetry spans of a run (exit 5 on servers without ClickHouse).

        \b
        Example:
          letta-runs runs trace run-… --limit 100
        """,
        _spans_view,
    ),
)

for _spec in RUNS_COMMANDS:
    runs.add_command(OperationCommand(_spec))


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
@click.option(
    "--pings/--no-pings", default=None, help="Ask the server for keep-alive pings, or not."
)
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
@click.option("--max-seconds", type=SECONDS, help="Stop after this many seconds (30s, 2m).")
@click.option("--json", "json_flag", is_flag=True, help="NDJSON lines even on a terminal.")
@global_options
def stream(
    run_id: str,
    starting_after: int | None,
    pings: bool | None,
    poll_interval: float | None,
    batch_size: int | None,
    idle_timeout: float,
    max_events: int | None,
    max_seconds: float | None,
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
            include_pings=pings,
            poll_interval=poll_interval,
            batch_size=batch_size,
            idle_timeout=idle_timeout,
            max_events=max_events,
            max_seconds=max_seconds,
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
