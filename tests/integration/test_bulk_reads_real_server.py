"""The bulk lists (``/v1/messages/``, ``/v1/agents/{id}/messages``, ``/v1/steps/``) on a real
Letta 0.16.8 server, and the rules letta-runs builds on them.

Raw HTTP pins what the server does (positions are checked against ``messages.sequence_id`` in
its database); the client tests check that ``client.messages`` / ``client.agents`` /
``client.steps`` and ``letta_runs.fleet.read_window`` follow it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from typing import Any

import httpx
import pytest
from letta_runs import (
    AsyncRunsClient,
    InvalidArgumentError,
    NotFoundError,
    NotSupportedError,
    RunsClient,
)
from letta_runs.fleet import WindowRead, read_window

from tests.letta_server import SeededRuns

pytestmark = pytest.mark.letta_server

UNKNOWN_MESSAGE = "message-00000000-0000-4000-8000-000000000000"
UNKNOWN_AGENT = "agent-00000000-0000-4000-8000-000000000000"
EVERYTHING = 1_000_000


@pytest.fixture(scope="module")
def raw(seeded: SeededRuns) -> Any:
    with httpx.Client(base_url=seeded.base_url, timeout=120) as h:
        yield h


@pytest.fixture(scope="module")
def client(seeded: SeededRuns) -> Any:
    with RunsClient(base_url=seeded.base_url, timeout=120) as c:
        yield c


def get(raw: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    response = raw.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list)
    return body


def ids(items: list[dict[str, Any]]) -> list[str]:
    """Internal message ids in page order (the parts of one message collapse)."""
    return list(dict.fromkeys(str(m["id"]) for m in items))


@pytest.fixture(scope="module")
def sequence(letta_server: Any, seeded: SeededRuns) -> list[str]:
    """Every live message id in the server's insertion order (``sequence_id``)."""
    rows = letta_server.sql("select id from messages where not is_deleted order by sequence_id")
    return [row[0] for row in rows]


@pytest.fixture(scope="module")
def hidden(letta_server: Any, seeded: SeededRuns) -> dict[str, str]:
    """send_message's tool returns -> the message holding the call they answer.

    Letta drops such a return from any page that also holds its call
    (``Message.to_letta_messages_from_list``), and lists it where a page starts after the call.
    """
    rows = letta_server.sql(
        "select t.id, a.id from messages t join messages a on a.agent_id = t.agent_id "
        "and a.role = 'assistant' and a.tool_calls::text like '%' || t.tool_call_id || '%' "
        "where t.role = 'tool' and t.name = 'send_message' and not t.is_deleted"
    )
    return {row[0]: row[1] for row in rows}


def listed(page: list[str], hidden: dict[str, str]) -> list[str]:
    """The ids Letta lists for one page of internal messages."""
    inside = set(page)
    return [i for i in page if hidden.get(i) not in inside]


def walked_like(walked: list[str], sequence: list[str], hidden: dict[str, str]) -> None:
    """A paged walk lists every message a single page would, once, in order; all it adds are
    send_message returns whose call fell on another page."""
    full = listed(sequence, hidden)
    assert [i for i in walked if i in set(full)] == full
    assert set(walked) - set(full) <= set(hidden)


@pytest.fixture(scope="module")
def everything(raw: httpx.Client, sequence: list[str]) -> list[dict[str, Any]]:
    return get(raw, "/v1/messages/", limit=EVERYTHING, order="asc")


# --------------------------------------------------------------------------- GET /v1/messages/


def test_the_list_spans_every_agent_in_insertion_order(
    letta_server: Any,
    everything: list[dict[str, Any]],
    sequence: list[str],
    hidden: dict[str, str],
) -> None:
    assert ids(everything) == listed(sequence, hidden)
    agents = {row[0] for row in letta_server.sql("select distinct agent_id from messages")}
    runs = {
        row[0]
        for row in letta_server.sql(
            "select distinct run_id from messages where run_id is not null and not is_deleted"
        )
    }
    assert len(agents) > 5
    assert {m["run_id"] for m in everything if m.get("run_id")} == runs


