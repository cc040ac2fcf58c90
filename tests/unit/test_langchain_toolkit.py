"""``letta_runs.langchain``: the toolkit's tool set, the adapter contract, errors, client lifecycle."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
from importlib import resources
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from letta_runs import AsyncRunsClient, Run, RunsClient
from letta_runs.langchain import LettaRunsClients, LettaRunsTool, LettaRunsToolkit, tool_names
from letta_runs.operations import OPERATIONS, OperationResult, catalog, get_operation


def demo_run_id(label: str) -> str:
    bundle = resources.files("letta_runs") / "demo" / f"{label}.json"
    return str(json.loads(bundle.read_text(encoding="utf-8"))["run"]["id"])


LOOP_RUN = demo_run_id("sync_max_steps_default")
UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"
READ_OPERATIONS = [op.name for op in OPERATIONS if op.read_only]


def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": "call-1", "type": "tool_call"}


@pytest.fixture
def toolkit() -> LettaRunsToolkit:
    return LettaRunsToolkit(RunsClient(base_url="demo"))


def tools_by_name(toolkit: LettaRunsToolkit) -> dict[str, BaseTool]:
    return {tool.name: tool for tool in toolkit.get_tools()}


# --- the tool set ------------------------------------------------------------------------------


def test_default_toolkit_is_the_read_only_catalog_in_order(toolkit: LettaRunsToolkit) -> None:
    names = [tool.name for tool in toolkit.get_tools()]
    assert names == [op.name for op in catalog.OPERATIONS if op.read_only]
    assert "delete_run" not in names
    assert {"list_runs", "retrieve_stream_for_run"} <= set(names)


def test_delete_run_is_offered_only_when_not_read_only() -> None:
    names = [
        t.name for t in LettaRunsToolkit(RunsClient(base_url="demo"), read_only=False).get_tools()
    ]
    assert names == tool_names(read_only=False)
    assert names.index("delete_run") == names.index("retrieve_run") + 1


def test_include_keeps_only_the_named_tools_in_catalog_order() -> None:
    toolkit = LettaRunsToolkit(RunsClient(base_url="demo"), include=["retrieve_run", "list_runs"])
    assert [t.name for t in toolkit.get_tools()] == ["list_runs", "retrieve_run"]


def test_include_with_an_unknown_name_is_a_clear_value_error() -> None:
    with pytest.raises(
        ValueError, match=r"unknown tool name\(s\): 'list_run'; available: list_runs,"
    ):
        LettaRunsToolkit(RunsClient(base_url="demo"), include=["list_run"])


def test_include_of_delete_in_read_only_mode_says_how_to_allow_it() -> None:
    with pytest.raises(ValueError, match=r"delete_run is destructive.*read_only=False"):
        LettaRunsToolkit(RunsClient(base_url="demo"), include=["delete_run"])
    allowed = LettaRunsToolkit(RunsClient(base_url="demo"), read_only=False, include=["delete_run"])
    assert [t.name for t in allowed.get_tools()] == ["delete_run"]


def test_include_must_be_a_list_not_a_single_string() -> None:
    with pytest.raises(ValueError, match="list of tool names"):
        LettaRunsToolkit(RunsClient(base_url="demo"), include="list_runs")  # type: ignore[arg-type]


def test_an_operation_added_to_the_catalog_becomes_a_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    async def echo(client: AsyncRunsClient, run_id: str) -> dict[str, str]:
        return {"run_id": run_id}

    def present(value: Any, args: Any, face: Any) -> OperationResult:
        return OperationResult(data=value, text=f"echo {args.run_id}", artifact=value)

    extra = dataclasses.replace(
        get_operation("retrieve_run"),
        name="echo_run",
        mcp_name="echo-run",
        func=echo,
        present=present,
        composite=True,
    )
    monkeypatch.setattr(catalog, "OPERATIONS", [*catalog.OPERATIONS, extra])
    tool = tools_by_name(LettaRunsToolkit(RunsClient(base_url="demo")))["echo_run"]
    message = tool.invoke(call("echo_run", {"run_id": LOOP_RUN}))
    assert message.content == f"echo {LOOP_RUN}"
    assert tool.metadata is not None and tool.metadata["composite"] is True


# --- each tool is the operation, adapted --------------------------------------------------------


@pytest.mark.parametrize("name", [op.name for op in OPERATIONS])
def test_tool_mirrors_its_operation(name: str) -> None:
    op = get_operation(name)
    tool = LettaRunsTool(operation=name, client=RunsClient(base_url="demo"))
    assert tool.name == op.name
    assert tool.description == op.description
    assert tool.args_schema is op.args_model
    assert tool.response_format == "content_and_artifact"
    assert tool.handle_tool_error is True
    assert tool.metadata is not None
    assert {k: tool.metadata[k] for k in ("readOnly", "destructive", "idempotent")} == {
        "readOnly": op.read_only,
        "destructive": op.destructive,
        "idempotent": op.idempotent,
    }
    assert {k: tool.metadata[k] for k in op.hints} == op.hints


def test_argument_descriptions_reach_the_model() -> None:
    tool = LettaRunsTool(operation="retrieve_run", client=RunsClient(base_url="demo"))
    schema = tool.tool_call_schema.model_json_schema()  # what a chat model is shown
    assert "'run-' followed by a UUID4" in schema["properties"]["run_id"]["description"]
    assert schema["required"] == ["run_id"]


def test_unknown_operation_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown operation 'retrieve_runs'"):
        LettaRunsTool(operation="retrieve_runs", client=RunsClient(base_url="demo"))


async def test_content_is_the_operation_text_and_artifact_its_typed_result(
    toolkit: LettaRunsToolkit,
) -> None:
    async with AsyncRunsClient(base_url="demo") as client:
        expected = await get_operation("retrieve_run").run(client, {"run_id": LOOP_RUN})
    message = await tools_by_name(toolkit)["retrieve_run"].ainvoke(
        call("retrieve_run", {"run_id": LOOP_RUN})
    )
    assert isinstance(message, ToolMessage)
    assert message.status == "success"
    assert message.content == expected.text
    assert "stop=max_steps" in message.content
    assert isinstance(message.artifact, Run)
    assert message.artifact.id == LOOP_RUN


def test_sync_invoke_gives_the_same_message_as_async(toolkit: LettaRunsToolkit) -> None:
    tool = tools_by_name(toolkit)["list_steps_for_run"]
    args = {"run_id": LOOP_RUN, "limit": 3}
    sync_message = tool.invoke(call(tool.name, args))
    async_message = asyncio.run(tool.ainvoke(call(tool.name, args)))
    assert sync_message.content == async_message.content
    assert sync_message.content.startswith(f"3 step(s) of {LOOP_RUN}")
    assert [s.id for s in sync_message.artifact.items] == [
        s.id for s in async_message.artifact.items
    ]


def test_plain_invoke_without_a_tool_call_returns_the_content(toolkit: LettaRunsToolkit) -> None:
    content = tools_by_name(toolkit)["retrieve_usage_for_run"].invoke({"run_id": LOOP_RUN})
    assert content.startswith(f"usage of {LOOP_RUN}: prompt=")


async def test_sync_invoke_inside_a_running_loop_uses_a_worker_thread(
    toolkit: LettaRunsToolkit,
) -> None:
    message = tools_by_name(toolkit)["retrieve_run"].invoke(
        call("retrieve_run", {"run_id": LOOP_RUN})
    )
    assert message.artifact.id == LOOP_RUN


# --- expected failures become error messages the model can act on -------------------------------


async def test_not_found_is_an_error_message_with_what_to_try_next(
    toolkit: LettaRunsToolkit,
) -> None:
    message = await tools_by_name(toolkit)["retrieve_run"].ainvoke(
        call("retrieve_run", {"run_id": UNKNOWN_RUN})
    )
    assert message.status == "error"
    assert message.artifact is None
    assert message.content.startswith(f"run {UNKNOWN_RUN} not found on demo")
    assert "check the id" in message.content


def test_not_supported_trace_points_to_steps_and_messages(toolkit: LettaRunsToolkit) -> None:
    message = tools_by_name(toolkit)["retrieve_trace_for_run"].invoke(
        call("retrieve_trace_for_run", {"run_id": LOOP_RUN})
    )
    assert message.status == "error"
    assert "not available on this server" in message.content
    assert "use steps and messages instead" in message.content


def test_read_only_client_refusal_is_an_error_message() -> None:
    toolkit = LettaRunsToolkit(RunsClient(base_url="demo", read_only=True), read_only=False)
    message = tools_by_name(toolkit)["delete_run"].invoke(call("delete_run", {"run_id": LOOP_RUN}))
    assert message.status == "error"
    assert "refusing to delete run" in message.content
    assert "read_only=False" in message.content


async def test_arguments_outside_the_schema_are_an_error_message_naming_them(
    toolkit: LettaRunsToolkit,
) -> None:
    # LangChain validates against args_schema first; the model reads which argument was wrong.
    limit = await tools_by_name(toolkit)["list_runs"].ainvoke(call("list_runs", {"limit": 0}))
    run_id = await tools_by_name(toolkit)["retrieve_run"].ainvoke(
        call("retrieve_run", {"run_id": "foo"})
    )
    assert limit.status == run_id.status == "error"
    assert limit.content.startswith("invalid arguments: limit: Input should be greater than")
    assert run_id.content.startswith("invalid arguments: run_id: String should match pattern")
    assert "check the argument names and types" in run_id.content


def test_unexpected_errors_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(client: AsyncRunsClient, run_id: str) -> OperationResult:
        raise RuntimeError("bug")

    op = dataclasses.replace(get_operation("retrieve_run"), func=broken)
    tool = LettaRunsTool(operation=op, client=RunsClient(base_url="demo"))
    with pytest.raises(RuntimeError, match="bug"):
        tool.invoke(call("retrieve_run", {"run_id": LOOP_RUN}))


# --- clients -----------------------------------------------------------------------------------


async def test_async_calls_reuse_one_client_per_event_loop(toolkit: LettaRunsToolkit) -> None:
    first = toolkit.clients.for_running_loop()
    tools = tools_by_name(toolkit)
    await tools["retrieve_run"].ainvoke(call("retrieve_run", {"run_id": LOOP_RUN}))
    await tools["list_runs"].ainvoke(call("list_runs", {"limit": 1}))
    assert toolkit.clients.for_running_loop() is first
    other_loop_client = await asyncio.to_thread(asyncio.run, _client_of_new_loop(toolkit.clients))
    assert other_loop_client is not first
    await toolkit.aclose()
    assert toolkit.clients.for_running_loop() is not first


async def _client_of_new_loop(clients: LettaRunsClients) -> AsyncRunsClient:
    return clients.for_running_loop()


async def test_a_given_async_client_is_used_as_is_by_async_calls() -> None:
    async with AsyncRunsClient(base_url="demo") as client:
        toolkit = LettaRunsToolkit(client)
        assert toolkit.clients.for_running_loop() is client
        message = await tools_by_name(toolkit)["retrieve_run"].ainvoke(
            call("retrieve_run", {"run_id": LOOP_RUN})
        )
        assert message.artifact.id == LOOP_RUN
        await toolkit.aclose()  # leaves the caller's client open
        assert (await client.runs.retrieve(LOOP_RUN)).id == LOOP_RUN


def test_a_given_async_client_also_serves_blocking_calls_through_a_copy() -> None:
    client = AsyncRunsClient(base_url="demo")
    tool = tools_by_name(LettaRunsToolkit(client))["retrieve_run"]
    assert tool.invoke(call("retrieve_run", {"run_id": LOOP_RUN})).artifact.id == LOOP_RUN


def test_no_client_means_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETTA_BASE_URL", "demo")
    toolkit = LettaRunsToolkit()
    monkeypatch.setenv("LETTA_BASE_URL", "http://127.0.0.1:9")  # read at construction, not later
    assert toolkit.clients.base_url == "demo"
    message = tools_by_name(toolkit)["retrieve_run"].invoke(
        call("retrieve_run", {"run_id": LOOP_RUN})
    )
    assert message.artifact.id == LOOP_RUN


def test_a_bad_base_url_fails_when_the_toolkit_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETTA_BASE_URL", "localhost:8283")
    with pytest.raises(ValueError, match="invalid base URL"):
        LettaRunsToolkit()


def test_client_must_be_a_letta_runs_client() -> None:
    with pytest.raises(TypeError, match="RunsClient, an AsyncRunsClient or None"):
        LettaRunsToolkit("demo")  # type: ignore[arg-type]


# --- import isolation --------------------------------------------------------------------------


def test_core_package_and_cli_do_not_import_langchain() -> None:
    code = (
        "import sys, letta_runs, letta_runs.cli, letta_runs.operations; "
        "from letta_runs import RunsClient; "
        "loaded = sorted(m for m in sys.modules if m.startswith(('langchain', 'langgraph'))); "
        "assert not loaded, loaded"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_langchain_face_does_import_langchain() -> None:
    # Guards the test above: the same probe does see LangChain once the face is imported.
    code = "import sys, letta_runs.langchain; assert 'langchain_core' in sys.modules"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", READ_OPERATIONS)
def test_every_read_tool_is_in_the_default_toolkit(toolkit: LettaRunsToolkit, name: str) -> None:
    assert name in tools_by_name(toolkit)
