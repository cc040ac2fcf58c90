"""The REST adapter answers like Letta: same routes, same parameters, the recorded JSON back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_server import serve_asgi

pytest.importorskip("fastapi")

from letta_runs import AsyncRunsClient
from letta_runs._exceptions import InvalidArgumentError
from letta_runs.operations import COMPOSITE_OPERATIONS
from letta_runs.rest import create_app

DATA = (Path(__file__).resolve().parents[1] / "data").resolve()
FIXTURES = DATA / "fixtures"
SYNC_PLAIN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"
MULTI_STEP = "run-1bcd7407-1899-4bd3-9d6a-6058cfee7e69"  # sync_add_mem_search_note_add
FAILED_500 = "run-1784de63-64f5-4f8f-be0a-197d17c67164"  # sync_http500
BG_STEPS = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"  # stream_bg_steps
UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"
TOKEN = "adapter-token-for-tests"


def fixture_dir(run_id: str) -> Path:
    for entry in json.loads((FIXTURES / "index.json").read_text()):
        if entry["run_id"] == run_id:
            return FIXTURES / entry["path"]
    raise KeyError(run_id)


def recorded(run_id: str, name: str) -> Any:
    return json.loads((fixture_dir(run_id) / name).read_text())


def demo_client() -> AsyncRunsClient:
    return AsyncRunsClient(base_url="demo")


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(demo_client, stream_idle_timeout=3)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://adapter") as http:
        yield http


# --------------------------------------------------------------------------- same JSON as Letta


@pytest.mark.parametrize("run_id", [SYNC_PLAIN, MULTI_STEP, FAILED_500, BG_STEPS])
async def test_retrieve_usage_metrics_are_the_recorded_bytes(
    api: httpx.AsyncClient, run_id: str
) -> None:
    for suffix, name in (("", "run.json"), ("/usage", "usage.json"), ("/metrics", "metrics.json")):
        response = await api.get(f"/v1/runs/{run_id}{suffix}")
        assert response.status_code == 200, (suffix, response.text)
        assert response.headers["content-type"] == "application/json"
        assert response.json() == recorded(run_id, name), suffix


@pytest.mark.parametrize("run_id", [SYNC_PLAIN, MULTI_STEP])
async def test_steps_and_messages_pass_the_server_items_through(
    api: httpx.AsyncClient, run_id: str
) -> None:
    steps = await api.get(f"/v1/runs/{run_id}/steps", params={"limit": 100, "order": "asc"})
    messages = await api.get(f"/v1/runs/{run_id}/messages", params={"limit": 100})
    assert steps.status_code == messages.status_code == 200
    assert sorted(steps.json(), key=lambda s: s["id"]) == sorted(
        recorded(run_id, "steps.json"), key=lambda s: s["id"]
    )
    assert messages.json() == recorded(run_id, "messages.json")


async def test_list_runs_with_and_without_slash_and_repeated_statuses(
    api: httpx.AsyncClient,
) -> None:
    slash = await api.get("/v1/runs/", params={"limit": 5})
    bare = await api.get("/v1/runs", params={"limit": 5})
    assert slash.status_code == bare.status_code == 200
    assert slash.json() == bare.json()
    assert len(slash.json()) == 5
    created = [run["created_at"] for run in slash.json()]
    assert created == sorted(created, reverse=True)  # Letta's default order: newest first

    failed = await api.get("/v1/runs/", params=[("statuses", "failed"), ("statuses", "cancelled")])
    assert failed.status_code == 200
    assert failed.json()
    assert {run["status"] for run in failed.json()} <= {"failed", "cancelled"}
    assert {"failed", "cancelled"} <= {run["status"] for run in failed.json()}
    by_id = {run["id"]: run for run in failed.json()}
    assert by_id[FAILED_500] == recorded(FAILED_500, "run.json")


async def test_list_runs_before_cursor_gives_the_next_page(api: httpx.AsyncClient) -> None:
    first = (await api.get("/v1/runs/", params={"limit": 2})).json()
    second = (await api.get("/v1/runs/", params={"limit": 2, "before": first[-1]["id"]})).json()
    assert len(second) == 2
    assert not {r["id"] for r in first} & {r["id"] for r in second}


async def test_active_runs(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/runs/active")
    assert response.status_code == 200
    assert response.json()
    assert {run["status"] for run in response.json()} <= {"created", "running"}


async def test_trace_keeps_letta_501(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/v1/runs/{SYNC_PLAIN}/trace")
    assert response.status_code == 501
    assert response.json()["detail"] == recorded(SYNC_PLAIN, "trace.error.json")["body"]["detail"]


async def test_unknown_run_is_letta_404(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/v1/runs/{UNKNOWN_RUN}")
    assert response.status_code == 404
    assert "detail" in response.json()


# --------------------------------------------------------------------------- stream


async def test_stream_passes_the_recorded_sse_through(api: httpx.AsyncClient) -> None:
    response = await api.post(f"/v1/runs/{BG_STEPS}/stream", json={})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == (fixture_dir(BG_STEPS) / "stream.sse").read_text()


async def test_stream_resumes_after_starting_after(api: httpx.AsyncClient) -> None:
    response = await api.post(f"/v1/runs/{BG_STEPS}/stream", json={"starting_after": 5})
    seq_ids = [
        json.loads(line[6:])["seq_id"]
        for line in response.text.splitlines()
        if line.startswith("data: {") and '"seq_id"' in line
    ]
    assert seq_ids
    assert min(seq_ids) > 5


async def test_stream_of_a_foreground_run_keeps_letta_400(api: httpx.AsyncClient) -> None:
    response = await api.post(f"/v1/runs/{SYNC_PLAIN}/stream", json={})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert "background" in response.json()["detail"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "path",
    ["/v1/runs/foo", "/v1/runs/foo/messages", "/v1/runs/foo/usage", "/v1/runs/foo/steps"],
)
async def test_malformed_run_id_is_400_like_letta(api: httpx.AsyncClient, path: str) -> None:
    response = await api.get(path)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "INVALID_ARGUMENT: Invalid run ID format: foo. Expected format: 'run-<uuid4>'"
    }


@pytest.mark.parametrize(
    ("path", "params", "loc"),
    [
        ("/v1/runs/", {"limit": 0}, "limit"),
        ("/v1/runs/", {"limit": 1001}, "limit"),
        ("/v1/runs/", {"limit": "ten"}, "limit"),
        ("/v1/runs/", {"order": "sideways"}, "order"),
        ("/v1/runs/", {"stop_reason": "bogus"}, "stop_reason"),
        (f"/v1/runs/{SYNC_PLAIN}/trace", {"limit": 0}, "limit"),
    ],
)
async def test_bad_query_values_are_letta_422(
    api: httpx.AsyncClient, path: str, params: dict[str, Any], loc: str
) -> None:
    response = await api.get(path, params=params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"trace_id", "detail"} and body["trace_id"] == ""
    assert f"'loc': ('query', '{loc}')" in body["detail"]  # Letta's text of the error list


async def test_what_letta_checks_itself_is_answered_by_letta(api: httpx.AsyncClient) -> None:
    statuses = await api.get("/v1/runs/", params={"statuses": "bogus"})
    assert statuses.status_code == 400
    assert statuses.json() == {"detail": "'bogus' is not a valid RunStatus"}
    empty = await api.get(f"/v1/runs/{SYNC_PLAIN}/messages", params={"limit": 0})
    assert empty.status_code == 200 and empty.json() == []
    ignored = await api.get("/v1/runs/", params={"colour": "red", "limit": 1})
    assert ignored.status_code == 200 and len(ignored.json()) == 1


# --------------------------------------------------------------------------- delete


async def test_delete_is_refused_by_default(api: httpx.AsyncClient) -> None:
    response = await api.delete(f"/v1/runs/{SYNC_PLAIN}")
    assert response.status_code == 403
    assert "--allow-delete" in response.json()["hint"]
    assert "disabled" in response.json()["detail"]


async def test_delete_passes_through_when_allowed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "GET":
            return httpx.Response(200, json={"id": SYNC_PLAIN, "status": "completed"})
        return httpx.Response(500, json={"detail": "An unknown error occurred"})

    app = create_app(
        lambda: AsyncRunsClient(
            base_url="http://letta.test", transport=httpx.MockTransport(handler), max_retries=0
        ),
        allow_delete=True,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as c:
        response = await c.delete(f"/v1/runs/{SYNC_PLAIN}")
    # Read, one DELETE (a 500 is never re-sent), a read that finds the run still there, and
    # the server's version to explain the 500.
    assert seen == [
        f"GET /v1/runs/{SYNC_PLAIN}",
        f"DELETE /v1/runs/{SYNC_PLAIN}",
        f"GET /v1/runs/{SYNC_PLAIN}",
        "GET /v1/health/",
    ]
    assert response.status_code == 500  # what Letta 0.16.8 answers
    assert response.json()["detail"] == "An unknown error occurred"


# --------------------------------------------------------------------------- auth


async def test_token_is_required_on_every_route_but_health_and_openapi() -> None:
    app = create_app(demo_client, token=TOKEN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as c:
        missing = await c.get(f"/v1/runs/{SYNC_PLAIN}")
        wrong = await c.get(f"/v1/runs/{SYNC_PLAIN}", headers={"Authorization": "Bearer nope"})
        right = await c.get(f"/v1/runs/{SYNC_PLAIN}", headers={"Authorization": f"Bearer {TOKEN}"})
        stream = await c.post(f"/v1/runs/{BG_STEPS}/stream", json={})
        health = await c.get("/health")
        spec = await c.get("/openapi.json")
    assert missing.status_code == wrong.status_code == stream.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in missing.text + wrong.text
    assert right.status_code == 200
    assert right.json()["id"] == SYNC_PLAIN
    assert health.status_code == spec.status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_refuses_a_non_loopback_host_without_a_token(host: str) -> None:
    with pytest.raises(InvalidArgumentError, match="without a token"):
        create_app(demo_client, host=host)
    assert create_app(demo_client, host=host, token=TOKEN) is not None


def test_loopback_needs_no_token() -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        assert create_app(demo_client, host=host) is not None


# --------------------------------------------------------------------------- openapi, composites


LETTA_OPERATION_IDS = {
    ("get", "/v1/runs/"): "list_runs",
    ("get", "/v1/runs/active"): "list_active_runs",
    ("get", "/v1/runs/{run_id}"): "retrieve_run",
    ("delete", "/v1/runs/{run_id}"): "delete_run",
    ("get", "/v1/runs/{run_id}/messages"): "list_messages_for_run",
    ("get", "/v1/runs/{run_id}/usage"): "retrieve_usage_for_run",
    ("get", "/v1/runs/{run_id}/metrics"): "retrieve_metrics_for_run",
    ("get", "/v1/runs/{run_id}/steps"): "list_steps_for_run",
    ("get", "/v1/runs/{run_id}/trace"): "retrieve_trace_for_run",
    ("post", "/v1/runs/{run_id}/stream"): "retrieve_stream_for_run",
}


async def test_openapi_has_lettas_operation_ids_response_schemas_and_bearer_security(
    api: httpx.AsyncClient,
) -> None:
    spec = (await api.get("/openapi.json")).json()
    letta = json.loads((DATA / "openapi" / "letta-openapi.0.16.8.json").read_text())
    for (method, path), operation_id in LETTA_OPERATION_IDS.items():
        ours = spec["paths"][path][method]
        assert ours["operationId"] == operation_id == letta["paths"][path][method]["operationId"]
        assert ours["security"] == [{"HTTPBearer": []}], path
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["HTTPBearer"]["description"],
    }
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if (method, path) in {
                ("delete", "/v1/runs/{run_id}"),
                ("post", "/v1/runs/{run_id}/stream"),
            }:
                continue  # Letta declares no response model for these two either
            content = operation["responses"]["200"]["content"]
            # The HTML report is a page, not JSON.
            media = "text/html" if path.endswith("/report.html") else "application/json"
            schema = content[media]["schema"]
            assert schema, (method, path)
    run_list = spec["paths"]["/v1/runs/"]["get"]["responses"]["200"]["content"]
    assert run_list["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/Run"}
    diagnosis = spec["paths"]["/v1/runs/{run_id}/diagnosis"]["get"]["responses"]["200"]
    assert diagnosis["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RunDiagnosis"
    }


async def test_openapi_lists_every_route(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    paths = spec["paths"]
    assert set(paths["/v1/runs/"]) == {"get"}
    assert set(paths["/v1/runs/{run_id}"]) == {"get", "delete"}
    assert set(paths["/v1/runs/{run_id}/stream"]) == {"post"}
    for suffix in ("messages", "usage", "metrics", "steps", "trace", "diagnosis", "timeline"):
        assert "get" in paths[f"/v1/runs/{{run_id}}/{suffix}"], suffix
    assert "/v1/runs/active" in paths
    list_params = {p["name"] for p in paths["/v1/runs/"]["get"]["parameters"]}
    assert {"statuses", "before", "after", "limit", "order", "agent_id", "active"} <= list_params
    assert (await api.get("/docs")).status_code == 200


def _has(name: str) -> bool:
    return any(op.mcp_name == name for op in COMPOSITE_OPERATIONS)


async def test_diagnosis_route(api: httpx.AsyncClient) -> None:
    as_json = await api.get(f"/v1/runs/{FAILED_500}/diagnosis")
    as_markdown = await api.get(
        f"/v1/runs/{FAILED_500}/diagnosis", params={"format": "markdown", "detail": "summary"}
    )
    if not _has("diagnose-run"):
        assert as_json.status_code == 501
        assert "not available" in as_json.json()["detail"]
        return
    assert as_json.status_code == 200, as_json.text
    assert FAILED_500 in as_json.text
    assert as_markdown.status_code == 200
    assert as_markdown.headers["content-type"].startswith("text/markdown")
    assert FAILED_500 in as_markdown.text or "failed" in as_markdown.text.lower()
    bad = await api.get("/v1/runs/foo/diagnosis")
    assert bad.status_code == 400


async def test_detail_shapes_the_json_diagnosis(api: httpx.AsyncClient) -> None:
    summary = await api.get(f"/v1/runs/{FAILED_500}/diagnosis", params={"detail": "summary"})
    full = await api.get(f"/v1/runs/{FAILED_500}/diagnosis", params={"detail": "full"})
    assert summary.status_code == full.status_code == 200
    assert summary.json()["detail"] == "summary"
    assert "findings" not in summary.json() and "findings" in full.json()
    assert len(summary.text) < len(full.text)


async def test_timeline_route(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/v1/runs/{MULTI_STEP}/timeline")
    if not _has("run-timeline"):
        assert response.status_code == 501
        return
    assert response.status_code == 200, response.text
    assert "step-" in response.text


async def test_bad_format_is_422(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/v1/runs/{SYNC_PLAIN}/diagnosis", params={"format": "pdf"})
    assert response.status_code == 422


# --------------------------------------------------------------------------- a real socket


@pytest.fixture
def rest_url() -> Iterator[str]:
    app = create_app(demo_client, token=TOKEN, stream_idle_timeout=3)
    with serve_asgi(app, what="the REST adapter") as url:
        yield url


def test_over_a_real_socket(rest_url: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=rest_url, headers=headers, timeout=30) as http:
        run = http.get(f"/v1/runs/{MULTI_STEP}")
        lines: list[str] = []
        with http.stream("POST", f"/v1/runs/{BG_STEPS}/stream", json={}) as stream:
            assert stream.status_code == 200
            lines.extend(stream.iter_lines())
        unauthorised = httpx.get(f"{rest_url}/v1/runs/{MULTI_STEP}")
    assert run.status_code == 200
    assert run.json() == recorded(MULTI_STEP, "run.json")
    assert "data: [DONE]" in lines
    assert unauthorised.status_code == 401
