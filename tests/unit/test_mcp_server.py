"""The MCP server, spoken to through the SDK's own client: in memory, over stdio and over HTTP."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_server import serve_asgi

pytest.importorskip("mcp")

from letta_runs import AsyncRunsClient, InvalidArgumentError
from letta_runs.mcp_server import (
    create_http_app,
    create_server,
    output_schema,
    served_operations,
)
from letta_runs.operations import COMPOSITE_OPERATIONS, OPERATIONS
from mcp import Client, StdioServerParameters

FIXTURES = (Path(__file__).resolve().parents[1] / "data" / "fixtures").resolve()


def read_fixture(label: str, name: str) -> Any:
    """A recorded real-server response of the run labelled ``label`` in the fixture index."""
    for entry in json.loads((FIXTURES / "index.json").read_text()):
        if entry["label"] == label:
            return json.loads((FIXTURES / entry["path"] / name).read_text())
    raise KeyError(label)


SEED_TOOLS = [
    "list-runs",
    "list-active-runs",
    "retrieve-run",
    "delete-run",
    "list-messages-run",
    "retrieve-usage-run",
    "retrieve-metrics-run",
    "list-steps-run",
    "retrieve-trace-run",
    "retrieve-stream-run",
]
SYNC_PLAIN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"
MULTI_STEP = "run-1bcd7407-1899-4bd3-9d6a-6058cfee7e69"  # sync_add_mem_search_note_add
BG_STEPS = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"
UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"


def demo_client() -> AsyncRunsClient:
    return AsyncRunsClient(base_url="demo")


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


# --------------------------------------------------------------------------- listing


async def test_lists_exactly_the_seed_tools_without_delete_and_the_composites() -> None:
    async with Client(create_server(demo_client)) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
    expected = [n for n in SEED_TOOLS if n != "delete-run"] + [
        op.mcp_name for op in COMPOSITE_OPERATIONS if not op.destructive
    ]
    assert names == expected
    assert "delete-run" not in names


async def test_allow_delete_adds_delete_run_as_destructive() -> None:
    async with Client(create_server(demo_client, allow_delete=True)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert [n for n in tools if n in SEED_TOOLS] == SEED_TOOLS
    ann = tools["delete-run"].annotations
    assert ann is not None
    assert (ann.read_only_hint, ann.destructive_hint, ann.open_world_hint) == (False, True, True)


async def test_every_tool_carries_the_catalog_schema_title_and_hints() -> None:
    ops = {op.mcp_name: op for op in OPERATIONS}
    async with Client(create_server(demo_client, allow_delete=True)) as client:
        tools = (await client.list_tools()).tools
    assert len(tools) == len(ops)
    for tool in tools:
        op = ops[tool.name]
        assert tool.input_schema == op.args_model.model_json_schema()
        assert tool.input_schema["type"] == "object"
        assert tool.title == op.title
        assert tool.description == op.description
        assert tool.annotations is not None
        dumped = tool.annotations.model_dump(by_alias=True, exclude_none=True)
        assert dumped == {"title": op.title, **op.hints}
        assert dumped["openWorldHint"] is True
        assert tool.output_schema == output_schema(op)
        assert tool.output_schema["type"] == "object"
        assert tool.output_schema.get("properties"), tool.name  # the result model's shape


async def test_output_schemas_describe_the_result_models() -> None:
    async with Client(create_server(demo_client)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    pages = ("list-runs", "list-messages-run", "list-steps-run", "retrieve-trace-run")
    for name in pages:
        props = tools[name].output_schema["properties"]
        assert {"items", "has_more", "next_cursor", "next_arguments"} <= set(props), name
    diagnosis = tools["diagnose-run"].output_schema["properties"]
    assert {"verdict", "root_cause", "next_steps", "usage"} <= set(diagnosis)
    run = tools["retrieve-run"].output_schema["properties"]
    assert {"id", "status", "stop_reason", "agent_id"} <= set(run)


async def test_only_the_stream_is_not_idempotent() -> None:
    async with Client(create_server(demo_client)) as client:
        tools = (await client.list_tools()).tools
    idempotent = {t.name: t.annotations.idempotent_hint for t in tools if t.annotations}
    assert idempotent["retrieve-stream-run"] is False
    assert [name for name, value in idempotent.items() if not value] == ["retrieve-stream-run"]


def test_read_only_tools_are_all_read_only() -> None:
    for op in served_operations():
        assert op.hints["readOnlyHint"] is True, op.mcp_name
        assert op.hints["destructiveHint"] is False, op.mcp_name


# --------------------------------------------------------------------------- calls on demo data


async def test_retrieve_run_returns_the_run_as_structured_content_and_json_text() -> None:
    recorded = read_fixture("sync_plain", "run.json")
    async with Client(create_server(demo_client)) as client:
        result = await client.call_tool("retrieve-run", {"run_id": SYNC_PLAIN})
    assert result.is_error is False
    data = result.structured_content
    assert data["id"] == SYNC_PLAIN
    assert (data["status"], data["stop_reason"]) == (recorded["status"], recorded["stop_reason"])
    assert data["agent_id"] == recorded["agent_id"]
    assert json.loads(result.content[0].text) == data
    assert SYNC_PLAIN in result.content[1].text  # the operation's short summary


async def test_list_tools_return_pages_with_has_more_and_the_next_arguments() -> None:
    async with Client(create_server(demo_client)) as client:
        runs = await client.call_tool("list-runs", {"limit": 3})
        steps = await client.call_tool("list-steps-run", {"run_id": MULTI_STEP, "limit": 100})
        rest = await client.call_tool("list-runs", runs.structured_content["next_arguments"])
        messages = await page_to_the_end(client, "list-messages-run", {"run_id": MULTI_STEP})
    page = runs.structured_content
    assert [r["status"] for r in page["items"]] and page["count"] == 3
    assert page["has_more"] is True
    assert page["next_arguments"] == {"limit": 3, "before": page["items"][-1]["id"]}
    assert page["next_cursor"] == page["items"][-1]["id"]
    assert not {r["id"] for r in page["items"]} & {
        r["id"] for r in rest.structured_content["items"]
    }
    assert "list-runs {" in runs.content[1].text  # the continuation, in this server's names
    recorded_steps = read_fixture("sync_add_mem_search_note_add", "steps.json")
    assert sorted(s["id"] for s in steps.structured_content["items"]) == sorted(
        s["id"] for s in recorded_steps
    )
    assert steps.structured_content["has_more"] is False
    assert steps.structured_content["next_arguments"] is None
    recorded_messages = read_fixture("sync_add_mem_search_note_add", "messages.json")
    assert [m["id"] for m in messages] == [m["id"] for m in recorded_messages]


LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # sync_max_steps_default: 50 steps


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_an_mcp_client_pages_a_long_run_to_the_end_from_what_the_results_say(
    order: str,
) -> None:
    recorded = read_fixture("sync_max_steps_default", "messages.json")
    assert len(recorded) >= 100
    async with Client(create_server(demo_client)) as client:
        items = await page_to_the_end(
            client, "list-messages-run", {"run_id": LOOP_RUN, "order": order}
        )
    expected = [(m["id"], m["message_type"]) for m in recorded]
    got = [(m["id"], m["message_type"]) for m in items]
    assert got == (expected if order == "asc" else _newest_first(expected))


def _newest_first(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Newest internal message first; the items one message expands to keep their order."""
    groups: list[list[tuple[str, str]]] = []
    for item in items:
        if groups and groups[-1][0][0] == item[0]:
            groups[-1].append(item)
        else:
            groups.append([item])
    return [item for group in reversed(groups) for item in group]


