"""The one bridge from blocking code to the async core keeps the client's settings."""

from __future__ import annotations

import httpx
import pytest
from letta_runs import ReadOnlyError, RunsClient
from letta_runs._blocking import blocking, run_blocking
from letta_runs.composites import diagnose_run_sync
from letta_runs.evidence import gather_evidence, gather_evidence_sync

RUN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"


def recording_client(**settings: object) -> tuple[RunsClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": RUN, "status": "completed"})

    client = RunsClient(
        base_url="http://letta.test",
        api_key="sk-let-bridge-test-key",
        transport=httpx.MockTransport(handler),
        **settings,  # type: ignore[arg-type]
    )
    return client, seen


def test_the_async_twin_keeps_headers_project_key_and_transport() -> None:
    client, seen = recording_client(headers={"X-Trace": "t-1"}, project="p-1")
    run = run_blocking(client, lambda c: c.runs.retrieve(RUN))
    assert run.id == RUN
    (request,) = seen  # through the same transport: nothing went to the network
    assert request.headers["x-trace"] == "t-1"
    assert request.headers["x-project"] == "p-1"
    assert request.headers["authorization"] == "Bearer sk-let-bridge-test-key"


def test_the_async_twin_keeps_read_only_mode() -> None:
    client, seen = recording_client(read_only=True)
    with pytest.raises(ReadOnlyError):
        run_blocking(client, lambda c: c.runs.delete(RUN))
    assert seen == []


async def test_called_inside_a_running_loop_it_runs_on_a_loop_of_its_own() -> None:
    client, seen = recording_client()
    assert run_blocking(client, lambda c: c.runs.retrieve(RUN)).id == RUN
    assert len(seen) == 1


def test_blocking_twins_take_a_runs_client() -> None:
    with RunsClient(base_url="demo") as client:
        diag = diagnose_run_sync(client, RUN)
        ev = gather_evidence_sync(client, RUN, include_trace=False)
    assert diag.run_id == ev.run_id == RUN
    assert blocking(gather_evidence).__doc__ == gather_evidence_sync.__doc__
