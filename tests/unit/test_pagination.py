"""Walking pages with the real server's cursor rules, over recorded runs."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest
from client_fixtures import BG_RUN, CHAIN_RUN, LOOP_RUN, bundle_for, fake_server
from letta_runs import AsyncRunsClient, RunsClient
from letta_runs._pagination import next_page_params


def client_and_server() -> tuple[RunsClient, object]:
    rec = fake_server()
    return RunsClient(base_url="http://letta.test", transport=httpx.MockTransport(rec)), rec


def queries(rec: object) -> list[dict[str, list[str]]]:
    return [parse_qs(q) for q in rec.queries]  # type: ignore[attr-defined]


def test_runs_walk_uses_before_and_never_after() -> None:
    client, rec = client_and_server()
    page = client.runs.list(limit=4)
    ids = [r.id for r in page]
    assert len(ids) == 13 == len(set(ids))
    created = [r.created_at for r in page.iter_all()]
    assert created == sorted(created, reverse=True)
    qs = queries(rec)
    assert qs[1]["before"] == [page.items[-1].id]
    assert all("after" not in q for q in qs)


def test_runs_walk_ascending_and_filters_kept() -> None:
    client, rec = client_and_server()
    runs = list(client.runs.list(limit=2, order="asc", statuses=["failed"]))
    assert [r.status for r in runs] == ["failed"] * 4
    assert all(q["statuses"] == ["failed"] and q["order"] == ["asc"] for q in queries(rec))
    created = [r.created_at for r in runs]
    assert created == sorted(created)


def test_runs_explicit_after_first_page_as_asked_then_before() -> None:
    client, rec = client_and_server()
    every = [r.id for r in client.runs.list(limit=100)]
    pivot = every[8]
    rec.requests.clear()  # type: ignore[attr-defined]
    walked = [r.id for r in client.runs.list(after=pivot, limit=3)]
    assert walked == every[:8]  # everything newer than the pivot, once each
    qs = queries(rec)
    assert qs[0] == {"after": [pivot], "limit": ["3"]}
    assert qs[1]["before"] == [every[2]]


def test_max_items_and_empty() -> None:
    client, rec = client_and_server()
    assert len(list(client.runs.list(limit=2).iter_all(max_items=3))) == 3
    assert len(rec.requests) == 2  # type: ignore[attr-defined]
    page = client.runs.list(agent_id="agent-none")
    assert page.items == [] and list(page) == [] and not page.has_next_page()


def test_steps_walk_after_in_current_order() -> None:
    client, rec = client_and_server()
    steps = [s.id for s in client.runs.steps.list(LOOP_RUN, limit=7)]
    chronological = [s["id"] for s in bundle_for(LOOP_RUN)["steps"]]
    assert steps == list(reversed(chronological))  # default desc, none skipped or repeated
    qs = queries(rec)
    assert len(qs) == 8  # 7 full pages + a short one
    assert all("before" not in q for q in qs[1:]) and qs[1]["after"] == [steps[6]]
    asc = [s.id for s in client.runs.steps.list(LOOP_RUN, limit=10, order="asc")]
    assert asc == chronological


def test_messages_pages_bigger_than_limit_with_shared_ids() -> None:
    client, rec = client_and_server()
    first = client.runs.messages.list(CHAIN_RUN, limit=2)
    assert len(first.items) > 2  # limit counts internal messages
    ids = [m.id for m in first.items]
    assert len(set(ids)) < len(ids)  # several items share one id
    everything = list(client.runs.messages.list(CHAIN_RUN, limit=2))
    recorded = bundle_for(CHAIN_RUN)["messages"]
    key = lambda m: (m["id"], m["message_type"], m["otid"])  # noqa: E731
    assert [key(m.to_json_dict()) for m in everything] == [key(m) for m in recorded]
    qs = [q for q in queries(rec) if q.get("limit") != ["1"]][1:]  # not the end probes
    assert all("after" in q and "before" not in q for q in qs[1:])


def test_messages_desc_pages_with_before() -> None:
    client, rec = client_and_server()
    desc = list(client.runs.messages.list(LOOP_RUN, limit=10, order="desc"))
    assert len(desc) == 101
    assert [m.id for m in desc] == [m["id"] for m in reversed(bundle_for(LOOP_RUN)["messages"])]
    walk = [q for q in queries(rec) if q.get("limit") != ["1"]]  # not the end probe
    assert all("before" in q for q in walk[1:])


def test_messages_stop_when_nothing_new() -> None:
    # A server that ignores the cursor would loop forever; the walk must end.
    page = [{"id": "message-1", "message_type": "user_message", "otid": "a"}]
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json=page)

    client = RunsClient(base_url="http://letta.test", transport=httpx.MockTransport(handler))
    assert len(list(client.runs.messages.list(BG_RUN))) == 1
    assert len(calls) == 2  # the page and its end probe, which says it is the end


def test_next_page_params_rules() -> None:
    items = [{"id": f"x{i}"} for i in range(3)]
    assert next_page_params("runs", {"limit": 3}, items) == {"limit": 3, "before": "x2"}
    assert next_page_params("runs", {"limit": 4}, items) is None
    assert next_page_params("steps", {"limit": 3, "order": "asc"}, items) == {
        "limit": 3,
        "order": "asc",
        "after": "x2",
    }
    assert next_page_params("messages", {"limit": 50}, items) == {"limit": 50, "after": "x2"}
    assert next_page_params("messages", {"order": "desc"}, items) == {
        "order": "desc",
        "before": "x2",
    }
    assert next_page_params("messages", {}, []) is None


def test_manual_page_navigation() -> None:
    client, _ = client_and_server()
    page = client.runs.list(limit=5)
    pages = list(page.iter_pages())
    assert [len(p.items) for p in pages] == [5, 5, 3]
    assert pages[0].has_next_page() and not pages[-1].has_next_page()
    nxt = page.next_page()
    assert nxt is not None and nxt.items[0].id == pages[1].items[0].id


@pytest.mark.parametrize("limit", [7, 100])
async def test_async_walks_match_sync(limit: int) -> None:
    sync, _ = client_and_server()
    rec = fake_server()
    client = AsyncRunsClient(base_url="http://letta.test", transport=httpx.MockTransport(rec))
    a_msgs = [m.id async for m in await client.runs.messages.list(LOOP_RUN, limit=limit)]
    s_msgs = [m.id for m in sync.runs.messages.list(LOOP_RUN, limit=limit)]
    assert a_msgs == s_msgs and len(a_msgs) == 101
    page = await client.runs.list(limit=limit)
    assert len([r async for r in page.iter_all(max_items=5)]) == 5
    assert len(await (await client.runs.steps.list(LOOP_RUN, limit=limit)).to_list()) == 50


def test_messages_has_more_is_settled_by_asking_for_the_last_item() -> None:
    from letta_runs import RunsClient

    run_id = "run-69218f56-d739-427f-a971-333ece5c2cdc"  # 4 messages
    with RunsClient(base_url="demo") as client:
        whole = client.runs.messages.list(run_id, limit=1000)
        assert len(whole.items) == 4
        assert whole.has_next_page() is True  # a short messages page proves nothing by itself
        assert whole.has_more is False
        assert client.runs.messages.list(run_id, limit=2).has_more is True
        assert client.runs.messages.list(run_id, limit=2, order="desc").has_more is True
        tail = client.runs.messages.list(run_id, limit=2, after=whole.items[1].id)
        assert [m.id for m in tail.items] == [m.id for m in whole.items[2:]]
        assert tail.has_more is False


async def test_async_messages_has_more_matches_the_sync_answer() -> None:
    from letta_runs import AsyncRunsClient

    run_id = "run-69218f56-d739-427f-a971-333ece5c2cdc"
    async with AsyncRunsClient(base_url="demo") as client:
        assert (await client.runs.messages.list(run_id, limit=1000)).has_more is False
        assert (await client.runs.messages.list(run_id, limit=1)).has_more is True


def test_runs_and_steps_has_more_follows_the_page_length() -> None:
    from letta_runs import RunsClient

    with RunsClient(base_url="demo") as client:
        assert client.runs.list(limit=1000).has_more is False
        assert client.runs.list(limit=2).has_more is True
        run_id = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # 50 steps
        assert client.runs.steps.list(run_id, limit=1000).has_more is False
        assert client.runs.steps.list(run_id, limit=10).has_more is True


def test_pages_speak_letta_clients_page_api() -> None:
    from letta_runs import RunsClient

    run_id = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # 50 steps
    with RunsClient(base_url="demo") as client:
        first = client.runs.steps.list(run_id, limit=20, order="asc")
        info = first.next_page_info()
        assert info is not None and info.params == {"after": first.items[-1].id}
        assert first.next_cursor == first.items[-1].id
        second = first.get_next_page()
        assert not {s.id for s in first.items} & {s.id for s in second.items}
        last = second.get_next_page()
        assert len(last.items) == 10 and last.has_more is False and last.next_cursor is None
        with pytest.raises(RuntimeError, match="No next page"):
            last.get_next_page()
        walked = client.runs.messages.list(run_id, limit=5)
        assert walked.has_more is True
        later = walked.next_page()  # a walk's step: not settled until asked
        assert later is not None and later.has_more is None
        assert later.settle_has_more() is True and later.has_more is True
