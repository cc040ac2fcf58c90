"""The failures pass: what failed steps, stream errors, stop reasons and the run record say.

Letta reports a failure in several places, none complete on its own (see ``findings``). Each
source is read by one small function; a source only adds a finding kind the earlier ones did
not already explain.
"""

from __future__ import annotations

from ..models import Step
from .facts import RunFacts, stderr_text
from .findings import (
    Finding,
    clean_text,
    excerpt,
    kind_for_error,
    kind_for_stop_reason,
    kind_for_stream_error,
)
from .result import FirstFailure
from .tool_calls import EXCERPT, unavailable_tool

__all__ = ["failure_findings", "first_failure"]


def _step_failure(f: RunFacts, step: Step) -> Finding | None:
    data = step.error_data or {}
    kind = kind_for_error(
        step.error_type,
        step.error_message,
        stop_reason=step.stop_reason,
        traceback=str(data.get("traceback") or ""),
    )
    if f.cancelled and kind in ("unknown_error", "server_error"):
        return None  # the interrupted step of a cancelled run: a consequence, not a cause
    what = step.error_type or step.stop_reason or "an error"
    return Finding(
        kind=kind,
        severity="error",
        summary=excerpt(
            f"Step {f.index_of(step.id)} failed with {what}: {step.error_message or 'no message'}",
            240,
            one_line=True,
        ),
        step_id=step.id,
        detail=excerpt(step.error_message, 600) or None,
    )


def _stream_failures(f: RunFacts, known: set[str]) -> list[Finding]:
    """Streamed runs also say what went wrong in an ``event: error`` chunk."""
    out: list[Finding] = []
    for event in f.ev.stream_events or []:
        if event.kind != "error" or not isinstance(event.data, dict):
            continue
        text = " ".join(str(event.data.get(k) or "") for k in ("message", "detail"))
        kind = kind_for_stream_error(event.data.get("error_type"), text)
        if kind in known:
            continue
        known.add(kind)
        out.append(
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
    return out


def _stop_reason_failure(f: RunFacts, known: set[str]) -> Finding | None:
    """A stop reason that means a problem, on a step that did not fail (max_tokens_exceeded …)."""
    kind = kind_for_stop_reason(f.effective_stop)
    if (
        not kind
        or kind in ("cancelled", "approval_pending", "max_steps")
        or kind in known
        or f.failed_steps
    ):
        return None
    known_value = kind != "unknown_error"
    known.add(kind)
    return Finding(
        kind=kind,
        severity="error" if f.status == "failed" or known_value else "warning",
        summary=f"The run stopped with stop_reason {f.effective_stop!r}"
        + ("" if known_value else " (a value this version does not know)"),
        step_id=f.last_step.id if f.last_step else None,
    )


def _run_record_failure(f: RunFacts, known: set[str]) -> Finding | None:
    """The run failed but nothing above says why: fall back on ``metadata.error``."""
    if f.status != "failed" or known:
        return None
    run_error = f.run.error_text
    kind = (
        kind_for_error(None, run_error, stop_reason=f.run.stop_reason)
        if run_error
        else "unknown_error"
    )
    known.add(kind)
    return Finding(
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


def failure_findings(f: RunFacts) -> list[Finding]:
    """Findings for every failed step, stream error, problem stop reason and run error."""
    out = [x for x in (_step_failure(f, s) for s in f.failed_steps) if x is not None]
    known = {x.kind for x in out}
    out += _stream_failures(f, known)
    for extra in (_stop_reason_failure(f, known), _run_record_failure(f, known)):
        if extra is not None:
            out.append(extra)
    return out


def first_failure(f: RunFacts) -> FirstFailure | None:
    """The earliest failure in the run: a tool that returned an error or a step that failed."""
    candidates: list[tuple[int, FirstFailure]] = []
    if f.error_returns:
        e = f.error_returns[0]
        call = f.calls_by_id.get(e.ret.tool_call_id or "")
        idx = f.index_of(e.message.step_id)
        text = clean_text(e.ret.tool_return)
        candidates.append(
            (
                idx or 0,
                FirstFailure(
                    step_id=e.message.step_id,
                    step_index=idx,
                    tool_call_id=e.ret.tool_call_id,
                    tool_name=e.tool_name,
                    arguments=excerpt(call.arguments, EXCERPT) if call else None,
                    stderr=excerpt(stderr_text(e.ret)[-400:], 400) or None,
                    error_type="invalid_tool_call" if unavailable_tool(text) else "tool_error",
                    error_message=excerpt(e.ret.tool_return, EXCERPT),
                ),
            )
        )
    if f.failed_steps and not f.cancelled:
        s = f.failed_steps[0]
        candidates.append(
            (
                f.index_of(s.id) or 0,
                FirstFailure(
                    step_id=s.id,
                    step_index=f.index_of(s.id),
                    error_type=s.error_type or s.stop_reason,
                    error_message=excerpt(s.error_message, EXCERPT) or None,
                ),
            )
        )
    return min(candidates, key=lambda c: c[0])[1] if candidates else None
