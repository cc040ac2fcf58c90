"""``RunFacts``: what every diagnosis pass reads, derived once from the evidence (frozen).

The passes (``failures``, ``tool_calls``, ``measurements``, ``limitations``, ``verdict`` …) are
pure functions of a ``RunFacts``; none of them looks at the raw evidence again, so a new fact
is computed here once and every pass sees the same value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from ..evidence import AgentProfile, Evidence
from ..models import Message, Run, Step, ToolReturn, ToolReturnMessage
from .inputs import InputKind, input_kind
from .loops import ToolCallRecord, tool_call_records

__all__ = [
    "DEFAULT_MESSAGE_TOOL",
    "MESSAGE_TOOL_AGENT_TYPES",
    "ErrorReturn",
    "RunFacts",
    "gather_facts",
    "is_input",
    "missing_evidence",
    "stderr_text",
]

DEFAULT_MESSAGE_TOOL = "send_message"
"""The tool a memgpt-style agent answers with (``request_config.assistant_message_tool_name``)."""
MESSAGE_TOOL_AGENT_TYPES = ("memgpt_agent", "memgpt_v2_agent")
"""The agent types Letta 0.16.8 creates with ``send_message`` (``AgentManager.create_agent``:
``letta_v1_agent`` has it removed; react, workflow, sleeptime and voice types have their own
tools)."""
_READ_ENDPOINTS = ("steps", "messages", "usage", "metrics")
# (The stream is extra evidence for background runs only; the trace is a limitation of every
# self-hosted server. Neither is needed for a verdict.)


def is_input(msg: Message) -> bool:
    """A request from outside: a user's message or an approval (never a message Letta wrote
    itself: heartbeats, tool-rule notes, compaction alerts)."""
    return input_kind(msg) in ("user", "approval")


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
    input_kinds: tuple[InputKind | None, ...]
    """Per message: what kind of input it is (``None``: the agent's own output)."""
    last_input: int
    """Position of the last real request (user or approval message); -1 when there is none."""
    message_tool: str
    agent_type: str | None
    """The agent's type (``None``: unknown, the agent was not read)."""
    agent_tools: frozenset[str] | None
    """The names of the agent's tools (``None``: unknown)."""
    has_message_tool: bool | None
    """The agent has ``message_tool`` (from its tools, else its type; ``None``: unknown)."""
    missing: tuple[str, ...]
    """Endpoints whose evidence could not be read (``steps``, ``messages``, ``usage`` …)."""

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

    @property
    def steps_read(self) -> bool:
        return "steps" not in self.missing

    @property
    def messages_read(self) -> bool:
        return "messages" not in self.missing

    def after_last_input(self) -> list[tuple[int, Message]]:
        """The run's own output after its last request, system-generated messages left out."""
        return [
            (i, m)
            for i, m in enumerate(self.messages)
            if i > self.last_input and self.input_kinds[i] is None
        ]


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


def _message_tool(run: Run) -> str:
    name = (run.request_config or {}).get("assistant_message_tool_name")
    return name if isinstance(name, str) and name else DEFAULT_MESSAGE_TOOL


def _filtered_out(run: Run) -> bool:
    """The request kept only some message types (Letta filters ``/messages`` the same way), so
    the run's answer may be missing from them."""
    types = (run.request_config or {}).get("include_return_message_types")
    return isinstance(types, list) and "assistant_message" not in types


def _has_message_tool(message_tool: str, agent: AgentProfile | None) -> bool | None:
    """Its tools say it when they were read; else its type does (``None``: neither is known)."""
    if agent is None:
        return None
    if agent.tool_names is not None:
        return message_tool in agent.tool_names
    if agent.agent_type is None:
        return None
    return agent.agent_type in MESSAGE_TOOL_AGENT_TYPES


def missing_evidence(ev: Evidence) -> tuple[str, ...]:
    """Endpoints whose evidence is missing: an endpoint that failed or was not fetched (recorded
    in ``endpoint_errors``), messages the request filtered, steps the server did not list
    although messages name them."""
    out = [e for e in _READ_ENDPOINTS if e in ev.endpoint_errors]
    if "messages" not in out and _filtered_out(ev.run):
        out.append("messages")
    if "steps" not in out and not ev.steps and any(m.step_id for m in ev.messages):
        out.append("steps")
    return tuple(out)


def gather_facts(ev: Evidence, *, now: datetime | None = None, stuck_after: float) -> RunFacts:
    """Derive the facts of one run from its evidence."""
    now = _as_utc(now)
    run = ev.run
    effective = effective_stop_reason(ev)
    records = tuple(tool_call_records(ev.messages))
    calls_by_id = {r.tool_call_id: r for r in records if r.tool_call_id}
    messages = tuple(ev.messages)
    step_index: dict[str, int] = {s.id: i + 1 for i, s in enumerate(ev.steps)}
    kinds = tuple(input_kind(m) for m in messages)
    message_tool = _message_tool(run)
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
        input_kinds=kinds,
        last_input=max((i for i, k in enumerate(kinds) if k in ("user", "approval")), default=-1),
        message_tool=message_tool,
        agent_type=ev.agent.agent_type if ev.agent else None,
        agent_tools=frozenset(ev.agent.tool_names)
        if ev.agent and ev.agent.tool_names is not None
        else None,
        has_message_tool=_has_message_tool(message_tool, ev.agent),
        missing=missing_evidence(ev),
    )
