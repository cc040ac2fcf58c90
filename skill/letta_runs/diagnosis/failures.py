"""The failures pass: what failed steps, stream errors, stop reasons and the run record say.

Letta reports a failure in several places, none complete on its own (see ``findings``). Each
source is read by one small function; a source only adds a finding kind the earlier ones did
not already explain. Where a specific stop reason and a generic error meet, ``CAUSE_PRECEDENCE``
decides (in ``kind_for_error`` / ``kind_for_stream_error``).
"""

from __future__ import annotations

from ..models import KNOWN_STOP_REASONS, Step
from .facts import RunFacts, stderr_text
from .findings import (
    FAILED_STOP_REASONS,
    Finding,
    clean_text,
    excerpt,
    kind_for_error,
    kind_for_stop_reason,
    kind_for_stream_error,
    precedence_kind,
)
from .result import FirstFailure
from .tool_calls import EXCERPT, unavailable_tool

__all__ = ["failure_findings", "first_failure"]

SUMMARY = 200


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
    if step.stop_reason and step.stop_reason != "error" and step.error_type:
        what = f"{step.error_type} (stop_reason {step.stop_reason})"
    return Finding(
        kind=kind,
        severity="error",
        summary=excerpt(
            f"Step {f.index_of(step.id)} failed with {what}: {step.error_message or 'no message'}",
            SUMMARY,
            one_line=True,
        ),
        step_id=step.id,
        detail=excerpt(step.error_message, 1200) or None,
    )


def _stream_stop_reason(f: RunFacts) -> str | None:
    for event in reversed(f.ev.stream_events or []):
        if event.stop_reason:
            return event.stop_reason
    return f.effective_stop


def _stream_failures(f: RunFacts, known: set[str]) -> list[Finding]:
    """Streamed runs also say what went wrong in an ``event: error`` chunk."""
    out: list[Finding] = []
    stop = _stream_stop_reason(f)
    for event in f.ev.stream_events or []:
        if event.kind != "error" or not isinstance(event.data, dict):
            continue
        error_type = event.data.get("error_type")
        text = " ".join(str(event.data.get(k) or "") for k in ("message", "detail")).strip()
        kind = kind_for_stream_error(error_type, text, stop_reason=stop)
        if kind in known:
            continue
        known.add(kind)
        out.append(
            Finding(
                kind=kind,
                severity="error",
                summary=excerpt(
                    f"The stream ended with an error ({error_type}): {text}", SUMMARY, one_line=True
                ),
                detail=excerpt(text, 1200) or None,
            )
        )
    return out


def _stop_reasons(f: RunFacts) -> list[tuple[str, Step | None]]:
    """Stop reasons no failed step explains: those of steps that did not fail, and the run's
    own when no step failed (a failed step already says why the run stopped)."""
    out: list[tuple[str, Step | None]] = [
        (s.stop_reason, s) for s in f.steps if s.stop_reason and s not in f.failed_steps
    ]
    if not f.failed_steps and f.effective_stop:
        out.append((f.effective_stop, f.last_step))
    return out


def _stop_reason_failures(f: RunFacts, known: set[str]) -> list[Finding]:
    """A stop reason that means a problem on a step that did not fail: ``max_tokens_exceeded``,
    ``context_window_overflow_in_system_prompt`` on a ``success`` step, an unknown value …"""
    out: list[Finding] = []
    for reason, step in _stop_reasons(f):
        failing = reason in FAILED_STOP_REASONS and reason != "error"
        unknown = reason not in KNOWN_STOP_REASONS
        kind = kind_for_stop_reason(reason)
        if not kind or not (failing or unknown) or kind in known:
            continue
        known.add(kind)
        where = f" (step {f.index_of(step.id)})" if step is not None else ""
        out.append(
            Finding(
                kind=kind,
                severity="error" if failing or f.status == "failed" else "warning",
                summary=f"The run stopped with stop_reason {reason!r}{where}"
                + (" (a value this version does not know)" if unknown else ""),
                step_id=step.id if step is not None else None,
            )
        )
    return out


def _run_record_failure(f: RunFacts, known: set[str]) -> Finding | None:
    """The run failed but nothing above says why: fall back on ``metadata.error``."""
    if f.status != "failed" or known:
        return None
    run_error = f.run.error_text
    kind = (
        kind_for_error(None, run_error, stop_reason=f.run.stop_reason)
        if run_error
        else precedence_kind(f.run.stop_reason)
        or kind_for_stop_reason(f.run.stop_reason)
        or "unknown_error"
    )
    known.add(kind)
    return Finding(
        kind=kind,
        severity="error",
        summary=excerpt(
            f"The run failed: {run_error}"
            if run_error
            else "The run failed, and neither the run nor its steps say why",
            SUMMARY,
            one_line=True,
        ),
        detail=excerpt(run_error, 1200) or None,
    )


def failure_findings(f: RunFacts) -> list[Finding]:
    """Findings for every failed step, stream error, problem stop reason and run error."""
    out = [x for x in (_step_failure(f, s) for s in f.failed_steps) if x is not None]
    known = {x.kind for x in out}
    out += _stream_failures(f, known)
    out += _stop_reason_failures(f, known)
    extra = _run_record_failure(f, known)
    return [*out, extra] if extra is not None else out


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
