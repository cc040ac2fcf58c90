"""Against the real Letta server: the MCP tools return what Letta holds, in memory, over HTTP and
over stdio.

Needs the session fixture ``seeded`` (``SeededRuns``) from ``tests/integration/conftest.py``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_server import serve_asgi

pytest.importorskip("mcp")

from letta_runs import AsyncRunsClient
from letta_runs.mcp_server import create_http_app, create_server
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.letta_server

UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"


def _letta_get(seeded: Any, path: str, **params: Any) -> Any:
    key = os.environ.get("LETTA_API_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.get(f"{seeded.base_url}{path}", params=params, headers=headers, timeout=60)
    response.raise_for_status()
    return response.json()


def _items(structured: dict[str, Any]) -> list[Any]:
    """The items of a list result (a page: ``items``, ``has_more``, ``next_arguments``)."""
    return list(structured["items"])


def _busiest(seeded: Any) -> Any:
    return max(seeded.runs.values(), key=lambda r: r.step_count)


def _factory(seeded: Any) -> Any:
    return lambda: AsyncRunsClient(base_url=seeded.base_url)


async def _check_tools_against_letta(client: Client, seeded: Any) -> None:
    run = _busiest(seeded)
    letta_run = _letta_get(seeded, f"/v1/runs/{run.run_id}")
    retrieved = await client.call_tool("retrieve-run", {"run_id": run.run_id})
    assert retrieved.is_error is False
    for key in ("id", "status", "stop_reason", "agent_id", "background", "metadata"):
        assert retrieved.structured_content[key] == letta_run[key], key

    letta_steps = _letta_get(seeded, f"/v1/runs/{run.run_id}/steps", limit=1000, order="asc")
    steps = await client.call_tool(
        "list-steps-run", {"run_id": run.run_id, "limit": 1000, "order": "asc"}
    )
    items = _items(steps.structured_content)
    assert [s["id"] for s in items] == [s["id"] for s in letta_steps][: len(items)]
    assert [s["status"] for s in items] == [s["status"] for s in letta_steps][: len(items)]

    usage = await client.call_tool("retrieve-usage-run", {"run_id": run.run_id})
    assert (
        usage.structured_content["total_tokens"]
        == (_letta_get(seeded, f"/v1/runs/{run.run_id}/usage")["total_tokens"])
    )
    missing = await client.call_tool("retrieve-run", {"run_id": UNKNOWN_RUN})
    assert missing.is_error is True
    assert missing.structured_content["status_code"] == 404


async def test_in_memory_tools_read_the_real_server(seeded: Any) -> None:
    async with Client(create_server(_factory(seeded))) as client:
        await _check_tools_against_letta(client, seeded)
        failed = [r for r in seeded.runs.values() if r.status == "failed"]
        for run in failed[:5]:
            listed = await client.call_tool(
                "list-runs", {"statuses": ["failed"], "agent_id": run.agent_id, "limit": 100}
            )
            assert run.run_id in {r["id"] for r in _items(listed.structured_content)}
        trace = await client.call_tool("retrieve-trace-run", {"run_id": _busiest(seeded).run_id})
        assert trace.is_error is True  # no ClickHouse on the test server: 501


async def test_an_mcp_client_pages_a_long_run_to_the_end_from_what_the_results_say(
    seeded: Any,
) -> None:
    run = seeded.runs["sync.loop_max_steps_default"]  # 50 steps: well over 100 messages
    letta = _letta_get(seeded, f"/v1/runs/{run.run_id}/messages", limit=1000, order="asc")
    assert len(letta) >= 100
    items: list[Any] = []
    calls = 0
    arguments: dict[str, Any] = {"run_id": run.run_id}
    async with Client(create_server(_factory(seeded))) as client:
        while True:
            result = await client.call_tool("list-messages-run", arguments)
            calls += 1
            assert result.is_error is False
            page = result.structured_content
            items += page["items"]
            if not page["has_more"]:
                break
            assert "list-messages-run {" in result.content[1].text  # the text says it too
            arguments = page["next_arguments"]
            assert calls < 100
    assert calls > 1  # the result really was cut to fit, and continued
    assert [(m["id"], m["message_type"]) for m in items] == [
        (m["id"], m["message_type"]) for m in letta
    ]


async def test_stream_tool_on_a_finished_background_run(seeded: Any) -> None:
    done = [
        r for r in seeded.runs.values() if r.endpoint == "stream_bg" and r.status == "completed"
    ]
    if not done:
        pytest.skip("no completed background run was seeded")
    async with Client(create_server(_factory(seeded))) as client:
        result = await client.call_tool(
            "retrieve-stream-run", {"run_id": done[0].run_id, "max_seconds": 30}
        )
    if result.is_error:  # a reused seed older than 3 h: Letta answers 410
        assert result.structured_content["status_code"] in (400, 410)
        return
    assert result.structured_content["complete"] is True
    assert isinstance(result.structured_content["last_seq_id"], int)


@pytest.fixture
def mcp_url(seeded: Any) -> Iterator[str]:
    app = create_http_app(_factory(seeded), host="127.0.0.1")
    with serve_asgi(app, what="the MCP HTTP server") as url:
        yield url + "/mcp"


async def test_streamable_http_tools_read_the_real_server(seeded: Any, mcp_url: str) -> None:
    async with Client(mcp_url) as client:
        await _check_tools_against_letta(client, seeded)


async def test_stdio_tools_read_the_real_server(seeded: Any) -> None:
    src = Path(__file__).resolve().parents[2] / "skill"
    env = {
        **os.environ,
        "LETTA_BASE_URL": seeded.base_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])),
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", "from letta_runs.mcp_server import run_mcp; run_mcp('stdio')"],
        env=env,
    )
    async with Client(params) as client:
        await _check_tools_against_letta(client, seeded)
