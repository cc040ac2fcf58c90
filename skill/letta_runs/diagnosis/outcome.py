"""The outcome pass: what the run produced, by the rule of its agent type and run type.

How each Letta 0.16.8 loop ends a healthy run (``letta/agents/letta_agent_v2.py``, ``…_v3.py``,
``letta/groups/sleeptime_multi_agent_v4.py``; the runs API renders messages with
``use_assistant_message``):

=====================  ======================================================================
outcome                rule (first that applies, after the last real request)
=====================  ======================================================================
``background``         a sleeptime agent's background run (``run_type`` names ``sleeptime``):
                       its result is the memory it edited; no answer is expected
``assistant_message``  the newest output is an ``assistant_message`` with text, no tool call
                       after it (``letta_v1_agent``; a ``send_message`` call rendered as one) —
                       or, for a run that ended its turn, one followed only by tool calls that
                       all succeeded (a letta_v1_agent answers beside a tool call, then may end
                       on an empty completion)
``send_message``       the newest output is a call of the message tool (``send_message``, or the
                       request's ``assistant_message_tool_name``) — memgpt-style agents
``terminal_tool``      the run stopped with ``tool_rule`` and its newest output is a tool call
                       that succeeded: a terminal tool rule ended the run by design
``tool_call``          the run ended (``end_turn``) on a successful tool call whose arguments say
                       ``request_heartbeat: false``, and the agent has no message tool: the
                       heartbeat loop of agents without ``send_message`` (react, workflow
                       agents) ends a turn exactly so. When the agent's type and tools could
                       not be read, the call is taken as by design and a limitation says so
``text``               the run ended (``end_turn``) on text Letta shows as a
                       ``reasoning_message`` (agent types other than ``letta_v1_agent`` keep a
                       plain answer there, e.g. a sleeptime agent)
``none``               nothing of the above: the run produced no answer. This includes a turn
                       that ended on such a tool call in an agent that has the message tool
                       (``memgpt_agent`` / ``memgpt_v2_agent``, or its tools include it): it
                       never called ``send_message``, so the user got no reply
=====================  ======================================================================

Whether the agent has the message tool comes from ``Evidence.agent``: its tool names when they
were read, else its type (Letta 0.16.8's ``AgentManager.create_agent`` gives ``send_message`` to
``memgpt_agent`` and ``memgpt_v2_agent`` only).

System-generated messages (heartbeats, tool-rule notes, compaction alerts; see ``inputs``) are
not requests: an answer before them still answers the run.
"""

from __future__ import annotations

from ..evidence import Evidence
from ..models import (
    AssistantMessage,
    Message,
    ReasoningMessage,
    ToolCall,
    ToolCallMessage,
    ToolReturnMessage,
)
from .facts import RunFacts, gather_facts
from .findings import excerpt
from .result import FinalAnswer, RunOutcome

__all__ = [
    "UNSENT_ANSWER_RULE",
    "agent_type_decides",
    "final_answer",
    "is_background_run",
    "rests_on_agent_type",
    "run_outcome",
]

EXCERPT = 200
_ENDS_TURN = ("end_turn", None)
UNSENT_ANSWER_RULE = "the turn ended on a tool call, but the agent answers with its message tool"


def is_background_run(f: RunFacts) -> bool:
    """A sleeptime agent's background run (``sleeptime_agent_send_message_async``)."""
    return "sleeptime" in (f.run.run_type or "")


def _message_text(call: ToolCall) -> str:
    args = call.parsed_arguments()
    if isinstance(args, dict) and isinstance(args.get("message"), str):
        return str(args["message"])
    return call.arguments or ""


def _heartbeat(call: ToolCall) -> bool | None:
    args = call.parsed_arguments()
    value = args.get("request_heartbeat") if isinstance(args, dict) else None
    return value if isinstance(value, bool) else None


def _return_status(f: RunFacts, call: ToolCall, after: int) -> str | None:
    for msg in f.messages[after + 1 :]:
        if isinstance(msg, ToolReturnMessage):
            for ret in msg.returns:
                if ret.tool_call_id == call.tool_call_id or call.tool_call_id is None:
                    return ret.status
    return None


def _newest_output(f: RunFacts) -> tuple[int, Message] | None:
    """The newest message the agent produced after the last request (tool returns skipped)."""
    for pos, msg in reversed(f.after_last_input()):
        if isinstance(msg, ToolReturnMessage):
            continue
        if isinstance(msg, AssistantMessage) and not msg.text.strip():
            continue
        if isinstance(msg, ReasoningMessage) and not msg.text.strip():
            continue
        return pos, msg
    return None


def _from_tool_call(f: RunFacts, pos: int, msg: ToolCallMessage) -> RunOutcome | None:
    call = msg.calls[-1] if msg.calls else None
    if call is None:
        return None
    if call.name == f.message_tool:
        kind, rule = "send_message", "the message tool's call"
    elif _return_status(f, call, pos) != "success":
        return None
    elif f.effective_stop == "tool_rule":
        kind, rule = "terminal_tool", "a terminal tool rule's call"
    elif f.effective_stop in _ENDS_TURN and _heartbeat(call) is False:
        if f.has_message_tool:
            return None  # it should have answered with send_message (see ``_unsent``)
        kind, rule = "tool_call", "a tool call without request_heartbeat ended the turn"
    else:
        return None
    return RunOutcome(
        kind=kind,
        rule=rule,
        message_id=msg.id,
        step_id=msg.step_id,
        tool_name=call.name,
        tool_call_id=call.tool_call_id,
        excerpt=excerpt(_message_text(call), EXCERPT) if kind == "send_message" else None,
    )