async def page_to_the_end(client: Client, tool: str, arguments: dict[str, Any]) -> list[Any]:
    """Every item of a list tool, using only what each result says about the next page."""
    items: list[Any] = []
    for _ in range(100):
        result = await client.call_tool(tool, arguments)
        assert result.is_error is False, text_of(result)
        page = result.structured_content
        items += page["items"]
        if not page["has_more"]:
            assert page["next_arguments"] is None
            return items
        assert page["next_cursor"] == page["items"][-1]["id"]
        arguments = page["next_arguments"]
    raise AssertionError(f"{tool} never reached the end")


async def test_usage_and_metrics_are_objects_from_the_recording() -> None:
    async with Client(create_server(demo_client)) as client:
        usage = await client.call_tool("retrieve-usage-run", {"run_id": MULTI_STEP})
        metrics = await client.call_tool("retrieve-metrics-run", {"run_id": MULTI_STEP})
    recorded = read_fixture("sync_add_mem_search_note_add", "usage.json")
    assert usage.structured_content["total_tokens"] == recorded["total_tokens"]
    assert (
        metrics.structured_content["num_steps"]
        == read_fixture("sync_add_mem_search_note_add", "metrics.json")["num_steps"]
    )


async def test_stream_tool_returns_events_and_last_seq_id() -> None:
    async with Client(create_server(demo_client)) as client:
        result = await client.call_tool(
            "retrieve-stream-run", {"run_id": BG_STEPS, "max_seconds": 10}
        )
    assert result.is_error is False
    data = result.structured_content
    assert data["end_reason"] == "done"
    assert data["complete"] is True
    assert isinstance(data["last_seq_id"], int) and data["last_seq_id"] > 1
    assert data["events"][-1] == "[DONE]"


