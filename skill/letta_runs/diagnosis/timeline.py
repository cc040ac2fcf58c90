"""``build_timeline``: one ordered list of a run's steps, messages and trace spans (pure).

Steps carry no timestamps, so a step's time is its first message's date (1 s resolution) and
its duration is estimated (see ``measurements``). ``compact=True`` folds consecutive steps that
did the same thing (the same tool call with the same arguments) into one entry with ``repeat``.

Messages Letta wrote itself are shown for what they are: a heartbeat or tool-rule note inside
the step that caused it, a compaction as its own ``compaction`` entry (how many messages it hid).
In a cancelled run a ``cancel`` entry marks the moment, and entries whose messages landed later
(a tool keeps running after the cancel) say so (``after_cancel``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from ..evidence import Evidence
from ..models import Message, Step, ToolCallMessage, ToolReturnMessage
from .findings import excerpt
from .inputs import compaction_of, input_kind, packed_system_message
from .loops import normalize_arguments
from .measurements import step_durations

__all__ = ["RunTimeline", "TimelineEntry", "build_timeline"]

_DATE_SLACK = timedelta(seconds=1)


class TimelineEntry(BaseModel):
    kind: str
    """``step`` (with its messages summarised), ``message`` (not tied to a step),
    ``compaction`` (Letta hid older messages), ``cancel`` (the run was cancelled) or ``span``."""
    step_index: int | None = None
    step_id: str | None = None
    at: datetime | None = None
    seconds: float | None = None
    tokens: int | None = None
    status: str | None = None
    summary: str
    repeat: int = 1
    last_step_index: int | None = None
    after_cancel: bool = False
    """Its messages landed after the run was cancelled."""


class RunTimeline(BaseModel):
    schema_version: int = 1
    run_id: str
    status: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    compact: bool = True
    entries: list[TimelineEntry] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def _system_line(msg: Any) -> str:
    kind = input_kind(msg)
    data = packed_system_message(getattr(msg, "text", "")) or {}
    reason = excerpt(data.get("reason") or data.get("message") or "", 80, one_line=True)
    label = {"heartbeat": "heartbeat", "tool_rule_note": "tool-rule note"}.get(kind or "", "alert")
    return f"{label} (Letta's own message)" + (f": {reason}" if reason else "")


def _message_line(msg: Any) -> str:
    mtype = msg.message_type.removesuffix("_message")
    if isinstance(msg, ToolCallMessage):
        return "call " + "; ".join(
            f"{excerpt(c.name, 60)}({excerpt(c.arguments, 80, one_line=True)})" for c in msg.calls
        )
    if isinstance(msg, ToolReturnMessage):
        return f"return[{msg.status}] {excerpt(msg.text, 80, one_line=True)}"
    if input_kind(msg) not in (None, "user", "approval"):
        return _system_line(msg)
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


def _compaction_entry(msg: Message) -> TimelineEntry:
    c = compaction_of(msg)
    hidden = (
        f"{c.hidden} messages hidden"
        if c is not None and c.hidden is not None
        else "messages hidden"
    )
    total = f" of {c.total}" if c is not None and c.total is not None else ""
    trigger = f" ({c.trigger})" if c is not None and c.trigger else ""
    return TimelineEntry(
        kind="compaction",
        step_id=msg.step_id,
        at=msg.date,
        summary=f"compaction: {hidden}{total} behind a summary{trigger}",
    )


Placed = tuple[float, TimelineEntry]
"""An entry and its place in the run (the position of its first message)."""


def _group(ev: Evidence) -> tuple[dict[str, list[tuple[int, Message]]], list[Placed]]:
    """Messages by step (Letta's own notes stay with their step); requests, compactions and
    messages of no known step as entries of their own."""
    by_step: dict[str, list[tuple[int, Message]]] = {}
    loose: list[Placed] = []
    step_ids = {s.id for s in ev.steps}
    for pos, msg in enumerate(ev.messages):
        kind = input_kind(msg)
        if kind == "compaction":
            loose.append((pos, _compaction_entry(msg)))
        elif msg.step_id in step_ids and kind not in ("user", "approval"):
            by_step.setdefault(msg.step_id or "", []).append((pos, msg))
        else:
            entry = TimelineEntry(
                kind="message", step_id=msg.step_id, at=msg.date, summary=_message_line(msg)
            )
            loose.append((pos, entry))
    return by_step, loose


def _step_lines(step: Step, msgs: list[Message]) -> list[str]:
    lines = [_message_line(m) for m in msgs]
    if step.error_type or step.status == "failed":
        lines.append(f"error {step.error_type}: {excerpt(step.error_message, 120, one_line=True)}")
    if step.stop_reason:
        lines.append(f"stop {step.stop_reason}")
    return lines


def _late(msgs: list[Message], cancel_at: datetime | None) -> bool:
    return cancel_at is not None and any(
        m.date is not None and m.date > cancel_at + _DATE_SLACK for m in msgs
    )


def _fold(prev: TimelineEntry, entry: TimelineEntry, index: int) -> None:
    prev.repeat += 1
    prev.last_step_index = index
    prev.tokens = (prev.tokens or 0) + (entry.tokens or 0)
    if entry.seconds is not None:
        prev.seconds = round((prev.seconds or 0.0) + entry.seconds, 3)


def _step_entries(
    ev: Evidence,
    by_step: dict[str, list[tuple[int, Message]]],
    compact: bool,
    cancel_at: datetime | None,
) -> list[Placed]:
    durations = {d.step_id: d for d in step_durations(ev)}
    entries: list[Placed] = []
    previous_sig: str | None = None
    place = -0.5
    for i, step in enumerate(ev.steps, start=1):
        placed = by_step.get(step.id, [])
        msgs = [m for _, m in placed]
        place = placed[0][0] if placed else place + 0.001
        d = durations.get(step.id)
        late = _late(msgs, cancel_at)
        entry = TimelineEntry(
            kind="step",
            step_index=i,
            step_id=step.id,
            at=min((m.date for m in msgs if m.date), default=None),
            seconds=d.seconds if d else None,
            tokens=step.total_tokens,
            status=step.status,
            summary=" · ".join(
                _step_lines(step, msgs) + (["landed after the cancel"] if late else [])
            )
            or "(no messages)",
            after_cancel=late,
        )
        sig = _signature(msgs) + f"#{step.status}#{step.stop_reason}#{step.error_type}#{late}"
        if compact and entries and entries[-1][1].kind == "step" and sig == previous_sig:
            _fold(entries[-1][1], entry, i)
            continue
        previous_sig = sig
        entries.append((place, entry))
    return entries


def _with_cancel(entries: list[TimelineEntry], cancel_at: datetime | None) -> list[TimelineEntry]:
    if cancel_at is None:
        return entries
    marker = TimelineEntry(kind="cancel", at=cancel_at, summary="the run was cancelled")
    after = next(
        (
            i
            for i, e in enumerate(entries)
            if e.after_cancel or (e.at and e.at > cancel_at + _DATE_SLACK)
        ),
        None,
    )
    spans = next((i for i, e in enumerate(entries) if e.kind == "span"), len(entries))
    at = after if after is not None else spans
    return [*entries[:at], marker, *entries[at:]]


def build_timeline(ev: Evidence, *, compact: bool = True) -> RunTimeline:
    """The run as a list of steps (with their messages), loose messages and trace spans."""
    cancel_at = ev.run.completed_at if ev.run.status == "cancelled" else None
    by_step, loose = _group(ev)
    placed = sorted(loose + _step_entries(ev, by_step, compact, cancel_at), key=lambda p: p[0])
    entries = [e for _, e in placed]
    for span in ev.trace or []:
        name = span.get("name") or span.get("span_name") or "span"
        entries.append(TimelineEntry(kind="span", summary=excerpt(name, 120, one_line=True)))
    notes = ["Step times come from message dates (1 s resolution); steps have no timestamps."]
    if ev.trace is None:
        notes.append("No trace spans (the trace endpoint was unavailable or not fetched).")
    return RunTimeline(
        run_id=ev.run.id,
        status=ev.run.status,
        created_at=ev.run.created_at,
        completed_at=ev.run.completed_at,
        compact=compact,
        entries=_with_cancel(entries, cancel_at),
        notes=notes,
    )
