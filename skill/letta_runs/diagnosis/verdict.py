"""The verdict pass: one word for the run, its root cause, and the headline.

Verdict rules (first that applies):

1. ``cancelled`` — the run's status (or its stop reason, with a terminal status) is ``cancelled``.
   A cancelled step's ``error_type: Unknown`` is a consequence, not a cause; messages that
   landed after the cancel (a tool keeps running) are named.
2. ``stuck`` / ``running`` — the status is not terminal (``created``, ``running``, or unknown):
   ``stuck`` when it is older than ``stuck_after`` seconds, or when a stop reason is already set
   (the run finished but its status was never updated); otherwise ``running``.
3. ``awaiting_approval`` — the run stopped with ``requires_approval`` (a tool needs approval, or
   a client-side tool's result is awaited): a waiting state, its finding a ``warning``.
4. ``failed`` — the status is ``failed``; or the status is ``completed`` but a finding is an
   error (a loop into ``max_steps``, a stop reason Letta counts as failed, an unrecovered failed
   step or tool error), or no outcome where an answer was expected (``no_final_answer``; see
   ``outcome``). A ``status_mismatch`` warning then says the server's status is misleading.
5. ``unknown`` — completed, no error found, but the messages that would show the outcome could
   not be read: no verdict is built on a missing endpoint.
6. ``ok`` — completed, with its outcome and no unrecovered error. Recovered tool errors,
   compactions, denials and suspicious content stay as warnings or notes.

``settled`` is false when evidence that could change the verdict is missing: ``unknown``
(no ``/messages``), or ``ok`` read without ``/steps`` when the run record does not itself say the
loop ended well (its stop reason is not ``end_turn`` / ``tool_rule``: the steps' stop reasons
would decide), or ``ok`` because a turn ended on a tool call while the agent's type could not
be read (``GET /v1/agents/{id}`` would decide: see ``outcome``). ``/usage``, ``/metrics`` and
``/trace`` never decide a verdict. A ``failed``,
``cancelled``, ``stuck`` or ``awaiting_approval`` verdict rests on what was read and is settled.

Root cause: ``None`` for ``ok``, ``running`` and ``unknown``; the ``approval_pending`` finding for
``awaiting_approval``; otherwise the highest-priority error finding (``ROOT_CAUSE_PRIORITY``).
"""

from __future__ import annotations

from ..durations import format_duration
from ..models import Message
from .facts import RunFacts
from .findings import Finding, excerpt
from .outcome import UNSENT_ANSWER_RULE, rests_on_agent_type
from .result import PendingToolCall, RunDiagnosis, RunOutcome, Verdict

__all__ = ["ROOT_CAUSE_PRIORITY", "decide_verdict", "fmt_age", "headline", "order_findings"]

