"""The operation catalog: every Runs API operation and composite, written once.

Each :class:`Operation` carries what every face needs — names (LangChain ``list_runs`` and MCP
``list-runs``), a description written for a model, a pydantic argument model, the safety hints,
the REST route, and one async ``call`` over an :class:`~letta_runs.AsyncRunsClient`. The
LangChain tools, the MCP server and the REST adapter are generated from this table, so they can
not drift apart, and none of them holds logic of its own.

>>> from letta_runs.operations import OPERATIONS
>>> [op.name for op in OPERATIONS][:3]
['list_runs', 'list_active_runs', 'retrieve_run']
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._exceptions import InvalidArgumentError
from .models import LettaModel, Run

if TYPE_CHECKING:
    from ._client import AsyncRunsClient

__all__ = [
    "COMPOSITE_OPERATIONS",
    "OPERATIONS",
    "Operation",
    "OperationResult",
    "bounded_json",
    "get_operation",
]

DEFAULT_TEXT_BUDGET = 4_000
"""Characters of compact text handed to a model for one tool result."""
DEFAULT_JSON_BUDGET = 16_000
"""Characters of JSON in a structured result before lists are cut (``truncated`` says so)."""


@dataclass(frozen=True)
class OperationResult:
    """What an operation returns to a face.

    ``data`` is JSON-ready and bounded (for MCP structured content and REST bodies), ``text`` is
    compact prose for a model, ``artifact`` is the full typed result for programs.
    """

    data: Any
    text: str
    artifact: Any = None


class OperationArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


RUN_ID_PATTERN = r"^run-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
RunId = Field(
    description="The run id, exactly as Letta gives it: 'run-' followed by a UUID4, "
    "e.g. 'run-39e39189-9b0f-49e1-aa16-49a02c1268f4'.",
    pattern=RUN_ID_PATTERN,
)

StatusName = Literal["created", "running", "completed", "failed", "cancelled"]
StopReasonName = Literal[
    "end_turn",
    "error",
    "llm_api_error",
    "invalid_llm_response",
    "invalid_tool_call",
    "max_steps",
    "max_tokens_exceeded",
    "no_tool_call",
    "tool_rule",
    "cancelled",
    "insufficient_credits",
    "requires_approval",
    "context_window_overflow_in_system_prompt",
]


class ListRunsArgs(OperationArgs):
    agent_id: str | None = Field(
        default=None, description="Only runs of this agent ('agent-<uuid>')."
    )
    statuses: list[StatusName] | None = Field(
        default=None,
        description="Only runs in these statuses, e.g. ['failed', 'cancelled']. Note that sync "
        "and async runs stay 'created' (not 'running') while they execute.",
    )
    stop_reason: StopReasonName | None = Field(
        default=None,
        description="Only runs with this run-level stop reason. Failed sync runs have no stop "
        "reason, so prefer statuses=['failed'] to find failures.",
    )
    background: bool | None = Field(
        default=None, description="True for background (streamable) runs only, False for others."
    )
    active: bool | None = Field(default=None, description="True for runs still created or running.")
    conversation_id: str | None = Field(
        default=None, description="Only runs of this conversation ('conv-<uuid>')."
    )
    order: Literal["asc", "desc"] = Field(
        default="desc", description="'desc' lists newest first (default), 'asc' oldest first."
    )
    limit: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="How many runs to return (1-1000). Keep it small; use the filters to narrow.",
    )
    before: str | None = Field(
        default=None,
        description="Continue listing after this run id (pass the last id of the previous "
        "result to get the next page, in the current order).",
    )


class ListActiveRunsArgs(OperationArgs):
    agent_id: str | None = Field(default=None, description="Only active runs of this agent.")
    background: bool | None = Field(
        default=None, description="True for background runs only, False for the others."
    )


class RunIdArgs(OperationArgs):
    run_id: str = RunId


class ListRunItemsArgs(OperationArgs):
    run_id: str = RunId
    limit: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Maximum number of items to return (1-1000).",
    )
    order: Literal["asc", "desc"] = Field(
        default="asc", description="'asc' oldest first (default), 'desc' newest first."
    )
    after: str | None = Field(
        default=None,
        description="Continue after this id (the last id of the previous result) to get the "
        "next items in the chosen order.",
    )


class TraceArgs(OperationArgs):
    run_id: str = RunId
    limit: int | None = Field(
        default=None, ge=1, le=5000, description="Maximum number of spans (1-5000)."
    )


class StreamArgs(OperationArgs):
    run_id: str = RunId
    starting_after: int | None = Field(
        default=None,
        description="Only events after this seq_id; pass the last_seq_id of a previous call "
        "to continue where it stopped.",
    )
    include_pings: bool = Field(default=False, description="Include keep-alive pings.")
    max_events: int = Field(
        default=100, ge=1, le=1000, description="Stop after collecting this many events."
    )
    max_seconds: float = Field(
        default=15.0,
        gt=0,
        le=120,
        description="Stop after this many seconds even if the run is still going.",
    )


class DiagnoseArgs(OperationArgs):
    run_id: str = RunId
    detail: Literal["summary", "standard", "full"] = Field(
        default="standard",
        description="'summary' for a few lines, 'standard' for a full post-mortem that fits "
        "in a chat (default), 'full' for everything.",
    )
    stuck_after_seconds: float = Field(
        default=600.0,
        gt=0,
        description="A run that is still created/running after this many seconds is 'stuck'.",
    )


class TimelineArgs(OperationArgs):
    run_id: str = RunId
    detail: Literal["summary", "standard", "full"] = Field(
        default="standard", description="How much of each event to show."
    )


class TriageArgs(OperationArgs):
    since: str = Field(
        default="24h",
        description="Look back this far, e.g. '30m', '6h', '2d'.",
        pattern=r"^\d+(\.\d+)?\s*[smhdw]$",
    )
    agent_id: str | None = Field(default=None, description="Only runs of this agent.")
    statuses: list[StatusName] | None = Field(
        default=None,
        description="Statuses to scan. Default: every finished run, because runs the server "
        "calls 'completed' can still have failed (a tool loop that hit max_steps, no answer).",
    )
    limit: int = Field(
        default=200, ge=1, le=5000, description="Scan at most this many runs (newest first)."
    )


class StuckArgs(OperationArgs):
    older_than: str = Field(
        default="10m",
        description="Active runs older than this are stuck, e.g. '10m', '1h'.",
        pattern=r"^\d+(\.\d+)?\s*[smhdw]$",
    )
    agent_id: str | None = Field(default=None, description="Only runs of this agent.")


class CompareArgs(OperationArgs):
    run_id_a: str = Field(description="The first run id (e.g. a good run).", pattern=RUN_ID_PATTERN)
    run_id_b: str = Field(
        description="The second run id (e.g. the bad run).", pattern=RUN_ID_PATTERN
    )


Call = Callable[["AsyncRunsClient", Any], Awaitable[OperationResult]]


@dataclass(frozen=True)
class Operation:
    """One operation, as every face sees it."""

    name: str
    mcp_name: str
    title: str
    description: str
    args_model: type[OperationArgs]
    call: Call
    http_method: str
    http_path: str
    read_only: bool = True
    destructive: bool = False
    idempotent: bool = True
    composite: bool = False
    tags: Sequence[str] = field(default_factory=tuple)

    @property
    def hints(self) -> dict[str, bool]:
        """The seed's safety hints, under their MCP names."""
        return {
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": True,
        }

    async def run(self, client: AsyncRunsClient, arguments: dict[str, Any]) -> OperationResult:
        """Validate ``arguments`` and call the operation."""
        try:
            args = self.args_model.model_validate(arguments)
        except ValueError as exc:
            raise InvalidArgumentError(
                f"invalid arguments for {self.name}: {_short_validation(exc)}",
                hint="check the argument names and types in the tool's schema",
            ) from exc
        return await self.call(client, args)


