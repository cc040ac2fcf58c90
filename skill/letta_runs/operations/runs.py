"""The Runs API operations: Letta's own routes, one operation each, and how their results read."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from .._text import truncate
from ..models import Message, Run, RunMetrics, Step, StreamEvent, TraceSpan, Usage
from ..output import to_jsonable
from ..params import RunId, RunItemsQuery, RunsFilter, StreamRequest, TraceQuery
from .catalog import CliCommand, Face, NextStep, OperationResult, Page, Route, _item_id, operation
from .presenting import (
    _dumped_len,
    _fit_json,
    _fit_lines,
    _message_line,
    _present_page,
    _present_value,
    _run_line,
    _span_line,
    _step_line,
    _with_steps,
)

if TYPE_CHECKING:
    from .._client import AsyncRunsClient


class StreamCapture(BaseModel):
    """Events collected from a background run's stream within a time and count budget."""

    run_id: str
    events: list[Any]
    last_seq_id: int | None = Field(
        default=None, description="Pass as starting_after to continue after these events."
    )
    end_reason: str | None = None
    complete: bool = Field(description="True when the stream ended (the run finished).")
    seconds: float = 0.0


class DeletedRun(BaseModel):
    """What deleting a run returned: the client's answer (``confirmed_by`` and ``note`` when a
    follow-up read settled it, the server's ``response`` otherwise)."""

    model_config = ConfigDict(extra="allow")

    deleted: str = Field(description="The run id that was deleted.")
    note: str | None = Field(
        default=None,
        description="When the DELETE itself failed (a reset, a timeout, a 5xx) and a follow-up "
        "read found the run gone: how the deletion was confirmed.",
    )


async def _page(
    op_name: str, page: Any, arguments: dict[str, Any], *, has_more: bool | None = None
) -> Page[Any]:
    """A client page as a :class:`Page`: the server's items, ``has_more`` settled, the cursor."""
    from .._pagination import cursor_param

    settled = page.has_more if has_more is None else has_more
    more = bool(settled) if settled is not None else page.has_next_page()
    result: Page[Any] = Page(items=list(page.items), has_more=more)
    result._operation = op_name
    result._cursor_param = cursor_param(page.kind, page.params)
    result._arguments = dict(arguments)
    if result.items and more:
        result.next_cursor = _item_id(result.items[-1])
        result.next_arguments = result.continued_after(len(result.items) - 1)
    return result


# --------------------------------------------------------------------------- the Runs API


@operation(
    title="List runs",
    route=Route("GET", "/v1/runs/"),
    cli=CliCommand(("runs", "list"), arguments=(), options={"statuses": "--status"}),
    present=_present_page("{n} run(s):", _run_line),
)
async def list_runs(client: AsyncRunsClient, filters: RunsFilter) -> Page[Run]:
    """List Letta agent runs, newest first, filtered by agent, status, stop reason, background or
    active. Use it to find the runs to inspect; failed runs are best found with
    statuses=['failed'] (failed sync runs have no stop reason). The result says whether more
    runs exist and the arguments that fetch the next page."""
    query = filters.query()
    return await _page("list_runs", await client.runs.list(**query), query)


@operation(
    title="List active runs",
    route=Route("GET", "/v1/runs/active"),
    cli=CliCommand(("runs", "active"), arguments=()),
    present=_present_page("{n} active run(s) (status created or running):", _run_line),
)
async def list_active_runs(
    client: AsyncRunsClient,
    agent_id: Annotated[str | None, Field(description="Only active runs of this agent.")] = None,
    background: Annotated[
        bool | None, Field(description="True for background runs only, False for the others.")
    ] = None,
) -> Page[Run]:
    """List runs that are still created or running (not finished), at most 100 (the server's
    cap). A run that stays here for long is probably stuck; the stuck-runs check explains
    which."""
    runs = await client.runs.list_active(agent_id=agent_id, background=background)
    return Page(items=runs, has_more=len(runs) >= 100)


@operation(
    title="Retrieve a run",
    route=Route("GET", "/v1/runs/{run_id}"),
    cli=CliCommand(("runs", "get")),
    present=_present_value(
        lambda run, args: "\n".join(
            [_run_line(run)]
            + ([f"completed_at={run.completed_at.isoformat()}"] if run.completed_at else [])
            + ([f"error: {truncate(run.error_text, 300, one_line=True)}"] if run.error_text else [])
        )
    ),
)
async def retrieve_run(client: AsyncRunsClient, run_id: RunId) -> Run:
    """Get one run: status, stop reason, agent, timestamps and error metadata."""
    return await client.runs.retrieve(run_id)


