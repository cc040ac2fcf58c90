"""``RunFacts``: what every diagnosis pass reads, derived once from the evidence (frozen).

The passes (``failures``, ``tool_calls``, ``measurements``, ``limitations``, ``verdict`` …) are
pure functions of a ``RunFacts``; none of them looks at the raw evidence again, so a new fact
is computed here once and every pass sees the same value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from ..evidence import Evidence
from ..models import (
    ApprovalResponseMessage,
    Message,
    Run,
    Step,
    ToolReturn,
    ToolReturnMessage,
    UserMessage,
)
from .loops import ToolCallRecord, tool_call_records

__all__ = ["ErrorReturn", "RunFacts", "gather_facts", "is_input", "stderr_text"]


def is_input(msg: Message) -> bool:
    """A message that starts (or continues) the run from outside: a user or approval message."""
    return isinstance(msg, UserMessage | ApprovalResponseMessage)


def stderr_text(ret: ToolReturn) -> str:
    return "".join(ret.stderr or [])


@dataclass(frozen=True)
class ErrorReturn:
    """One tool return whose status is ``error``, with where it sits in the run."""

    message: ToolReturnMessage
    ret: ToolReturn
    tool_name: str
    position: int


@dataclass(frozen=True)
class RunFacts:
    """Everything the passes need, computed once. Pure data: no I/O, never mutated."""

    ev: Evidence
    now: datetime
    stuck_after: float
    steps: tuple[Step, ...]
    messages: tuple[Message, ...]
    step_index: MappingProxyType[str, int]
    effective_stop: str | None
    cancelled: bool
    age: float | None
    failed_steps: tuple[Step, ...]
    records: tuple[ToolCallRecord, ...]
    calls_by_id: MappingProxyType[str, ToolCallRecord]
    error_returns: tuple[ErrorReturn, ...]

    @property
    def run(self) -> Run:
        return self.ev.run

    @property
    def status(self) -> str | None:
        return self.ev.run.status

    @property
    def terminal(self) -> bool:
        return self.ev.run.is_terminal

    @property
    def last_step(self) -> Step | None:
        return self.steps[-1] if self.steps else None

    def index_of(self, step_id: str | None) -> int | None:
        return self.step_index.get(step_id or "")


def effective_stop_reason(ev: Evidence) -> str | None:
    """The run's stop reason, or (when it is missing or the generic ``error``) the steps' or the
    stream's, newest first."""
    run_stop = ev.run.stop_reason
    if run_stop and run_stop != "error":
        return run_stop
    for step in reversed(ev.steps):
        if step.stop_reason:
            return step.stop_reason
    for event in reversed(ev.stream_events or []):
        if event.stop_reason:
            return event.stop_reason
    return run_stop


def _error_returns(
    messages: tuple[Message, ...], calls_by_id: dict[str, ToolCallRecord]
) -> tuple[ErrorReturn, ...]:
    out: list[ErrorReturn] = []
    for pos, msg in enumerate(messages):
        if not isinstance(msg, ToolReturnMessage):
            continue
        for ret in msg.returns:
            if ret.status != "error":
                continue
            call = calls_by_id.get(ret.tool_call_id or "")
            name = msg.name or (call.name if call else None) or "?"
            out.append(ErrorReturn(message=msg, ret=ret, tool_name=name, position=pos))
    return tuple(out)


def _as_utc(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def gather_facts(ev: Evidence, *, now: datetime | None = None, stuck_after: float) -> RunFacts:
    """Derive the facts of one run from its evidence."""
    now = _as_utc(now)
    run = ev.run
    effective = effective_stop_reason(ev)
    records = tuple(tool_call_records(ev.messages))
    calls_by_id = {r.tool_call_id: r for r in records if r.tool_call_id}
    messages = tuple(ev.messages)
    step_index: dict[str, int] = {s.id: i + 1 for i, s in enumerate(ev.steps)}
    return RunFacts(
        ev=ev,
        now=now,
        stuck_after=stuck_after,
        steps=tuple(ev.steps),
        messages=messages,
        step_index=MappingProxyType(step_index),
        effective_stop=effective,
        cancelled=run.status == "cancelled" or (run.is_terminal and effective == "cancelled"),
        age=(now - run.created_at).total_seconds() if run.created_at else None,
        failed_steps=tuple(
            s for s in ev.steps if s.status == "failed" or s.error_type or s.error_data
        ),
        records=records,
        calls_by_id=MappingProxyType(calls_by_id),
        error_returns=_error_returns(messages, calls_by_id),
    )