def _short_validation(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for err in errors()[:5]:
            loc = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
            parts.append(f"{loc}: {err.get('msg')}")
        return "; ".join(parts)
    return str(exc)


# --------------------------------------------------------------------------- bounding helpers


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    return value


def _cap_strings(value: Any, max_len: int) -> Any:
    if isinstance(value, str):
        return (
            value
            if len(value) <= max_len
            else value[:max_len] + f"… [+{len(value) - max_len} chars]"
        )
    if isinstance(value, list):
        return [_cap_strings(v, max_len) for v in value]
    if isinstance(value, dict):
        return {k: _cap_strings(v, max_len) for k, v in value.items()}
    return value


def bounded_json(value: Any, *, budget: int = DEFAULT_JSON_BUDGET) -> Any:
    """``value`` as JSON data that serialises to at most about ``budget`` characters.

    Long strings are cut first, then list tails; a cut list is wrapped as
    ``{"items": [...], "truncated": true, "total": N}`` so nothing is silently lost.
    """
    data = _to_jsonable(value)
    if len(json.dumps(data, default=str)) <= budget:
        return data
    for max_len in (2000, 500, 200, 80):
        data = _cap_strings(_to_jsonable(value), max_len)
        if len(json.dumps(data, default=str)) <= budget:
            return data
    if isinstance(data, list):
        total = len(data)
        keep = total
        while keep > 1 and len(json.dumps(data[:keep], default=str)) > budget - 100:
            keep = max(1, keep * 3 // 4)
        return {"items": data[:keep], "truncated": True, "total": total}
    return data


def _cut(text: str | None, limit: int = 160) -> str:
    if not text:
        return ""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _fit(lines: list[str], budget: int = DEFAULT_TEXT_BUDGET) -> str:
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            out.append(f"… {len(lines) - i} more lines cut; ask for fewer items or use filters.")
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def _run_line(run: Run) -> str:
    created = run.created_at.strftime("%Y-%m-%d %H:%M:%S") if run.created_at else "?"
    return (
        f"{run.id} {run.status or '?'} stop={run.stop_reason or '-'} agent={run.agent_id or '-'} "
        f"created={created}Z type={run.run_type or '-'}" + (" background" if run.background else "")
    )


def _dump(model: LettaModel | None) -> Any:
    return model.to_json_dict() if model is not None else None


# --------------------------------------------------------------------------- the ten operations


async def _list_runs(client: AsyncRunsClient, a: ListRunsArgs) -> OperationResult:
    page = await client.runs.list(
        agent_id=a.agent_id,
        statuses=list(a.statuses) if a.statuses else None,
        stop_reason=a.stop_reason,
        background=a.background,
        active=a.active,
        conversation_id=a.conversation_id,
        order=a.order,
        limit=a.limit,
        before=a.before,
    )
    runs = list(page.items)
    lines = [
        f"{len(runs)} run(s){' (more available: pass before=' + runs[-1].id + ')' if len(runs) == a.limit and runs else ''}:"
    ]
    lines += [_run_line(r) for r in runs]
    return OperationResult(
        data=bounded_json([r.to_json_dict() for r in runs]), text=_fit(lines), artifact=runs
    )


async def _list_active_runs(client: AsyncRunsClient, a: ListActiveRunsArgs) -> OperationResult:
    runs = await client.runs.list_active(agent_id=a.agent_id, background=a.background)
    lines = [f"{len(runs)} active run(s) (status created or running):"]
    lines += [_run_line(r) for r in runs]
    return OperationResult(
        data=bounded_json([r.to_json_dict() for r in runs]), text=_fit(lines), artifact=runs
    )


async def _retrieve_run(client: AsyncRunsClient, a: RunIdArgs) -> OperationResult:
    run = await client.runs.retrieve(a.run_id)
    lines = [_run_line(run)]
    if run.completed_at:
        lines.append(f"completed_at={run.completed_at.isoformat()}")
    if run.error_text:
        lines.append(f"error: {_cut(run.error_text, 300)}")
    return OperationResult(data=run.to_json_dict(), text="\n".join(lines), artifact=run)


async def _delete_run(client: AsyncRunsClient, a: RunIdArgs) -> OperationResult:
    result = await client.runs.delete(a.run_id)
    data = _to_jsonable(result)
    return OperationResult(data=data, text=f"deleted {a.run_id}", artifact=result)


async def _list_messages(client: AsyncRunsClient, a: ListRunItemsArgs) -> OperationResult:
    # Letta's message cursors are chronological: "after" is later, "before" is earlier, whatever
    # the order; continuing a newest-first listing therefore needs "before".
    cursor = {"after": a.after} if a.order == "asc" else {"before": a.after}
    page = await client.runs.messages.list(a.run_id, limit=a.limit, order=a.order, **cursor)
    messages = list(page.items)
    lines = [f"{len(messages)} message item(s) of {a.run_id} ({a.order}):"]
    for m in messages:
        text = getattr(m, "text", "")
        lines.append(f"{m.id} {m.message_type} step={m.step_id or '-'}: {_cut(text, 200)}")
    return OperationResult(
        data=bounded_json([m.to_json_dict() for m in messages]),
        text=_fit(lines),
        artifact=messages,
    )


async def _retrieve_usage(client: AsyncRunsClient, a: RunIdArgs) -> OperationResult:
    usage = await client.runs.usage.retrieve(a.run_id)
    text = (
        f"usage of {a.run_id}: prompt={usage.prompt_tokens} completion={usage.completion_tokens} "
        f"total={usage.total_tokens} (the server sums only the newest 50 steps; "
        "diagnose_run sums every step)"
    )
    return OperationResult(data=usage.to_json_dict(), text=text, artifact=usage)


async def _retrieve_metrics(client: AsyncRunsClient, a: RunIdArgs) -> OperationResult:
    metrics = await client.runs.metrics.retrieve(a.run_id)
    seconds = f"{metrics.run_ns / 1e9:.2f}s" if metrics.run_ns is not None else "unknown"
    text = (
        f"metrics of {a.run_id}: duration={seconds} num_steps={metrics.num_steps} "
        f"(capped at 50 by the server) tools_used={len(metrics.tools_used or [])} tool id(s)"
    )
    return OperationResult(data=metrics.to_json_dict(), text=text, artifact=metrics)


async def _list_steps(client: AsyncRunsClient, a: ListRunItemsArgs) -> OperationResult:
    page = await client.runs.steps.list(a.run_id, limit=a.limit, order=a.order, after=a.after)
    steps = list(page.items)
    lines = [f"{len(steps)} step(s) of {a.run_id} ({a.order}):"]
    for s in steps:
        err = f" error={s.error_type}: {_cut(s.error_message, 120)}" if s.error_type else ""
        lines.append(
            f"{s.id} {s.status or '?'} stop={s.stop_reason or '-'} tokens={s.total_tokens or 0}"
            f"{err}"
        )
    return OperationResult(
        data=bounded_json([s.to_json_dict() for s in steps]), text=_fit(lines), artifact=steps
    )


async def _retrieve_trace(client: AsyncRunsClient, a: TraceArgs) -> OperationResult:
    spans = await client.runs.trace.retrieve(a.run_id, limit=a.limit)
    lines = [f"{len(spans)} trace span(s) of {a.run_id}:"]
    for span in spans[:50]:
        name = span.get("span_name") or span.get("name") or "span"
        lines.append(_cut(f"{name} {json.dumps(span, default=str)}", 200))
    return OperationResult(data=bounded_json(spans), text=_fit(lines), artifact=spans)


async def _retrieve_stream(client: AsyncRunsClient, a: StreamArgs) -> OperationResult:
    stream = client.runs.stream(
        a.run_id,
        starting_after=a.starting_after,
        include_pings=a.include_pings,
        max_events=a.max_events,
        max_seconds=a.max_seconds,
        idle_timeout=min(a.max_seconds, 30.0),
    )
    events = []
    started = time.monotonic()
    async for event in stream:
        events.append(event)
    payload = {
        "run_id": a.run_id,
        "events": [e.data if e.kind != "done" else "[DONE]" for e in events],
        "last_seq_id": stream.last_seq_id,
        "end_reason": stream.end_reason,
        "complete": stream.end_reason in ("done", "error", "cancelled", "terminal"),
        "seconds": round(time.monotonic() - started, 2),
    }
    lines = [
        f"{len(events)} event(s) from {a.run_id}; ended by {stream.end_reason}; "
        f"last_seq_id={stream.last_seq_id}"
        + (
            ""
            if payload["complete"]
            else f" — call again with starting_after={stream.last_seq_id} to continue"
        )
    ]
    for e in events:
        if e.kind == "message" and e.message is not None:
            lines.append(
                f"[{e.seq_id}] {e.message.message_type}: {_cut(getattr(e.message, 'text', ''), 160)}"
            )
        elif e.kind != "ping":
            lines.append(f"[{e.seq_id}] {e.kind}: {_cut(e.raw, 160)}")
    return OperationResult(data=bounded_json(payload), text=_fit(lines), artifact=events)


OPERATIONS: list[Operation] = [
    Operation(
        name="list_runs",
        mcp_name="list-runs",
        title="List runs",
        description=(
            "List Letta agent runs, newest first, filtered by agent, status, stop reason, "
            "background or active. Use it to find the runs to inspect; failed runs are best "
            "found with statuses=['failed'] (failed sync runs have no stop reason)."
        ),
        args_model=ListRunsArgs,
        call=_list_runs,
        http_method="GET",
        http_path="/v1/runs/",
    ),
    Operation(
        name="list_active_runs",
        mcp_name="list-active-runs",
        title="List active runs",
        description=(
            "List runs that are still created or running (not finished). A run that stays "
            "here for long is probably stuck; find_stuck_runs explains which."
        ),
        args_model=ListActiveRunsArgs,
        call=_list_active_runs,
        http_method="GET",
        http_path="/v1/runs/active",
    ),
    Operation(
        name="retrieve_run",
        mcp_name="retrieve-run",
        title="Retrieve a run",
        description="Get one run: status, stop reason, agent, timestamps and error metadata.",
        args_model=RunIdArgs,
        call=_retrieve_run,
        http_method="GET",
        http_path="/v1/runs/{run_id}",
    ),
    Operation(
        name="delete_run",
        mcp_name="delete-run",
        title="Delete a run",
        description=(
            "Delete a run permanently. Destructive: only call it when the user asked to "
            "delete this exact run."
        ),
        args_model=RunIdArgs,
        call=_delete_run,
        http_method="DELETE",
        http_path="/v1/runs/{run_id}",
        read_only=False,
        destructive=True,
        idempotent=True,
    ),
    Operation(
        name="list_messages_for_run",
        mcp_name="list-messages-run",
        title="List a run's messages",
        description=(
            "List the messages of a run (user input, reasoning, tool calls, tool returns, "
            "assistant answers), oldest first. Tool returns with status 'error' show tool "
            "failures."
        ),
        args_model=ListRunItemsArgs,
        call=_list_messages,
        http_method="GET",
        http_path="/v1/runs/{run_id}/messages",
    ),
    Operation(
        name="retrieve_usage_for_run",
        mcp_name="retrieve-usage-run",
        title="Token usage of a run",
        description=(
            "Token totals of a run (prompt, completion, total). The server sums only the newest "
            "50 steps; diagnose_run gives exact totals."
        ),
        args_model=RunIdArgs,
        call=_retrieve_usage,
        http_method="GET",
        http_path="/v1/runs/{run_id}/usage",
    ),
    Operation(
        name="retrieve_metrics_for_run",
        mcp_name="retrieve-metrics-run",
        title="Metrics of a run",
        description=(
            "Run metrics: total duration, number of steps (capped at 50 by the server) and the "
            "ids of the tools used."
        ),
        args_model=RunIdArgs,
        call=_retrieve_metrics,
        http_method="GET",
        http_path="/v1/runs/{run_id}/metrics",
    ),
    Operation(
        name="list_steps_for_run",
        mcp_name="list-steps-run",
        title="List a run's steps",
        description=(
            "List the steps of a run (one LLM call each) with status, stop reason, tokens and "
            "error type/data. Failures of the model provider show here, not on the run."
        ),
        args_model=ListRunItemsArgs,
        call=_list_steps,
        http_method="GET",
        http_path="/v1/runs/{run_id}/steps",
    ),
    Operation(
        name="retrieve_trace_for_run",
        mcp_name="retrieve-trace-run",
        title="OTEL trace of a run",
        description=(
            "OpenTelemetry spans of a run. Self-hosted servers without ClickHouse answer "
            "'not available'; then use list_steps_for_run and list_messages_for_run instead."
        ),
        args_model=TraceArgs,
        call=_retrieve_trace,
        http_method="GET",
        http_path="/v1/runs/{run_id}/trace",
    ),
    Operation(
        name="retrieve_stream_for_run",
        mcp_name="retrieve-stream-run",
        title="Read a background run's stream",
        description=(
            "Replay or follow the event stream of a background run (only runs started with "
            "background streaming, less than 3 hours old). Returns the events collected within "
            "max_seconds / max_events and the last_seq_id to continue from."
        ),
        args_model=StreamArgs,
        call=_retrieve_stream,
        http_method="POST",
        http_path="/v1/runs/{run_id}/stream",
    ),
]


def get_operation(name: str) -> Operation:
    """Find an operation by its LangChain (``list_runs``) or MCP (``list-runs``) name."""
    for op in OPERATIONS + COMPOSITE_OPERATIONS:
        if name in (op.name, op.mcp_name):
            return op
    raise KeyError(name)


# --------------------------------------------------------------------------- composites


async def _diagnose_run(client: AsyncRunsClient, a: DiagnoseArgs) -> OperationResult:
    from .composites import diagnose_run
    from .rendering import diagnosis_dict, render_diagnosis

    diag = await diagnose_run(client, a.run_id, stuck_after=a.stuck_after_seconds)
    return OperationResult(
        data=diagnosis_dict(diag, detail=a.detail),
        text=render_diagnosis(diag, detail=a.detail, fmt="markdown"),
        artifact=diag,
    )


async def _run_timeline(client: AsyncRunsClient, a: TimelineArgs) -> OperationResult:
    from .composites import run_timeline
    from .rendering import render_timeline

    timeline = await run_timeline(client, a.run_id, compact=a.detail != "full")
    return OperationResult(
        data=json.loads(render_timeline(timeline, detail=a.detail, fmt="json")),
        text=render_timeline(timeline, detail=a.detail, fmt="markdown"),
        artifact=timeline,
    )


async def _triage_runs(client: AsyncRunsClient, a: TriageArgs) -> OperationResult:
    from datetime import timedelta

    from .composites import triage_runs
    from .durations import parse_duration
    from .rendering import render_triage

    report = await triage_runs(
        client,
        since=timedelta(seconds=parse_duration(a.since)),
        agent_id=a.agent_id,
        statuses=list(a.statuses) if a.statuses else None,
        limit=a.limit,
    )
    return OperationResult(
        data=json.loads(render_triage(report, fmt="json")),
        text=render_triage(report, fmt="markdown"),
        artifact=report,
    )


async def _find_stuck_runs(client: AsyncRunsClient, a: StuckArgs) -> OperationResult:
    from .composites import find_stuck_runs
    from .durations import parse_duration
    from .rendering import render_stuck

    report = await find_stuck_runs(
        client, older_than=parse_duration(a.older_than), agent_id=a.agent_id
    )
    return OperationResult(
        data=json.loads(render_stuck(report, fmt="json")),
        text=render_stuck(report, fmt="markdown"),
        artifact=report,
    )


async def _compare_runs(client: AsyncRunsClient, a: CompareArgs) -> OperationResult:
    from .composites import compare_runs_by_id
    from .rendering import render_comparison

    comparison = await compare_runs_by_id(client, a.run_id_a, a.run_id_b)
    return OperationResult(
        data=json.loads(render_comparison(comparison, fmt="json")),
        text=render_comparison(comparison, fmt="markdown"),
        artifact=comparison,
    )


COMPOSITE_OPERATIONS: list[Operation] = [
    Operation(
        name="diagnose_run",
        mcp_name="diagnose-run",
        title="Diagnose a run (post-mortem)",
        description=(
            "Post-mortem of one run: reads its steps, messages, usage, metrics and trace and "
            "returns the verdict (ok, failed, stuck, running, cancelled, awaiting_approval), the "
            "root cause with evidence ids, tool loops, tokens, latency and next steps. Start "
            "here when asked why a run failed or misbehaved. Runs the server calls 'completed' "
            "can still be failed (e.g. a tool loop that hit max_steps)."
        ),
        args_model=DiagnoseArgs,
        call=_diagnose_run,
        http_method="GET",
        http_path="/v1/runs/{run_id}/diagnosis",
        composite=True,
    ),
    Operation(
        name="run_timeline",
        mcp_name="run-timeline",
        title="Timeline of a run",
        description=(
            "One ordered timeline of a run's steps, messages and trace spans with durations and "
            "tokens per step; repeated steps are folded. Use it after diagnose_run to see the "
            "order of events."
        ),
        args_model=TimelineArgs,
        call=_run_timeline,
        http_method="GET",
        http_path="/v1/runs/{run_id}/timeline",
        composite=True,
    ),
    Operation(
        name="triage_runs",
        mcp_name="triage-runs",
        title="Triage recent runs",
        description=(
            "Scan recent runs (e.g. since='24h') and group the problem runs by root cause, stop "
            "reason, error type and tool, with counts and example run ids. Use it for 'what went "
            "wrong last night' questions, then diagnose_run on an example id."
        ),
        args_model=TriageArgs,
        call=_triage_runs,
        http_method="GET",
        http_path="/v1/runs/triage",
        composite=True,
    ),
    Operation(
        name="find_stuck_runs",
        mcp_name="find-stuck-runs",
        title="Find stuck runs",
        description=(
            "Active runs older than a threshold (default 10 minutes) and runs whose stop reason "
            "and status disagree. Sync and async runs stay 'created' while they execute."
        ),
        args_model=StuckArgs,
        call=_find_stuck_runs,
        http_method="GET",
        http_path="/v1/runs/stuck",
        composite=True,
    ),
    Operation(
        name="compare_runs",
        mcp_name="compare-runs",
        title="Compare two runs",
        description=(
            "Differences between two runs: outcome, verdict, steps, tools used, tokens and "
            "durations. Useful to contrast a good run with a bad one of the same agent."
        ),
        args_model=CompareArgs,
        call=_compare_runs,
        http_method="GET",
        http_path="/v1/runs/compare",
        composite=True,
    ),
]