# --------------------------------------------------------------------------- errors


async def test_trace_501_is_a_tool_error_with_what_to_do() -> None:
    async with Client(create_server(demo_client)) as client:
        result = await client.call_tool("retrieve-trace-run", {"run_id": SYNC_PLAIN})
    assert result.is_error is True
    text = text_of(result)
    assert "not available" in text
    assert "What to do:" in text
    assert result.structured_content["status_code"] == 501
    assert "Traceback" not in text


async def test_unknown_run_is_a_not_found_tool_error() -> None:
    async with Client(create_server(demo_client)) as client:
        result = await client.call_tool("retrieve-run", {"run_id": UNKNOWN_RUN})
    assert result.is_error is True
    assert result.structured_content["error"] == "not_found"
    assert UNKNOWN_RUN in text_of(result)


async def test_bad_arguments_are_a_tool_error_naming_the_argument() -> None:
    async with Client(create_server(demo_client)) as client:
        bad_id = await client.call_tool("retrieve-run", {"run_id": "foo"})
        bad_limit = await client.call_tool("list-runs", {"limit": 0})
        extra = await client.call_tool("list-runs", {"colour": "red"})
    for result, needle in ((bad_id, "run_id"), (bad_limit, "limit"), (extra, "colour")):
        assert result.is_error is True
        assert needle in text_of(result)
        assert result.structured_content["error"] == "invalid_argument"


async def test_delete_run_is_absent_by_default_and_says_how_to_enable_it() -> None:
    async with Client(create_server(demo_client)) as client:
        result = await client.call_tool("delete-run", {"run_id": SYNC_PLAIN})
    assert result.is_error is True
    assert "--allow-delete" in text_of(result)


async def test_delete_run_reaches_the_client_when_allowed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "GET":
            return httpx.Response(200, json={"id": SYNC_PLAIN, "status": "completed"})
        return httpx.Response(500, json={"detail": "An unknown error occurred"})

    def factory() -> AsyncRunsClient:
        return AsyncRunsClient(
            base_url="http://letta.test", transport=httpx.MockTransport(handler), max_retries=0
        )

    async with Client(create_server(factory, allow_delete=True)) as client:
        result = await client.call_tool("delete-run", {"run_id": SYNC_PLAIN})
    # Read, one DELETE (a 500 is never re-sent), a read that finds the run still there, and
    # the server's version to explain the 500.
    assert seen == [
        f"GET /v1/runs/{SYNC_PLAIN}",
        f"DELETE /v1/runs/{SYNC_PLAIN}",
        f"GET /v1/runs/{SYNC_PLAIN}",
        "GET /v1/health/",
    ]
    assert result.is_error is True  # Letta 0.16.8 answers 500 to every DELETE
    assert result.structured_content["status_code"] == 500


async def test_errors_never_contain_the_api_key_or_a_traceback() -> None:
    key = "sk-let-very-secret-key-1234"

    def handler(request: httpx.Request) -> httpx.Response:
        # A hostile server echoing the caller's credentials back in its error.
        return httpx.Response(401, json={"detail": f"bad key {request.headers['authorization']}"})

    def factory() -> AsyncRunsClient:
        return AsyncRunsClient(
            api_key=key, base_url="http://letta.test", transport=httpx.MockTransport(handler)
        )

    async with Client(create_server(factory)) as client:
        result = await client.call_tool("retrieve-run", {"run_id": SYNC_PLAIN})
    assert result.is_error is True
    dumped = result.model_dump_json()
    assert key not in dumped
    assert "Traceback" not in dumped