def test_no_limit_cap_and_order_never_reverses_a_page(
    raw: httpx.Client, everything: list[dict[str, Any]]
) -> None:
    assert len(ids(everything)) > 1000 or len(everything) == len(
        get(raw, "/v1/messages/", limit=EVERYTHING)
    )
    assert get(raw, "/v1/messages/", limit=EVERYTHING, order="desc") == everything
    assert get(raw, "/v1/messages/", limit=EVERYTHING) == everything  # default order: desc


def test_desc_takes_the_newest_and_asc_the_oldest_both_ascending(
    raw: httpx.Client, sequence: list[str], hidden: dict[str, str]
) -> None:
    assert ids(get(raw, "/v1/messages/", limit=7)) == listed(sequence[-7:], hidden)
    assert ids(get(raw, "/v1/messages/", limit=7, order="desc")) == listed(sequence[-7:], hidden)
    assert ids(get(raw, "/v1/messages/", limit=7, order="asc")) == listed(sequence[:7], hidden)
    assert get(raw, "/v1/messages/") == get(raw, "/v1/messages/", limit=100)  # default 100


def test_cursors_compare_positions_whatever_the_order(
    raw: httpx.Client, sequence: list[str], hidden: dict[str, str]
) -> None:
    mid = len(sequence) // 2
    pivot = sequence[mid]
    page = dict(limit=5)

    def expect(part: list[str]) -> list[str]:
        return listed(part, hidden)

    assert ids(get(raw, "/v1/messages/", order="asc", after=pivot, **page)) == expect(
        sequence[mid + 1 : mid + 6]
    )
    assert ids(get(raw, "/v1/messages/", order="asc", before=pivot, **page)) == expect(sequence[:5])
    assert ids(get(raw, "/v1/messages/", order="desc", after=pivot, **page)) == expect(
        sequence[-5:]
    )
    assert ids(get(raw, "/v1/messages/", order="desc", before=pivot, **page)) == expect(
        sequence[mid - 5 : mid]
    )
    low, high = sequence[mid - 20], sequence[mid + 20]
    assert ids(
        get(raw, "/v1/messages/", order="asc", after=low, before=high, limit=1000)
    ) == expect(sequence[mid - 19 : mid + 20])
    assert get(raw, "/v1/messages/", after=high, before=low, limit=1000) == []


def test_paging_back_with_before_the_oldest_id_walks_every_message_once(
    raw: httpx.Client, sequence: list[str], hidden: dict[str, str]
) -> None:
    walked: list[str] = []
    cursor: str | None = None
    while True:
        page = get(raw, "/v1/messages/", limit=37, **({"before": cursor} if cursor else {}))
        if not page:
            break
        walked = ids(page) + walked
        cursor = page[0]["id"]
    assert len(walked) == len(set(walked))
    walked_like(walked, sequence, hidden)
    # What the official SDK does (after=<last id> of a default page) stops after one page.
    newest = get(raw, "/v1/messages/", limit=37)
    assert get(raw, "/v1/messages/", limit=37, after=newest[-1]["id"]) == []


def test_limit_counts_internal_messages(
    raw: httpx.Client, everything: list[dict[str, Any]], sequence: list[str]
) -> None:
    per_id: dict[str, int] = defaultdict(int)
    for m in everything:
        per_id[m["id"]] += 1
    shared = [i for i, n in per_id.items() if n > 1]
    assert shared, "a seeded run renders one internal message as several items"
    following = sequence[sequence.index(shared[0]) + 1]
    page = get(raw, "/v1/messages/", limit=2, order="desc", before=following)
    assert len(ids(page)) == 2 and len(page) > 2
    assert get(raw, "/v1/messages/", limit=0) == []
    assert raw.get("/v1/messages/", params={"limit": -1}).status_code == 500


