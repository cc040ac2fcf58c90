"""Each face names only its own tools: in descriptions, results, next steps and errors.

An MCP agent has no shell and no ``diagnose_run`` tool; a LangChain agent has no
``list-steps-run``; a REST caller has neither. These tests drive every operation through each
face on the embedded demo runs — the successes and the failures — and fail when any text a
face hands back spells a call the way another face does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from letta_runs import AsyncRunsClient, RunsClient
from letta_runs.operations import OPERATIONS, NextStep, render_next_step

pytest.importorskip("mcp")
pytest.importorskip("fastapi")
pytest.importorskip("langchain_core")

from letta_runs.cli import cli
from letta_runs.langchain import LettaRunsToolkit
from letta_runs.mcp_server import create_server
from letta_runs.rest import create_app
from mcp import Client

LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # completed, hit max_steps
TOOL_RUN = "run-1bcd7407-1899-4bd3-9d6a-6058cfee7e69"  # six steps of tool calls
OK_RUN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"
BG_RUN = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"  # background stream, ends with [DONE]
UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"

EXAMPLES: dict[str, dict[str, Any]] = {
    "list_runs": {"limit": 3},
    "list_active_runs": {},
    "retrieve_run": {"run_id": LOOP_RUN},
    "list_messages_for_run": {"run_id": LOOP_RUN},
    "retrieve_usage_for_run": {"run_id": LOOP_RUN},
    "retrieve_metrics_for_run": {"run_id": LOOP_RUN},
    "list_steps_for_run": {"run_id": LOOP_RUN},
    "retrieve_trace_for_run": {"run_id": LOOP_RUN},
    "retrieve_stream_for_run": {"run_id": BG_RUN, "max_seconds": 5},
    "diagnose_run": {"run_id": LOOP_RUN},
    "run_timeline": {"run_id": TOOL_RUN},
    "triage_runs": {"since": "520w"},
    "find_stuck_runs": {"older_than": "1m"},
    "compare_runs": {"run_id_a": OK_RUN, "run_id_b": LOOP_RUN},
    "watch_run": {"run_id": BG_RUN, "max_seconds": 5},
    "run_report": {"run_id": LOOP_RUN},
}
FAILURES: list[dict[str, Any]] = [
    {"run_id": UNKNOWN_RUN},  # not found
    {"run_id": "foo"},  # malformed id
    {"run_id": LOOP_RUN, "colour": "red"},  # unknown argument
]

# How each face spells a call.
CLI_CALL = re.compile(
    r"letta-runs\s+(--\S+\s+)*(runs|diagnose|timeline|triage|stuck|compare|watch|export|prompt|"
    r"report)\b|`--(detail|since|status|older-than|stuck-after|before|after|limit)\b"
)
REST_CALL = re.compile(r"\b(GET|POST|DELETE) /v1/runs/(run-|triage|stuck|compare|\?)")
LANGCHAIN_CALL = re.compile(r"\b(" + "|".join(op.name for op in OPERATIONS) + r")\b")
MCP_CALL = re.compile(r"(?<![\w/-])(" + "|".join(op.mcp_name for op in OPERATIONS) + r")\b")

OTHERS = {
    "mcp": (CLI_CALL, REST_CALL, LANGCHAIN_CALL),
    "langchain": (CLI_CALL, REST_CALL, MCP_CALL),
    "rest": (CLI_CALL, MCP_CALL),
    "cli": (REST_CALL, MCP_CALL),
}


def leaks(face: str, text: str) -> list[str]:
    return [m.group(0) for pattern in OTHERS[face] for m in pattern.finditer(text)]


def texts(value: Any) -> Iterator[str]:
    """Every string in a JSON value (keys and values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from texts(v)
    elif isinstance(value, list):
        for v in value:
            yield from texts(v)


def test_the_patterns_catch_what_each_face_renders() -> None:
    step = NextStep(operation="list_steps_for_run", args={"run_id": LOOP_RUN, "limit": 5})
    spelled = {face: render_next_step(step, face) for face in ("cli", "mcp", "langchain", "rest")}
    for face, others in OTHERS.items():
        for other, text in spelled.items():
            # REST's operation ids and the CLI's JSON keep the catalog's (Letta's) names.
            if other != face and not (face in ("rest", "cli") and other == "langchain"):
                assert any(p.search(text) for p in others), (face, text)
        assert not leaks(face, spelled[face]), face


def test_every_operation_has_an_example() -> None:
    assert {op.name for op in OPERATIONS if op.read_only} == set(EXAMPLES)


# --------------------------------------------------------------------------- MCP


async def test_mcp_descriptions_results_and_errors_name_only_mcp_tools() -> None:
    seen: list[str] = []
    async with Client(create_server(lambda: AsyncRunsClient(base_url="demo"))) as client:
        tools = (await client.list_tools()).tools
        for tool in tools:
            seen += [tool.description or "", json.dumps(tool.input_schema)]
            seen.append(json.dumps(tool.output_schema))
        for name, args in EXAMPLES.items():
            tool = next(op.mcp_name for op in OPERATIONS if op.name == name)
            results = [await client.call_tool(tool, args)]
            if "run_id" in args:
                results += [await client.call_tool(tool, bad) for bad in FAILURES]
            for result in results:
                seen += [block.text for block in result.content if block.type == "text"]
                seen += list(texts(result.structured_content))
        diagnosis = await client.call_tool("diagnose-run", {"run_id": LOOP_RUN})
    assert any("list-steps-run" in text for text in seen)  # next steps are there, as MCP tools
    steps = diagnosis.structured_content["next_steps"]
    assert steps and all(s.split()[0] in {op.mcp_name for op in OPERATIONS} for s in steps)
    actions = diagnosis.structured_content["next_actions"]
    assert {a["operation"] for a in actions} <= {op.mcp_name for op in OPERATIONS}
    found = [(leak, text[:120]) for text in seen for leak in leaks("mcp", text)]
    assert found == []


# --------------------------------------------------------------------------- LangChain


async def test_langchain_descriptions_results_and_errors_name_only_langchain_tools() -> None:
    toolkit = LettaRunsToolkit(RunsClient(base_url="demo"))
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    seen: list[str] = [t.description for t in tools.values()]
    for name, args in EXAMPLES.items():
        calls = [args, *(FAILURES if "run_id" in args else [])]
        for n, call_args in enumerate(calls):
            message = await tools[name].ainvoke(
                {"name": name, "id": f"call-{n}", "type": "tool_call", "args": call_args}
            )
            seen.append(str(message.content))
    diagnosis = await tools["diagnose_run"].ainvoke({"run_id": LOOP_RUN})
    assert "list_steps_for_run {" in diagnosis  # next steps are there, as LangChain tools
    found = [(leak, text[:120]) for text in seen for leak in leaks("langchain", text)]
    assert found == []
    await toolkit.aclose()


# --------------------------------------------------------------------------- REST


async def test_rest_results_and_errors_name_only_routes() -> None:
    app = create_app(lambda: AsyncRunsClient(base_url="demo"))
    seen: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://adapter"
    ) as api:
        spec = (await api.get("/openapi.json")).json()
        for path in spec["paths"].values():
            seen += [op.get("description", "") for op in path.values()]
        for route, params in (
            (f"/v1/runs/{LOOP_RUN}/diagnosis", {}),
            (f"/v1/runs/{LOOP_RUN}/diagnosis", {"format": "markdown"}),
            (f"/v1/runs/{TOOL_RUN}/timeline", {"format": "markdown"}),
            ("/v1/runs/triage", {"since": "520w"}),
            ("/v1/runs/triage", {"since": "520w", "format": "markdown"}),
            ("/v1/runs/stuck", {"older_than": "1m"}),
            (f"/v1/runs/{UNKNOWN_RUN}/diagnosis", {}),
            ("/v1/runs/foo/diagnosis", {}),
        ):
            response = await api.get(route, params=params)
            seen.append(response.text)
        diagnosis = (await api.get(f"/v1/runs/{LOOP_RUN}/diagnosis")).json()
    assert f"GET /v1/runs/{LOOP_RUN}/steps" in diagnosis["next_steps"]
    found = [(leak, text[:120]) for text in seen for leak in leaks("rest", text)]
    assert found == []


