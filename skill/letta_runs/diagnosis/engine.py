"""``diagnose``: what happened in a run, why, and what to look at next (pure).

The diagnosis is a fixed sequence of named passes over one frozen ``RunFacts`` (``facts``):

=================  ==========================================================================
pass               module — what it decides
=================  ==========================================================================
facts              ``facts`` — the run, steps, messages, tool calls, error returns, stop reason
outcome            ``outcome`` — the run's final answer
failures           ``failures`` — failed steps, stream errors, problem stop reasons, run errors
tools              ``tool_calls`` — tool errors (recovered or not), approvals, tool counts
loops              ``loops`` + ``tool_calls`` — repeated calls and the step limit
measurements       ``measurements`` — tokens, latency, context pressure, slow steps
limitations        ``limitations`` — what the evidence could not show
verdict            ``verdict`` — the verdict, the root cause, the headline (rules in its docstring)
next actions       ``next_actions`` — drill-downs as catalog operations
=================  ==========================================================================

A new Letta shape is one rule in the pass that owns it.
"""

from __future__ import annotations

from datetime import datetime

from ..evidence import Evidence
from ..operations import render_next_step
from .facts import gather_facts
from .failures import failure_findings, first_failure
from .findings import Finding
from .limitations import limitations, trace_findings
from .loops import find_loops
from .measurements import (
    context_findings,
    context_summary,
    latency_summary,
    slow_step_findings,
    step_durations,
    usage_summary,
)
from .next_actions import next_actions
from .outcome import final_answer
from .result import SCHEMA_VERSION, RunDiagnosis
from .tool_calls import (
    approval_findings,
    loop_findings,
    pending_approvals,
    tool_error_findings,
    tool_usage,
)
from .verdict import ROOT_CAUSE_PRIORITY, decide_verdict, headline, order_findings

# ``RunDiagnosis`` and the constants stay importable from here for existing callers.
__all__ = ["ROOT_CAUSE_PRIORITY", "SCHEMA_VERSION", "RunDiagnosis", "diagnose"]


def diagnose(
    ev: Evidence, *, stuck_after: float = 600.0, now: datetime | None = None
) -> RunDiagnosis:
    """Diagnose one run from its evidence. Pure: no I/O, same evidence → same answer.

    >>> diag = diagnose(Evidence.from_fixture_dir("fixtures/loop_max_steps/run-…"))  # doctest: +SKIP
    >>> diag.verdict, diag.root_cause.kind                                            # doctest: +SKIP
    ('failed', 'tool_loop')
    """
    f = gather_facts(ev, now=now, stuck_after=stuck_after)
    final = final_answer(f)
    loops = find_loops(list(f.messages), list(f.steps))
    pending = pending_approvals(f)
    findings: list[Finding] = [
        *failure_findings(f),
        *tool_error_findings(f, final),
        *loop_findings(f, loops, final),
        *approval_findings(f, pending),
    ]
    verdict, decided = decide_verdict(f, findings, final, pending)
    durations = step_durations(ev)
    context = context_summary(f)
    usage = usage_summary(f)
    findings += [
        *decided,
        *slow_step_findings(durations),
        *context_findings(context),
        *trace_findings(f),
    ]
    root, ordered = order_findings(verdict, findings)
    actions = next_actions(
        run_id=ev.run.id, verdict=verdict, has_tools=bool(f.records), has_loop=bool(loops)
    )
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
        step_count=len(f.steps),
        message_count=len(f.messages),
        root_cause=root,
        findings=ordered,
        loops=loops,
        tools=tool_usage(f),
        usage=usage,
        latency=latency_summary(f, durations),
        context=context,
        final_answer=final,
        first_failure=first_failure(f),
        pending_approval=pending,
        limitations=limitations(f, usage),
        next_steps=[render_next_step(a, "cli") for a in actions],
        next_actions=actions,
        source=ev.source,
    )
    diag.headline = headline(diag)
    return diag
