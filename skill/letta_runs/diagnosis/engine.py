"""``diagnose``: what happened in a run, why, and what to look at next (pure).

Verdict rules (first that applies):

1. ``cancelled`` — the run's status (or its stop reason, with a terminal status) is ``cancelled``.
   A cancelled step's ``error_type: Unknown`` is a consequence, not a cause.
2. ``stuck`` / ``running`` — the status is not terminal (``created``, ``running``, or unknown):
   ``stuck`` when it is older than ``stuck_after`` seconds, or when a stop reason is already set
   (the run finished but its status was never updated); otherwise ``running``.
3. ``awaiting_approval`` — the run stopped with ``requires_approval`` and carries the pending call.
4. ``failed`` — the status is ``failed``; or the status is ``completed`` but the run ended by
   ``max_steps``, a stop reason that means an error, an unrecovered failed step, or without a
   final answer (then a ``status_mismatch`` finding says the server's status is misleading).
5. ``ok`` — completed, with a final answer (an ``assistant_message`` after the last input and no
   tool call after it), and no unrecovered error. Recovered tool errors stay as warnings.

Root cause: ``None`` for ``ok`` and ``running``; otherwise the highest-priority error finding
(``ROOT_CAUSE_PRIORITY``). A loop that runs into the step limit is the root cause (``tool_loop``)
and ``max_steps`` is kept as a second finding; a model calling a tool that does not exist beats
both, because it explains the loop.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..evidence import Evidence
from ..models import (
    ApprovalRequestMessage,
    ApprovalResponseMessage,
    AssistantMessage,
    Message,
    Step,
    ToolCallMessage,
    ToolReturn,
    ToolReturnMessage,
    UserMessage,
)
from .findings import (
    Finding,
    clean_text,
    excerpt,
    kind_for_error,
    kind_for_stop_reason,
    kind_for_stream_error,
)
from .loops import ToolLoop, find_loops, tool_call_records

__all__ = [
    "ROOT_CAUSE_PRIORITY",
    "SCHEMA_VERSION",
    "ContextSummary",
    "FinalAnswer",
    "FirstFailure",
    "LatencySummary",
    "PendingToolCall",
    "RunDiagnosis",
    "StepDuration",
    "ToolUsage",
    "UsageSummary",
    "Verdict",
    "diagnose",
]

SCHEMA_VERSION = 1
Verdict = Literal["ok", "failed", "stuck", "running", "cancelled", "awaiting_approval"]

ROOT_CAUSE_PRIORITY: tuple[str, ...] = (
    "cancelled",
    "stuck",
    "approval_pending",
    "context_window_exceeded",
    "llm_rate_limited",
    "llm_auth_error",
    "insufficient_credits",
    "llm_api_error",
    "invalid_llm_response",
    "server_error",
    "invalid_tool_call",
    "no_tool_call",
    "tool_rule",
    "max_tokens_exceeded",
    "tool_loop",
    "max_steps",
    "tool_error",
    "no_final_answer",
    "unknown_error",
    "status_mismatch",
)

CONTEXT_PRESSURE_RATIO = 0.8
SLOW_STEP_SECONDS = 30.0
SLOW_STEP_FACTOR = 5.0
USAGE_ENDPOINT_STEP_CAP = 50
EXCERPT = 200
_NOT_FOUND = re.compile(
    r"not found|does not exist|no tool named|unknown tool|no such tool|not a valid tool", re.I
)
# Letta's tool-rule solver refuses a call to a tool that is not available at this step (not
# attached to the agent, or not allowed by its tool rules) with this tool return, verbatim:
# "[ToolConstraintError] Cannot call NAME, valid tools include: ['a', 'b']."
_TOOL_CONSTRAINT = re.compile(r"ToolConstraintError|Cannot call \S+, valid tools include", re.I)
_VALID_TOOLS = re.compile(r"valid tools include:\s*\[([^\]]*)\]", re.I)
_RUN_CMD = "letta-runs"


class UsageSummary(BaseModel):
    """Tokens summed over every step (``/usage`` only sums the newest 50)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    step_count: int = 0
    usage_endpoint_total_tokens: int | None = None


