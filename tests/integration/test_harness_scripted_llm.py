"""The scripted model answers each marker as documented.

Needs no Letta server, but carries the ``letta_server`` marker so it runs with the integration suite
it serves (the default run deselects that marker).
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.letta_server import scripted_llm

pytestmark = pytest.mark.letta_server

TOOLS = [
    {"type": "function", "function": {"name": name, "parameters": {}}}
    for name in (
        "lab_add",
        "lab_fail",
        "lab_note",
        "lab_sensitive",
        "memory_insert",
        "conversation_search",
    )
]


def request(marker: str, *, step: int = 0, tools: bool = True, stream: bool = False) -> dict:
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": f"hi [scenario:{marker}]"},
    ]
    for index in range(step):
        messages.append({"role": "assistant", "content": None, "tool_calls": [{"id": f"c{index}"}]})
        messages.append({"role": "tool", "content": "ok", "tool_call_id": f"c{index}"})
    body: dict = {"model": "gpt-4o-mini", "messages": messages, "stream": stream}
    if tools:
        body["tools"] = TOOLS
    return body


def test_marker_parameters_and_step_index() -> None:
    name, params, step = scripted_llm.parse_scenario(
        request("llm_error code=429 at=2", step=3)["messages"]
    )
    assert (name, params, step) == ("llm_error", {"code": "429", "at": "2"}, 3)


def test_marker_in_content_parts() -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "x [scenario:tool_error retry=1]"}]}
    ]
    assert scripted_llm.parse_scenario(messages) == ("tool_error", {"retry": "1"}, 0)


def test_tool_chain_calls_one_tool_per_step_then_answers() -> None:
    names = [
        scripted_llm.plan_for(request("tool_chain_ok seq=add,mem,search,note", step=i)).tool_call
        for i in range(5)
    ]
    assert [n["name"] if n else None for n in names] == [
        "lab_add",
        "memory_insert",
        "conversation_search",
        "lab_note",
        None,
    ]


def test_llm_error_from_step_n() -> None:
    assert scripted_llm.plan_for(request("llm_error code=500 at=1", step=0)).error is None
    assert scripted_llm.plan_for(request("llm_error code=500 at=1", step=1)).error[0] == 500
    status, body = scripted_llm.plan_for(request("llm_error code=400ctx")).error
    assert status == 400 and body["error"]["code"] == "context_length_exceeded"


def test_requests_without_tools_get_a_summary() -> None:
    plan = scripted_llm.plan_for(request("llm_error code=500", tools=False))
    assert plan.error is None and plan.text and plan.text.startswith("Summary")


@pytest.mark.parametrize("kind", ["empty_choices", "empty_message", "missing_fields", "length"])
def test_malformed_completions(kind: str) -> None:
    body = scripted_llm.completion_body(
        scripted_llm.plan_for(request(f"invalid_llm_response kind={kind}")), "m"
    )
    if kind == "empty_choices":
        assert body["choices"] == []
    elif kind == "missing_fields":
        assert "choices" not in body and "usage" not in body
    elif kind == "empty_message":
        assert body["choices"][0]["message"] == {"role": "assistant", "content": None}
    else:
        assert body["choices"][0]["finish_reason"] == "length"


@pytest.fixture(scope="module")
def llm_url() -> str:
    server = scripted_llm.ScriptedLLMServer(("127.0.0.1", 0), scripted_llm.ScriptedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_http_models_and_embeddings(llm_url: str) -> None:
    assert "gpt-4o-mini" in {m["id"] for m in httpx.get(f"{llm_url}/models").json()["data"]}
    vectors = httpx.post(
        f"{llm_url}/embeddings", json={"input": ["a", "b"], "model": "text-embedding-3-small"}
    ).json()["data"]
    assert len(vectors) == 2 and len(vectors[0]["embedding"]) == 1536


def test_http_stream_carries_tool_call_deltas(llm_url: str) -> None:
    body = {
        **request("loop_max_steps", step=4, stream=True),
        "stream_options": {"include_usage": True},
    }
    with httpx.stream("POST", f"{llm_url}/chat/completions", json=body) as response:
        data = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if c["choices"] and "tool_calls" in c["choices"][0]["delta"]
    ]
    assert calls[0]["function"]["name"] == "lab_add"
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"a": 1, "b": 1}
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["total_tokens"] > 0


def test_http_error_status(llm_url: str) -> None:
    response = httpx.post(f"{llm_url}/chat/completions", json=request("llm_error code=429"))
    assert response.status_code == 429 and response.json()["error"]["type"] == "rate_limit_exceeded"


def _heartbeat(reason: str) -> dict:
    packed = {"type": "heartbeat", "reason": reason, "time": "now"}
    return {"role": "user", "content": json.dumps(packed)}


def test_letta_written_user_messages_are_not_the_request() -> None:
    body = request("tool_chain_ok seq=add,search hb=1", step=1)
    body["messages"].append(_heartbeat("Function called using request_heartbeat=true"))
    name, params, step = scripted_llm.parse_scenario(body["messages"])
    assert (name, params["hb"], step) == ("tool_chain_ok", "1", 1)
    call = scripted_llm.plan_for(body).tool_call
    assert call is not None and call["name"] == "conversation_search"
    assert json.loads(call["arguments"]) == {"query": "scripted", "request_heartbeat": True}


def test_a_compaction_note_carries_the_request_when_the_user_message_is_gone() -> None:
    alert = {"type": "system_alert", "message": "Summary: [scenario:llm_error code=429]"}
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": json.dumps(alert)},
    ]
    assert scripted_llm.parse_scenario(messages) == ("llm_error", {"code": "429"}, 0)


def test_huge_usage_at_the_marked_steps_only() -> None:
    marker = "tool_chain_ok seq=search,search huge=1 tokens=150000"
    assert scripted_llm.plan_for(request(marker, step=0)).prompt_tokens is None
    assert scripted_llm.plan_for(request(marker, step=1)).prompt_tokens == 150_000


def _with_tools(body: dict, *names: str, heartbeat: bool = True) -> dict:
    parameters = {"properties": {"request_heartbeat": {"type": "boolean"}}} if heartbeat else {}
    body["tools"] = [
        {"type": "function", "function": {"name": name, "parameters": parameters}} for name in names
    ]
    return body


def test_answers_follow_the_agent_types_protocol() -> None:
    memgpt = scripted_llm.plan_for(_with_tools(request("ok_reply"), "send_message", "lab_add"))
    assert memgpt.text is None and memgpt.tool_call is not None
    assert memgpt.tool_call["name"] == "send_message"
    assert json.loads(memgpt.tool_call["arguments"])["message"].startswith("Scripted reply")
    react = scripted_llm.plan_for(_with_tools(request("ok_reply"), "lab_note"))
    assert react.tool_call is not None and react.tool_call["name"] == "lab_note"
    v1 = scripted_llm.plan_for(_with_tools(request("ok_reply"), "lab_note", heartbeat=False))
    assert v1.tool_call is None and v1.text
    plain = scripted_llm.plan_for(_with_tools(request("plain_text"), "send_message"))
    assert plain.tool_call is None and plain.text


def test_a_sleeptime_request_edits_memory_or_fails() -> None:
    def sleeptime(kind: str, step: int) -> scripted_llm.Plan:
        text = f"<system-reminder>\nYou are a sleeptime agent …\nuser: hi [scenario:ok_reply sleeptime={kind}]"
        messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": text}]
        messages += [{"role": "assistant", "content": None}] * step
        return scripted_llm.plan_for({"messages": messages, "tools": TOOLS})

    calls = [sleeptime("ok", step).tool_call for step in range(2)]
    assert [c["name"] if c else None for c in calls] == ["memory_insert", "memory_finish_edits"]
    assert sleeptime("500", 0).error is not None and sleeptime("500", 0).error[0] == 500


def test_client_tool_then_the_answer_quotes_its_return() -> None:
    first = scripted_llm.plan_for(request("client_tool name=client_lookup"))
    assert first.tool_call is not None and first.tool_call["name"] == "client_lookup"
    later = scripted_llm.plan_for(request("client_tool name=client_lookup", step=1))
    assert later.text is not None and "returned: ok" in later.text


def test_an_approval_that_was_denied_is_not_reported_done() -> None:
    body = request("requires_approval", step=1)
    body["messages"][-1]["content"] = "Error: request to call tool denied. User reason: no"
    plan = scripted_llm.plan_for(body)
    assert plan.text is not None and "denied" in plan.text