@operation(
    title="Delete a run",
    route=Route("DELETE", "/v1/runs/{run_id}"),
    cli=CliCommand(("runs", "delete")),
    present=_present_value(
        lambda result, args: (
            f"deleted {result.deleted}" + (f" ({result.note})" if result.note else "")
        )
    ),
    read_only=False,
    destructive=True,
    idempotent=True,
)
async def delete_run(client: AsyncRunsClient, run_id: RunId) -> DeletedRun:
    """Delete a run permanently. Destructive: only call it when the user asked to delete this
    exact run."""
    answer = to_jsonable(await client.runs.delete(run_id))
    return DeletedRun.model_validate({**answer, "deleted": run_id})


@operation(
    title="List a run's messages",
    route=Route("GET", "/v1/runs/{run_id}/messages"),
    cli=CliCommand(("runs", "messages")),
    mcp_name="list-messages-run",
    present=_present_page("{n} message item(s) of {run_id}:", _message_line),
)
async def list_messages_for_run(
    client: AsyncRunsClient, run_id: RunId, paging: RunItemsQuery
) -> Page[Message]:
    """List the messages of a run (user input, reasoning, tool calls, tool returns, assistant
    answers), oldest first. Tool returns with status 'error' show tool failures. The result says
    whether more messages exist and the arguments that fetch the next page."""
    query = paging.query()
    page = await client.runs.messages.list(run_id, **query)
    return await _page("list_messages_for_run", page, {"run_id": run_id, **query})


@operation(
    title="Token usage of a run",
    route=Route("GET", "/v1/runs/{run_id}/usage"),
    cli=CliCommand(("runs", "usage")),
    mcp_name="retrieve-usage-run",
    present=_present_value(
        lambda u, args: (
            f"usage of {args.run_id}: prompt={u.prompt_tokens} completion={u.completion_tokens} "
            f"total={u.total_tokens} (the server sums only the newest 50 steps; the diagnosis sums "
            "every step)"
        )
    ),
)
async def retrieve_usage_for_run(client: AsyncRunsClient, run_id: RunId) -> Usage:
    """Token totals of a run (prompt, completion, total). The server sums only the newest 50
    steps; the diagnosis gives exact totals."""
    return await client.runs.usage.retrieve(run_id)


@operation(
    title="Metrics of a run",
    route=Route("GET", "/v1/runs/{run_id}/metrics"),
    cli=CliCommand(("runs", "metrics")),
    mcp_name="retrieve-metrics-run",
    present=_present_value(
        lambda m, args: (
            f"metrics of {args.run_id}: duration={_seconds(m.run_ns)} num_steps={m.num_steps} (capped at "
            f"50 by the server) tools_used={len(m.tools_used or [])} tool id(s)"
        )
    ),
)
async def retrieve_metrics_for_run(client: AsyncRunsClient, run_id: RunId) -> RunMetrics:
    """Run metrics: total duration, number of steps (capped at 50 by the server) and the ids of
    the tools used."""
    return await client.runs.metrics.retrieve(run_id)


def _seconds(ns: int | None) -> str:
    from ..durations import format_duration

    return "unknown" if ns is None else format_duration(ns / 1e9, precise=True)


@operation(
    title="List a run's steps",
    route=Route("GET", "/v1/runs/{run_id}/steps"),
    cli=CliCommand(("runs", "steps")),
    mcp_name="list-steps-run",
    present=_present_page("{n} step(s) of {run_id}:", _step_line),
)
async def list_steps_for_run(
    client: AsyncRunsClient, run_id: RunId, paging: RunItemsQuery
) -> Page[Step]:
    """List the steps of a run (one LLM call each) with status, stop reason, tokens and error
    type/data, newest first unless order='asc'. Failures of the model provider show here, not on
    the run. The result says whether more steps exist and the arguments of the next page."""
    query = paging.query()
    page = await client.runs.steps.list(run_id, **query)
    return await _page("list_steps_for_run", page, {"run_id": run_id, **query})


