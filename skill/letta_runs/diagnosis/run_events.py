"""Things Letta did during a run besides answering: compactions, work after a cancel (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..models import Message
from .facts import RunFacts
from .findings import Finding
from .inputs import compaction_of
from .result import CompactionEvent, ContextSummary, RunOutcome

__all__ = ["after_cancel", "compaction_events", "compaction_findings"]

# Message dates have 1 s resolution; completed_at has microseconds.
_DATE_SLACK = timedelta(seconds=1)


def _where(f: RunFacts, pos: int, outcome: RunOutcome) -> str:
    answer = next(
        (i for i, m in enumerate(f.messages) if m.id and m.id == outcome.message_id), None
    )
    if answer is not None and pos > answer:
        return "after the answer"
    earlier_output = any(f.input_kinds[i] is None for i in range(pos))
    return "between steps" if earlier_output else "before the first step"


def compaction_events(f: RunFacts, outcome: RunOutcome) -> list[CompactionEvent]:
    """Every compaction note in the run, where it sits and how much it hid."""
    out: list[CompactionEvent] = []
    for pos, msg in enumerate(f.messages):
        c = compaction_of(msg)
        if c is None:
            continue
        out.append(
            CompactionEvent(
                message_id=msg.id,
                step_id=msg.step_id,
                step_index=f.index_of(msg.step_id),
                at=msg.date,
                where=_where(f, pos, outcome),
                hidden_messages=c.hidden,
                total_messages=c.total,
                trigger=c.trigger,
                context_tokens_before=c.context_tokens_before,
                context_tokens_after=c.context_tokens_after,
                context_window=c.context_window,
            )
        )
    return out


def _pressure(event: CompactionEvent, context: ContextSummary) -> str:
    if event.context_tokens_before and event.context_window:
        share = event.context_tokens_before / event.context_window
        after = (
            f", {event.context_tokens_after} after"
            if event.context_tokens_after is not None
            else ""
        )
        return (
            f"; the context held {event.context_tokens_before} of {event.context_window} tokens "
            f"({share:.0%}){after}"
        )
    if context.pressure is not None:
        return f"; the prompt peaked at {context.pressure:.0%} of the context window"
    return ""


def compaction_findings(events: list[CompactionEvent], context: ContextSummary) -> list[Finding]:
    """A compaction is a sign of context pressure, not a failure: an ``info`` finding each."""
    out: list[Finding] = []
    for e in events:
        hidden = (
            f"{e.hidden_messages} message{'s' if e.hidden_messages != 1 else ''}"
            if e.hidden_messages is not None
            else "older messages"
        )
        of_total = f" of {e.total_messages}" if e.total_messages is not None else ""
        trigger = f", trigger {e.trigger}" if e.trigger else ""
        out.append(
            Finding(
                kind="compaction",
                severity="info",
                summary=f"Letta compacted the context {e.where}: {hidden}{of_total} hidden behind "
                f"a summary{trigger}{_pressure(e, context)}",
                step_id=e.step_id,
                message_id=e.message_id,
            )
        )
    return out


def after_cancel(f: RunFacts) -> list[Message]:
    """Messages that landed in a cancelled run after the cancel (a tool keeps running after the
    run turns ``cancelled``; its call and return arrive later)."""
    cancel_at: datetime | None = f.run.completed_at
    if not f.cancelled or cancel_at is None:
        return []
    return [
        m
        for i, m in enumerate(f.messages)
        if m.date is not None and m.date > cancel_at + _DATE_SLACK and f.input_kinds[i] is None
    ]
