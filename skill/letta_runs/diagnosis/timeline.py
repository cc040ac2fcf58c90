"""``build_timeline``: one ordered list of a run's steps, messages and trace spans (pure).

Steps carry no timestamps, so a step's time is its first message's date (1 s resolution) and
its duration is estimated (see ``diagnose``). ``compact=True`` folds consecutive steps that did
the same thing (the same tool call with the same arguments) into one entry with ``repeat``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ..evidence import Evidence
from ..models import ToolCallMessage, ToolReturnMessage
from .findings import excerpt
from .loops import normalize_arguments
from .measurements import step_durations

__all__ = ["RunTimeline", "TimelineEntry", "build_timeline"]


class TimelineEntry(BaseModel):
    kind: str
    """``step`` (with its messages summarised), ``message`` (not tied to a step) or ``span``."""
    step_index: int | None = None
    step_id: str | None = None
    at: datetime | None = None
    seconds: float | None = None
    tokens: int | None = None
    status: str | None = None
    summary: str
    repeat: int = 1
    last_step_index: int | None = None


class RunTimeline(BaseModel):
    schema_version: int = 1
    run_id: str
    status: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    compact: bool = True
    entries: list[TimelineEntry] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def _message_line(msg: Any) -> str:
    mtype = msg.message_type.removesuffix("_message")
    if isinstance(msg, ToolCallMessage):
        return "call " + "; ".join(
            f"{excerpt(c.name, 60)}({excerpt(c.arguments, 80, one_line=True)})" for c in msg.calls
        )
    if isinstance(msg, ToolReturnMessage):
        return f"return[{msg.status}] {excerpt(msg.text, 80, one_line=True)}"
    return f"{mtype}: {excerpt(getattr(msg, 'text', ''), 100, one_line=True)}"


def _signature(entry_msgs: list[Any]) -> str:
    parts = []
    for m in entry_msgs:
        if isinstance(m, ToolCallMessage):
            parts += [f"{c.name}:{normalize_arguments(c.arguments)}" for c in m.calls]
        elif isinstance(m, ToolReturnMessage):
            parts.append(f"ret:{m.status}:{excerpt(m.text, 80)}")
        else:
            parts.append(f"{m.message_type}:{excerpt(getattr(m, 'text', ''), 80)}")
    return "|".join(parts)


def build_timeline(ev: Evidence, *, compact: bool = True) -> RunTimeline:
    """The run as a list of steps (with their messages), loose messages and trace spans."""
    durations = {d.step_id: d for d in step_durations(ev)}
    by_step: dict[str, list[Any]] = {}
    loose: list[Any] = []
    step_ids = {s.id for s in ev.steps}
    for msg in ev.messages:
        if msg.step_id in step_ids and msg.message_type not in ("user_message",):
            by_step.setdefault(msg.step_id or "", []).append(msg)
        else:
            loose.append(msg)
    entries: list[TimelineEntry] = []
    for msg in loose:
        entries.append(
            TimelineEntry(
                kind="message", step_id=msg.step_id, at=msg.date, summary=_message_line(msg)
            )
        )
    signatures: list[str] = []
    for i, step in enumerate(ev.steps, start=1):
        msgs = by_step.get(step.id, [])
        lines = [_message_line(m) for m in msgs]
        if step.error_type or step.status == "failed":
            lines.append(
                f"error {step.error_type}: {excerpt(step.error_message, 120, one_line=True)}"
            )
        if step.stop_reason:
            lines.append(f"stop {step.stop_reason}")
        d = durations.get(step.id)
        entry = TimelineEntry(
            kind="step",
            step_index=i,
            step_id=step.id,
            at=min((m.date for m in msgs if m.date), default=None),
            seconds=d.seconds if d else None,
            tokens=step.total_tokens,
            status=step.status,
            summary=" · ".join(lines) or "(no messages)",
        )
        sig = _signature(msgs) + f"#{step.status}#{step.stop_reason}#{step.error_type}"
        prev = entries[-1] if entries else None
        if (
            compact
            and prev is not None
            and prev.kind == "step"
            and signatures
            and signatures[-1] == sig
        ):
            prev.repeat += 1
            prev.last_step_index = i
            prev.tokens = (prev.tokens or 0) + (step.total_tokens or 0)
            if entry.seconds is not None:
                prev.seconds = round((prev.seconds or 0.0) + entry.seconds, 3)
            continue
        signatures.append(sig)
        entries.append(entry)
    for span in ev.trace or []:
        name = span.get("name") or span.get("span_name") or "span"
        entries.append(TimelineEntry(kind="span", summary=excerpt(name, 120, one_line=True)))
    entries.sort(
        key=lambda e: (e.kind == "span", e.at is None and e.kind != "message", e.step_index or 0)
    )
    notes = ["Step times come from message dates (1 s resolution); steps have no timestamps."]
    if ev.trace is None:
        notes.append("No trace spans (the trace endpoint was unavailable or not fetched).")
    return RunTimeline(
        run_id=ev.run.id,
        status=ev.run.status,
        created_at=ev.run.created_at,
        completed_at=ev.run.completed_at,
        compact=compact,
        entries=entries,
        notes=notes,
    )
