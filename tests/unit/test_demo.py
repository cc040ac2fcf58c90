"""The embedded demo data and the transport that serves it like a Letta 0.16.8 server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from client_fixtures import (
    ASYNC_RUN,
    BG_RUN,
    CANCELLED_RUN,
    DEMO_DIR,
    FIXTURES,
    LOOP_RUN,
    RUN,
    STUCK_RUN,
    UNKNOWN_RUN,
)
from letta_runs import (
    APIStatusError,
    AsyncRunsClient,
    BadRequestError,
    NotFoundError,
    NotSupportedError,
    RunsClient,
)
from letta_runs._demo import BUNDLE_FORMAT, DEMO_LABELS, build_demo_bundles


@pytest.fixture
def demo() -> RunsClient:
    return RunsClient(base_url="demo")


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="recorded fixtures not available")
def test_embedded_bundles_match_converter(tmp_path: Path) -> None:
    build_demo_bundles(FIXTURES, tmp_path)
    for label in DEMO_LABELS:
        assert (tmp_path / f"{label}.json").read_text() == (DEMO_DIR / f"{label}.json").read_text()
    assert sorted(p.name for p in DEMO_DIR.glob("*.json")) == sorted(
        f"{x}.json" for x in DEMO_LABELS
    )


def test_bundle_format() -> None:
    bundle = json.loads((DEMO_DIR / "sync_max_steps_default.json").read_text())
    assert bundle["format"] == BUNDLE_FORMAT
    assert len(bundle["steps"]) == 50 and len(bundle["messages"]) == 101
    assert bundle["trace"]["status"] == 501 and bundle["stream"]["status"] == 400
    # steps chronological: the first step is the one the first tool call belongs to
    first_step = next(m["step_id"] for m in bundle["messages"] if m.get("step_id"))
    assert bundle["steps"][0]["id"] == first_step


def test_demo_base_url_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETTA_BASE_URL", "demo")
    client = RunsClient()
    assert client.is_demo and client.base_url == "demo"
    assert client.runs.retrieve(RUN).status == "completed"


def test_demo_list_filters(demo: RunsClient) -> None:
    assert len(demo.runs.list().items) == 13
    failed = demo.runs.list(statuses=["failed"]).items
    assert {r.status for r in failed} == {"failed"} and len(failed) == 4
    both = demo.runs.list(statuses=["failed", "cancelled"]).items
    assert len(both) == 5
    assert [r.id for r in demo.runs.list(active=True)] == [STUCK_RUN]
    assert [r.id for r in demo.runs.list_active()] == [STUCK_RUN]
    bg = demo.runs.list(background=True).items
    assert {r.id for r in bg} == {BG_RUN, CANCELLED_RUN, STUCK_RUN, ASYNC_RUN}
    assert [r.stop_reason for r in demo.runs.list(stop_reason="max_steps")] == ["max_steps"]
    agent = demo.runs.retrieve(LOOP_RUN).agent_id
    assert [r.id for r in demo.runs.list(agent_id=agent)] == [LOOP_RUN]
    assert demo.runs.list(conversation_id="conv-x").items == []


def test_demo_runs_cursors(demo: RunsClient) -> None:
    every = [r.id for r in demo.runs.list()]
    assert [r.id for r in demo.runs.list(before=every[3], limit=2).items] == every[4:6]
    assert [r.id for r in demo.runs.list(after=every[3], limit=2).items] == every[:2]
    asc = [r.id for r in demo.runs.list(order="asc")]
    assert asc == list(reversed(every))
    assert [r.id for r in demo.runs.list(ascending=True, limit=1).items] == [every[-1]]
    assert [r.id for r in demo.runs.list(before=UNKNOWN_RUN, limit=2).items] == every[:2]


def test_demo_children(demo: RunsClient) -> None:
    assert demo.runs.usage.retrieve(LOOP_RUN).total_tokens
    assert demo.runs.metrics.retrieve(LOOP_RUN).num_steps == 50
    assert len(list(demo.runs.steps.list(LOOP_RUN, limit=20))) == 50
    assert len(list(demo.runs.messages.list(LOOP_RUN, limit=20))) == 101
    with pytest.raises(NotSupportedError):
        demo.runs.trace.retrieve(LOOP_RUN)
    with pytest.raises(NotFoundError, match="cursor"):
        demo.runs.steps.list(LOOP_RUN, after="step-00000000-0000-4000-8000-000000000000")


def test_demo_errors(demo: RunsClient) -> None:
    with pytest.raises(NotFoundError, match="not found on demo"):
        demo.runs.retrieve(UNKNOWN_RUN)
    with pytest.raises(NotFoundError):
        demo.runs.metrics.retrieve(UNKNOWN_RUN)
    with pytest.raises(APIStatusError, match="read-only") as info:
        demo.runs.delete(RUN)
    assert info.value.status_code == 405
    with pytest.raises(BadRequestError, match="background"):
        list(demo.runs.stream(RUN))


def test_demo_stream_replay(demo: RunsClient) -> None:
    stream = demo.runs.stream(BG_RUN)
    assert [e.kind for e in stream][-3:] == ["stop_reason", "usage", "done"]
    assert stream.end_reason == "done" and stream.last_seq_id == 9
    tail = demo.runs.stream(BG_RUN, starting_after=5)
    assert [e.seq_id for e in tail if e.kind == "message"] == [6, 7, 8, 9]
    assert tail.end_reason == "done"
    cancelled = demo.runs.stream(CANCELLED_RUN)
    list(cancelled)
    assert cancelled.end_reason == "cancelled"
    stuck = demo.runs.stream(STUCK_RUN, idle_timeout=0.05)
    assert [e.kind for e in stuck] == ["ping", "ping", "ping"]
    assert stuck.end_reason == "idle_timeout"
    past_end = demo.runs.stream(BG_RUN, starting_after=50)
    assert list(past_end) == [] and past_end.end_reason == "terminal"


async def test_async_demo() -> None:
    async with AsyncRunsClient(base_url="demo") as client:
        page = await client.runs.list(limit=5)
        assert len([r async for r in page]) == 13
        run = await client.runs.retrieve(ASYNC_RUN)
        assert run.status == "failed"
        stream = client.runs.stream(ASYNC_RUN)
        # Only keep-alives come (a ping never ends a stream by itself): the run is finished,
        # so the reader drains what is left and ends once nothing else follows.
        kinds = [e.kind async for e in stream]
        assert kinds and set(kinds) == {"ping"}
        assert stream.end_reason == "terminal"
