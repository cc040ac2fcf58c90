"""``read_window``: a window's runs with their bulk messages and steps, over the demo server
(which follows Letta 0.16.8's rules for the bulk lists)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from client_fixtures import demo_bundles
from letta_runs import AsyncRunsClient
from letta_runs._demo import DemoServer
from letta_runs.fleet import WindowRead, WindowRun, read_window
from letta_runs.models import Run

RECORDED_END = datetime(2026, 11, 28, 10, 40, tzinfo=UTC)  # just after the newest demo run


class Counting:
    def __init__(self, server: DemoServer) -> None:
        self.server = server
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return self.server(request)


async def window(
    bundles: list[dict[str, Any]] | None = None, *, steps_bulk: bool = False, **kwargs: Any
) -> tuple[list[WindowRun], WindowRead, Counting]:
    server = Counting(DemoServer(bundles or demo_bundles(), steps_bulk=steps_bulk))
    stats = WindowRead(
        since=kwargs.get("since"),
        agent_id=kwargs.get("agent_id"),
        statuses=kwargs.get("statuses"),
        limit=kwargs.get("limit"),
    )
    async with AsyncRunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(server)
    ) as client:
        items = [w async for w in read_window(client, stats=stats, **{"since": None, **kwargs})]
    return items, stats, server


def by_id() -> dict[str, dict[str, Any]]:
    return {b["run"]["id"]: b for b in demo_bundles()}


async def test_every_finished_run_with_its_own_messages_newest_first() -> None:
    items, stats, server = await window(messages_page=7)
    bundles = by_id()
    finished = [b for b in bundles.values() if b["run"]["status"] != "running"]
    assert [w.run.id for w in items] == [
        b["run"]["id"] for b in sorted(finished, key=lambda b: b["run"]["created_at"], reverse=True)
    ]
    for w in items:
        assert w.messages is not None, w.per_run_reason
        assert [m.id for m in w.messages] == [m["id"] for m in bundles[w.run.id]["messages"]]
        assert w.steps is None  # /v1/steps/ is broken, as on 0.16.8
    assert stats.listed == 13 and stats.finished == 12 and stats.active == 1
    assert [r.status for r in stats.active_examples] == ["running"]
    assert stats.steps_bulk is False
    assert server.paths.count("/v1/steps/") == 1
    assert stats.requests["runs"] == 1


async def test_working_steps_list_brings_each_runs_steps() -> None:
    items, stats, server = await window(steps_bulk=True, steps_page=5)
    bundles = by_id()
    assert stats.steps_bulk is True
    for w in items:
        assert w.steps is not None
        assert [s.id for s in w.steps] == [s["id"] for s in bundles[w.run.id]["steps"]]
    assert not any(p.startswith("/v1/runs/run-") for p in server.paths)


async def test_a_window_keeps_runs_created_since_and_says_what_is_newest() -> None:
    since = datetime(2026, 11, 28, 10, 19, tzinfo=UTC)
    items, stats, _ = await window(since=since)
    assert items and all(w.run.created_at and w.run.created_at >= since for w in items)
    assert len(items) == 5 and stats.active == 1
    assert stats.newest is not None and stats.newest.id.startswith("run-a30ab545")
    for w in items:
        assert w.messages is not None, w.per_run_reason


async def test_an_empty_window_still_names_the_newest_run() -> None:
    items, stats, _ = await window(since=RECORDED_END + timedelta(days=2))
    assert items == [] and stats.listed == 0
    assert stats.newest is not None and stats.newest.created_at is not None


async def test_statuses_and_limit() -> None:
    items, stats, _ = await window(statuses=["failed"])
    assert {w.run.status for w in items} == {"failed"} and len(items) == 4
    assert stats.other_statuses == {"completed": 7, "cancelled": 1, "running": 1}
    assert stats.active == 0
    items, stats, _ = await window(limit=3)
    assert len(items) + stats.active == 3 and stats.truncated and stats.listed == 3


async def test_one_agents_window_reads_its_own_list() -> None:
    agent = by_id()["run-1bcd7407-1899-4bd3-9d6a-6058cfee7e69"]["run"]["agent_id"]
    items, stats, server = await window(agent_id=agent, messages_page=3)
    assert items and all(w.run.agent_id == agent for w in items)
    assert all(
        p in ("/v1/runs/", f"/v1/agents/{agent}/messages", "/v1/steps/") for p in server.paths
    )
    assert stats.requests["agents"] == 0
    for w in items:
        assert w.messages is not None


async def test_runs_of_other_agent_types_are_handed_back() -> None:
    bundles = demo_bundles()
    server = DemoServer(bundles)
    memgpt = bundles[0]["run"]["agent_id"]
    original = server.bulk.agent

    def agent(agent_id: str) -> httpx.Response:
        if agent_id == memgpt:
            return httpx.Response(200, json={"id": agent_id, "agent_type": "memgpt_agent"})
        return original(agent_id)

    server.bulk.agent = agent  # type: ignore[method-assign]
    async with AsyncRunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(server)
    ) as client:
        items = [w async for w in read_window(client, since=None)]
    mine = [w for w in items if w.run.agent_id == memgpt]
    assert mine and all(w.messages is None for w in mine)
    assert all("memgpt_agent" in (w.per_run_reason or "") for w in mine)
    assert all(w.messages is not None for w in items if w.run.agent_id != memgpt)


async def test_the_runs_own_message_filter_is_applied() -> None:
    bundles = demo_bundles()
    chain = next(b for b in bundles if b["run"]["id"].startswith("run-1bcd7407"))
    chain["run"]["request_config"] = {"include_return_message_types": ["assistant_message"]}
    items, _, _ = await window(bundles)
    (w,) = [w for w in items if w.run.id == chain["run"]["id"]]
    assert w.messages and {m.message_type for m in w.messages} == {"assistant_message"}


async def test_a_failing_messages_list_hands_every_run_back() -> None:
    server = DemoServer(demo_bundles())

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/messages/":
            return httpx.Response(503, json={"detail": "overloaded"})
        return server(request)

    stats = WindowRead(since=None, agent_id=None, statuses=None, limit=None)
    async with AsyncRunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(handler), max_retries=0
    ) as client:
        items = [w async for w in read_window(client, since=None, stats=stats)]
    assert len(items) == 12 and all(w.messages is None for w in items)
    assert all("bulk messages list failed" in (w.per_run_reason or "") for w in items)
    assert len(stats.bulk_failures) == 1 and "overloaded" in stats.bulk_failures[0]


LOOP = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # the newest run: 101 messages


def _shift(bundle: dict[str, Any], delta: timedelta) -> None:
    def moved(value: str) -> str:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return (parsed + delta).isoformat()

    run = bundle["run"]
    for key in ("created_at", "completed_at"):
        if run.get(key):
            run[key] = moved(run[key])
    for message in bundle["messages"]:
        if message.get("date"):
            message["date"] = moved(message["date"])


async def test_a_landmark_just_below_the_window_proves_it_complete() -> None:
    since = by_id()[LOOP]["run"]["created_at"]
    start = datetime.fromisoformat(since.replace("Z", "+00:00")) - timedelta(minutes=1)
    items, stats, _ = await window(since=start, messages_page=2)
    assert [w.run.id for w in items] == [LOOP] and items[0].messages is not None
    assert len(items[0].messages) == 101
    # 51 pages hold the loop's 50 steps and its input; one more meets an older completed run.
    assert stats.requests["messages"] <= 53


async def test_without_a_landmark_the_walk_stops_and_hands_the_run_back() -> None:
    # Every older run was cancelled (no landmark) hours earlier: nothing proves the newest run's
    # messages complete, so the walk gives up a few pages past it instead of reading all history.
    bundles = demo_bundles()
    for b in bundles:
        if b["run"]["id"] != LOOP:
            b["run"]["status"], b["run"]["stop_reason"] = "cancelled", "cancelled"
            _shift(b, timedelta(hours=-3))
    since = datetime.fromisoformat(by_id()[LOOP]["run"]["created_at"].replace("Z", "+00:00"))
    items, stats, _ = await window(bundles, since=since - timedelta(minutes=1), messages_page=2)
    assert [w.run.id for w in items] == [LOOP]
    assert items[0].messages is None
    assert "not proven complete" in (items[0].per_run_reason or "")
    older = sum(len(b["messages"]) for b in bundles if b["run"]["id"] != LOOP)
    assert 51 < stats.requests["messages"] <= 51 + 3 + 1 < 51 + older // 2


@pytest.mark.parametrize("page", [1, 4, 50, 5000])
async def test_page_size_never_changes_what_a_run_gets(page: int) -> None:
    reference, _, _ = await window(messages_page=5000)
    items, _, _ = await window(messages_page=page)
    got = {w.run.id: [m.id for m in w.messages or []] for w in items}
    assert got == {w.run.id: [m.id for m in w.messages or []] for w in reference}


def test_window_run_is_plain_data() -> None:
    run = Run(id="run-00000000-0000-4000-8000-000000000000")
    assert WindowRun(run=run, messages=None, steps=None).per_run_reason is None
