"""Reads across runs (``client.messages``, ``client.agents``, ``client.steps``) against the demo
server, which models Letta 0.16.8's rules for these lists (pinned on the real server in
tests/integration/test_bulk_reads_real_server.py)."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest
from client_fixtures import demo_bundles, fake_server
from letta_runs import (
    AsyncRunsClient,
    InvalidArgumentError,
    NotFoundError,
    NotSupportedError,
    RunsClient,
)
from letta_runs._demo import DemoServer
from letta_runs._pagination import next_page_params


def client_and_server(**kwargs: object) -> tuple[RunsClient, object]:
    rec = fake_server() if not kwargs else None
    handler = rec or DemoServer(demo_bundles(), **kwargs)  # type: ignore[arg-type]
    return RunsClient(base_url="http://letta.test", transport=httpx.MockTransport(handler)), rec


def every_message_ascending(client: RunsClient) -> list[str | None]:
    return [m.id for m in client.messages.list(limit=100_000).items]


def test_a_page_is_ascending_whatever_the_order() -> None:
    client, _ = client_and_server()
    every = every_message_ascending(client)
    newest = client.messages.list(limit=5).items
    oldest = client.messages.list(limit=5, order="asc").items
    unique = list(dict.fromkeys(every))
    assert list(dict.fromkeys(m.id for m in newest)) == unique[-5:]
    assert list(dict.fromkeys(m.id for m in oldest)) == unique[:5]
    dates = [m.date for m in client.messages.list(limit=100_000).items if m.date]
    assert dates  # the demo runs were recorded over hours; the page is oldest → newest
    assert dates[0] < dates[-1]


def test_walking_back_uses_before_the_first_id_of_each_page() -> None:
    client, rec = client_and_server()
    every = every_message_ascending(client)
    rec.requests.clear()  # type: ignore[union-attr]
    walked = [m.id for m in client.messages.list(limit=7)]
    assert list(dict.fromkeys(reversed(walked))) == list(dict.fromkeys(every))
    queries = [parse_qs(r.url.query.decode()) for r in rec.requests]  # type: ignore[union-attr]
    assert all("after" not in q for q in queries)
    assert queries[1]["before"] and queries[1]["before"][0] in every


def test_walking_forward_uses_after_the_last_id() -> None:
    client, _ = client_and_server()
    every = every_message_ascending(client)
    walked = [m.id for m in client.messages.list(limit=9, order="asc")]
    assert list(dict.fromkeys(walked)) == list(dict.fromkeys(every))


def test_next_page_rules_for_bulk_messages() -> None:
    items = [{"id": "m1"}, {"id": "m2"}, {"id": "m3"}]
    assert next_page_params("bulk_messages", {"limit": 3}, items) == {"limit": 3, "before": "m1"}
    assert next_page_params("bulk_messages", {"order": "desc"}, items) == {
        "order": "desc",
        "before": "m1",
    }
    assert next_page_params("bulk_messages", {"order": "asc"}, items) == {
        "order": "asc",
        "after": "m3",
    }
    assert next_page_params("bulk_messages", {}, []) is None


def test_has_more_is_settled_by_the_opposite_end() -> None:
    client, _ = client_and_server()
    assert client.messages.list(limit=100_000).settle_has_more() is False
    assert client.messages.list(limit=3).settle_has_more() is True
    assert client.messages.list(limit=3, order="asc").settle_has_more() is True


def test_system_messages_carry_no_run_id_and_span_every_agent() -> None:
    client, _ = client_and_server()
    items = client.messages.list(limit=100_000).items
    runs = client.runs.list(limit=1000).items
    system = [m for m in items if m.message_type == "system_message"]
    assert system and all(m.run_id is None for m in system)
    assert len(system) == len({r.agent_id for r in runs})
    with_messages = {m.run_id for m in items if m.run_id}
    recorded = {b["run"]["id"] for b in demo_bundles() if b["messages"]}
    assert with_messages == recorded  # runs that failed before their first step have none


def test_an_agents_list_is_the_global_list_restricted_to_it() -> None:
    client, _ = client_and_server()
    agent = client.runs.list(limit=1).items[0].agent_id
    assert agent is not None
    mine = [m.id for m in client.agents.messages.list(agent, limit=100_000).items]
    everything = client.messages.list(limit=100_000).items
    runs = {r.id for r in client.runs.list(agent_id=agent, limit=1000).items}
    expected = [
        m.id
        for m in everything
        if m.run_id in runs or (m.run_id is None and m.message_type == "system_message")
    ]
    assert mine[1:] == expected[-(len(mine) - 1) :]
    walked = [m.id for m in client.agents.messages.list(agent, limit=4)]
    assert list(dict.fromkeys(reversed(walked))) == list(dict.fromkeys(mine))


def test_unknown_cursor_is_a_404_that_names_the_cursor() -> None:
    client, _ = client_and_server()
    with pytest.raises(NotFoundError) as err:
        client.messages.list(before="message-00000000-0000-4000-8000-000000000000")
    assert "cursor of messages.list was not found" in err.value.message
    assert "LETTA_BASE_URL" not in (err.value.hint or "")


def test_agent_ids_are_checked_before_any_request() -> None:
    client, rec = client_and_server()
    with pytest.raises(InvalidArgumentError):
        client.agents.messages.list("foo")
    with pytest.raises(InvalidArgumentError):
        client.agents.retrieve("agent-123")
    with pytest.raises(InvalidArgumentError):
        client.messages.list(limit=0)
    with pytest.raises(InvalidArgumentError):
        client.messages.list(include_return_message_types=["bogus"])
    assert rec.requests == []  # type: ignore[union-attr]


def test_unknown_agent_is_named_in_the_error() -> None:
    client, _ = client_and_server()
    missing = "agent-00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotFoundError) as err:
        client.agents.messages.list(missing)
    assert missing in err.value.message


def test_agent_type_is_read_without_relationships() -> None:
    client, rec = client_and_server()
    agent = client.runs.list(limit=1).items[0].agent_id
    assert agent is not None
    assert client.agents.retrieve(agent).agent_type == "letta_v1_agent"
    assert parse_qs(rec.requests[-1].url.query.decode()) == {  # type: ignore[union-attr]
        "include_relationships": ["none"]
    }


def test_broken_steps_list_is_detected_once() -> None:
    client, rec = client_and_server()
    assert client.steps.supported is None
    with pytest.raises(NotSupportedError) as err:
        client.steps.list(limit=5)
    assert err.value.status_code == 400 and "0.16.8" in err.value.message
    assert client.steps.supported is False
    sent = len(rec.requests)  # type: ignore[union-attr]
    with pytest.raises(NotSupportedError):
        client.steps.list(agent_id=client.runs.list(limit=1).items[0].agent_id)
    assert len(rec.requests) == sent + 1  # only the runs list: no second /v1/steps/ request  # type: ignore[union-attr]


def test_working_steps_list_pages_with_after_the_last_id() -> None:
    client, _ = client_and_server(steps_bulk=True)
    every = list(client.steps.list(limit=1000).items)
    walked = list(client.steps.list(limit=7))
    assert client.steps.supported is True
    assert [s.id for s in walked] == [s.id for s in every]
    ascending = [s.id for s in client.steps.list(limit=5, order="asc")]
    assert ascending == [s.id for s in reversed(every)]
    runs = {s.run_id for s in every}
    assert len(runs) > 5


def test_step_dates_are_validated_before_any_request() -> None:
    client, _ = client_and_server(steps_bulk=True)
    with pytest.raises(InvalidArgumentError):
        client.steps.list(start_date="yesterday")
    with pytest.raises(InvalidArgumentError):
        client.steps.list(start_date="2026-01-02T00:00:00+00:00", end_date="2026-01-01T00:00:00")


async def test_async_twins_walk_the_same_lists() -> None:
    sync, _ = client_and_server()
    async with AsyncRunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(fake_server())
    ) as client:
        walked = [m.id async for m in await client.messages.list(limit=11)]
        assert walked == [m.id for m in sync.messages.list(limit=11)]
        agent = sync.runs.list(limit=1).items[0].agent_id
        assert agent is not None
        mine = [m.id async for m in await client.agents.messages.list(agent, limit=5)]
        assert mine == [m.id for m in sync.agents.messages.list(agent, limit=5)]
        assert (await client.agents.retrieve(agent)).id == agent
        with pytest.raises(NotSupportedError):
            await client.steps.list()
        assert client.steps.supported is False