def test_type_filter_applies_after_the_limit(raw: httpx.Client, sequence: list[str]) -> None:
    newest = get(raw, "/v1/messages/", limit=5)
    users = get(raw, "/v1/messages/", limit=5, include_return_message_types="user_message")
    assert users == [m for m in newest if m["message_type"] == "user_message"]


def test_unknown_cursor_is_a_404(raw: httpx.Client) -> None:
    for key in ("before", "after"):
        response = raw.get("/v1/messages/", params={key: UNKNOWN_MESSAGE, "limit": 5})
        assert response.status_code == 404
        assert response.json()["detail"] == (
            f"No message found with id '{UNKNOWN_MESSAGE}' for agent 'None'."
        )


def test_system_messages_carry_no_run_id(
    letta_server: Any, everything: list[dict[str, Any]]
) -> None:
    system = [m for m in everything if m["message_type"] == "system_message"]
    assert system and all(m.get("run_id") is None and m.get("step_id") is None for m in system)
    # Besides them only the messages an agent is created with (memgpt-style boot messages) lack
    # one: they come before any message of the agent's runs.
    rows = letta_server.sql(
        "select id, agent_id, sequence_id, run_id is not null from messages where not is_deleted"
    )
    first_run = {}
    for _, agent, seq, in_run in rows:
        if in_run == "t":
            first_run[agent] = min(int(seq), first_run.get(agent, int(seq)))
    where = {row[0]: (row[1], int(row[2])) for row in rows}
    others = [m for m in everything if m["message_type"] != "system_message"]
    for m in others:
        if not m.get("run_id"):
            agent, seq = where[m["id"]]
            assert seq < first_run.get(agent, seq + 1), m["id"]


# ------------------------------------------------------------------ GET /v1/agents/{id}/messages


def test_an_agents_list_is_the_global_list_restricted_to_it(
    raw: httpx.Client, seeded: SeededRuns, everything: list[dict[str, Any]], letta_server: Any
) -> None:
    agent = seeded.pagination_agent_ids[0]
    mine = {
        row[0] for row in letta_server.sql(f"select id from messages where agent_id = '{agent}'")
    }
    expected = [m for m in everything if m["id"] in mine]
    assert get(raw, f"/v1/agents/{agent}/messages", limit=EVERYTHING) == expected
    assert ids(get(raw, f"/v1/agents/{agent}/messages", limit=3)) == ids(expected)[-3:]
    assert ids(get(raw, f"/v1/agents/{agent}/messages", limit=3, order="asc")) == ids(expected)[:3]
    # A cursor of another agent is accepted and compared by the global position.
    other = next(m for m in everything if m["id"] not in mine)
    newer = [
        i for i in ids(expected) if ids(everything).index(i) > ids(everything).index(other["id"])
    ]
    page = get(raw, f"/v1/agents/{agent}/messages", order="asc", after=other["id"], limit=3)
    assert ids(page) == newer[:3]


def test_unknown_agent_and_unknown_cursor(raw: httpx.Client, seeded: SeededRuns) -> None:
    agent = seeded.pagination_agent_ids[0]
    assert raw.get(f"/v1/agents/{UNKNOWN_AGENT}/messages").status_code == 404
    response = raw.get(f"/v1/agents/{agent}/messages", params={"before": UNKNOWN_MESSAGE})
    assert response.status_code == 404
    assert f"for agent '{agent}'" in response.json()["detail"]
    assert raw.get("/v1/agents/foo/messages").status_code == 422


# --------------------------------------------------------------------------- GET /v1/steps/


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"limit": 5},
        {"order": "asc"},
        {"order": "desc", "limit": 10},
        {"start_date": "2020-01-01T00:00:00+00:00", "end_date": "2100-01-01T00:00:00+00:00"},
        {"agent_id": UNKNOWN_AGENT},
        {"after": "step-00000000-0000-4000-8000-000000000000"},
    ],
)
def test_the_steps_list_answers_400_to_every_query(
    raw: httpx.Client, params: dict[str, Any]
) -> None:
    response = raw.get("/v1/steps/", params=params)
    assert response.status_code == 400
    flag = "True" if params.get("order") == "asc" else "False"
    assert response.json()["detail"] == (
        f"Argument order does not match type typing.Optional[str]; is {flag} of type <class 'bool'>"
    )


