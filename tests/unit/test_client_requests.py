"""Exact requests: URLs, query strings, bodies, headers, and validation before any I/O."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from client_fixtures import BG_RUN, RUN, Recorder, fake_server
from letta_runs import AsyncRunsClient, InvalidArgumentError, ReadOnlyError, RunsClient

KEY = "sk-let-secret-key-123456"


def ok_handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/runs/") or path.endswith("/messages") or path.endswith("/steps"):
        return httpx.Response(200, json=[])
    if path.endswith("/trace") or path.endswith("/active"):
        return httpx.Response(200, json=[])
    if path.endswith("/stream"):
        return httpx.Response(
            200, text="data: [DONE]\n\n", headers={"content-type": "text/event-stream"}
        )
    return httpx.Response(200, json={"id": RUN})


def make(handler: Recorder | None = None, **kwargs: object) -> tuple[RunsClient, Recorder]:
    rec = handler or Recorder(ok_handler)
    kwargs.setdefault("base_url", "http://letta.test/")
    client = RunsClient(transport=httpx.MockTransport(rec), **kwargs)  # type: ignore[arg-type]
    return client, rec


def test_list_runs_query_encoding() -> None:
    client, rec = make()
    client.runs.list(
        agent_ids=["agent-a", "agent-b"],
        statuses=["failed", "cancelled"],
        background=True,
        active=False,
        stop_reason="llm_api_error",
        limit=5,
        order="asc",
    )
    request = rec.requests[0]
    assert str(request.url).startswith("http://letta.test/v1/runs/?")
    assert rec.queries[0] == (
        "agent_ids=agent-a&agent_ids=agent-b&statuses=failed&statuses=cancelled"
        "&background=true&stop_reason=llm_api_error&limit=5&order=asc&active=false"
    )


def test_every_operation_url() -> None:
    client, rec = make()
    client.runs.retrieve(RUN)
    client.runs.messages.list(RUN, limit=3, order="desc", after="message-x")
    client.runs.steps.list(RUN, before="step-y", order_by="created_at")
    client.runs.usage.retrieve(RUN)
    client.runs.metrics.retrieve(RUN)
    client.runs.trace.retrieve(RUN, limit=10)
    client.runs.list_active(agent_id="agent-a", background=False)
    list(client.runs.stream(RUN))
    got = [(r.method, r.url.path, r.url.query.decode()) for r in rec.requests]
    assert got == [
        ("GET", f"/v1/runs/{RUN}", ""),
        ("GET", f"/v1/runs/{RUN}/messages", "after=message-x&limit=3&order=desc"),
        # has_more of a messages page: the listing's last item, in the opposite order
        ("GET", f"/v1/runs/{RUN}/messages", "after=message-x&limit=1&order=asc"),
        ("GET", f"/v1/runs/{RUN}/steps", "before=step-y&order_by=created_at"),
        ("GET", f"/v1/runs/{RUN}/usage", ""),
        ("GET", f"/v1/runs/{RUN}/metrics", ""),
        ("GET", f"/v1/runs/{RUN}/trace", "limit=10"),
        ("GET", "/v1/runs/active", "agent_id=agent-a&background=false"),
        ("POST", f"/v1/runs/{RUN}/stream", ""),
    ]


def test_stream_body_is_always_json() -> None:
    client, rec = make()
    list(client.runs.stream(RUN))
    list(client.runs.stream(RUN, starting_after=4, include_pings=False, batch_size=10))
    assert json.loads(rec.requests[0].content) == {}
    assert rec.requests[0].headers["content-type"] == "application/json"
    assert json.loads(rec.requests[1].content) == {
        "starting_after": 4,
        "include_pings": False,
        "batch_size": 10,
    }


def test_headers_auth_project_custom(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETTA_CUSTOM_HEADERS", "X-Team: runs\nX-Env: test")
    client, rec = make(api_key=KEY, project="proj-1", headers={"X-Env": "override"})
    client.runs.retrieve(RUN)
    headers = rec.requests[0].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["x-project"] == "proj-1"
    assert headers["x-team"] == "runs"
    assert headers["x-env"] == "override"


def test_env_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETTA_API_KEY", KEY)
    monkeypatch.setenv("LETTA_BASE_URL", "http://env.test:8283///")
    monkeypatch.setenv("LETTA_PROJECT", "p2")
    rec = Recorder(ok_handler)
    client = RunsClient(transport=httpx.MockTransport(rec))
    assert client.base_url == "http://env.test:8283"
    client.runs.retrieve(RUN)
    assert str(rec.requests[0].url) == f"http://env.test:8283/v1/runs/{RUN}"
    assert rec.requests[0].headers["x-project"] == "p2"
    assert rec.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_no_auth_header_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LETTA_API_KEY", raising=False)
    client, rec = make()
    client.runs.retrieve(RUN)
    assert "authorization" not in rec.requests[0].headers


def test_default_timeouts() -> None:
    client, rec = make()
    client.runs.retrieve(RUN)
    timeout = rec.requests[0].extensions["timeout"]
    assert timeout["read"] == 60.0 and timeout["connect"] == 5.0


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda c: c.runs.retrieve("foo"), "invalid run id"),
        (lambda c: c.runs.retrieve("run-12345678-1234-1234-1234-123456789012"), "invalid run id"),
        (lambda c: c.runs.retrieve("RUN-00000000-0000-4000-8000-000000000000"), "invalid run id"),
        (lambda c: c.runs.list(limit=0), "limit: Input should be greater than or equal to 1"),
        (lambda c: c.runs.list(limit=1001), "limit: Input should be less than or equal to 1000"),
        (lambda c: c.runs.list(order="up"), "'asc' or 'desc'"),
        (lambda c: c.runs.list(order_by="id"), "created_at"),
        (lambda c: c.runs.list(statuses=["FAILED"]), "unknown run status"),
        (lambda c: c.runs.list(statuses="failed,cancelled"), "unknown run status"),
        (lambda c: c.runs.list(stop_reason="bogus"), "stop_reason: Input should be 'end_turn'"),
        (lambda c: c.runs.list(colour="red"), "colour: Extra inputs are not permitted"),
        (lambda c: c.runs.messages.list(RUN, limit=-1), ">= 0"),
        (lambda c: c.runs.steps.list(RUN, limit=-1), ">= 0"),
        (lambda c: c.runs.trace.retrieve(RUN, limit=5001), "between 1 and 5000"),
        (lambda c: c.runs.stream(RUN, idle_timeout=0), "idle_timeout"),
    ],
)
def test_validation_before_io(call, fragment: str) -> None:  # type: ignore[no-untyped-def]
    client, rec = make()
    with pytest.raises(InvalidArgumentError) as info:
        call(client)
    assert fragment in str(info.value)
    assert rec.requests == []


def test_status_error_lists_valid_values() -> None:
    client, _ = make()
    with pytest.raises(InvalidArgumentError) as info:
        client.runs.list(statuses=["Failed"])
    assert "created, running, completed, failed, cancelled" in str(info.value)


def test_read_only_refuses_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETTA_RUNS_READ_ONLY", "1")
    client, rec = make()
    with pytest.raises(ReadOnlyError):
        client.runs.delete(RUN)
    assert rec.requests == []
    client2, rec2 = make(read_only=False)
    client2.runs.delete(RUN)
    # The run is read first (an unknown id is "not found", not "deleted"), then deleted.
    assert [r.method for r in rec2.requests] == ["GET", "DELETE"]


def test_debug_log_redacts_key(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = make(api_key=KEY, debug=True)
    with caplog.at_level(logging.DEBUG, logger="letta_runs"):
        client.runs.retrieve(RUN)
    text = caplog.text + capsys.readouterr().err
    assert f"GET http://letta.test/v1/runs/{RUN}" in text
    assert "← 200" in text
    assert KEY not in text
    assert "'authorization': '***'" in text


def test_context_manager_closes_owned_client() -> None:
    with make()[0] as client:
        http = client._http
    assert http.is_closed


def test_settings_round_trip() -> None:
    client, _ = make(api_key=KEY, project="p", max_retries=4)
    twin = AsyncRunsClient(**client.settings())
    assert twin.base_url == client.base_url == "http://letta.test"
    assert twin.max_retries == 4 and twin.project == "p"


async def test_async_same_requests_as_sync() -> None:
    sync_rec, async_rec = fake_server(), fake_server()
    sync = RunsClient(base_url="http://letta.test", transport=httpx.MockTransport(sync_rec))
    asyn = AsyncRunsClient(base_url="http://letta.test", transport=httpx.MockTransport(async_rec))
    s_runs = [r.id for r in sync.runs.list(limit=4)]
    a_runs = [r.id async for r in await asyn.runs.list(limit=4)]
    s_msgs = [m.id for m in sync.runs.messages.list(BG_RUN, limit=2)]
    a_msgs = [m.id async for m in await asyn.runs.messages.list(BG_RUN, limit=2)]
    s_steps = [s.id for s in sync.runs.steps.list(BG_RUN, limit=1)]
    a_steps = [s.id async for s in await asyn.runs.steps.list(BG_RUN, limit=1)]
    assert (s_runs, s_msgs, s_steps) == (a_runs, a_msgs, a_steps)
    assert len(s_runs) == 13
    assert sync.runs.usage.retrieve(BG_RUN) == await asyn.runs.usage.retrieve(BG_RUN)
    assert sync.runs.metrics.retrieve(BG_RUN) == await asyn.runs.metrics.retrieve(BG_RUN)
    assert sync.runs.retrieve(BG_RUN) == await asyn.runs.retrieve(BG_RUN)
    assert [(r.method, str(r.url)) for r in sync_rec.requests] == [
        (r.method, str(r.url)) for r in async_rec.requests
    ]
    await asyn.aclose()