# --------------------------------------------------------------------------- CLI


def test_cli_next_steps_keep_the_global_options_and_name_commands() -> None:
    runner = CliRunner()
    demo = runner.invoke(cli, ["--demo", "diagnose", LOOP_RUN, "--json"])
    assert demo.exit_code == 0, demo.output
    steps = json.loads(demo.stdout)["next_steps"]
    assert steps and all(s.startswith("letta-runs --demo ") for s in steps)
    markdown = runner.invoke(cli, ["diagnose", LOOP_RUN, "--format", "markdown", "--demo"])
    assert f"letta-runs --demo runs steps {LOOP_RUN}" in markdown.stdout
    assert f"letta-runs --demo diagnose {LOOP_RUN} --detail full" in markdown.stdout
    assert leaks("cli", demo.stdout + markdown.stdout) == []


def test_cli_next_steps_keep_the_base_url_but_never_the_key() -> None:
    key = "sk-let-cli-secret-key-4242"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "--base-url",
            "demo",
            "--api-key",
            key,
            "runs",
            "list",
            "--limit",
            "2",
            "--format",
            "table",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "… more: letta-runs --demo runs list --limit 2 --before run-" in result.stdout
    assert key not in result.stdout + result.stderr


def _parse(argv: list[str]) -> None:
    """Parse ``argv`` as ``letta-runs`` would, down to the command, without running it."""
    import click

    ctx = cli.make_context("letta-runs", list(argv))
    command: click.Command = cli
    args = [*ctx.protected_args, *ctx.args]
    while isinstance(command, click.Group) and args:
        name, sub, args = command.resolve_command(ctx, args)
        assert sub is not None and name is not None
        ctx = sub.make_context(name, list(args), parent=ctx)
        command, args = sub, [*ctx.protected_args, *ctx.args]
    assert args == [], argv


@pytest.mark.filterwarnings("ignore:'protected_args' is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_command_line_a_next_step_spells_parses(name: str) -> None:
    import shlex

    args = dict(EXAMPLES[name])
    if name in ("list_runs", "triage_runs"):
        args["statuses"] = ["failed", "cancelled"]
    if name in ("diagnose_run", "watch_run"):
        args["stuck_after_seconds"] = 90.0
    spelled = render_next_step(NextStep(operation=name, args=args), "cli", cli_options=["--demo"])
    _parse(shlex.split(spelled)[1:])