class StepDuration(BaseModel):
    index: int
    step_id: str
    seconds: float | None = None
    total_tokens: int | None = None


class LatencySummary(BaseModel):
    total_seconds: float | None = None
    """Server-measured (``/metrics.run_ns``) when available, else completed_at − created_at."""
    wall_seconds: float | None = None
    ttft_seconds: float | None = None
    source: str | None = None
    age_seconds: float | None = None
    """For a run that is not terminal: how long ago it was created."""
    slowest_steps: list[StepDuration] = Field(default_factory=list)
    step_durations_approximate: bool = True


class ContextSummary(BaseModel):
    context_window_limit: int | None = None
    peak_prompt_tokens: int | None = None
    peak_step_id: str | None = None
    pressure: float | None = None


class FinalAnswer(BaseModel):
    message_id: str | None = None
    step_id: str | None = None
    excerpt: str


class FirstFailure(BaseModel):
    step_id: str | None = None
    step_index: int | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    arguments: str | None = None
    stderr: str | None = None
    error_type: str | None = None
    error_message: str | None = None


class PendingToolCall(BaseModel):
    tool_name: str | None = None
    tool_call_id: str | None = None
    arguments: str | None = None
    message_id: str | None = None


class ToolUsage(BaseModel):
    name: str
    calls: int = 0
    errors: int = 0


