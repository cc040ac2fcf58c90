"""The tool passes: tool errors, loops, approvals and per-tool counts (pure)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from ..models import ApprovalRequestMessage, ToolReturnMessage
from .facts import ErrorReturn, RunFacts, stderr_text
from .findings import Finding, Severity, clean_text, excerpt
from .loops import ToolLoop
from .result import PendingToolCall, RunOutcome, ToolUsage

__all__ = [
    "approval_findings",
    "denial_findings",
    "is_denial",
    "loop_findings",
    "pending_approvals",
    "tool_error_findings",
    "tool_usage",
    "unavailable_tool",
]

EXCERPT = 200
_NOT_FOUND = re.compile(
    r"not found|does not exist|no tool named|unknown tool|no such tool|not a valid tool", re.I
)
# Letta's tool-rule solver refuses a call to a tool that is not available at this step (not
# attached to the agent, or not allowed by its tool rules) with this tool return, verbatim:
# "[ToolConstraintError] Cannot call NAME, valid tools include: ['a', 'b']."
_TOOL_CONSTRAINT = re.compile(r"ToolConstraintError|Cannot call \S+, valid tools include", re.I)
_VALID_TOOLS = re.compile(r"valid tools include:\s*\[([^\]]*)\]", re.I)
# The same error names the rules a tool appears in (``ToolRulesSolver.guess_rule_violation``):
# only a tool the rules know of, so a rule forbade it.
_RULE_HINT = re.compile(r"Possible rules that were violated", re.I)
# What Letta returns to the model for a denied approval (``create_tool_returns_for_denials``):
# "Error: request to call tool denied. User reason: …".
_DENIED = re.compile(r"request to call tool denied", re.I)


def unavailable_tool(text: str) -> bool:
    """The tool return says the called tool was not available (Letta's ToolConstraintError)."""
    return bool(_TOOL_CONSTRAINT.search(text))


_RULES_FORBADE = "the agent's tool rules did not allow it at that step"


def _why_unavailable(f: RunFacts, name: str, text: str, names: list[str]) -> str:
    """Letta words a missing tool and one a tool rule forbids alike (``[ToolConstraintError]
    Cannot call X, valid tools include: [...]``): the agent's tools, a successful call of the
    same tool in this run, or the error's rule hint tell them apart."""
    if f.agent_tools is not None:
        if name in f.agent_tools:
            return f"it is attached to the agent, but {_RULES_FORBADE}"
        return "it is not attached to the agent"
    if name in names or _RULE_HINT.search(text):
        return _RULES_FORBADE
    if name in _succeeded_calls(f, -1):
        return f"it ran elsewhere in this run, so it exists: {_RULES_FORBADE}"
    return (
        "either it is not attached to the agent or the agent's tool rules did not allow it at "
        "that step (the agent's tools could not be read to tell which)"
    )


def _succeeded_calls(f: RunFacts, after: int) -> list[str]:
    """The tools whose calls succeeded after position ``after`` ("?" when a return names none)."""
    out: list[str] = []
    for msg in f.messages[after + 1 :]:
        if isinstance(msg, ToolReturnMessage):
            for ret in msg.returns:
                call = f.calls_by_id.get(ret.tool_call_id or "")
                if ret.status == "success":
                    out.append(msg.name or (call.name if call else None) or "?")
    return out


def _unavailable_tool_summary(f: RunFacts, name: str, text: str, constrained: bool) -> str:
    if not constrained:
        return f"The model called a tool that does not exist: {excerpt(name, 80)}"
    valid = _VALID_TOOLS.search(text)
    names = [n.strip(" '\"") for n in valid.group(1).split(",") if n.strip(" '\"")] if valid else []
    where = _why_unavailable(f, name, text, names)
    shown = ", ".join(names[:8]) + (f" (+{len(names) - 8} more)" if len(names) > 8 else "")
    return f"The model called {excerpt(name, 80)}, which was not available ({where})" + (
        f"; valid tools: {excerpt(shown, 200)}" if names else ""
    )


def is_denial(e: ErrorReturn) -> bool:
    """The error return is Letta telling the model that a human denied the tool call."""
    return bool(_DENIED.search(clean_text(e.ret.tool_return)))


def _answered_after(f: RunFacts, outcome: RunOutcome, position: int) -> bool:
    """The run produced its outcome after ``position`` (a background run: a tool call that
    succeeded after it)."""
    later = f.messages[position + 1 :]
    if outcome.kind == "background":
        return any(
            isinstance(m, ToolReturnMessage) and any(r.status == "success" for r in m.returns)
            for m in later
        )
    return outcome.message_id is not None and any(m.id == outcome.message_id for m in later)


def _retried_after(f: RunFacts, position: int) -> bool:
    """A tool call other than the message tool (the answer itself) succeeded after ``position``."""
    return any(name != f.message_tool for name in _succeeded_calls(f, position))


def _tool_error_finding(
    f: RunFacts, e: ErrorReturn, severity: Severity, recovered: bool, retried: bool
) -> Finding:
    text = clean_text(e.ret.tool_return)
    constrained = unavailable_tool(text)
    stderr = stderr_text(e.ret)
    if constrained or (_NOT_FOUND.search(text) and not stderr.strip()):
        return Finding(
            kind="invalid_tool_call",
            severity=severity,
            summary=_unavailable_tool_summary(f, e.tool_name, text, constrained),
            step_id=e.message.step_id,
            message_id=e.message.id,
            tool_call_id=e.ret.tool_call_id,
            tool_name=e.tool_name,
            detail=excerpt(text, 300),
        )
    return Finding(
        kind="tool_error",
        severity=severity,
        summary=f"Tool {excerpt(e.tool_name, 80)} returned an error"
        + _after_error(recovered, retried),
        step_id=e.message.step_id,
        message_id=e.message.id,
        tool_call_id=e.ret.tool_call_id,
        tool_name=e.tool_name,
        detail=excerpt(text + ("\nstderr: " + stderr[-400:] if e.ret.stderr else ""), 600) or None,
    )


def _after_error(recovered: bool, retried: bool) -> str:
    if not recovered:
        return ""
    if retried:
        return " (the run recovered and answered)"
    return " (the model answered after the error without a successful retry)"


def tool_error_findings(f: RunFacts, outcome: RunOutcome) -> list[Finding]:
    """One finding per tool return with status ``error`` (denials aside); a warning when the run
    produced its outcome after the last of them, an error otherwise. It "recovered" only when a
    tool call succeeded after the last error; an answer without one is still a warning, worded
    as an answer after the error."""
    errors = [e for e in f.error_returns if not is_denial(e)]
    last = max((e.position for e in errors), default=-1)
    recovered = _answered_after(f, outcome, last) and f.status == "completed"
    retried = _retried_after(f, last)
    severity: Severity = "warning" if recovered else "error"
    return [_tool_error_finding(f, e, severity, recovered, retried) for e in errors]


def denial_findings(f: RunFacts) -> list[Finding]:
    """A denied approval is stored as an error tool return; it is a note, not a failure (the
    model was told, and the run goes on)."""
    return [
        Finding(
            kind="approval_denied",
            severity="info",
            summary=(
                f"The call of {excerpt(e.tool_name, 80)} was denied; the model was told"
                if e.tool_name != "?"
                else f"A requested tool call ({e.ret.tool_call_id}) was denied; the model was told"
            ),
            step_id=e.message.step_id,
            message_id=e.message.id,
            tool_call_id=e.ret.tool_call_id,
            tool_name=e.tool_name if e.tool_name != "?" else None,
            detail=excerpt(clean_text(e.ret.tool_return), 300),
        )
        for e in f.error_returns
        if is_denial(e)
    ]


def _loop_finding(loop: ToolLoop, *, fatal: bool, hit_step_limit: bool) -> Finding:
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
    return Finding(
        kind="tool_loop",
        severity=severity,
        summary=f"Tool loop: {what}{tail}",
        step_id=loop.first_step_id,
        tool_name=loop.tool_names[0] if loop.tool_names else None,
        detail=f"arguments: {loop.arguments}; steps {loop.steps}, tokens {loop.tokens}, "
        f"~{loop.seconds}s",
    )


def loop_findings(f: RunFacts, loops: list[ToolLoop], outcome: RunOutcome) -> list[Finding]:
    """A loop is fatal when it is never broken and the run hit its step limit or never answered;
    hitting the step limit is reported on its own as ``max_steps``."""
    hit_step_limit = f.effective_stop == "max_steps"
    out = [
        _loop_finding(
            loop,
            fatal=loop.reaches_end and (hit_step_limit or outcome.kind == "none"),
            hit_step_limit=hit_step_limit,
        )
        for loop in loops
    ]
    if hit_step_limit:
        out.append(
            Finding(
                kind="max_steps",
                severity="error",
                summary=f"The run was stopped by its step limit after {len(f.steps)} steps",
                step_id=f.last_step.id if f.last_step else None,
            )
        )
    return out


def pending_approvals(f: RunFacts) -> list[PendingToolCall]:
    """The tool calls a run that stopped with ``requires_approval`` is waiting on."""
    if f.effective_stop != "requires_approval" or f.cancelled:
        return []
    request = next((m for m in reversed(f.messages) if isinstance(m, ApprovalRequestMessage)), None)
    if request is None:
        return []
    return [
        PendingToolCall(
            tool_name=call.name,
            tool_call_id=call.tool_call_id,
            arguments=excerpt(call.arguments, EXCERPT),
            message_id=request.id,
        )
        for call in request.calls
    ]


def approval_findings(f: RunFacts, pending: list[PendingToolCall]) -> list[Finding]:
    """A run waiting on an approval (or on a client-side tool's result) is paused, not broken:
    a ``warning`` that needs someone to act."""
    if f.effective_stop != "requires_approval" or f.cancelled:
        return []
    first = pending[0] if pending else None
    more = f" (+{len(pending) - 1} more)" if len(pending) > 1 else ""
    return [
        Finding(
            kind="approval_pending",
            severity="warning",
            summary=(
                f"Waiting for approval of {excerpt(first.tool_name, 80)}"
                f"({excerpt(first.arguments, 120, one_line=True)}){more}"
                if first
                else "The run stopped to wait for a tool approval"
            ),
            message_id=first.message_id if first else None,
            tool_call_id=first.tool_call_id if first else None,
            tool_name=first.tool_name if first else None,
            detail="Approve or deny the call (or, for a client-side tool, send its result) in a "
            "new message to the agent; the continuation runs as a new run.",
        )
    ]


def tool_usage(f: RunFacts) -> list[ToolUsage]:
    counts: Counter[str] = Counter(r.name for r in f.records)
    errors: Counter[str] = Counter(e.tool_name for e in f.error_returns if not is_denial(e))
    tools = [
        ToolUsage(name=name, calls=count, errors=errors.get(name, 0))
        for name, count in counts.most_common()
    ]
    tools += [ToolUsage(name=n, calls=0, errors=c) for n, c in errors.items() if n not in counts]
    return tools
