"""Faults against the real Letta 0.16.8 server: what it really does to a DELETE, and its streams
read through a proxy that inserts pings or goes silent.

The fault layer (``tests/faults.py``) sits in front of the real server's HTTP transport here, so
every answer that is not injected is Letta's own.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from faults import PING, FaultTransport, Rule, Silence, sse
from letta_runs import InvalidArgumentError, NotFoundError, RunsClient, ServerError

from tests.letta_server import SeededRuns

pytestmark = pytest.mark.letta_server

UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"


def through(seeded: SeededRuns, *rules: Rule) -> tuple[RunsClient, FaultTransport]:
    """A client whose requests reach the real server through the fault layer."""
    real = httpx.HTTPTransport()
    transport = FaultTransport(real.handle_request, list(rules))
    return RunsClient(base_url=seeded.base_url, transport=transport, read_only=False), transport


def test_a_delete_is_sent_once_and_the_500_is_explained_by_the_server_version(
    seeded: SeededRuns,
) -> None:
    run_id = seeded.pagination_run_ids[-3]
    client, transport = through(seeded)
    with client, pytest.raises(ServerError) as info:
        client.runs.delete(run_id)
    err = info.value
    assert err.status_code == 500
    # Read, one DELETE (never repeated after a 500), a read that finds the run, the version.
    # (After its 500 the server may drop the kept-alive connection; a read is simply retried.)
    sent = [(s.method, s.path) for s in transport.sent]
    assert sent[:2] == [("GET", f"/v1/runs/{run_id}"), ("DELETE", f"/v1/runs/{run_id}")]
    assert transport.count("DELETE") == 1
    assert ("GET", f"/v1/runs/{run_id}") in sent[2:] and sent[-1] == ("GET", "/v1/health/")
    assert f"run {run_id} was not deleted" in err.message and "still there" in err.message
    assert err.hint is not None and "Letta 0.16.8, whose DELETE" in err.hint
    assert err.to_dict()["deleted"] is False and err.to_dict()["server_version"] == "0.16.8"
    with RunsClient(base_url=seeded.base_url) as plain:
        assert plain.runs.retrieve(run_id).id == run_id  # the server really kept it


def test_deleting_an_unknown_run_is_not_found_and_sends_no_delete(seeded: SeededRuns) -> None:
    # Letta 0.16.8 answers 500 to a DELETE of any id; reading first tells "not found" apart.
    client, transport = through(seeded)
    with client, pytest.raises(NotFoundError):
        client.runs.delete(UNKNOWN_RUN)
    assert transport.count("DELETE") == 0
    with client, pytest.raises(InvalidArgumentError):
        client.runs.delete(UNKNOWN_RUN + "\n")
    assert len(transport.sent) == 1


def test_a_ping_inserted_after_the_first_event_does_not_end_the_replay(
    seeded: SeededRuns,
) -> None:
    run_id = seeded.run_id("stream_bg.background_stream")
    with RunsClient(base_url=seeded.base_url) as plain:
        clean = list(plain.runs.stream(run_id, idle_timeout=10))
    path = f"/v1/runs/{run_id}/stream"
    client, transport = through(
        seeded, Rule("POST", path, [sse(lambda ev: [ev[0], PING, *ev[1:]])])
    )
    with client:
        stream = client.runs.stream(run_id, idle_timeout=10)
        events = list(stream)
    assert stream.end_reason == "done"
    assert [e.raw for e in events if e.data != {"message_type": "ping", "seq_id": None}] == [
        e.raw for e in clean
    ]
    # The ping made the reader ask once whether the run finished (it has); it then resumed
    # from the last seq_id to drain the rest from the server itself.
    assert transport.count("POST") == 2 and transport.count("GET") == 1


def test_a_stream_gone_silent_is_resumed_from_the_last_seq_id(seeded: SeededRuns) -> None:
    run_id = seeded.run_id("stream_bg.background_stream")
    with RunsClient(base_url=seeded.base_url) as plain:
        clean = list(plain.runs.stream(run_id, idle_timeout=10))
    path = f"/v1/runs/{run_id}/stream"
    client, transport = through(seeded, Rule("POST", path, [sse(lambda ev: [*ev[:4], Silence()])]))
    with client:
        stream = client.runs.stream(run_id, idle_timeout=1.0)
        events = list(stream)
    assert stream.end_reason == "done"
    assert [e.raw for e in events] == [e.raw for e in clean]  # nothing lost, nothing twice
    bodies = [s.body for s in transport.sent if s.method == "POST"]
    assert len(bodies) == 2 and b'"starting_after":4' in bodies[1].replace(b" ", b"")


def test_a_finished_runs_keepalive_pings_end_the_stream_as_terminal(seeded: SeededRuns) -> None:
    # Past the end of a finished run the server sends nothing for 20 s, then a ping every 20 s,
    # and never closes. The reader waits for the ping (idle timeout above 20 s), asks once
    # whether the run is finished, drains for a short grace and ends — it does not hang.
    run_id = seeded.run_id("stream_bg.background_stream")
    client, transport = through(seeded)
    started = time.monotonic()
    with client:
        stream = client.runs.stream(run_id, starting_after=10_000, idle_timeout=30)
        events: list[Any] = list(stream)
    elapsed = time.monotonic() - started
    assert stream.end_reason == "terminal"
    assert events and all(e.kind == "ping" for e in events)
    assert 15 < elapsed < 30
    assert transport.count("GET", f"/v1/runs/{run_id}") == 1