def test_a_malformed_date_fails_before_the_order_bug(raw: httpx.Client) -> None:
    response = raw.get("/v1/steps/", params={"start_date": "notadate"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid isoformat string: 'notadate'"


# --------------------------------------------------------------------------- the client


def test_client_walks_back_and_forward_like_the_server(
    client: RunsClient, sequence: list[str], hidden: dict[str, str]
) -> None:
    back = [m.id for m in client.messages.list(limit=41)]
    walked_like(list(dict.fromkeys(reversed(back))), sequence, hidden)
    forward = [m.id for m in client.messages.list(limit=41, order="asc")]
    walked_like(list(dict.fromkeys(forward)), sequence, hidden)
    assert client.messages.list(limit=EVERYTHING).settle_has_more() is False
    assert client.messages.list(limit=3).settle_has_more() is True


def test_client_errors_name_the_cursor_and_the_agent(client: RunsClient) -> None:
    with pytest.raises(NotFoundError) as err:
        client.messages.list(before=UNKNOWN_MESSAGE)
    assert "cursor of messages.list" in err.value.message
    with pytest.raises(NotFoundError) as err:
        client.agents.messages.list(UNKNOWN_AGENT)
    assert f"agent {UNKNOWN_AGENT} not found" in err.value.message
    with pytest.raises(InvalidArgumentError):
        client.agents.messages.list("foo")


def test_client_detects_the_broken_steps_list_once(seeded: SeededRuns) -> None:
    sent: list[str] = []
    with RunsClient(base_url=seeded.base_url) as c:
        c._http.event_hooks["request"].append(lambda r: sent.append(r.url.path))
        with pytest.raises(NotSupportedError) as err:
            c.steps.list(start_date=datetime(2020, 1, 1))
        assert err.value.status_code == 400 and c.steps.supported is False
        with pytest.raises(NotSupportedError):
            c.steps.list()
    assert sent == ["/v1/steps/"]


def test_agent_type_is_read_without_relationships(client: RunsClient, seeded: SeededRuns) -> None:
    agent = client.agents.retrieve(seeded.pagination_agent_ids[0])
    assert agent.agent_type == "letta_v1_agent"
    assert "memory" not in (agent.model_extra or {}) or not agent.model_extra.get("tools")


def test_list_items_are_what_retrieve_returns_plus_the_run_duration(
    client: RunsClient, seeded: SeededRuns
) -> None:
    """A listed run is the retrieved run, except that the list fills ``total_duration_ns`` from
    ``/metrics`` ``run_ns`` (retrieve leaves it null): the list never says less."""
    listed = {r.id: r for r in client.runs.list(limit=1000)}
    filled = 0
    for label in seeded.labels():
        run_id = seeded.run_id(label)
        item, one = listed[run_id].to_json_dict(), client.runs.retrieve(run_id).to_json_dict()
        duration = item.pop("total_duration_ns")
        assert one.pop("total_duration_ns") is None
        assert item == one
        if duration is not None:
            assert duration == client.runs.metrics.retrieve(run_id).run_ns
            filled += 1
    assert filled > len(seeded.labels()) // 2


# --------------------------------------------------------------------------- the window rules


def test_a_completed_run_wrote_every_message_before_its_completed_at(
    letta_server: Any, client: RunsClient
) -> None:
    """The landmark rule of ``read_window``: a run created after another run completed has
    every message after all of that run's messages in the insertion sequence."""
    runs = [r for r in client.runs.list(limit=1000) if r.created_at is not None]
    rows = letta_server.sql(
        "select run_id, min(sequence_id), max(sequence_id) from messages "
        "where run_id is not null and not is_deleted group by run_id"
    )
    span = {run_id: (int(low), int(high)) for run_id, low, high in rows}
    landmarks = [
        r
        for r in runs
        if r.status == "completed"
        and r.completed_at is not None
        and r.stop_reason not in ("requires_approval", "cancelled")
        and r.id in span
    ]
    checked = 0
    for later in runs:
        if later.id not in span or later.created_at is None:
            continue
        for done in landmarks:
            assert done.completed_at is not None
            if done.completed_at < later.created_at:
                assert span[done.id][1] < span[later.id][0], (done.id, later.id)
                checked += 1
    assert checked > 1000


async def _window(base_url: str, **kwargs: Any) -> tuple[list[Any], WindowRead]:
    stats = WindowRead(since=None, agent_id=kwargs.get("agent_id"), statuses=None, limit=None)
    async with AsyncRunsClient(base_url=base_url, timeout=120) as c:
        out = [item async for item in read_window(c, since=None, stats=stats, **kwargs)]
    return out, stats


@pytest.fixture(scope="module")
def own_messages(client: RunsClient) -> dict[str, list[tuple[str | None, str]]]:
    """Each run's ``/v1/runs/{id}/messages`` as (id, type) pairs, read once per module."""

    class Own(dict[str, list[tuple[str | None, str]]]):
        def __missing__(self, run_id: str) -> list[tuple[str | None, str]]:
            pairs = [(m.id, m.message_type) for m in client.runs.messages.list(run_id, limit=1000)]
            self[run_id] = pairs
            return pairs

    return Own()


@pytest.mark.parametrize("page", [17, 2000])
def test_window_messages_are_each_runs_own_list(
    seeded: SeededRuns,
    client: RunsClient,
    letta_server: Any,
    own_messages: dict[str, list[tuple[str | None, str]]],
    hidden: dict[str, str],
    page: int,
) -> None:
    items, stats = asyncio.run(_window(seeded.base_url, messages_page=page))
    finished = [r for r in client.runs.list(limit=1000) if r.is_terminal]
    assert {w.run.id for w in items} == {r.id for r in finished}
    assert stats.active == stats.listed - len(finished) > 0  # the stuck and zombie runs
    assert stats.steps_bulk is False  # 0.16.8: per-run steps
    types = dict(letta_server.sql("select id, agent_type from agents"))
    for w in items:
        reason = w.per_run_reason or ""
        if w.messages is None:
            # Handed back to be read alone: another agent type (its text renders differently in
            # the all-agents list), or a send_message return that a page end made visible.
            assert "hidden differently" in reason or (
                types.get(w.run.agent_id) != "letta_v1_agent" and "renders differently" in reason
            ), (w.run.id, reason)
            continue
        assert types.get(w.run.agent_id) == "letta_v1_agent", (w.run.id, reason)
        # Whether a run's list shows send_message's return depends on where pages end.
        assert [(m.id, m.message_type) for m in w.messages if m.id not in hidden] == [
            pair for pair in own_messages[w.run.id] if pair[0] not in hidden
        ], w.run.id
    if page == 2000:
        assert stats.requests["messages"] <= 3 and stats.requests["runs"] <= 2


def test_window_of_one_agent_reads_its_own_list(
    seeded: SeededRuns,
    client: RunsClient,
    own_messages: dict[str, list[tuple[str | None, str]]],
) -> None:
    agent = seeded.pagination_agent_ids[1]
    items, stats = asyncio.run(_window(seeded.base_url, agent_id=agent, messages_page=11))
    assert {w.run.id for w in items} == {r.id for r in client.runs.list(agent_id=agent, limit=1000)}
    assert stats.requests["agents"] == 0
    for w in items:
        own = [pair[0] for pair in own_messages[w.run.id]]
        assert [m.id for m in w.messages or []] == own
