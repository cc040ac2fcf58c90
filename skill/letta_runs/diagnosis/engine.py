"""``diagnose``: what happened in a run, why, what to change, and what to look at next (pure).

The diagnosis is a fixed sequence of named passes over one frozen ``RunFacts``:

=================  ==========================================================================
pass               module — what it decides
=================  ==========================================================================
facts              ``facts`` (+ ``inputs``) — steps, messages, real requests vs Letta's own
                   notes, tool calls, error returns, stop reason, missing evidence
outcome            ``outcome`` — what the run produced, by agent type and run type
failures           ``failures`` — failed steps, stream errors, stop reasons, run errors, with
                   specific causes beating generic ones (``findings.CAUSE_PRECEDENCE``)
tools              ``tool_calls`` — tool errors, denials, approvals, tool counts
loops              ``loops`` + ``tool_calls`` — repeated calls and the step limit
events             ``run_events`` — compactions, work that landed after a cancel
suspicious         ``suspicious`` — run content aimed at the model (never changes the verdict)
measurements       ``measurements`` — tokens, latency, context pressure, slow steps
limitations        ``limitations`` — what the evidence could not show
verdict            ``verdict`` — verdict, settled, root cause, headline (rules in its docstring)
remedies           ``remedies`` — what to change, with the exact Letta call
next actions       ``next_actions`` — drill-downs as catalog operations
=================  ==========================================================================

A new Letta shape is one rule in the pass that owns it.

Missing evidence. ``diagnose`` works on whatever was read: an endpoint that failed or was not
fetched is named in ``Evidence.endpoint_errors`` (bulk evidence without steps records
``endpoint_errors["steps"]``, e.g. with ``kind="not_fetched"``). The diagnosis then lists it in
``missing_evidence``, reports what rests on it as unknown (``step_count`` and token figures
``None``, or ``/usage``'s figures with ``usage.source == "usage_endpoint"``), and sets
``settled`` to false when the missing evidence could change the verdict: without ``/messages`` a
completed run's answer cannot be checked and the verdict is ``unknown``; a completed run read
without ``/steps`` is ``ok`` and settled when its own stop reason is ``end_turn`` or
``tool_rule`` (Letta sets it from the loop's), unsettled otherwise (then the steps' stop reasons
decide: read them). ``failed``, ``cancelled``, ``stuck``, ``running`` and
``awaiting_approval`` rest on the run record and what was read, and are settled.
"""

from __future__ import annotations

from datetime import datetime

from ..evidence import Evidence
from ..operations.catalog import render_next_step
from .error_texts import share_error_texts
from .facts import RunFacts, gather_facts
from .failures import failure_findings, first_failure
from .findings import Finding
from .limitations import limitations
from .loops import ToolLoop, find_loops
from .measurements import (
    context_findings,
    context_summary,
    latency_summary,
    slow_step_findings,
    step_durations,
    usage_summary,
)
from .next_actions import next_actions
from .outcome import final_answer, run_outcome
from .remedies import remedies
from .result import (
    SCHEMA_VERSION,
    ErrorText,
    FirstFailure,
    PendingToolCall,
    RunDiagnosis,
    RunOutcome,
)
from .run_events import after_cancel, compaction_events, compaction_findings
from .suspicious import suspicious_findings
from .tool_calls import (
    approval_findings,
    denial_findings,
    loop_findings,
    pending_approvals,
    tool_error_findings,
    tool_usage,
)
from .verdict import ROOT_CAUSE_PRIORITY, decide_verdict, headline, order_findings

# ``RunDiagnosis`` and the constants stay importable from here for existing callers.
__all__ = ["ROOT_CAUSE_PRIORITY", "SCHEMA_VERSION", "RunDiagnosis", "diagnose"]


def _problems(
    f: RunFacts, loops: list[ToolLoop], outcome: RunOutcome, pending: list[PendingToolCall]
) -> tuple[list[Finding], FirstFailure | None, list[ErrorText]]:
    """The findings that can fail a run; their error texts are kept once (``errors``)."""
    failures, first, errors = share_error_texts(
        f, [*failure_findings(f), *tool_error_findings(f, outcome)], first_failure(f)
    )
    return (
        [*failures, *loop_findings(f, loops, outcome), *approval_findings(f, pending)],
        first,
        errors,
    )


def diagnose(
    ev: Evidence, *, stuck_after: float = 600.0, now: datetime | None = None
) -> RunDiagnosis:
    """Diagnose one run from its evidence. Pure: no I/O, same evidence → same answer.

    >>> diag = diagnose(load_bundle("run-….json"))      # doctest: +SKIP
    >>> diag.verdict, diag.root_cause.kind, diag.remedies[0].summary  # doctest: +SKIP
    ('failed', 'tool_loop', 'Cap lab_add per request with a max_count_per_step tool rule …')
    """
    f = gather_facts(ev, now=now, stuck_after=stuck_after)
    outcome = run_outcome(f)
    pending = pending_approvals(f)
    loops = find_loops(list(f.messages), list(f.steps))
    problems, first, errors = _problems(f, loops, outcome, pending)
    verdict, decided, settled = decide_verdict(f, problems, outcome, pending, after_cancel(f))
    durations = step_durations(ev)
    context = context_summary(f)
    compactions = compaction_events(f, outcome)
    context.compactions = len(compactions)
    usage = usage_summary(f)
    root, findings = order_findings(
        verdict,
        [
            *problems,
            *decided,
            *denial_findings(f),
            *suspicious_findings(f),
            *compaction_findings(compactions, context),
            *slow_step_findings(durations),
            *context_findings(context),
        ],
    )
    actions = next_actions(ev.run.id, verdict, has_tools=bool(f.records), has_loop=bool(loops))
    diag = RunDiagnosis(
        run_id=ev.run.id,
        agent_id=ev.run.agent_id,
        verdict=verdict,
        headline="",
        status=f.status,
        stop_reason=ev.run.stop_reason,
        effective_stop_reason=f.effective_stop,
        run_type=ev.run.run_type,
        background=ev.run.background,
        created_at=ev.run.created_at,
        completed_at=ev.run.completed_at,
        evaluated_at=f.now,
        step_count=len(f.steps) if f.steps_read else None,
        message_count=len(f.messages),
        root_cause=root,
        findings=findings,
        loops=loops,
        tools=tool_usage(f),
        usage=usage,
        latency=latency_summary(f, durations),
        context=context,
        final_answer=final_answer(outcome),
        first_failure=first,
        pending_approval=pending,
        limitations=limitations(f, usage, outcome),
        next_steps=[render_next_step(a, "cli") for a in actions],
        next_actions=actions,
        remedies=remedies(f, root, findings, pending),
        source=ev.source,
        outcome=outcome,
        compactions=compactions,
        errors=errors,
        missing_evidence=list(f.missing),
        settled=settled,
    )
    diag.headline = headline(diag)
    return diag
