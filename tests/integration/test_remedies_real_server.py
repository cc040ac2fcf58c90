"""The remedies' Letta calls work on a real Letta 0.16.8 server, exactly as the diagnosis
writes them.

Each test makes its own agent and its own paused run (the seeded runs stay as they are), takes
the remedy from the diagnosis, sends its ``api`` call unchanged, and checks that the run went on.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from letta_runs import AsyncRunsClient
from letta_runs.composites import diagnose_run
from letta_runs.diagnosis import RunDiagnosis

from tests.letta_server import SeededRuns
from tests.letta_server.seed import _create_agent as create_agent
from tests.letta_server.seed import llm_config_for

pytestmark = pytest.mark.letta_server


def _diagnose(base_url: str, run_id: str) -> RunDiagnosis:
    async def go() -> RunDiagnosis:
        async with AsyncRunsClient(base_url=base_url) as client:
            return await diagnose_run(client, run_id)

    return asyncio.run(go())


def _agent(http: httpx.Client, llm_url: str | None, tool_ids: list[str]) -> str:
    # The harness's own agent recipe (letta_v1_agent on the scripted model).
    return create_agent(
        http, f"remedy-{uuid.uuid4().hex[:8]}", llm_config_for(http, llm_url), tool_ids
    )


def _runs(http: httpx.Client, agent_id: str) -> list[dict[str, Any]]:
    response = http.get("/v1/runs/", params={"agent_ids": agent_id, "limit": 100})
    assert response.status_code == 200, response.text
    return [r for r in response.json() if r.get("agent_id") == agent_id]


def _new_run(http: httpx.Client, agent_id: str, before: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        fresh = [r for r in _runs(http, agent_id) if r["id"] not in before]
        if fresh and fresh[0].get("status") in ("completed", "failed", "cancelled"):
            return fresh[0]
        time.sleep(1)
    raise AssertionError(f"no finished new run for {agent_id}")


def _paused_run(http: httpx.Client, agent_id: str, extra: dict[str, Any]) -> str:
    body = {
        "messages": [{"role": "user", "content": "remedy check [scenario:requires_approval]"}],
        **extra,
    }
    response = http.post(f"/v1/agents/{agent_id}/messages", json=body)
    assert response.status_code == 200, response.text
    (run,) = _runs(http, agent_id)
    return str(run["id"])


def _send(http: httpx.Client, diag: RunDiagnosis, index: int) -> httpx.Response:
    api = diag.remedies[index].api
    assert api is not None and api.body is not None
    return http.request(api.method, api.path, json=api.body)


def test_the_approval_remedy_approves_the_tool_and_the_run_continues(
    letta_server: Any, seeded: SeededRuns
) -> None:
    with httpx.Client(base_url=seeded.base_url, timeout=600) as http:
        agent = _agent(http, letta_server.llm_url, [seeded.tools["lab_sensitive"]])
        paused = _paused_run(http, agent, {})
        diag = _diagnose(seeded.base_url, paused)
        assert (diag.verdict, diag.root_cause and diag.root_cause.kind) == (
            "awaiting_approval",
            "approval_pending",
        )
        assert diag.remedies[0].kind == "approval_pending"
        response = _send(http, diag, 0)
        assert response.status_code == 200, response.text
        follow_up = _new_run(http, agent, {paused})
        messages = http.get(f"/v1/runs/{follow_up['id']}/messages").json()
    after = _diagnose(seeded.base_url, follow_up["id"])
    assert after.verdict == "ok", after.headline
    # The server ran the approved tool, and the model answered after it.
    returns = [m for m in messages if m["message_type"] == "tool_return_message"]
    assert [(m["name"], m["status"]) for m in returns] == [("lab_sensitive", "success")]
    assert after.final_answer is not None and "done" in after.final_answer.excerpt


def test_the_client_side_tool_remedy_returns_the_result_and_the_run_continues(
    letta_server: Any, seeded: SeededRuns
) -> None:
    # lab_sensitive is not attached: the request declares it as a client-side tool, so the run
    # pauses on requires_approval exactly like an approval, and only a tool result resumes it.
    client_tools = {
        "client_tools": [
            {
                "name": "lab_sensitive",
                "description": "Run a sensitive action on the client.",
                "parameters": {
                    "type": "object",
                    "properties": {"action": {"type": "string"}},
                    "required": ["action"],
                },
            }
        ]
    }
    with httpx.Client(base_url=seeded.base_url, timeout=600) as http:
        agent = _agent(http, letta_server.llm_url, [])
        paused = _paused_run(http, agent, client_tools)
        diag = _diagnose(seeded.base_url, paused)
        assert diag.verdict == "awaiting_approval", diag.headline
        remedy = diag.remedies[1]
        assert remedy.api is not None and remedy.api.body is not None
        assert remedy.api.body["messages"][0]["type"] == "tool_return"
        response = _send(http, diag, 1)
        assert response.status_code == 200, response.text
        follow_up = _new_run(http, agent, {paused})
    after = _diagnose(seeded.base_url, follow_up["id"])
    assert after.verdict == "ok", after.headline
    assert after.final_answer is not None


def test_the_loop_remedy_rule_is_accepted_and_caps_the_tool_in_the_next_run(
    letta_server: Any, seeded: SeededRuns
) -> None:
    # conversation_search is one of the agent's base tools; the scripted model calls it in
    # every step whatever it is offered, as a model stuck in a loop does.
    request = {
        "messages": [
            {"role": "user", "content": "remedy check [scenario:loop_max_steps tool=search]"}
        ],
        "max_steps": 6,
    }
    with httpx.Client(base_url=seeded.base_url, timeout=600) as http:
        agent = _agent(http, letta_server.llm_url, [])
        response = http.post(f"/v1/agents/{agent}/messages", json=request)
        assert response.status_code == 200, response.text
        (looped,) = _runs(http, agent)
        diag = _diagnose(seeded.base_url, looped["id"])
        assert diag.root_cause is not None and diag.root_cause.kind == "tool_loop"
        api = diag.remedies[0].api
        assert api is not None and api.body is not None
        assert (api.method, api.path) == ("PATCH", f"/v1/agents/{agent}")
        # As the remedy's note says: the new rule goes with the rules the agent already has.
        current = http.get(f"/v1/agents/{agent}").json()["tool_rules"] or []
        body = {"tool_rules": [*current, *api.body["tool_rules"]]}
        response = http.request(api.method, api.path, json=body)
        assert response.status_code == 200, response.text
        stored = http.get(f"/v1/agents/{agent}").json()["tool_rules"]
        (rule,) = [r for r in stored if r["type"] == "max_count_per_step"]
        assert (rule["tool_name"], rule["max_count_limit"]) == ("conversation_search", 3)
        assert len(stored) == len(current) + 1

        response = http.post(f"/v1/agents/{agent}/messages", json=request)
        assert response.status_code == 200, response.text
        capped = _new_run(http, agent, {looped["id"]})
        messages = http.get(f"/v1/runs/{capped['id']}/messages", params={"limit": 100}).json()
    returns = [
        m
        for m in messages
        if m["message_type"] == "tool_return_message" and m["name"] == "conversation_search"
    ]
    # The limit holds over the whole request: letta_v1_agent counts every call twice in Letta
    # 0.16.8, so a limit of 3 lets two calls run (as the remedy says); every later one is refused.
    assert [m["status"] for m in returns][:2] == ["success", "success"], returns
    assert [m["status"] for m in returns].count("success") == 2, returns
    refused = [m for m in returns if m["status"] == "error"]
    assert refused and all("[ToolConstraintError]" in m["tool_return"] for m in refused)
