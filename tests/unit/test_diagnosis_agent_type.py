"""The agent's type decides whether a turn that ended on a tool call answered the user.

Given the recorded real run of a ``memgpt_agent`` that called conversation_search (heartbeat),
then lab_add with ``request_heartbeat: false``, and never ``send_message``: the user got no reply.
The same messages from an agent without a message tool (react_agent) are a healthy turn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from letta_runs._client import AsyncRunsClient
from letta_runs.diagnosis import diagnose
from letta_runs.evidence import (
    AgentProfile,
    EndpointError,
    Evidence,
    gather_evidence,
    load_bundle,
    save_bundle,
)
from letta_runs.models import ToolCallMessage

from tests.unit.client_fixtures import Recorder
from tests.unit.diagnosis_evidence import (
    LATE,
    RECORDED,
    recorded,
    rename_ids,
    tool_call,
    tool_return,
    with_messages,
)

NEVER_SENT = "memgpt_agent__never_send_message"


def _with_agent(ev: Evidence, agent: AgentProfile | None) -> Evidence:
    return ev.model_copy(update={"agent": agent})


def test_the_recorded_bundle_knows_its_agent() -> None:
    ev = recorded(NEVER_SENT)
    assert ev.agent is not None and ev.agent.agent_type == "memgpt_agent"
    assert ev.agent.tool_names is not None and "send_message" in ev.agent.tool_names
    calls = [m.calls[-1] for m in ev.messages if isinstance(m, ToolCallMessage)]
    assert [c.name for c in calls] == ["conversation_search", "lab_add"]
    assert json.loads(calls[-1].arguments)["request_heartbeat"] is False


def test_a_memgpt_agent_that_never_called_send_message_failed() -> None:
    diag = diagnose(recorded(NEVER_SENT), now=LATE)
    assert diag.verdict == "failed"
    assert diag.root_cause is not None and diag.root_cause.kind == "no_final_answer"
    assert diag.outcome is not None and diag.outcome.kind == "none"
    assert diag.outcome.tool_name == "lab_add"
    summary = diag.root_cause.summary
    assert "memgpt_agent" in summary and "send_message" in summary and "did not call" in summary
    assert diag.final_answer is None
    assert "status_mismatch" in {f.kind for f in diag.findings}
    assert diag.remedies and "send_message" in diag.remedies[0].summary


def test_by_its_type_alone_a_memgpt_agent_has_send_message() -> None:
    ev = _with_agent(recorded(NEVER_SENT), AgentProfile(agent_type="memgpt_v2_agent"))
    diag = diagnose(ev, now=LATE)
    assert (diag.verdict, diag.outcome and diag.outcome.kind) == ("failed", "none")


def test_its_tools_say_it_when_they_were_read() -> None:
    ev = recorded(NEVER_SENT)
    # A letta_v1_agent with send_message attached by hand answers through it too ...
    v1_with_tool = AgentProfile(agent_type="letta_v1_agent", tool_names=["send_message", "lab_add"])
    assert diagnose(_with_agent(ev, v1_with_tool), now=LATE).verdict == "failed"
    # ... and a memgpt agent whose send_message was detached cannot.
    memgpt_without = AgentProfile(agent_type="memgpt_agent", tool_names=["lab_add"])
    diag = diagnose(_with_agent(ev, memgpt_without), now=LATE)
    assert (diag.verdict, diag.outcome and diag.outcome.kind) == ("ok", "tool_call")


@pytest.mark.parametrize("agent_type", ["react_agent", "workflow_agent"])
def test_the_same_turn_of_an_agent_without_a_message_tool_is_ok(agent_type: str) -> None:
    ev = _with_agent(recorded(NEVER_SENT), AgentProfile(agent_type=agent_type))
    diag = diagnose(ev, now=LATE)
    assert diag.verdict == "ok"
    assert diag.outcome is not None and diag.outcome.kind == "tool_call"
    assert not any("agent's type could not be read" in lim for lim in diag.limitations)


def test_an_unknown_agent_type_keeps_the_turn_and_says_so() -> None:
    diag = diagnose(_with_agent(recorded(NEVER_SENT), None), now=LATE)
    assert diag.verdict == "ok"
    assert diag.outcome is not None and diag.outcome.kind == "tool_call"
    (limit,) = [lim for lim in diag.limitations if "agent's type could not be read" in lim]
    assert "lab_add" in limit and "send_message" in limit


def test_a_failed_agent_read_is_named_in_the_limitation() -> None:
    ev = _with_agent(recorded(NEVER_SENT), None)
    errors = {
        **ev.endpoint_errors,
        "agent": EndpointError(endpoint="agent", status_code=503, kind="server_error", message="x"),
    }
    diag = diagnose(ev.model_copy(update={"endpoint_errors": errors}), now=LATE)
    assert diag.verdict == "ok"
    assert any(
        lim.startswith("The agent's type could not be read (503") for lim in diag.limitations
    )


def test_a_known_agent_adds_no_limitation_to_a_run_that_answered() -> None:
    diag = diagnose(_with_agent(recorded("memgpt_agent__heartbeats"), None), now=LATE)
    assert diag.verdict == "ok"
    assert not any("agent's type" in lim for lim in diag.limitations)


def test_the_recorded_healthy_react_and_workflow_runs_stay_ok_with_their_type() -> None:
    for stem, agent_type in (
        ("react_agent__ok_reply", "react_agent"),
        ("workflow_agent__ok_reply", "workflow_agent"),
    ):
        ev = _with_agent(recorded(stem), AgentProfile(agent_type=agent_type, tool_names=[]))
        diag = diagnose(ev, now=LATE)
        assert (diag.verdict, diag.outcome and diag.outcome.kind) == ("ok", "tool_call"), stem


# --- bundles ---------------------------------------------------------------------------------


def test_the_agent_round_trips_through_a_bundle_and_old_bundles_still_load(
    tmp_path: Path,
) -> None:
    ev = recorded(NEVER_SENT)
    path = save_bundle(ev, tmp_path / "b.json")
    again = load_bundle(path)
    assert again.agent == ev.agent
    raw = json.loads(path.read_text())
    assert set(raw["agent"]["body"]) == {"id", "agent_type", "tool_names"}
    del raw["agent"]
    path.write_text(json.dumps(raw))
    old = load_bundle(path)
    assert old.agent is None and "agent" not in old.endpoint_errors
    for bundle in RECORDED.glob("*.json"):
        load_bundle(bundle)


def test_a_failed_agent_read_round_trips_as_an_error_section(tmp_path: Path) -> None:
    err = EndpointError(endpoint="agent", status_code=404, kind="not_found", message="gone")
    ev = recorded(NEVER_SENT).model_copy(update={"agent": None, "endpoint_errors": {"agent": err}})
    again = load_bundle(save_bundle(ev, tmp_path / "b.json"))
    assert again.agent is None and again.endpoint_errors["agent"].status_code == 404


# --- fetching --------------------------------------------------------------------------------


def _server(bundle: dict[str, Any], agent_status: int = 200) -> Recorder:
    run = bundle["run"]
    agent_body = {
        "id": run["agent_id"],
        "agent_type": "memgpt_agent",
        "system": "SECRET SYSTEM PROMPT",
        "memory": {"blocks": [{"label": "human", "value": "SECRET MEMORY"}]},
        "tools": [{"id": "tool-1", "name": n} for n in ("send_message", "lab_add")],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        base = f"/v1/runs/{run['id']}"
        if path == f"/v1/agents/{run['agent_id']}":
            if agent_status != 200:
                return httpx.Response(agent_status, json={"detail": "agent read failed"})
            return httpx.Response(200, json=agent_body)
        bodies: dict[str, Any] = {
            base: run,
            f"{base}/steps": bundle["steps"],
            f"{base}/messages": bundle["messages"],
            f"{base}/usage": bundle["usage"]["body"],
            f"{base}/metrics": bundle["metrics"]["body"],
        }
        if path in bodies:
            return httpx.Response(200, json=bodies[path])
        if path == f"{base}/trace":
            return httpx.Response(501, json={"detail": "no traces"})
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    return Recorder(handler)


def _bundle() -> dict[str, Any]:
    return dict(json.loads((RECORDED / f"{NEVER_SENT}.json").read_text()))


async def test_gather_evidence_reads_the_agent_with_its_tools_and_keeps_only_those() -> None:
    bundle = _bundle()
    rec = _server(bundle)
    async with AsyncRunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(rec)
    ) as client:
        ev = await gather_evidence(client, bundle["run"]["id"])
    agent_reads = [r for r in rec.requests if r.url.path.startswith("/v1/agents/")]
    assert len(agent_reads) == 1
    assert agent_reads[0].url.params.get_list("include_relationships") == ["tools"]
    assert ev.agent == AgentProfile(
        id=bundle["run"]["agent_id"],
        agent_type="memgpt_agent",
        tool_names=["send_message", "lab_add"],
    )
    assert "SECRET" not in json.dumps(ev.to_bundle())
    assert diagnose(ev, now=LATE).verdict == "failed"


async def test_a_failing_agent_read_never_fails_the_diagnosis() -> None:
    bundle = _bundle()
    async with AsyncRunsClient(
        base_url="http://letta.test",
        transport=httpx.MockTransport(_server(bundle, agent_status=404)),
    ) as client:
        ev = await gather_evidence(client, bundle["run"]["id"])
    assert ev.agent is None and ev.endpoint_errors["agent"].status_code == 404
    diag = diagnose(ev, now=LATE)
    assert diag.verdict == "ok"
    assert any(
        lim.startswith("The agent's type could not be read (404") for lim in diag.limitations
    )


async def test_an_agent_known_elsewhere_is_not_read_again() -> None:
    bundle = _bundle()
    rec = _server(bundle)
    known = AgentProfile(id=bundle["run"]["agent_id"], agent_type="react_agent")
    async with AsyncRunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(rec)
    ) as client:
        given = await gather_evidence(client, bundle["run"]["id"], agent=known)
        unread = await gather_evidence(client, bundle["run"]["id"], include_agent=False)
    assert not [r for r in rec.requests if r.url.path.startswith("/v1/agents/")]
    assert given.agent == known and unread.agent is None
    assert "agent" not in unread.endpoint_errors


# --- tool error wording ----------------------------------------------------------------------


def test_an_answer_after_a_tool_error_without_a_retry_is_not_called_a_recovery() -> None:
    diag = diagnose(recorded("stream__tool_error"), now=LATE)
    finding = next(f for f in diag.findings if f.kind == "tool_error")
    assert diag.verdict == "ok" and finding.severity == "warning"
    assert "without a successful retry" in finding.summary
    assert "recovered" not in finding.summary


def test_a_successful_call_after_the_error_is_a_recovery() -> None:
    ev = recorded("stream__tool_error")
    messages = list(ev.messages)
    error_at = next(i for i, m in enumerate(messages) if m.message_type == "tool_return_message")
    retry = tool_call(messages[error_at], "lab_add", {"a": 1, "b": 2}, step_id=None)
    retried = [*messages[: error_at + 1], retry, tool_return(retry, "3"), *messages[error_at + 1 :]]
    diag = diagnose(with_messages(ev, retried), now=LATE)
    finding = next(f for f in diag.findings if f.kind == "tool_error")
    assert diag.verdict == "ok" and finding.severity == "warning"
    assert "(the run recovered and answered)" in finding.summary


def test_send_messages_own_return_is_not_a_retry() -> None:
    # memgpt: lab_add, conversation_search, then the answer through send_message (whose return
    # "Sent message successfully." is listed after it). Make the search fail.
    ev = recorded("memgpt_agent__heartbeats")
    messages = list(ev.messages)
    search_at = max(
        i
        for i, m in enumerate(messages)
        if m.message_type == "tool_return_message" and "No results" in str(m.tool_return)
    )  # type: ignore[attr-defined]
    call = messages[search_at - 1]
    assert isinstance(call, ToolCallMessage)
    messages[search_at] = tool_return(call, "Error: search failed", status="error")
    diag = diagnose(with_messages(ev, messages), now=LATE)
    finding = next(f for f in diag.findings if f.kind == "tool_error")
    assert diag.verdict == "ok"
    assert "without a successful retry" in finding.summary


# --- a tool that was not available -----------------------------------------------------------


def _invalid(ev: Evidence) -> str:
    return next(f for f in diagnose(ev, now=LATE).findings if f.kind == "invalid_tool_call").summary


def test_an_unavailable_tool_of_unknown_agent_tools_names_both_causes() -> None:
    summary = _invalid(recorded("sync__invalid_tool_call"))
    assert "either it is not attached to the agent or" in summary
    assert "tool rules" in summary


def test_the_agents_tools_tell_a_missing_tool_from_a_forbidden_one() -> None:
    missing = _with_agent(
        recorded("sync__invalid_tool_call"),
        AgentProfile(agent_type="letta_v1_agent", tool_names=["lab_add", "lab_note"]),
    )
    assert "(it is not attached to the agent)" in _invalid(missing)
    forbidden = _with_agent(
        recorded("sync__invalid_tool_call"),
        AgentProfile(agent_type="letta_v1_agent", tool_names=["lab_does_not_exist", "lab_add"]),
    )
    summary = _invalid(forbidden)
    assert "attached to the agent, but the agent's tool rules did not allow it" in summary
    assert "not attached" not in summary


def test_a_rule_hint_in_the_error_means_a_tool_rule_forbade_it() -> None:
    summary = _invalid(recorded("sync__tool_rule_violation"))
    assert "memory_insert" in summary and "tool rules did not allow it" in summary
    assert "not attached" not in summary


def test_a_tool_that_ran_elsewhere_in_the_run_exists() -> None:
    ev = recorded("sync__invalid_tool_call")
    messages = list(ev.messages)
    user, answer = messages[0], messages[-1]
    ok = tool_call(user, "lab_add", {"a": 1, "b": 2}, step_id=messages[1].step_id)
    refused = tool_call(ok, "lab_add", {"a": 2, "b": 2}, step_id=messages[1].step_id)
    text = "[ToolConstraintError] Cannot call lab_add, valid tools include: ['lab_note']."
    edited = [
        user,
        ok,
        tool_return(ok, "3"),
        refused,
        tool_return(refused, text, status="error"),
        answer,
    ]
    summary = _invalid(with_messages(ev, edited))
    assert "it ran elsewhere in this run, so it exists" in summary
    assert "not attached" not in summary


# --- settled, and triage ---------------------------------------------------------------------


def test_an_ok_that_rests_on_an_unread_agent_type_is_not_settled() -> None:
    unknown = diagnose(_with_agent(recorded(NEVER_SENT), None), now=LATE)
    assert unknown.verdict == "ok" and unknown.settled is False
    known = diagnose(_with_agent(recorded(NEVER_SENT), AgentProfile(agent_type="react_agent")))
    assert known.verdict == "ok" and known.settled is True


@pytest.mark.parametrize("bulk", [True, False])
async def test_triage_reads_an_agents_type_once_and_only_where_it_decides(bulk: bool) -> None:
    from letta_runs.composites import triage_runs

    from tests.unit.client_fixtures import bundle_for, fake_server

    never_sent = _bundle()
    answered = json.loads((RECORDED / "memgpt_agent__heartbeats.json").read_text())
    # A second run of the same agent that also ended on a tool call: still one agent read.
    renamed, _ = rename_ids(recorded(NEVER_SENT))
    again = renamed.to_bundle()
    again["run"]["agent_id"] = never_sent["run"]["agent_id"]
    again["agent"] = never_sent["agent"]
    rec = fake_server(
        [never_sent, again, answered, bundle_for("run-69218f56-d739-427f-a971-333ece5c2cdc")]
    )
    async with AsyncRunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(rec)
    ) as client:
        report = await triage_runs(client, since=None, now=LATE, bulk=bulk)
    assert report.scanned == 4
    assert report.verdicts.get("failed") == 2
    assert {g.key for g in report.by_root_cause} >= {"no_final_answer"}
    agent_reads = [
        r.url.path
        for r in rec.requests
        if r.url.path.startswith("/v1/agents/") and not r.url.path.endswith("/messages")
    ]
    assert agent_reads.count(f"/v1/agents/{never_sent['run']['agent_id']}") == 1


async def test_triage_of_one_agent_with_working_bulk_steps_reads_its_type_too() -> None:
    from letta_runs._demo import DemoServer
    from letta_runs.composites import triage_runs

    never_sent = _bundle()
    rec = Recorder(DemoServer([never_sent], steps_bulk=True))
    async with AsyncRunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(rec)
    ) as client:
        report = await triage_runs(
            client, since=None, now=LATE, agent_id=never_sent["run"]["agent_id"]
        )
    assert report.scanned == 1 and report.verdicts.get("failed") == 1
    assert report.reads is not None and report.reads.steps_bulk is True