class RunDiagnosis(BaseModel):
    """The diagnosis of one run. Its JSON is a stable contract (``schema_version``)."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    agent_id: str | None = None
    verdict: Verdict
    headline: str
    status: str | None = None
    stop_reason: str | None = None
    effective_stop_reason: str | None = None
    run_type: str | None = None
    background: bool | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    evaluated_at: datetime
    step_count: int = 0
    message_count: int = 0
    root_cause: Finding | None = None
    findings: list[Finding] = Field(default_factory=list)
    loops: list[ToolLoop] = Field(default_factory=list)
    tools: list[ToolUsage] = Field(default_factory=list)
    usage: UsageSummary = Field(default_factory=UsageSummary)
    latency: LatencySummary = Field(default_factory=LatencySummary)
    context: ContextSummary = Field(default_factory=ContextSummary)
    final_answer: FinalAnswer | None = None
    first_failure: FirstFailure | None = None
    pending_approval: list[PendingToolCall] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    source: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# --- helpers -----------------------------------------------------------------------------------


def _is_input(msg: Message) -> bool:
    return isinstance(msg, UserMessage | ApprovalResponseMessage)


def _final_answer(messages: list[Message]) -> FinalAnswer | None:
    """The last assistant message after the last input, with no tool call after it."""
    last_input = max((i for i, m in enumerate(messages) if _is_input(m)), default=-1)
    answer: AssistantMessage | None = None
    for msg in messages[last_input + 1 :]:
        if isinstance(msg, AssistantMessage) and msg.text.strip():
            answer = msg
        elif isinstance(msg, ToolCallMessage | ApprovalRequestMessage):
            answer = None
    if answer is None:
        return None
    return FinalAnswer(
        message_id=answer.id, step_id=answer.step_id, excerpt=excerpt(answer.text, EXCERPT)
    )


def _unavailable_tool_summary(name: str, text: str, constrained: bool) -> str:
    if not constrained:
        return f"The model called a tool that does not exist: {excerpt(name, 80)}"
    valid = _VALID_TOOLS.search(text)
    names = [n.strip(" '\"") for n in valid.group(1).split(",") if n.strip(" '\"")] if valid else []
    where = (
        "it does not exist or is not attached to the agent"
        if names and name not in names
        else "the agent's tool rules did not allow it at that step"
    )
    shown = ", ".join(names[:8]) + (f" (+{len(names) - 8} more)" if len(names) > 8 else "")
    return f"The model called {excerpt(name, 80)}, which was not available ({where})" + (
        f"; valid tools: {excerpt(shown, 200)}" if names else ""
    )


def _stderr_text(ret: ToolReturn) -> str:
    return "".join(ret.stderr or [])


def _effective_stop_reason(ev: Evidence) -> str | None:
    run_stop = ev.run.stop_reason
    if run_stop and run_stop != "error":
        return run_stop
    for step in reversed(ev.steps):
        if step.stop_reason:
            return step.stop_reason
    for event in reversed(ev.stream_events or []):
        if event.stop_reason:
            return event.stop_reason
    return run_stop


def _step_durations(ev: Evidence) -> list[StepDuration]:
    """Per-step durations estimated from message dates (steps carry no timestamps)."""
    run = ev.run
    start: datetime | None = run.created_at
    end_of_run: datetime | None = run.completed_at
    if ev.metrics and ev.metrics.run_start_ns:
        start = datetime.fromtimestamp(ev.metrics.run_start_ns / 1e9, tz=UTC)
        if ev.metrics.run_ns:
            end_of_run = start + timedelta(seconds=ev.metrics.run_ns / 1e9)
    last_date: dict[str, datetime] = {}
    for msg in ev.messages:
        if msg.step_id and msg.date and not _is_input(msg):
            prev = last_date.get(msg.step_id)
            last_date[msg.step_id] = msg.date if prev is None else max(prev, msg.date)
    out: list[StepDuration] = []
    previous_end = start
    for i, step in enumerate(ev.steps):
        end = last_date.get(step.id)
        if i == len(ev.steps) - 1 and end_of_run is not None and step.status != "pending":
            end = max(end, end_of_run) if end else end_of_run
        seconds = None
        if end is not None and previous_end is not None:
            seconds = max((end - previous_end).total_seconds(), 0.0)
        out.append(
            StepDuration(
                index=i + 1, step_id=step.id, seconds=seconds, total_tokens=step.total_tokens
            )
        )
        if end is not None:
            previous_end = end
    return out


def _sum_optional(values: list[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _pick_root(findings: list[Finding]) -> Finding | None:
    rank = {kind: i for i, kind in enumerate(ROOT_CAUSE_PRIORITY)}
    errors = [f for f in findings if f.severity == "error"]
    if not errors:
        return None
    return min(errors, key=lambda f: rank.get(f.kind, len(rank) - 1))


def _merge(findings: list[Finding]) -> list[Finding]:
    """Merge findings with the same kind, tool and summary text (keeps the first ids)."""
    merged: dict[tuple[str, str | None, str], Finding] = {}
    for f in findings:
        key = (f.kind, f.tool_name, f.summary)
        if key in merged:
            merged[key].count += f.count
        else:
            merged[key] = f.model_copy()
    return list(merged.values())


def _next_steps(run_id: str, verdict: str, has_tools: bool, has_loop: bool) -> list[str]:
    steps = [f"{_RUN_CMD} timeline {run_id}"]
    steps.append(f"{_RUN_CMD} runs steps {run_id} --json")
    steps.append(f"{_RUN_CMD} runs messages {run_id}")
    if verdict in ("running", "stuck"):
        steps.insert(0, f"{_RUN_CMD} watch {run_id}")
    if verdict != "ok" or has_tools or has_loop:
        steps.append(f"{_RUN_CMD} diagnose {run_id} --detail full")
    return steps


# --- diagnose ------------------------------------------------------------------------------------


def diagnose(
    ev: Evidence, *, stuck_after: float = 600.0, now: datetime | None = None
) -> RunDiagnosis:
    """Diagnose one run from its evidence. Pure: no I/O, same evidence → same answer.

    >>> diag = diagnose(Evidence.from_fixture_dir("fixtures/loop_max_steps/run-…"))  # doctest: +SKIP
    >>> diag.verdict, diag.root_cause.kind                                            # doctest: +SKIP
    ('failed', 'tool_loop')
    """
    run = ev.run
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    steps = ev.steps
    messages = ev.messages
    step_index = {s.id: i + 1 for i, s in enumerate(steps)}
    status = run.status
    effective_stop = _effective_stop_reason(ev)
    findings: list[Finding] = []
    limitations: list[str] = []
    cancelled = status == "cancelled" or (run.is_terminal and effective_stop == "cancelled")

    # Failed steps: the truth about LLM and server errors lives here.
    failed_steps: list[Step] = [
        s for s in steps if s.status == "failed" or s.error_type or s.error_data
    ]
    step_failure_kinds: set[str] = set()
    for s in failed_steps:
        data = s.error_data or {}
        kind = kind_for_error(
            s.error_type,
            s.error_message,
            stop_reason=s.stop_reason,
            traceback=str(data.get("traceback") or ""),
        )
        if cancelled and kind in ("unknown_error", "server_error"):
            continue  # the interrupted step of a cancelled run: a consequence
        step_failure_kinds.add(kind)
        findings.append(
            Finding(
                kind=kind,
                severity="error",
                summary=excerpt(
                    f"Step {step_index[s.id]} failed with {s.error_type or s.stop_reason or 'an error'}: "
                    f"{s.error_message or 'no message'}",
                    240,
                    one_line=True,
                ),
                step_id=s.id,
                detail=excerpt(s.error_message, 600) or None,
            )
        )

    # Stream error events (streamed runs say what went wrong there too).
    for event in ev.stream_events or []:
        if event.kind != "error" or not isinstance(event.data, dict):
            continue
        text = " ".join(str(event.data.get(k) or "") for k in ("message", "detail"))
        kind = kind_for_stream_error(event.data.get("error_type"), text)
        if kind in step_failure_kinds:
            continue
        step_failure_kinds.add(kind)
        findings.append(
            Finding(
                kind=kind,
                severity="error",
                summary=excerpt(
                    f"The stream ended with an error ({event.data.get('error_type')}): {text}",
                    240,
                    one_line=True,
                ),
                detail=excerpt(text, 600),
            )
        )

    # A stop reason that means a problem, on a step that did not fail (e.g. max_tokens_exceeded).
    stop_kind = kind_for_stop_reason(effective_stop)
    last_step = steps[-1] if steps else None
    if (
        stop_kind
        and stop_kind not in ("cancelled", "approval_pending", "max_steps")
        and stop_kind not in step_failure_kinds
        and not failed_steps
    ):
        known_stop = stop_kind != "unknown_error"
        findings.append(
            Finding(
                kind=stop_kind,
                severity="error" if status == "failed" or known_stop else "warning",
                summary=f"The run stopped with stop_reason {effective_stop!r}"
                + ("" if known_stop else " (a value this version does not know)"),
                step_id=last_step.id if last_step else None,
            )
        )
        step_failure_kinds.add(stop_kind)

    # The run itself failed, but nothing above says why: fall back on metadata.error.
    if status == "failed" and not step_failure_kinds:
        run_error = run.error_text
        kind = (
            kind_for_error(None, run_error, stop_reason=run.stop_reason)
            if run_error
            else "unknown_error"
        )
        step_failure_kinds.add(kind)
        findings.append(
            Finding(
                kind=kind,
                severity="error",
                summary=excerpt(
                    f"The run failed: {run_error}"
                    if run_error
                    else "The run failed, and neither the run nor its steps say why",
                    240,
                    one_line=True,
                ),
                detail=excerpt(run_error, 600) or None,
            )
        )

    # Tool calls and returns.
    records = tool_call_records(messages)
    calls_by_id = {r.tool_call_id: r for r in records if r.tool_call_id}
    tool_counts: Counter[str] = Counter(r.name for r in records)
    tool_errors: Counter[str] = Counter()
    error_returns: list[tuple[ToolReturnMessage, ToolReturn, str, int]] = []
    for pos, msg in enumerate(messages):
        if not isinstance(msg, ToolReturnMessage):
            continue
        for ret in msg.returns:
            if ret.status != "error":
                continue
            call = calls_by_id.get(ret.tool_call_id or "")
            name = msg.name or (call.name if call else None) or "?"
            tool_errors[name] += 1
            error_returns.append((msg, ret, name, pos))

    final = _final_answer(messages)
    last_error_pos = max((p for *_, p in error_returns), default=-1)
    answered_after_errors = final is not None and any(
        m.id == final.message_id for m in messages[last_error_pos + 1 :]
    )
    for msg, ret, name, _pos in error_returns:
        text = clean_text(ret.tool_return)
        constrained = bool(_TOOL_CONSTRAINT.search(text))
        not_found = constrained or (bool(_NOT_FOUND.search(text)) and not _stderr_text(ret).strip())
        call = calls_by_id.get(ret.tool_call_id or "")
        recovered = answered_after_errors and status == "completed"
        if not_found:
            findings.append(
                Finding(
                    kind="invalid_tool_call",
                    severity="warning" if recovered else "error",
                    summary=_unavailable_tool_summary(name, text, constrained),
                    step_id=msg.step_id,
                    message_id=msg.id,
                    tool_call_id=ret.tool_call_id,
                    tool_name=name,
                    detail=excerpt(text, 300),
                )
            )
        else:
            findings.append(
                Finding(
                    kind="tool_error",
                    severity="warning" if recovered else "error",
                    summary=f"Tool {excerpt(name, 80)} returned an error"
                    + (" (the run recovered and answered)" if recovered else ""),
                    step_id=msg.step_id,
                    message_id=msg.id,
                    tool_call_id=ret.tool_call_id,
                    tool_name=name,
                    detail=excerpt(
                        text + ("\nstderr: " + _stderr_text(ret)[-400:] if ret.stderr else ""), 600
                    )
                    or (excerpt(call.arguments, 200) if call else None),
                )
            )

    # Loops.
    loops = find_loops(messages, steps)
    hit_step_limit = effective_stop == "max_steps"
    for loop in loops:
        fatal = loop.reaches_end and (hit_step_limit or final is None)
        if loop.pattern == "scattered" and not fatal:
            severity: Literal["error", "warning", "info"] = "info"
        else:
            severity = "error" if fatal else "warning"
        names = " → ".join(loop.tool_names)
        what = {
            "repeat": f"{names} called {loop.calls}× in a row with identical arguments",
            "cycle": f"cycle {names} repeated {loop.count}× ({loop.calls} calls)",
            "scattered": f"{names} called {loop.calls}× with identical arguments",
        }[loop.pattern]
        tail = " until the step limit" if fatal and hit_step_limit else ""
        findings.append(
            Finding(
                kind="tool_loop",
                severity=severity,
                summary=f"Tool loop: {what}{tail}",
                step_id=loop.first_step_id,
                tool_name=loop.tool_names[0] if loop.tool_names else None,
                detail=f"arguments: {loop.arguments}; steps {loop.steps}, tokens {loop.tokens}, "
                f"~{loop.seconds}s",
            )
        )

    if hit_step_limit:
        findings.append(
            Finding(
                kind="max_steps",
                severity="error",
                summary=f"The run was stopped by its step limit after {len(steps)} steps",
                step_id=last_step.id if last_step else None,
            )
        )

    # Approval.
    pending: list[PendingToolCall] = []
    if effective_stop == "requires_approval" and not cancelled:
        last_request = next(
            (m for m in reversed(messages) if isinstance(m, ApprovalRequestMessage)), None
        )
        if last_request is not None:
            for requested in last_request.calls:
                pending.append(
                    PendingToolCall(
                        tool_name=requested.name,
                        tool_call_id=requested.tool_call_id,
                        arguments=excerpt(requested.arguments, EXCERPT),
                        message_id=last_request.id,
                    )
                )
        first = pending[0] if pending else None
        findings.append(
            Finding(
                kind="approval_pending",
                severity="error",
                summary=(
                    f"Waiting for approval of {first.tool_name}({first.arguments})"
                    if first
                    else "The run stopped to wait for a tool approval"
                ),
                message_id=first.message_id if first else None,
                tool_call_id=first.tool_call_id if first else None,
                tool_name=first.tool_name if first else None,
                detail="Approve or deny it by sending an approval message to the agent; "
                "the continuation runs as a new run.",
            )
        )

    # --- verdict --------------------------------------------------------------------------------
    age = (now - run.created_at).total_seconds() if run.created_at else None
    verdict: Verdict
    terminal = run.is_terminal
    if cancelled:
        verdict = "cancelled"
        interrupted = [s for s in failed_steps if s.error_type in (None, "Unknown")]
        findings.append(
            Finding(
                kind="cancelled",
                severity="error",
                summary="The run was cancelled"
                + (f" during step {step_index[interrupted[-1].id]}" if interrupted else ""),
                step_id=interrupted[-1].id if interrupted else None,
                detail=(
                    "The interrupted step reports error_type 'Unknown' (GeneratorExit); "
                    "that is the cancellation itself, not a separate failure."
                    if interrupted
                    else None
                ),
            )
        )
    elif not terminal:
        stop_set = bool(run.stop_reason)
        too_old = age is not None and age > stuck_after
        if status not in ("created", "running"):
            findings.append(
                Finding(
                    kind="unknown_error",
                    severity="info",
                    summary=f"Unrecognized run status {status!r}; treated as not finished",
                )
            )
        if stop_set or too_old:
            verdict = "stuck"
            why = (
                f"its stop_reason is {run.stop_reason!r} but its status is still {status!r}"
                if stop_set
                else f"it is still {status!r} {_fmt_age(age)} after it was created "
                f"(threshold {int(stuck_after)} s)"
            )
            last_done = (
                last_step is not None
                and last_step.status == "success"
                and bool(last_step.stop_reason)
            )
            findings.append(
                Finding(
                    kind="stuck",
                    severity="error",
                    summary=f"The run looks stuck: {why}",
                    step_id=last_step.id if last_step else None,
                    detail=(
                        f"Its last step finished ({last_step.stop_reason}) but the run was never "
                        "finalised; the server will not update it."
                        if last_done and last_step
                        else (
                            f"Its newest step is {last_step.status!r}; the model call may still be "
                            "hanging."
                            if last_step
                            else "No step was recorded."
                        )
                    ),
                )
            )
            if stop_set or last_done:
                findings.append(
                    Finding(
                        kind="status_mismatch",
                        severity="warning",
                        summary=f"Status {status!r} disagrees with stop_reason "
                        f"{run.stop_reason or (last_step.stop_reason if last_step else None)!r}",
                    )
                )
        else:
            verdict = "running"
    elif pending or effective_stop == "requires_approval":
        verdict = "awaiting_approval"
    elif status == "failed":
        verdict = "failed"
    else:
        unrecovered = [f for f in findings if f.severity == "error"]
        if final is None:
            findings.append(
                Finding(
                    kind="no_final_answer",
                    severity="error",
                    summary="The run ended without an assistant answer"
                    + (
                        " (no output at all)" if not any(not _is_input(m) for m in messages) else ""
                    ),
                )
            )
        if unrecovered or final is None:
            verdict = "failed"
            if status == "completed":
                findings.append(
                    Finding(
                        kind="status_mismatch",
                        severity="warning",
                        summary=f"The server reports {status!r}"
                        + (f"/{run.stop_reason}" if run.stop_reason else "")
                        + " but the run did not succeed",
                    )
                )
        else:
            verdict = "ok"

    # --- measurements ---------------------------------------------------------------------------
    usage = UsageSummary(
        prompt_tokens=sum(s.prompt_tokens or 0 for s in steps),
        completion_tokens=sum(s.completion_tokens or 0 for s in steps),
        total_tokens=sum(s.total_tokens or 0 for s in steps),
        cached_tokens=_sum_optional([s.cached_tokens for s in steps]),
        reasoning_tokens=_sum_optional([s.reasoning_token_count for s in steps]),
        step_count=len(steps),
        usage_endpoint_total_tokens=ev.usage.total_tokens if ev.usage else None,
    )
    if (
        ev.usage
        and ev.usage.total_tokens is not None
        and ev.usage.total_tokens != usage.total_tokens
    ):
        limitations.append(
            f"/usage reports {ev.usage.total_tokens} total tokens but the {len(steps)} steps sum "
            f"to {usage.total_tokens}: /usage only sums the newest {USAGE_ENDPOINT_STEP_CAP} "
            "steps; the step sum is used here."
        )
    elif len(steps) > USAGE_ENDPOINT_STEP_CAP:
        limitations.append(
            f"/usage only sums the newest {USAGE_ENDPOINT_STEP_CAP} steps; totals here are summed "
            "over every step."
        )
    if ev.metrics and ev.metrics.num_steps is not None and ev.metrics.num_steps != len(steps):
        limitations.append(
            f"/metrics says num_steps={ev.metrics.num_steps} but /steps lists {len(steps)} "
            "(the metric is capped at 50 and is not updated for some runs)."
        )

    durations = _step_durations(ev)
    known = [d for d in durations if d.seconds is not None]
    wall = (
        (run.completed_at - run.created_at).total_seconds()
        if run.completed_at and run.created_at
        else None
    )
    total = ev.metrics.run_ns / 1e9 if ev.metrics and ev.metrics.run_ns else wall
    latency = LatencySummary(
        total_seconds=round(total, 3) if total is not None else None,
        wall_seconds=round(wall, 3) if wall is not None else None,
        ttft_seconds=run.ttft_ns / 1e9 if run.ttft_ns else None,
        source="metrics.run_ns"
        if ev.metrics and ev.metrics.run_ns
        else ("timestamps" if wall is not None else None),
        age_seconds=round(age, 3) if age is not None and not terminal else None,
        slowest_steps=sorted(known, key=lambda d: d.seconds or 0.0, reverse=True)[:3],
    )
    if steps:
        limitations.append(
            "Steps carry no timestamps: per-step durations are estimated from message dates "
            "(1 s resolution)."
        )
    if len(known) >= 1:
        median = statistics.median(d.seconds or 0.0 for d in known)
        for d in known:
            seconds = d.seconds or 0.0
            if seconds >= SLOW_STEP_SECONDS and (
                len(known) == 1 or seconds >= SLOW_STEP_FACTOR * max(median, 1.0)
            ):
                findings.append(
                    Finding(
                        kind="slow_step",
                        severity="info",
                        summary=f"Step {d.index} took about {seconds:.0f} s",
                        step_id=d.step_id,
                    )
                )

    limit = max((s.context_window_limit for s in steps if s.context_window_limit), default=None)
    peak_step = max(steps, key=lambda s: s.prompt_tokens or 0, default=None)
    peak = peak_step.prompt_tokens if peak_step else None
    pressure = round(peak / limit, 3) if peak and limit else None
    context = ContextSummary(
        context_window_limit=limit,
        peak_prompt_tokens=peak,
        peak_step_id=peak_step.id if peak_step and peak else None,
        pressure=pressure,
    )
    if pressure is not None and pressure >= CONTEXT_PRESSURE_RATIO:
        findings.append(
            Finding(
                kind="context_pressure",
                severity="warning",
                summary=f"The prompt reached {pressure:.0%} of the {limit}-token context window",
                step_id=context.peak_step_id,
            )
        )

    # Trace and other endpoint limitations.
    trace_error = ev.endpoint_errors.get("trace")
    if trace_error is not None or not ev.trace:
        reason = (
            f"/trace answered {trace_error.status_code}: {excerpt(trace_error.message, 120, one_line=True)}"
            if trace_error
            else ("/trace returned no spans" if ev.trace is not None else "/trace was not fetched")
        )
        findings.append(
            Finding(
                kind="trace_unavailable",
                severity="info",
                summary=f"No trace spans: {reason}",
            )
        )
        limitations.append(
            f"No trace spans ({reason}); the absence of spans says nothing about the run's health."
        )
    for endpoint in ("steps", "messages", "usage", "metrics"):
        err = ev.endpoint_errors.get(endpoint)
        if err is not None:
            limitations.append(
                f"/{endpoint} could not be read ({err.status_code or err.kind}: "
                f"{excerpt(err.message, 120, one_line=True)}); the diagnosis is partial."
            )
    if not messages and status == "failed":
        limitations.append(
            "No messages: Letta does not persist the input message when the first model call fails."
        )

    first_failure = _first_failure(failed_steps, error_returns, calls_by_id, step_index, cancelled)

    findings = _merge(findings)
    root = None if verdict in ("ok", "running") else _pick_root(findings)
    rank = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (f is not root, rank[f.severity]))
    if root is not None and findings and findings[0] is not root:
        findings.remove(root)
        findings.insert(0, root)

    tools = [
        ToolUsage(name=name, calls=count, errors=tool_errors.get(name, 0))
        for name, count in tool_counts.most_common()
    ]
    for name, errs in tool_errors.items():
        if name not in tool_counts:
            tools.append(ToolUsage(name=name, calls=0, errors=errs))

    diag = RunDiagnosis(
        run_id=run.id,
        agent_id=run.agent_id,
        verdict=verdict,
        headline="",
        status=status,
        stop_reason=run.stop_reason,
        effective_stop_reason=effective_stop,
        run_type=run.run_type,
        background=run.background,
        created_at=run.created_at,
        completed_at=run.completed_at,
        evaluated_at=now,
        step_count=len(steps),
        message_count=len(messages),
        root_cause=root,
        findings=findings,
        loops=loops,
        tools=tools,
        usage=usage,
        latency=latency,
        context=context,
        final_answer=final,
        first_failure=first_failure,
        pending_approval=pending,
        limitations=limitations,
        next_steps=_next_steps(run.id, verdict, bool(records), bool(loops)),
        source=ev.source,
    )
    diag.headline = _headline(diag)
    return diag


def _fmt_age(age: float | None) -> str:
    if age is None:
        return "an unknown time"
    if age < 120:
        return f"{age:.0f} s"
    if age < 7200:
        return f"{age / 60:.0f} min"
    return f"{age / 3600:.1f} h"


def _first_failure(
    failed_steps: list[Step],
    error_returns: list[tuple[ToolReturnMessage, ToolReturn, str, int]],
    calls_by_id: dict[str, Any],
    step_index: dict[str, int],
    cancelled: bool,
) -> FirstFailure | None:
    candidates: list[tuple[int, FirstFailure]] = []
    if error_returns:
        msg, ret, name, _ = error_returns[0]
        call = calls_by_id.get(ret.tool_call_id or "")
        idx = step_index.get(msg.step_id or "")
        candidates.append(
            (
                idx or 0,
                FirstFailure(
                    step_id=msg.step_id,
                    step_index=idx,
                    tool_call_id=ret.tool_call_id,
                    tool_name=name,
                    arguments=excerpt(call.arguments, EXCERPT) if call else None,
                    stderr=excerpt(_stderr_text(ret)[-400:], 400) or None,
                    error_type="invalid_tool_call"
                    if _TOOL_CONSTRAINT.search(clean_text(ret.tool_return))
                    else "tool_error",
                    error_message=excerpt(ret.tool_return, EXCERPT),
                ),
            )
        )
    if failed_steps and not cancelled:
        s = failed_steps[0]
        candidates.append(
            (
                step_index.get(s.id, 0),
                FirstFailure(
                    step_id=s.id,
                    step_index=step_index.get(s.id),
                    error_type=s.error_type or s.stop_reason,
                    error_message=excerpt(s.error_message, EXCERPT) or None,
                ),
            )
        )
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0])[1]


def _headline(diag: RunDiagnosis) -> str:
    steps = f"{diag.step_count} step{'s' if diag.step_count != 1 else ''}"
    if diag.verdict == "ok":
        warn = sum(1 for f in diag.findings if f.severity == "warning")
        return f"ok: completed in {steps} with a final answer" + (
            f" ({warn} warning{'s' if warn != 1 else ''})" if warn else ""
        )
    if diag.verdict == "running":
        return f"running: {diag.status} for {_fmt_age(diag.latency.age_seconds)}, {steps} so far"
    cause = diag.root_cause
    if cause is None:
        return f"{diag.verdict}: {steps}"
    return excerpt(f"{diag.verdict}: {cause.kind} — {cause.summary}", 240, one_line=True)
