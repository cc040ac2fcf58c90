"""A LangGraph prebuilt ReAct agent with the letta-runs toolkit, against the real Letta server.

A scripted chat model asks for ``diagnose_run`` on the seeded run that hit ``max_steps=3`` and
answers from the tool's text; the agent's final state must hold the diagnosis. Needs the session
fixture ``seeded`` (``SeededRuns``) from ``tests/integration/conftest.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.prebuilt import create_react_agent
from letta_runs import AsyncRunsClient, RunsClient
from letta_runs.diagnosis import RunDiagnosis
from letta_runs.langchain import LettaRunsToolkit
from scripted_chat_model import ScriptedToolCaller

pytestmark = [
    pytest.mark.letta_server,
    # create_react_agent moved to langchain.agents in LangGraph 1.0; that package is not installed.
    pytest.mark.filterwarnings("ignore::langgraph.warnings.LangGraphDeprecatedSinceV10"),
]


async def test_react_agent_diagnoses_a_seeded_run(seeded: Any) -> None:
    rid = seeded.run_id("sync.loop_max_steps_3")
    model = ScriptedToolCaller(run_id=rid)
    async with AsyncRunsClient(base_url=seeded.base_url) as client:
        tools = LettaRunsToolkit(client).get_tools()
        agent = create_react_agent(model, tools)
        state = await agent.ainvoke({"messages": [HumanMessage(f"Why did {rid} stop?")]})

    messages = state["messages"]
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    tool_message = messages[2]
    assert (tool_message.name, tool_message.status) == ("diagnose_run", "success")
    assert tool_message.content.startswith(f"# Run {rid} — FAILED")
    diagnosis = tool_message.artifact
    assert isinstance(diagnosis, RunDiagnosis)
    assert (diagnosis.run_id, diagnosis.verdict, diagnosis.stop_reason) == (
        rid,
        "failed",
        "max_steps",
    )
    assert diagnosis.step_count == 3
    assert messages[-1].content == f"Diagnosis says: # Run {rid} — FAILED"
    assert model.seen[1][-1].content == tool_message.content


def test_react_agent_sync_invoke_on_the_server(seeded: Any) -> None:
    rid = seeded.run_id("sync.ok_reply")
    model = ScriptedToolCaller(run_id=rid)
    with RunsClient(base_url=seeded.base_url) as client:
        agent = create_react_agent(model, LettaRunsToolkit(client).get_tools())
        state = agent.invoke({"messages": [HumanMessage(f"Did {rid} go well?")]})
    diagnosis = state["messages"][2].artifact
    assert isinstance(diagnosis, RunDiagnosis)
    assert (diagnosis.run_id, diagnosis.verdict) == (rid, "ok")