@operation(
    title="OTEL trace of a run",
    route=Route("GET", "/v1/runs/{run_id}/trace"),
    cli=CliCommand(("runs", "trace")),
    mcp_name="retrieve-trace-run",
    present=_present_page("{n} trace span(s) of {run_id}:", _span_line),
)
async def retrieve_trace_for_run(
    client: AsyncRunsClient, run_id: RunId, trace: TraceQuery
) -> Page[TraceSpan]:
    """OpenTelemetry spans of a run. Self-hosted servers without ClickHouse answer 'not
    available'; then list the run's steps and messages instead."""
    spans = await client.runs.trace.retrieve(run_id, **trace.query())
    page: Page[TraceSpan] = Page(items=spans, has_more=False)
    page._arguments = {"run_id": run_id}
    return page


@operation(
    title="Read a background run's stream",
    route=Route("POST", "/v1/runs/{run_id}/stream", stream_body=StreamRequest),
    cli=CliCommand(("runs", "stream"), options={"include_pings": "--pings"}),
    mcp_name="retrieve-stream-run",
    present=lambda capture, args, face: _present_stream(capture, args, face),
    idempotent=False,
)
async def retrieve_stream_for_run(
    client: AsyncRunsClient,
    run_id: RunId,
    starting_after: Annotated[
        int | None,
        Field(
            description="Only events after this seq_id; pass the last_seq_id of a previous "
            "call to continue where it stopped."
        ),
    ] = None,
    include_pings: Annotated[bool, Field(description="Include keep-alive pings.")] = False,
    max_events: Annotated[
        int, Field(ge=1, le=1000, description="Stop after collecting this many events.")
    ] = 100,
    max_seconds: Annotated[
        float,
        Field(gt=0, le=120, description="Stop after this many seconds even if the run goes on."),
    ] = 15.0,
) -> StreamCapture:
    """Replay or follow the event stream of a background run (only runs started with background
    streaming, less than 3 hours old). Returns the events collected within max_seconds and
    max_events, and the last_seq_id to continue from. Reading consumes time on a live run, so
    two calls can return different events."""
    stream = client.runs.stream(
        run_id,
        starting_after=starting_after,
        include_pings=include_pings,
        max_events=max_events,
        max_seconds=max_seconds,
        idle_timeout=min(max_seconds, 30.0),
    )
    events: list[StreamEvent] = []
    started = time.monotonic()
    async for event in stream:
        events.append(event)
    capture = StreamCapture(
        run_id=run_id,
        events=events,
        last_seq_id=stream.last_seq_id,
        end_reason=stream.end_reason,
        complete=stream.end_reason in ("done", "error", "cancelled", "terminal"),
        seconds=round(time.monotonic() - started, 2),
    )
    return capture


def _event_line(e: StreamEvent) -> str:
    if e.kind == "message" and e.message is not None:
        return (
            f"[{e.seq_id}] {e.message.message_type}: {truncate(e.message.text, 160, one_line=True)}"
        )
    return f"[{e.seq_id}] {e.kind}: {truncate(e.raw, 160, one_line=True)}"


def _present_stream(capture: StreamCapture, args: Any, face: Face) -> OperationResult:
    events: list[StreamEvent] = list(capture.events)
    payloads = [e.data if e.kind != "done" else "[DONE]" for e in events]
    data: dict[str, Any] = capture.model_dump(mode="json")
    data["events"] = payloads
    # Keep the newest events that fit out of the reply, and continue after the last one kept.
    keep = len(events)
    while face.json_budget is not None and keep > 1 and _dumped_len(data) > face.json_budget:
        keep = max(1, keep * 3 // 4)
        data["events"] = payloads[:keep]
        last = next((e.seq_id for e in reversed(events[:keep]) if e.seq_id is not None), None)
        data["last_seq_id"] = last
        data["complete"] = False
    data, _ = _fit_json(data, face.json_budget)
    steps: list[NextStep] = []
    if not data["complete"] and data["last_seq_id"] is not None:
        again = args.model_dump(exclude_defaults=True)
        again["starting_after"] = data["last_seq_id"]
        steps.append(NextStep(operation="retrieve_stream_for_run", args=again, why="continue"))
    lines = [
        f"{keep} event(s); ended by {capture.end_reason}; last_seq_id={data['last_seq_id']}"
    ] + [_event_line(e) for e in events[:keep] if e.kind != "ping"]
    text, _ = _fit_lines(lines, face.text_budget)
    return OperationResult(data, _with_steps(text, steps, face), events, tuple(steps))
