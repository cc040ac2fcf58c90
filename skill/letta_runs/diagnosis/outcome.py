"""The outcome pass: what the run produced for whoever sent its input."""

from __future__ import annotations

from ..models import ApprovalRequestMessage, AssistantMessage, ToolCallMessage
from .facts import RunFacts, is_input
from .findings import excerpt
from .result import FinalAnswer

__all__ = ["final_answer"]

EXCERPT = 200


def final_answer(f: RunFacts) -> FinalAnswer | None:
    """The last assistant message after the last input, with no tool call after it."""
    last_input = max((i for i, m in enumerate(f.messages) if is_input(m)), default=-1)
    answer: AssistantMessage | None = None
    for msg in f.messages[last_input + 1 :]:
        if isinstance(msg, AssistantMessage) and msg.text.strip():
            answer = msg
        elif isinstance(msg, ToolCallMessage | ApprovalRequestMessage):
            answer = None
    if answer is None:
        return None
    return FinalAnswer(
        message_id=answer.id, step_id=answer.step_id, excerpt=excerpt(answer.text, EXCERPT)
    )
