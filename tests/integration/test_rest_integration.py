"""Against the real Letta server: every adapter route answers what Letta answers to the same request.

Needs the session fixtures ``seeded`` (``SeededRuns``: ``base_url``, ``runs``,
``pagination_agent_ids``) from ``tests/integration/conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from asgi_server import serve_asgi

pytest.importorskip("fastapi")

from letta_runs import AsyncRunsClient
from letta_runs.rest import create_app

pytestmark = pytest.mark.letta_server

UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"
RUN_ROUTES = ("", "/messages", "/usage", "/metrics", "/steps", "/trace")


def _headers() -> dict[str, str]:
    key = os.environ.get("LETTA_API_KEY")
    return {"Authorization": f"Bearer {key}"} if key else {}


def _pick(seeded: Any) -> list[str]:
    """A varied handful of seeded runs: one per (endpoint, status), multi-step ones first."""
    chosen: dict[tuple[str, str | None], str] = {}
    for run in sorted(seeded.runs.values(), key=lambda r: -r.step_count):
        chosen.setdefault((run.endpoint, run.status), run.run_id)
    return list(chosen.values())[:8]


def _busiest(seeded: Any) -> Any:
    return max(seeded.runs.values(), key=lambda r: r.step_count)


@pytest.fixture
async def letta(seeded: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=seeded.base_url, headers=_headers(), timeout=60) as raw:
        yield raw


@pytest.fixture
async def adapter(seeded: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        lambda: AsyncRunsClient(base_url=seeded.base_url, max_retries=0), stream_idle_timeout=10
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://adapter", timeout=60) as c:
        yield c


async def _same(
    letta: httpx.AsyncClient, adapter: httpx.AsyncClient, path: str, params: Any = None
) -> Any:
    theirs = await letta.get(path, params=params)
    ours = await adapter.get(path, params=params)
    assert ours.status_code == theirs.status_code, (path, params, ours.text[:300])
    if theirs.status_code == 200:
        assert ours.json() == theirs.json(), (path, params)
    else:
        assert ours.json()["detail"] == theirs.json()["detail"], (path, params)
    return theirs.json()


async def test_every_run_route_matches_letta(
    seeded: Any, letta: httpx.AsyncClient, adapter: httpx.AsyncClient
) -> None:
    run_ids = _pick(seeded)
    assert len(run_ids) >= 3
    for run_id in run_ids:
        for suffix in RUN_ROUTES:
            await _same(letta, adapter, f"/v1/runs/{run_id}{suffix}")


async def test_child_lists_with_letta_parameters_match(
    seeded: Any, letta: httpx.AsyncClient, adapter: httpx.AsyncClient
) -> None:
    run = max(seeded.runs.values(), key=lambda r: r.step_count)
    base = f"/v1/runs/{run.run_id}"
    for params in ({"limit": 2}, {"order": "desc", "limit": 3}, {"order": "asc"}):
        await _same(letta, adapter, f"{base}/steps", params)
        await _same(letta, adapter, f"{base}/messages", params)
    steps = await _same(letta, adapter, f"{base}/steps", {"limit": 2, "order": "asc"})
    await _same(
        letta, adapter, f"{base}/steps", {"limit": 2, "order": "asc", "after": steps[-1]["id"]}
    )
    messages = await _same(letta, adapter, f"{base}/messages", {"limit": 2})
    await _same(letta, adapter, f"{base}/messages", {"limit": 2, "after": messages[-1]["id"]})


async def test_list_runs_matches_letta(
    seeded: Any, letta: httpx.AsyncClient, adapter: httpx.AsyncClient
) -> None:
    agent = seeded.pagination_agent_ids[0]
    first = await _same(letta, adapter, "/v1/runs/", {"agent_id": agent, "limit": 5})
    assert len(first) == 5
    await _same(
        letta, adapter, "/v1/runs/", {"agent_id": agent, "limit": 5, "before": first[-1]["id"]}
    )
    await _same(letta, adapter, "/v1/runs/", {"agent_id": agent, "limit": 3, "order": "asc"})
    statuses = [("statuses", "failed"), ("statuses", "cancelled"), ("limit", "1000")]
    failed = await _same(letta, adapter, "/v1/runs/", statuses)
    assert failed
    # Letta answers the slash-less path with a 307 to /v1/runs/; the adapter serves it directly,
    # with the JSON Letta gives once the redirect is followed.
    theirs = await letta.get("/v1/runs", params={"agent_id": agent, "limit": 2})
    assert theirs.status_code == 307
    followed = await letta.get("/v1/runs/", params={"agent_id": agent, "limit": 2})
    ours = await adapter.get("/v1/runs", params={"agent_id": agent, "limit": 2})
    assert ours.status_code == 200 and ours.json() == followed.json()
    await _same(letta, adapter, "/v1/runs/", {"background": "true", "limit": 20})
    await _same(letta, adapter, "/v1/runs/active", {"agent_id": agent})


async def test_errors_keep_letta_status_and_detail(
    letta: httpx.AsyncClient, adapter: httpx.AsyncClient
) -> None:
    for suffix in ("", "/messages", "/usage", "/metrics", "/steps"):
        await _same(letta, adapter, f"/v1/runs/{UNKNOWN_RUN}{suffix}")
        await _same(letta, adapter, f"/v1/runs/foo{suffix}")
    limit = await _identical(letta, adapter, "GET", "/v1/runs/", params={"limit": 0})
    assert limit.status_code == 422 and limit.json()["trace_id"] == ""


async def _identical(
    letta: httpx.AsyncClient,
    adapter: httpx.AsyncClient,
    method: str,
    path: str,
    **request: Any,
) -> httpx.Response:
    """The adapter answers exactly what Letta answers: the same status and the same body."""
    theirs = await letta.request(method, path, **request)
    ours = await adapter.request(method, path, **request)
    where = (method, path, request)
    assert ours.status_code == theirs.status_code, (where, theirs.text[:300], ours.text[:300])
    assert ours.json() == theirs.json(), where
    return theirs


BAD_RUNS_QUERIES: list[dict[str, Any]] = [
    {"limit": 0},
    {"limit": 1001},
    {"limit": "ten"},
    {"order": "up"},
    {"order_by": "id"},
    {"stop_reason": "bogus"},
    {"background": "maybe"},
    {"active": "maybe"},
    {"statuses": "bogus"},
    {"statuses": ["failed", "Failed"]},
    {"colour": "red", "limit": 2},  # unknown keys are ignored, as Letta ignores them
]
BAD_CHILD_QUERIES: list[dict[str, Any]] = [
    {"limit": 0},
    {"limit": "many"},
    {"order": "sideways"},
    {"order_by": "id"},
    {"limit": 2, "after": "message-00000000-0000-4000-8000-000000000000"},
]


async def test_bad_input_gets_lettas_status_and_body(
    seeded: Any, letta: httpx.AsyncClient, adapter: httpx.AsyncClient
) -> None:
    run_id = _busiest(seeded).run_id
    statuses: set[int] = set()
    for params in BAD_RUNS_QUERIES:
        statuses.add(
            (await _identical(letta, adapter, "GET", "/v1/runs/", params=params)).status_code
        )
    for suffix in ("messages", "steps"):
        for params in BAD_CHILD_QUERIES:
            path = f"/v1/runs/{run_id}/{suffix}"
            statuses.add((await _identical(letta, adapter, "GET", path, params=params)).status_code)
    for params in ({"limit": 0}, {"limit": 9999}, {"limit": "x"}):
        path = f"/v1/runs/{run_id}/trace"
        statuses.add((await _identical(letta, adapter, "GET", path, params=params)).status_code)
    for suffix in ("", "/messages", "/usage", "/metrics", "/steps"):
        for bad_id in (UNKNOWN_RUN, "foo", "run-1234"):
            path = f"/v1/runs/{bad_id}{suffix}"
            statuses.add((await _identical(letta, adapter, "GET", path)).status_code)
    stream = f"/v1/runs/{run_id}/stream"
    for body in ({"starting_after": "abc"}, {"batch_size": "lots"}):
        statuses.add((await _identical(letta, adapter, "POST", stream, json=body)).status_code)
    assert {200, 400, 404, 422} <= statuses  # every kind of answer was compared


async def test_the_empty_and_negative_limits_of_child_lists_are_lettas(
    seeded: Any, letta: httpx.AsyncClient, adapter: httpx.AsyncClient
) -> None:
    run_id = _busiest(seeded).run_id
    for suffix in ("messages", "steps"):
        empty = await _identical(
            letta, adapter, "GET", f"/v1/runs/{run_id}/{suffix}", params={"limit": 0}
        )
        assert empty.status_code == 200 and empty.json() == []
        negative = await _identical(
            letta, adapter, "GET", f"/v1/runs/{run_id}/{suffix}", params={"limit": -1}
        )
        assert negative.status_code == 500


async def test_stream_passes_letta_sse_through(
    seeded: Any, letta: httpx.AsyncClient, adapter: httpx.AsyncClient
) -> None:
    done = [
        r
        for r in seeded.runs.values()
        if r.endpoint == "stream_bg" and r.status in ("completed", "failed")
    ]
    if not done:
        pytest.skip("no finished background run was seeded")
    run_id = done[0].run_id
    theirs = await letta.post(f"/v1/runs/{run_id}/stream", json={}, timeout=30)
    ours = await adapter.post(f"/v1/runs/{run_id}/stream", json={}, timeout=60)
    assert ours.status_code == theirs.status_code
    if theirs.status_code == 200:
        assert ours.headers["content-type"].startswith("text/event-stream")
        assert ours.text == theirs.text
    foreground = next(r for r in seeded.runs.values() if r.endpoint == "sync")
    refused = await adapter.post(f"/v1/runs/{foreground.run_id}/stream", json={})
    expected = await letta.post(f"/v1/runs/{foreground.run_id}/stream", json={})
    assert refused.status_code == expected.status_code == 400


async def test_diagnosis_route_on_a_real_run(seeded: Any, adapter: httpx.AsyncClient) -> None:
    failed = next(r for r in seeded.runs.values() if r.status == "failed")
    as_json = await adapter.get(f"/v1/runs/{failed.run_id}/diagnosis")
    assert as_json.status_code == 200, as_json.text
    assert failed.run_id in as_json.text
    as_md = await adapter.get(
        f"/v1/runs/{failed.run_id}/diagnosis", params={"format": "markdown", "detail": "full"}
    )
    assert as_md.status_code == 200
    assert as_md.headers["content-type"].startswith("text/markdown")
    timeline = await adapter.get(f"/v1/runs/{failed.run_id}/timeline")
    assert timeline.status_code == 200


@pytest.fixture
def adapter_url(seeded: Any) -> Iterator[str]:
    app = create_app(lambda: AsyncRunsClient(base_url=seeded.base_url), token="t0ken-for-tests")
    with serve_asgi(app, what="the REST adapter") as url:
        yield url


def test_real_socket_with_token(seeded: Any, adapter_url: str) -> None:
    run_id = _pick(seeded)[0]
    with httpx.Client(headers=_headers(), timeout=60) as raw:
        theirs = raw.get(f"{seeded.base_url}/v1/runs/{run_id}")
    ours = httpx.get(
        f"{adapter_url}/v1/runs/{run_id}",
        headers={"Authorization": "Bearer t0ken-for-tests"},
        timeout=60,
    )
    assert ours.status_code == 200
    assert ours.json() == theirs.json()
    assert httpx.get(f"{adapter_url}/v1/runs/{run_id}").status_code == 401