def _from_output(f: RunFacts, pos: int, msg: Message) -> RunOutcome | None:
    if isinstance(msg, AssistantMessage):
        return RunOutcome(
            kind="assistant_message",
            rule="an assistant message after the last request",
            message_id=msg.id,
            step_id=msg.step_id,
            excerpt=excerpt(msg.text, EXCERPT),
        )
    if isinstance(msg, ToolCallMessage):
        return _from_tool_call(f, pos, msg)
    shown_as_reasoning = isinstance(msg, ReasoningMessage) and msg.source != "reasoner_model"
    if shown_as_reasoning and f.effective_stop in _ENDS_TURN:
        return RunOutcome(
            kind="text",
            rule="final text shown as reasoning (the agent type does not mark answers)",
            message_id=msg.id,
            step_id=msg.step_id,
            excerpt=excerpt(msg.text, EXCERPT),
        )
    return None


def _background(f: RunFacts) -> RunOutcome:
    calls = [m for _, m in f.after_last_input() if isinstance(m, ToolCallMessage) and m.calls]
    last = calls[-1] if calls else None
    return RunOutcome(
        kind="background",
        answer_expected=False,
        rule="a sleeptime agent's background run keeps its result in memory",
        message_id=last.id if last else None,
        step_id=last.step_id if last else None,
        tool_name=last.calls[-1].name if last else None,
    )


def _answer_before_tools(f: RunFacts) -> RunOutcome | None:
    """A ``letta_v1_agent`` answers in the same step as a tool call ("Noted!" + a memory edit)
    and may end with an empty completion after the tools (Letta ends such a turn normally): the
    answer stands when every tool call after it succeeded."""
    if f.effective_stop not in _ENDS_TURN:
        return None
    answer: AssistantMessage | None = None
    for _, msg in f.after_last_input():
        if isinstance(msg, AssistantMessage) and msg.text.strip():
            answer = msg
        elif answer is not None and isinstance(msg, ToolReturnMessage):
            if any(r.status != "success" for r in msg.returns):
                answer = None
        elif answer is not None and not isinstance(msg, ToolCallMessage | ReasoningMessage):
            answer = None
    if answer is None:
        return None
    return RunOutcome(
        kind="assistant_message",
        rule="an assistant message, then tool calls that all succeeded",
        message_id=answer.id,
        step_id=answer.step_id,
        excerpt=excerpt(answer.text, EXCERPT),
    )


def run_outcome(f: RunFacts) -> RunOutcome:
    """The run's outcome (see the table in this module's docstring)."""
    if is_background_run(f):
        return _background(f)
    newest = _newest_output(f)
    found = _from_output(f, *newest) if newest is not None else None
    found = found or _answer_before_tools(f)
    if found is not None:
        return found
    unsent = _unsent(f, newest)
    if unsent is not None:
        return unsent
    silent = not f.after_last_input()
    return RunOutcome(
        kind="none", rule="no output" if silent else "no answer after the last request"
    )


def _unsent(f: RunFacts, newest: tuple[int, Message] | None) -> RunOutcome | None:
    """A turn that ended on a tool call without a heartbeat, in an agent that has the message
    tool: the model stopped without calling it."""
    if newest is None or not f.has_message_tool or f.effective_stop not in _ENDS_TURN:
        return None
    pos, msg = newest
    if not isinstance(msg, ToolCallMessage) or not msg.calls:
        return None
    call = msg.calls[-1]
    if call.name == f.message_tool or _heartbeat(call) is not False:
        return None
    if _return_status(f, call, pos) != "success":
        return None
    return RunOutcome(
        kind="none",
        rule=UNSENT_ANSWER_RULE,
        message_id=msg.id,
        step_id=msg.step_id,
        tool_name=call.name,
        tool_call_id=call.tool_call_id,
    )


def rests_on_agent_type(f: RunFacts, outcome: RunOutcome) -> bool:
    """The outcome is a turn that ended on a tool call of an agent whose message tool is unknown:
    the agent's type would decide between an answer by design and no answer at all."""
    return outcome.kind == "tool_call" and f.has_message_tool is None


def agent_type_decides(ev: Evidence) -> bool:
    """``rests_on_agent_type`` for raw evidence: reading the run's agent could change its
    verdict (a triage reads the agent's type only then, once per agent)."""
    f = gather_facts(ev, stuck_after=float("inf"))
    return rests_on_agent_type(f, run_outcome(f))


def final_answer(outcome: RunOutcome) -> FinalAnswer | None:
    """The answer a user got: an assistant message or the message tool's text."""
    if outcome.kind not in ("assistant_message", "send_message"):
        return None
    return FinalAnswer(
        message_id=outcome.message_id, step_id=outcome.step_id, excerpt=outcome.excerpt or ""
    )
