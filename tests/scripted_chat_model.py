"""A fake chat model for agent tests: it calls ``diagnose_run`` once, then answers from it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatResult
from pydantic import Field


class ScriptedToolCaller(GenericFakeChatModel):
    """A fake chat model that accepts tools, asks for one call, then answers from its result."""

    run_id: str
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    messages: Any = Field(default_factory=lambda: iter(()))

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolCaller:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.seen.append(list(messages))
        results = [m for m in messages if isinstance(m, ToolMessage)]
        if not results:
            call = {"name": "diagnose_run", "args": {"run_id": self.run_id}, "id": "call-diag-1"}
            self.messages = iter([AIMessage(content="", tool_calls=[call])])
        else:
            first_line = str(results[-1].content).splitlines()[0]
            self.messages = iter([AIMessage(content=f"Diagnosis says: {first_line}")])
        return super()._generate(messages, *args, **kwargs)
