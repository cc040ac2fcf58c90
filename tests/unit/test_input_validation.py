"""Odd input is a usage error on every face, before any request — never an unexpected error.

The CLI answers exit 2 with a message, the REST adapter Letta's own status and body (400 for a
malformed run id, as Letta answers), the MCP server a tool error, LangChain an error message.
The CLI cases that depend on the socket layer (a NaN timeout) talk to a real loopback server.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from faults import RawRequest, SocketServer, http_response
from letta_runs import AsyncRunsClient, ConfigurationError, InvalidArgumentError, RunsClient
from letta_runs._demo import load_demo_bundles
from letta_runs.cli import CLIState, cli
from letta_runs.durations import parse_duration

RUN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"
BG_RUN = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"
BUNDLES = {b["run"]["id"]: b for b in load_demo_bundles()}


@pytest.fixture(scope="module")
def letta() -> Iterator[tuple[str, SocketServer]]:
    """A loopback server answering the run (and the background run's stream)."""

    def script(index: int, request: RawRequest, conn: socket.socket) -> None:
        if request.path.endswith("/stream"):
            sse = BUNDLES[BG_RUN]["stream"]["sse"]
            conn.sendall(http_response(200, sse, content_type="text/event-stream"))
        else:
            conn.sendall(http_response(200, json.dumps(BUNDLES[RUN]["run"])))

    server = SocketServer(script)
    with server as url:
        yield url, server


def run_cli(*args: str, **env: str) -> Result:
    base = {"LETTA_API_KEY": "", "LETTA_RUNS_READ_ONLY": "", "LETTA_CUSTOM_HEADERS": ""}
    return CliRunner().invoke(cli, list(args), obj=CLIState(), env={**base, **env})


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "1e309"])
def test_a_timeout_that_is_not_a_finite_number_of_seconds_is_a_usage_error(
    letta: tuple[str, SocketServer], value: str
) -> None:
    url, server = letta
    before = len(server.requests)
    result = run_cli("--base-url", url, "--timeout", value, "runs", "get", RUN)
    assert result.exit_code == 2, result.output
    assert "--timeout" in result.stderr and "unexpected" not in result.stderr
    assert len(server.requests) == before


@pytest.mark.parametrize("value", ["nan", "inf", "0"])
def test_a_stream_idle_timeout_that_is_not_finite_is_a_usage_error(
    letta: tuple[str, SocketServer], value: str
) -> None:
    url, server = letta
    before = len(server.requests)
    result = run_cli("--base-url", url, "runs", "stream", BG_RUN, "--idle-timeout", value)
    assert result.exit_code == 2, result.output
    assert "--idle-timeout" in result.stderr
    assert len(server.requests) == before


def test_an_empty_base_url_is_not_letta_cloud() -> None:
    result = run_cli("--base-url", "", "runs", "get", RUN)
    assert result.exit_code == 2, result.output
    assert "base URL" in result.stderr and "is empty" in result.stderr
    with pytest.raises(ConfigurationError, match="is empty"):
        RunsClient(base_url="")


def test_an_unset_or_empty_base_url_variable_still_means_letta_cloud(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LETTA_BASE_URL", "")
    assert RunsClient().base_url == "https://api.letta.com"


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://x:99999", "ftp://x", "http://", "http://a b"]
)
def test_a_base_url_that_does_not_parse_is_a_usage_error(url: str) -> None:
    result = run_cli("--base-url", url, "runs", "get", RUN)
    assert result.exit_code == 2, result.output
    assert "base URL" in result.stderr


@pytest.mark.parametrize("since", ["99999999999d", "36501d", "1e400"])
def test_a_window_past_any_calendar_is_a_usage_error(since: str) -> None:
    result = run_cli("--demo", "triage", "--since", since)
    assert result.exit_code == 2, result.output
    assert "--since" in result.stderr
    with pytest.raises(InvalidArgumentError):
        parse_duration(since)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 0.0])
def test_durations_as_numbers_are_finite_and_positive(value: float) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_duration(value)


def test_an_output_file_that_cannot_be_written_is_refused_before_any_request(
    letta: tuple[str, SocketServer], tmp_path: Path
) -> None:
    url, server = letta
    before = len(server.requests)
    for target in (tmp_path / "missing" / "x.json", tmp_path):
        result = run_cli("--base-url", url, "runs", "get", RUN, "-o", str(target))
        assert result.exit_code == 2, result.output
        assert "--output" in result.stderr
    assert len(server.requests) == before


