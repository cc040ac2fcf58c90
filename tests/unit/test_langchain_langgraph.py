"""The toolkit inside a LangGraph prebuilt ReAct agent, driven by a scripted chat model, on demo data.

The model asks for ``diagnose_run`` on the recorded run that looped on ``lab_add`` until the step
limit, then answers from what the tool returned. The agent's final state must hold the diagnosis:
the tool message with the verdict (content) and the typed ``RunDiagnosis`` (artifact).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.prebuilt import create_react_agent
from letta_runs import RunsClient
from letta_runs.diagnosis import RunDiagnosis
from letta_runs.langchain import LettaRunsToolkit
from scripted_chat_model import ScriptedToolCaller

# create_react_agent moved to langchain.agents in LangGraph 1.0; that package is not installed.
pytestmark = pytest.mark.filterwarnings("ignore::langgraph.warnings.LangGraphDeprecatedSinceV10")


def demo_run_id(label: str) -> str:
    bundle = resources.files("letta_runs") / "demo" / f"{label}.json"
    return str(json.loads(bundle.read_text(encoding="utf-8"))["run"]["id"])


LOOP_RUN = demo_run_id("sync_max_steps_default")


def build_agent(model: ScriptedToolCaller) -> Any:
    tools = LettaRunsToolkit(RunsClient(base_url="demo"), include=["diagnose_run"]).get_tools()
    return create_react_agent(model, tools)


def assert_agent_diagnosed_the_loop(state: dict[str, Any], model: ScriptedToolCaller) -> None:
    messages = state["messages"]
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    tool_message = messages[2]
    assert tool_message.name == "diagnose_run"
    assert tool_message.tool_call_id == "call-diag-1"
    assert tool_message.status == "success"
    assert tool_message.content.startswith(f"# Run {LOOP_RUN} — FAILED")
    assert "tool_loop" in tool_message.content
    diagnosis = tool_message.artifact
    assert isinstance(diagnosis, RunDiagnosis)
    assert (diagnosis.run_id, diagnosis.verdict, diagnosis.stop_reason) == (
        LOOP_RUN,
        "failed",
        "max_steps",
    )
    assert diagnosis.root_cause is not None
    assert (diagnosis.root_cause.kind, diagnosis.root_cause.tool_name) == ("tool_loop", "lab_add")
    assert messages[-1].content == f"Diagnosis says: # Run {LOOP_RUN} — FAILED"
    # The model's second turn was shown the tool's compact text, not the artifact.
    assert model.seen[1][-1].content == tool_message.content


async def test_react_agent_calls_diagnose_run_and_answers_async() -> None:
    model = ScriptedToolCaller(run_id=LOOP_RUN)
    state = await build_agent(model).ainvoke(
        {"messages": [HumanMessage(f"Why did {LOOP_RUN} fail?")]}
    )
    assert_agent_diagnosed_the_loop(state, model)


def test_react_agent_calls_diagnose_run_and_answers_sync() -> None:
    model = ScriptedToolCaller(run_id=LOOP_RUN)
    state = build_agent(model).invoke({"messages": [HumanMessage(f"Why did {LOOP_RUN} fail?")]})
    assert_agent_diagnosed_the_loop(state, model)


async def test_react_agent_gets_not_found_as_a_readable_tool_error() -> None:
    unknown = "run-00000000-0000-4000-8000-000000000000"
    model = ScriptedToolCaller(run_id=unknown)
    state = await build_agent(model).ainvoke({"messages": [HumanMessage(f"Diagnose {unknown}")]})
    tool_message = state["messages"][2]
    assert tool_message.status == "error"
    assert tool_message.artifact is None
    assert f"run {unknown} not found" in tool_message.content
    assert state["messages"][-1].content.startswith("Diagnosis says: run ")
