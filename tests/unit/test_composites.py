"""Composites over the client, served by the embedded demo server (recorded real runs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from letta_runs import composites
from letta_runs._client import AsyncRunsClient
from letta_runs.diagnosis import diagnose
from letta_runs.evidence import Evidence, gather_evidence, load_bundle
from letta_runs.models import Run

LATE = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)
LOOP = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"
TOOL_ERROR = "run-69218f56-d739-427f-a971-333ece5c2cdc"
BG = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"
STUCK = "run-50b3d930-2d58-48a9-a24b-8b4341b50365"


@pytest.fixture
async def client() -> Any:
    async with AsyncRunsClient(base_url="demo") as c:
        yield c


async def test_gather_evidence_reads_everything_in_order(client: AsyncRunsClient) -> None:
    ev = await gather_evidence(client, LOOP)
    assert len(ev.steps) == 50 and len(ev.messages) == 101
    assert ev.messages[0].message_type == "user_message"
    assert ev.messages[0].step_id == ev.steps[0].id
    assert ev.usage is not None and ev.metrics is not None
    assert ev.endpoint_errors["trace"].status_code == 501
    assert ev.source.startswith("api:")


async def test_diagnose_run_matches_offline_diagnosis(client: AsyncRunsClient) -> None:
    online = await composites.diagnose_run(client, LOOP, now=LATE)
    assert (online.verdict, online.root_cause and online.root_cause.kind) == ("failed", "tool_loop")


async def test_export_then_load_bundle_diagnoses_the_same(
    client: AsyncRunsClient, tmp_path: Path
) -> None:
    bundle = await composites.export_run(client, BG)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    ev = load_bundle(path)
    assert diagnose(ev, now=LATE).verdict == "ok"
    assert ev.stream_events and ev.stream_events[-1].kind == "done"


async def test_triage_groups_failures_and_finds_hidden_ones(client: AsyncRunsClient) -> None:
    progress: list[str] = []
    report = await composites.triage_runs(
        client, since=None, statuses=None, progress=progress.append, now=LATE
    )
    keys = {g.key: g for g in report.by_root_cause}
    assert keys["llm_api_error"].count >= 3
    assert LOOP in keys["tool_loop"].examples
    assert report.hidden_failures >= 1
    assert report.problems == sum(
        v for k, v in report.verdicts.items() if k not in ("ok", "running")
    )
    assert progress and progress[-1].startswith("triage: scanned 13 runs")
    assert all(len(g.examples) <= 3 for g in report.by_root_cause)


async def test_triage_stops_paging_at_since(client: AsyncRunsClient) -> None:
    report = await composites.triage_runs(
        client, since=timedelta(seconds=1), statuses=None, now=LATE
    )
    assert report.scanned == 0


async def test_triage_limit_marks_truncation(client: AsyncRunsClient) -> None:
    report = await composites.triage_runs(
        client, statuses=None, limit=2, diagnose_each=False, now=LATE
    )
    assert report.scanned == 2 and report.truncated


async def test_find_stuck_runs_reports_the_hanging_run(client: AsyncRunsClient) -> None:
    report = await composites.find_stuck_runs(client, now=LATE)
    assert [s.run_id for s in report.stuck] == [STUCK]
    fresh = await composites.find_stuck_runs(client, older_than=10 * 86400, now=LATE)
    assert fresh.stuck == [] and fresh.active_young == 1


def test_stop_reason_with_active_status_is_stuck_at_any_age() -> None:
    from letta_runs.diagnosis.triage import stuck_reason

    run = Run(id="run-x", status="running", stop_reason="end_turn", created_at=LATE)
    found = stuck_reason(run, older_than=600, now=LATE)
    assert found is not None and "end_turn" in found.reason


async def test_compare_runs_by_id(client: AsyncRunsClient) -> None:
    cmp = await composites.compare_runs_by_id(client, LOOP, TOOL_ERROR, now=LATE)
    assert cmp.a.verdict == "failed" and cmp.b.verdict == "ok"
    assert "steps: 50 → 2" in cmp.differences


async def test_watch_finished_run_diagnoses_without_streaming(client: AsyncRunsClient) -> None:
    events: list[Any] = []
    diag = await composites.watch_run(client, BG, on_event=events.append)
    assert diag.verdict == "ok" and events == []


async def test_usage_failure_does_not_lose_the_rest(client: AsyncRunsClient) -> None:
    from letta_runs._exceptions import ServerError

    async def broken(run_id: str) -> Any:
        raise ServerError("boom", status_code=500)

    client.runs.usage.retrieve = broken  # type: ignore[method-assign]
    ev: Evidence = await gather_evidence(client, TOOL_ERROR)
    assert ev.usage is None and ev.endpoint_errors["usage"].status_code == 500
    diag = diagnose(ev, now=LATE)
    assert diag.verdict == "ok"
    assert any("/usage could not be read" in lim for lim in diag.limitations)
