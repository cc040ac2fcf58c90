"""The verdict pass: one word for the run, its root cause, and the headline.

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
5. ``ok`` — completed, with a final answer and no unrecovered error.

Root cause: ``None`` for ``ok`` and ``running``; otherwise the highest-priority error finding
(``ROOT_CAUSE_PRIORITY``).
"""

from __future__ import annotations

from .facts import RunFacts, is_input
from .findings import Finding, excerpt
from .result import FinalAnswer, PendingToolCall, RunDiagnosis, Verdict

__all__ = ["ROOT_CAUSE_PRIORITY", "decide_verdict", "fmt_age", "headline", "order_findings"]

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


def fmt_age(age: float | None) -> str:
    if age is None:
        return "an unknown time"
    if age < 120:
        return f"{age:.0f} s"
    if age < 7200:
        return f"{age / 60:.0f} min"
    return f"{age / 3600:.1f} h"


def _cancelled(f: RunFacts) -> Finding:
    interrupted = [s for s in f.failed_steps if s.error_type in (None, "Unknown")]
    return Finding(
        kind="cancelled",
        severity="error",
        summary="The run was cancelled"
        + (f" during step {f.index_of(interrupted[-1].id)}" if interrupted else ""),
        step_id=interrupted[-1].id if interrupted else None,
        detail=(
            "The interrupted step reports error_type 'Unknown' (GeneratorExit); "
            "that is the cancellation itself, not a separate failure."
            if interrupted
            else None
        ),
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


def _completed(
    f: RunFacts, findings: list[Finding], final: FinalAnswer | None
) -> tuple[Verdict, list[Finding]]:
    out: list[Finding] = []
    if final is None:
        silent = not any(not is_input(m) for m in f.messages)
        out.append(
            Finding(
                kind="no_final_answer",
                severity="error",
                summary="The run ended without an assistant answer"
                + (" (no output at all)" if silent else ""),
            )
        )
    if not any(x.severity == "error" for x in findings) and final is not None:
        return "ok", out
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
    return "failed", out


def decide_verdict(
    f: RunFacts,
    findings: list[Finding],
    final: FinalAnswer | None,
    pending: list[PendingToolCall],
) -> tuple[Verdict, list[Finding]]:
    """The verdict and the findings that deciding it adds (cancelled, stuck, no answer …)."""
    if f.cancelled:
        return "cancelled", [_cancelled(f)]
    if not f.terminal:
        return _not_terminal(f)
    if pending or f.effective_stop == "requires_approval":
        return "awaiting_approval", []
    if f.status == "failed":
        return "failed", []
    return _completed(f, findings, final)


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


def _pick_root(findings: list[Finding]) -> Finding | None:
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
    root = None if verdict in ("ok", "running") else _pick_root(merged)
    rank = {"error": 0, "warning": 1, "info": 2}
    merged.sort(key=lambda x: (x is not root, rank[x.severity]))
    return root, merged


def headline(diag: RunDiagnosis) -> str:
    steps = f"{diag.step_count} step{'s' if diag.step_count != 1 else ''}"
    if diag.verdict == "ok":
        warn = sum(1 for x in diag.findings if x.severity == "warning")
        return f"ok: completed in {steps} with a final answer" + (
            f" ({warn} warning{'s' if warn != 1 else ''})" if warn else ""
        )
    if diag.verdict == "running":
        return f"running: {diag.status} for {fmt_age(diag.latency.age_seconds)}, {steps} so far"
    cause = diag.root_cause
    if cause is None:
        return f"{diag.verdict}: {steps}"
    return excerpt(f"{diag.verdict}: {cause.kind} — {cause.summary}", 240, one_line=True)