ROOT_CAUSE_PRIORITY: tuple[str, ...] = (
    "cancelled",
    "stuck",
    "approval_pending",
    "context_window_overflow_in_system_prompt",
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


def fmt_age(age: float | None) -> str:
    return "an unknown time" if age is None else format_duration(age, words=True)


def _late_work(late: list[Message]) -> str:
    what = sorted({m.message_type.removesuffix("_message").replace("_", " ") for m in late})
    tools = sorted({m.name for m in late if m.name})
    return (
        f"{len(late)} message{'s' if len(late) != 1 else ''} ({', '.join(what)}"
        + (f" of {', '.join(tools)}" if tools else "")
        + ") landed in the run after the cancel: the work in flight kept running."
    )


def _cancelled(f: RunFacts, late: list[Message]) -> Finding:
    interrupted = [s for s in f.failed_steps if s.error_type in (None, "Unknown")]
    during = interrupted[-1] if interrupted else None
    if during is None and late:
        during = next((s for s in f.steps if s.id == late[0].step_id), None)
    notes = []
    if interrupted:
        notes.append(
            "The interrupted step reports error_type 'Unknown' (GeneratorExit); "
            "that is the cancellation itself, not a separate failure."
        )
    if late:
        notes.append(_late_work(late))
    return Finding(
        kind="cancelled",
        severity="error",
        summary="The run was cancelled"
        + (f" during step {f.index_of(during.id)}" if during is not None else ""),
        step_id=during.id if during is not None else None,
        evidence_ids=[m.id for m in late if m.id],
        detail=" ".join(notes) or None,
    )


def _stuck(f: RunFacts) -> list[Finding]:
    run, last = f.run, f.last_step
    stop_set = bool(run.stop_reason)
    why = (
        f"its stop_reason is {run.stop_reason!r} but its status is still {f.status!r}"
        if stop_set
        else f"it is still {f.status!r} {fmt_age(f.age)} after it was created "
        f"(threshold {int(f.stuck_after)} s)"
    )
    last_done = last is not None and last.status == "success" and bool(last.stop_reason)
    if last is not None and last_done:
        detail = (
            f"Its last step finished ({last.stop_reason}) but the run was never "
            "finalised; the server will not update it."
        )
    elif last is not None:
        detail = f"Its newest step is {last.status!r}; the model call may still be hanging."
    else:
        detail = "No step was recorded."
    out = [
        Finding(
            kind="stuck",
            severity="error",
            summary=f"The run looks stuck: {why}",
            step_id=last.id if last else None,
            detail=detail,
        )
    ]
    if stop_set or last_done:
        shown = run.stop_reason or (last.stop_reason if last else None)
        out.append(
            Finding(
                kind="status_mismatch",
                severity="warning",
                summary=f"Status {f.status!r} disagrees with stop_reason {shown!r}",
            )
        )
    return out


def _not_terminal(f: RunFacts) -> tuple[Verdict, list[Finding]]:
    out: list[Finding] = []
    if f.status not in ("created", "running"):
        out.append(
            Finding(
                kind="unknown_error",
                severity="info",
                summary=f"Unrecognized run status {f.status!r}; treated as not finished",
            )
        )
    too_old = f.age is not None and f.age > f.stuck_after
    if f.run.stop_reason or too_old:
        return "stuck", out + _stuck(f)
    return "running", out


def _no_answer(f: RunFacts, outcome: RunOutcome) -> Finding:
    if outcome.rule == UNSENT_ANSWER_RULE:
        agent = f"the agent ({f.agent_type})" if f.agent_type else "the agent"
        tool = excerpt(outcome.tool_name or "a tool", 80)
        return Finding(
            kind="no_final_answer",
            severity="error",
            summary=f"The run ended without an answer: {agent} has {f.message_tool} and did "
            f"not call it; the turn ended on {tool} without request_heartbeat",
            step_id=outcome.step_id,
            message_id=outcome.message_id,
            tool_call_id=outcome.tool_call_id,
            tool_name=outcome.tool_name,
            detail=f"The user got no reply: {agent} answers only through {f.message_tool}.",
        )
    return Finding(
        kind="no_final_answer",
        severity="error",
        summary="The run ended without an answer"
        + (" (no output at all)" if outcome.rule == "no output" else ""),
    )


# Stop reasons the run record carries only when the loop ended well: with them, a step that
# could not be read cannot change an ``ok`` (Letta sets the run's stop reason from the loop's).
_CLEAN_ENDS = ("end_turn", "tool_rule")


def _ok_settled(f: RunFacts, outcome: RunOutcome) -> bool:
    """An ``ok`` verdict is settled when the messages were read and either the steps were too,
    or the run's own stop reason says the loop ended well — and it does not rest on an agent
    type that could not be read (a turn that ended on a tool call)."""
    if rests_on_agent_type(f, outcome):
        return False
    return f.messages_read and (f.steps_read or f.run.stop_reason in _CLEAN_ENDS)


def _completed(
    f: RunFacts, findings: list[Finding], outcome: RunOutcome
) -> tuple[Verdict, list[Finding], bool]:
    out: list[Finding] = []
    missing_answer = outcome.kind == "none" and outcome.answer_expected
    errors = any(x.severity == "error" for x in findings)
    if missing_answer and not f.messages_read and not errors:
        return "unknown", out, False
    if missing_answer:
        out.append(_no_answer(f, outcome))
    elif not errors:
        return "ok", out, _ok_settled(f, outcome)
    if f.status == "completed":
        out.append(
            Finding(
                kind="status_mismatch",
                severity="warning",
                summary=f"The server reports {f.status!r}"
                + (f"/{f.run.stop_reason}" if f.run.stop_reason else "")
                + " but the run did not succeed",
            )
        )
    return "failed", out, True


def decide_verdict(
    f: RunFacts,
    findings: list[Finding],
    outcome: RunOutcome,
    pending: list[PendingToolCall],
    late: list[Message],
) -> tuple[Verdict, list[Finding], bool]:
    """The verdict, the findings deciding it adds (cancelled, stuck, no answer …), and whether
    it is settled."""
    if f.cancelled:
        return "cancelled", [_cancelled(f, late)], True
    if not f.terminal:
        verdict, out = _not_terminal(f)
        return verdict, out, True
    if pending or f.effective_stop == "requires_approval":
        return "awaiting_approval", [], True
    if f.status == "failed":
        return "failed", [], True
    return _completed(f, findings, outcome)


def _merge(findings: list[Finding]) -> list[Finding]:
    """Merge findings with the same kind, tool and summary text (keeps the first ids)."""
    merged: dict[tuple[str, str | None, str], Finding] = {}
    for x in findings:
        key = (x.kind, x.tool_name, x.summary)
        if key in merged:
            merged[key].count += x.count
        else:
            merged[key] = x.model_copy()
    return list(merged.values())


def _pick_root(verdict: Verdict, findings: list[Finding]) -> Finding | None:
    if verdict in ("ok", "running", "unknown"):
        return None
    if verdict == "awaiting_approval":
        return next((x for x in findings if x.kind == "approval_pending"), None)
    rank = {kind: i for i, kind in enumerate(ROOT_CAUSE_PRIORITY)}
    errors = [x for x in findings if x.severity == "error"]
    if not errors:
        return None
    return min(errors, key=lambda x: rank.get(x.kind, len(rank) - 1))


def order_findings(
    verdict: Verdict, findings: list[Finding]
) -> tuple[Finding | None, list[Finding]]:
    """Merge duplicates, pick the root cause, and order: root cause, errors, warnings, info."""
    merged = _merge(findings)
    root = _pick_root(verdict, merged)
    rank = {"error": 0, "warning": 1, "info": 2}
    merged.sort(key=lambda x: (x is not root, rank[x.severity]))
    return root, merged


_OUTCOME_WORDS = {
    "assistant_message": "with a final answer",
    "send_message": "with a final answer (send_message)",
    "terminal_tool": "ended by its terminal tool {tool}",
    "tool_call": "ended by the model's call of {tool}",
    "text": "with final text (shown as reasoning)",
    "background": "as a background run (its result is in memory)",
}


def _steps(count: int | None) -> str:
    if count is None:
        return "an unknown number of steps"
    return f"{count} step{'s' if count != 1 else ''}"


def headline(diag: RunDiagnosis) -> str:
    steps = _steps(diag.step_count)
    unsettled = (
        f" (unsettled: {', '.join('/' + m for m in diag.missing_evidence)} could not be read)"
        if not diag.settled and diag.missing_evidence
        else ""
    )
    if diag.verdict == "ok":
        warn = sum(1 for x in diag.findings if x.severity == "warning")
        kind = diag.outcome.kind if diag.outcome else "assistant_message"
        tool = diag.outcome.tool_name if diag.outcome else None
        how = _OUTCOME_WORDS.get(kind, "with a final answer").format(tool=tool or "tool")
        return (
            f"ok: completed in {steps} {how}"
            + (f" ({warn} warning{'s' if warn != 1 else ''})" if warn else "")
            + unsettled
        )
    if diag.verdict == "unknown":
        return f"unknown: completed in {steps}; whether it answered cannot be checked{unsettled}"
    if diag.verdict == "running":
        return f"running: {diag.status} for {fmt_age(diag.latency.age_seconds)}, {steps} so far"
    cause = diag.root_cause
    if cause is None:
        return f"{diag.verdict}: {steps}"
    return excerpt(f"{diag.verdict}: {cause.kind} — {cause.summary}", 240, one_line=True)