def test_a_write_that_fails_after_the_check_is_still_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("--demo", "runs", "get", RUN, "-o", "/dev/full")
    assert result.exit_code == 2, result.output
    assert "cannot write /dev/full" in result.stderr


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\t"])
def test_a_run_id_with_whitespace_around_it_is_refused_everywhere(suffix: str) -> None:
    bad = RUN + suffix
    result = run_cli("--demo", "runs", "get", bad)
    assert result.exit_code == 2, result.output
    assert "remove the whitespace or line ending" in result.stderr
    with pytest.raises(InvalidArgumentError):
        RunsClient(base_url="demo").runs.retrieve(bad)


async def test_rest_answers_a_run_id_with_a_final_newline_as_letta_does() -> None:
    pytest.importorskip("fastapi")
    from letta_runs.rest import create_app

    app = create_app(lambda: AsyncRunsClient(base_url="demo"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as c:
        for path in (
            f"/v1/runs/{RUN}%0A",
            f"/v1/runs/{RUN}%0A/steps",
            f"/v1/runs/{RUN}%0A/diagnosis",
        ):
            response = await c.get(path)
            assert response.status_code == 400, (path, response.text)
            assert response.json()["detail"].startswith("INVALID_ARGUMENT: Invalid run ID format")


async def test_rest_answers_odd_bodies_and_values_without_a_500() -> None:
    pytest.importorskip("fastapi")
    from letta_runs.rest import create_app

    app = create_app(lambda: AsyncRunsClient(base_url="demo"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as c:
        answers = [
            await c.post(f"/v1/runs/{BG_RUN}/stream", json=[1, 2]),
            await c.post(f"/v1/runs/{BG_RUN}/stream", json={"starting_after": "x"}),
            await c.post(
                f"/v1/runs/{BG_RUN}/stream",
                content=b"\xff\xfe{",
                headers={"content-type": "application/json"},
            ),
            await c.get("/v1/runs/?limit=nan"),
            await c.get(f"/v1/runs/{RUN}/diagnosis?stuck_after_seconds=nan"),
            await c.get(f"/v1/runs/{RUN}/diagnosis?stuck_after_seconds=inf"),
            await c.get(f"/v1/runs/{RUN}/report.html?stuck_after_seconds=inf"),
            await c.get("/v1/runs/triage?since=99999999999d"),
        ]
    for response in answers:
        assert 400 <= response.status_code < 500, response.text
        assert "detail" in response.json()


async def test_mcp_and_langchain_report_odd_arguments_as_tool_errors() -> None:
    pytest.importorskip("mcp")
    pytest.importorskip("langchain_core")
    from letta_runs.langchain import LettaRunsToolkit
    from letta_runs.mcp_server import create_server
    from mcp import Client

    odd = [
        ("retrieve-run", "retrieve_run", {"run_id": RUN + "\n"}),
        ("retrieve-run", "retrieve_run", {"run_id": 5}),
        ("triage-runs", "triage_runs", {"since": "99999999999d"}),
        ("list-runs", "list_runs", {"limit": "ten"}),
        ("diagnose-run", "diagnose_run", {"run_id": RUN, "stuck_after_seconds": "inf"}),
        ("diagnose-run", "diagnose_run", {"run_id": RUN, "stuck_after_seconds": 1e309}),
    ]
    async with Client(create_server(lambda: AsyncRunsClient(base_url="demo"))) as client:
        for mcp_name, _, args in odd:
            result = await client.call_tool(mcp_name, args)
            assert result.is_error is True, (mcp_name, args)
    tools = {t.name: t for t in LettaRunsToolkit(RunsClient(base_url="demo")).get_tools()}
    for _, name, args in odd:
        message = await tools[name].ainvoke(
            {"name": name, "args": args, "id": "c1", "type": "tool_call"}
        )
        assert message.status == "error", (name, args)
        assert "Traceback" not in str(message.content)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0.0, -1.0, "600"])
async def test_the_python_composites_refuse_a_stuck_after_that_is_not_seconds(value: Any) -> None:
    from letta_runs.composites import diagnose_run, watch_run

    async with AsyncRunsClient(base_url="demo") as client:
        for call in (diagnose_run, watch_run):
            with pytest.raises(InvalidArgumentError, match="stuck_after"):
                await call(client, RUN, stuck_after=value)
