"""The HTML report on the REST adapter (``GET /v1/runs/{id}/report.html``) and the MCP server
(a ``text/html`` resource per run, linked from the ``run-report`` tool)."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import AsyncIterator

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("mcp")

from letta_runs import AsyncRunsClient
from letta_runs.mcp_server import create_server
from letta_runs.rest import create_app
from mcp import Client
from mcp.shared.exceptions import MCPError

LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"
UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"
REPORT_URI = f"letta-runs://runs/{LOOP_RUN}/report.html"


def demo_client() -> AsyncRunsClient:
    return AsyncRunsClient(base_url="demo")


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(demo_client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as client,
    ):
        yield client


async def test_rest_serves_the_report_as_a_page_with_its_policy(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/v1/runs/{LOOP_RUN}/report.html")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-verdict="failed"' in response.text
    meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', response.text)
    assert meta is not None
    assert response.headers["content-security-policy"] == html_lib.unescape(meta.group(1))
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_rest_report_errors_keep_lettas_answers(api: httpx.AsyncClient) -> None:
    missing = await api.get(f"/v1/runs/{UNKNOWN_RUN}/report.html")
    assert missing.status_code == 404 and "not found" in missing.json()["detail"].lower()
    malformed = await api.get("/v1/runs/foo/report.html")
    assert malformed.status_code == 400


async def test_rest_openapi_describes_the_page(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    route = spec["paths"]["/v1/runs/{run_id}/report.html"]["get"]
    assert route["operationId"] == "run_report"
    assert "text/html" in route["responses"]["200"]["content"]


async def test_mcp_offers_each_runs_report_as_an_html_resource() -> None:
    async with Client(create_server(demo_client)) as client:
        templates = (await client.list_resource_templates()).resource_templates
        assert [(t.uri_template, t.mime_type) for t in templates] == [
            ("letta-runs://runs/{run_id}/report.html", "text/html")
        ]
        (content,) = (await client.read_resource(REPORT_URI)).contents
    assert content.mime_type == "text/html"
    assert str(content.uri) == REPORT_URI
    assert 'data-verdict="failed"' in content.text  # type: ignore[union-attr]


async def test_mcp_report_tool_links_to_the_resource_without_the_page() -> None:
    async with Client(create_server(demo_client)) as client:
        result = await client.call_tool("run-report", {"run_id": LOOP_RUN})
    assert not result.is_error
    links = [c for c in result.content if c.type == "resource_link"]
    assert [str(link.uri) for link in links] == [REPORT_URI]
    assert links[0].mime_type == "text/html"
    structured = result.structured_content or {}
    assert structured["verdict"] == "failed" and structured["uri"] == REPORT_URI
    assert "route" not in structured  # the MCP face names only its own way to the page
    assert "<html" not in str(result.content)  # the page is read as the resource


async def test_mcp_unknown_report_resources_are_errors() -> None:
    async with Client(create_server(demo_client)) as client:
        with pytest.raises(MCPError, match="not found"):
            await client.read_resource(f"letta-runs://runs/{UNKNOWN_RUN}/report.html")
        with pytest.raises(MCPError, match="unknown resource"):
            await client.read_resource("letta-runs://runs/x/other.txt")