async def test_an_unexpected_exception_becomes_a_readable_tool_error() -> None:
    class BrokenRuns:
        async def retrieve(self, run_id: str) -> Any:
            raise RuntimeError("disk on fire")

    class BrokenClient:
        runs = BrokenRuns()

        async def aclose(self) -> None:
            return None

    async with Client(create_server(lambda: BrokenClient())) as client:  # type: ignore[arg-type, return-value]
        result = await client.call_tool("retrieve-run", {"run_id": SYNC_PLAIN})
    assert result.is_error is True
    text = text_of(result)
    assert text.startswith("Error: unexpected RuntimeError: disk on fire")
    assert "Traceback" not in text


async def test_the_client_is_made_once_and_closed_when_the_server_stops() -> None:
    made: list[AsyncRunsClient] = []
    closed: list[bool] = []

    class Tracked(AsyncRunsClient):
        async def aclose(self) -> None:
            closed.append(True)
            await super().aclose()

    def factory() -> AsyncRunsClient:
        made.append(Tracked(base_url="demo"))
        return made[-1]

    async with Client(create_server(factory)) as client:
        await client.call_tool("retrieve-run", {"run_id": SYNC_PLAIN})
        await client.call_tool("retrieve-usage-run", {"run_id": SYNC_PLAIN})
    assert len(made) == 1
    assert closed == [True]


# --------------------------------------------------------------------------- real transports


@pytest.fixture
def mcp_http_url() -> Iterator[str]:
    yield from _serve_http(token=None)


@pytest.fixture
def mcp_http_url_with_token() -> Iterator[str]:
    yield from _serve_http(token="mcp-t0ken-for-tests")


def _serve_http(token: str | None) -> Iterator[str]:
    app = create_http_app(demo_client, host="127.0.0.1", token=token)
    with serve_asgi(app, what="the MCP HTTP server") as url:
        yield url + "/mcp"


async def test_streamable_http_lists_and_calls(mcp_http_url: str) -> None:
    async with Client(mcp_http_url) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        result = await client.call_tool("retrieve-run", {"run_id": BG_STEPS})
        missing = await client.call_tool("retrieve-run", {"run_id": UNKNOWN_RUN})
    assert names[:3] == ["list-runs", "list-active-runs", "retrieve-run"]
    assert "delete-run" not in names
    assert result.is_error is False
    assert result.structured_content["id"] == BG_STEPS
    assert result.structured_content["background"] is True
    assert missing.is_error is True


async def test_streamable_http_refuses_a_foreign_host_header(mcp_http_url: str) -> None:
    # DNS-rebinding protection: a page on another origin must not drive the local server.
    async with httpx.AsyncClient() as http:
        response = await http.post(
            mcp_http_url,
            headers={"Host": "evil.example", "Content-Type": "application/json"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
    assert response.status_code in (400, 403, 421)


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


async def test_streamable_http_with_a_token_refuses_callers_without_it(
    mcp_http_url_with_token: str,
) -> None:
    async with httpx.AsyncClient() as http:
        anonymous = await http.post(mcp_http_url_with_token, headers=MCP_HEADERS, json=INITIALIZE)
        wrong = await http.post(
            mcp_http_url_with_token,
            headers={**MCP_HEADERS, "Authorization": "Bearer nope"},
            json=INITIALIZE,
        )
        right = await http.post(
            mcp_http_url_with_token,
            headers={**MCP_HEADERS, "Authorization": "Bearer mcp-t0ken-for-tests"},
            json=INITIALIZE,
        )
    assert anonymous.status_code == wrong.status_code == 401
    assert "mcp-t0ken-for-tests" not in anonymous.text + wrong.text
    assert right.status_code == 200, right.text
    assert "serverInfo" in right.text


def test_http_transport_refuses_a_public_host_without_a_token() -> None:
    with pytest.raises(InvalidArgumentError, match="without a token"):
        create_http_app(demo_client, host="0.0.0.0")
    assert create_http_app(demo_client, host="0.0.0.0", token="x" * 16) is not None


async def test_stdio_transport_serves_the_tools() -> None:
    src = Path(__file__).resolve().parents[2] / "skill"
    env = {
        **os.environ,
        "LETTA_BASE_URL": "demo",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])),
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", "from letta_runs.mcp_server import run_mcp; run_mcp('stdio')"],
        env=env,
    )
    async with Client(params) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        result = await client.call_tool("retrieve-run", {"run_id": SYNC_PLAIN})
    assert "retrieve-stream-run" in names
    assert result.structured_content["id"] == SYNC_PLAIN
