"""The client and the CLI against a real Letta 0.16.8 server (harness in tests/letta_server).

Every test compares what letta-runs returns with what the server itself says: raw HTTP for
single objects, the database for counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from letta_runs import (
    AsyncRunsClient,
    BadRequestError,
    InvalidArgumentError,
    NotFoundError,
    NotSupportedError,
    RunsClient,
    ServerError,
)
from letta_runs.cli import cli

from tests.letta_server import SeededRuns

pytestmark = pytest.mark.letta_server

REPO = Path(__file__).resolve().parents[2]
UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def client(seeded: SeededRuns) -> Any:
    with RunsClient(base_url=seeded.base_url) as c:
        yield c


@pytest.fixture(scope="module")
def raw(seeded: SeededRuns) -> Any:
    with httpx.Client(base_url=seeded.base_url, timeout=60) as h:
        yield h


def raw_json(raw: httpx.Client, path: str, **params: Any) -> Any:
    response = raw.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def db_count(letta_server: Any, query: str) -> int:
    return int(letta_server.sql(query)[0][0])


# --------------------------------------------------------------------------- single objects


def test_retrieve_returns_what_the_server_returns(
    client: RunsClient, raw: httpx.Client, seeded: SeededRuns
) -> None:
    for label in ("sync.tool_chain_ok", "sync.llm_error_500", "stream_bg.background_stream"):
        run_id = seeded.run_id(label)
        run = client.runs.retrieve(run_id)
        server = raw_json(raw, f"/v1/runs/{run_id}")
        assert run.id == server["id"] and run.status == server["status"]
        assert run.stop_reason == server["stop_reason"]
        assert run.agent_id == server["agent_id"]
        assert set(server) <= set(run.to_json_dict())  # every field kept


def test_usage_and_metrics_match_raw_http(
    client: RunsClient, raw: httpx.Client, seeded: SeededRuns
) -> None:
    run_id = seeded.run_id("sync.tool_chain_ok")
    usage = client.runs.usage.retrieve(run_id)
    assert usage.to_json_dict() == raw_json(raw, f"/v1/runs/{run_id}/usage")
    metrics = client.runs.metrics.retrieve(run_id)
    assert metrics.to_json_dict() == raw_json(raw, f"/v1/runs/{run_id}/metrics")
    assert metrics.num_steps == seeded.runs["sync.tool_chain_ok"].step_count


def test_steps_and_messages_match_raw_http(
    client: RunsClient, raw: httpx.Client, seeded: SeededRuns
) -> None:
    run_id = seeded.run_id("sync.tool_chain_ok")
    steps = client.runs.steps.list(run_id).items
    assert [s.id for s in steps] == [s["id"] for s in raw_json(raw, f"/v1/runs/{run_id}/steps")]
    messages = client.runs.messages.list(run_id).items
    server = raw_json(raw, f"/v1/runs/{run_id}/messages")
    assert [(m.id, m.message_type) for m in messages] == [
        (m["id"], m["message_type"]) for m in server
    ]


# --------------------------------------------------------------------------- pagination


def test_runs_list_all_yields_every_run_exactly_once(
    client: RunsClient, seeded: SeededRuns, letta_server: Any
) -> None:
    total = db_count(letta_server, "SELECT count(*) FROM runs")
    assert total >= 200, "the seed should hold a few hundred runs"
    for order in ("desc", "asc"):
        ids = [r.id for r in client.runs.list(limit=37, order=order)]
        assert len(ids) == len(set(ids)), f"duplicates when paging {order}"
        assert len(ids) == total, f"{order}: {len(ids)} runs walked, {total} in the database"


def test_runs_pages_are_in_order_without_gaps(client: RunsClient, seeded: SeededRuns) -> None:
    agent = seeded.pagination_agent_ids[0]
    one_page = client.runs.list(agent_id=agent, limit=1000).items
    walked = list(client.runs.list(agent_id=agent, limit=9))
    assert [r.id for r in walked] == [r.id for r in one_page]
    stamps = [r.created_at for r in walked]
    assert stamps == sorted(stamps, reverse=True)  # newest first, the server's default


def test_runs_max_items_caps_the_walk(client: RunsClient) -> None:
    assert len(client.runs.list(limit=10).to_list(max_items=25)) == 25


def test_messages_and_steps_walk_small_pages_without_duplicates_or_gaps(
    client: RunsClient, seeded: SeededRuns
) -> None:
    for label in ("sync.tool_chain_ok", "sync.loop_max_steps_default"):
        run_id = seeded.run_id(label)
        all_messages = client.runs.messages.list(run_id, limit=1000).items
        walked = list(client.runs.messages.list(run_id, limit=2))
        assert [(m.id, m.message_type) for m in walked] == [
            (m.id, m.message_type) for m in all_messages
        ]
        all_steps = client.runs.steps.list(run_id, limit=1000).items
        walked_steps = list(client.runs.steps.list(run_id, limit=3))
        assert [s.id for s in walked_steps] == [s.id for s in all_steps]
        assert len(walked_steps) == seeded.runs[label].step_count


async def test_async_client_walks_the_same_pages(seeded: SeededRuns) -> None:
    agent = seeded.pagination_agent_ids[0]
    async with AsyncRunsClient(base_url=seeded.base_url) as ac:
        page = await ac.runs.list(agent_id=agent, limit=11)
        ids = [r.id async for r in page]
    with RunsClient(base_url=seeded.base_url) as c:
        assert ids == [r.id for r in c.runs.list(agent_id=agent, limit=1000).items]


# --------------------------------------------------------------------------- filters


def test_statuses_filter_is_sent_as_repeated_keys(client: RunsClient, letta_server: Any) -> None:
    runs = list(client.runs.list(statuses=["failed", "cancelled"], limit=1000))
    assert runs and {r.status for r in runs} <= {"failed", "cancelled"}
    expected = db_count(
        letta_server, "SELECT count(*) FROM runs WHERE status IN ('failed', 'cancelled')"
    )
    assert len(runs) == expected


def test_agent_stop_reason_background_and_active_filters(
    client: RunsClient, seeded: SeededRuns
) -> None:
    agent = seeded.agents["lab-errors"]
    by_agent = client.runs.list(agent_id=agent, limit=1000).items
    assert by_agent and {r.agent_id for r in by_agent} == {agent}

    max_steps = client.runs.list(stop_reason="max_steps", limit=1000).items
    assert seeded.run_id("sync.loop_max_steps_3") in {r.id for r in max_steps}
    assert {r.stop_reason for r in max_steps} == {"max_steps"}

    background = client.runs.list(background=True, limit=1000).items
    assert seeded.run_id("stream_bg.background_stream") in {r.id for r in background}
    assert all(r.background for r in background)

    active = client.runs.list(active=True, limit=1000).items
    assert seeded.run_id("stream_bg.stuck_running") in {r.id for r in active}
    assert {r.status for r in active} <= {"created", "running"}
    listed_active = client.runs.list_active()
    assert {r.id for r in listed_active} == {r.id for r in active}
    assert client.runs.list_active(agent_id=seeded.agents["lab-stuck"])[0].id == seeded.run_id(
        "stream_bg.stuck_running"
    )


# --------------------------------------------------------------------------- errors


def test_unknown_run_is_not_found(client: RunsClient) -> None:
    with pytest.raises(NotFoundError) as info:
        client.runs.retrieve(UNKNOWN_RUN)
    assert info.value.status_code == 404
    assert UNKNOWN_RUN in info.value.message


def test_malformed_id_is_refused_before_any_request(client: RunsClient) -> None:
    with pytest.raises(InvalidArgumentError):
        client.runs.retrieve("foo")


def test_trace_is_not_supported_without_clickhouse(client: RunsClient, seeded: SeededRuns) -> None:
    with pytest.raises(NotSupportedError) as info:
        client.runs.trace.retrieve(seeded.run_id("sync.ok_reply"))
    assert info.value.status_code == 501
    assert "not available on this server" in str(info.value)


def test_delete_reports_the_servers_500_and_the_run_survives(
    seeded: SeededRuns,
) -> None:
    run_id = seeded.pagination_run_ids[-1]
    # Default retries: Letta 0.16.8 answers every DELETE with 500 (retried, like any 5xx) and
    # may then reset the kept-alive connection, which the next request retries through.
    with RunsClient(base_url=seeded.base_url, read_only=False) as c:
        with pytest.raises(ServerError) as info:
            c.runs.delete(run_id)
        assert info.value.status_code == 500
        assert "not deleted" in str(info.value)
        assert c.runs.retrieve(run_id).id == run_id


def test_stream_of_a_foreground_run_is_a_clear_bad_request(
    client: RunsClient, seeded: SeededRuns
) -> None:
    with pytest.raises(BadRequestError) as info:
        list(client.runs.stream(seeded.run_id("sync.ok_reply")))
    assert "background" in str(info.value)


# --------------------------------------------------------------------------- stream


def test_stream_replays_a_background_run_and_resumes_after_a_seq_id(
    client: RunsClient, seeded: SeededRuns
) -> None:
    run_id = seeded.run_id("stream_bg.background_stream")
    stream = client.runs.stream(run_id, idle_timeout=10)
    events = list(stream)
    assert stream.end_reason == "done"
    kinds = [e.kind for e in events]
    assert kinds[0] == "ping" and kinds[-1] == "done" and "stop_reason" in kinds
    seqs = [e.seq_id for e in events if e.seq_id is not None]
    assert seqs == sorted(seqs) and stream.last_seq_id == max(seqs)

    resumed = client.runs.stream(run_id, starting_after=3, idle_timeout=10)
    tail = list(resumed)
    tail_seqs = [e.seq_id for e in tail if e.seq_id is not None]
    assert tail_seqs and min(tail_seqs) == 4
    assert [e.raw for e in tail] == [e.raw for e in events if (e.seq_id or 99) > 3]


def test_stream_ends_on_the_error_event_of_a_failed_background_run(
    client: RunsClient, seeded: SeededRuns
) -> None:
    stream = client.runs.stream(seeded.run_id("stream_bg.llm_error_429"), idle_timeout=10)
    events = list(stream)
    assert stream.end_reason == "error"
    assert events[-1].kind == "error"


def test_stream_past_the_end_stops_on_its_own(client: RunsClient, seeded: SeededRuns) -> None:
    # The server sends nothing for 20 s and never closes such a stream: the client must stop.
    run_id = seeded.run_id("stream_bg.background_stream")
    stream = client.runs.stream(run_id, starting_after=10_000, idle_timeout=3)
    assert list(stream) == []
    assert stream.end_reason in ("idle_timeout", "terminal")


# --------------------------------------------------------------------------- CLI


def cli_run(seeded: SeededRuns, *args: str) -> Any:
    return CliRunner().invoke(
        cli, ["--base-url", seeded.base_url, *args], env={"LETTA_API_KEY": None}
    )


def test_cli_runs_list_all_matches_the_database(seeded: SeededRuns, letta_server: Any) -> None:
    result = cli_run(seeded, "runs", "list", "--all", "--limit", "50", "--json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)["items"]
    ids = [r["id"] for r in items]
    assert len(ids) == len(set(ids)) == db_count(letta_server, "SELECT count(*) FROM runs")


def test_cli_exit_codes_against_the_server(seeded: SeededRuns) -> None:
    ok_run = seeded.run_id("sync.ok_reply")
    trace = cli_run(seeded, "runs", "trace", ok_run, "--json")
    assert trace.exit_code == 5
    assert "not available on this server" in trace.stderr
    missing = cli_run(seeded, "runs", "get", UNKNOWN_RUN)
    assert missing.exit_code == 3
    victim = seeded.pagination_run_ids[
        -2
    ]  # Letta 0.16.8 deletes nothing, but never risk a scenario
    deleted = CliRunner().invoke(
        cli,
        ["--base-url", seeded.base_url, "--max-retries", "0", "runs", "delete", victim, "--yes"],
        env={"LETTA_API_KEY": None, "LETTA_RUNS_READ_ONLY": None},
    )
    assert deleted.exit_code == 7
    assert "500" in deleted.stderr or "delete" in deleted.stderr


def test_cli_stream_prints_ndjson_to_the_end(seeded: SeededRuns) -> None:
    run_id = seeded.run_id("stream_bg.background_stream")
    result = cli_run(seeded, "runs", "stream", run_id, "--json", "--idle-timeout", "10")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    types = Counter((line["data"] or {}).get("message_type") for line in lines)
    assert types["tool_call_message"] >= 1 and types["assistant_message"] >= 1
    assert lines[-1]["kind"] == "done"


def test_tools_script_diagnoses_a_real_run(seeded: SeededRuns) -> None:
    env = {**os.environ, "LETTA_BASE_URL": seeded.base_url}
    env.pop("LETTA_API_KEY", None)
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "diagnose_run.py"), seeded.run_id("sync.tool_error")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    diag = json.loads(proc.stdout)
    assert diag["run_id"] == seeded.run_id("sync.tool_error")
    assert "tool_error" in {f["kind"] for f in diag["findings"]}
