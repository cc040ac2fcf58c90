"""``triage`` on the seeded real server: the bulk path gives every run the verdict that reading
the run on its own (``diagnose``) gives, and the same report as the per-run path."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from letta_runs import AsyncRunsClient
from letta_runs.composites import (
    diagnose_run,
    export_run,
    export_window,
    find_stuck_runs,
    settled_diagnosis,
    triage_runs,
)
from letta_runs.diagnosis.engine import diagnose
from letta_runs.diagnosis.triage import TriageReport
from letta_runs.fleet import ScanStats, WindowRead, read_window, scan_window
from triage_counts import triage_counts

from tests.letta_server import SeededRuns

pytestmark = pytest.mark.letta_server


async def _verdicts(base_url: str, now: datetime) -> tuple[dict[str, tuple[Any, ...]], ScanStats]:
    stats = ScanStats(window=WindowRead(since=None, agent_id=None, statuses=None, limit=None))
    out: dict[str, tuple[Any, ...]] = {}
    async with AsyncRunsClient(base_url=base_url, timeout=120) as client:
        async for res in scan_window(
            client,
            since=None,
            settle=lambda ev: settled_diagnosis(ev, now=now),
            finish=lambda ev: diagnose(ev, now=now),
            stats=stats,
        ):
            assert res.error is None, res.error
            diag = res.result
            assert diag is not None
            out[res.run.id] = (
                diag.verdict,
                diag.root_cause.kind if diag.root_cause else None,
                diag.effective_stop_reason,
            )
    return out, stats


async def _per_run(base_url: str, run_ids: list[str], now: datetime) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    sem = asyncio.Semaphore(8)
    async with AsyncRunsClient(base_url=base_url, timeout=120) as client:

        async def one(run_id: str) -> None:
            async with sem:
                diag = await diagnose_run(client, run_id, now=now, include_trace=False)
            out[run_id] = (
                diag.verdict,
                diag.root_cause.kind if diag.root_cause else None,
                diag.effective_stop_reason,
            )

        await asyncio.gather(*(one(r) for r in run_ids))
    return out


def test_every_run_gets_the_verdict_its_own_diagnosis_gives(seeded: SeededRuns) -> None:
    now = datetime.now(UTC)
    from_window, stats = asyncio.run(_verdicts(seeded.base_url, now))
    assert len(from_window) == stats.window.listed >= seeded.total_runs
    # Most runs are healthy and end with end_turn: the bulk lists settle them without a request.
    assert stats.bulk_settled >= len(from_window) // 2
    one_by_one = asyncio.run(_per_run(seeded.base_url, sorted(from_window), now))
    assert from_window == one_by_one
    assert Counter(v[0] for v in from_window.values()) == Counter(v[0] for v in one_by_one.values())


def test_the_bulk_report_is_the_per_run_report(seeded: SeededRuns) -> None:
    async def both() -> tuple[TriageReport, TriageReport]:
        async with AsyncRunsClient(base_url=seeded.base_url, timeout=120) as client:
            bulk = await triage_runs(client, since=None)
            per_run = await triage_runs(client, since=None, bulk=False)
        return bulk, per_run

    bulk, per_run = asyncio.run(both())
    assert triage_counts(bulk) == triage_counts(per_run)
    assert bulk.failed_reads == per_run.failed_reads == 0
    assert bulk.active >= 2  # the stuck background run and the zombie conversation run
    assert bulk.reads is not None and per_run.reads is not None
    assert bulk.reads.steps_bulk is False  # Letta 0.16.8
    assert bulk.reads.requests < per_run.reads.requests
    assert bulk.reads.from_bulk >= bulk.scanned // 2
    # The target with /v1/steps/ broken is 0.3 requests per run on a fleet about 85 %
    # healthy; the seed's scenario runs (a quarter of it, most of them odd) are read one by one at
    # two requests each (steps, messages).
    assert bulk.reads.requests <= 0.3 * bulk.reads.from_bulk + 2 * bulk.reads.per_run


def test_runs_of_other_agent_types_are_read_on_their_own(
    seeded: SeededRuns, letta_server: Any
) -> None:
    """The all-agents list renders text as assistant_message whatever the agent type; the run's
    own list does so only for letta_v1_agent. Runs of other types never take their messages from
    the bulk list."""
    rows = letta_server.sql(
        "select r.id, a.agent_type from runs r join agents a on a.id = r.agent_id "
        "where a.agent_type <> 'letta_v1_agent'"
    )
    if not rows:
        pytest.skip("the seed holds no run of another agent type")
    other = {run_id: agent_type for run_id, agent_type in rows}

    async def window() -> list[Any]:
        async with AsyncRunsClient(base_url=seeded.base_url, timeout=120) as client:
            return [w async for w in read_window(client, since=None)]

    items = {w.run.id: w for w in asyncio.run(window())}
    for run_id, agent_type in other.items():
        if run_id in items and not items[run_id].active:
            assert items[run_id].messages is None
            assert agent_type in (items[run_id].per_run_reason or "")


def test_stuck_finds_every_active_run_with_its_last_message(seeded: SeededRuns) -> None:
    async def both() -> tuple[Any, list[str]]:
        async with AsyncRunsClient(base_url=seeded.base_url, timeout=120) as client:
            report = await find_stuck_runs(client, older_than=60)
            active = [r.id for r in await client.runs.list_active()]
        return report, active

    report, active = asyncio.run(both())
    assert sorted(s.run_id for s in report.stuck) == sorted(active)
    by_id = {s.run_id: s for s in report.stuck}
    zombie = by_id[seeded.run_id("conversation.zombie_created")]
    assert zombie.last_message_at is not None  # its step answered; only the status never moved
    assert zombie.idle_seconds is not None and zombie.idle_seconds > 0


def test_export_window_bundles_equal_each_runs_own_export(seeded: SeededRuns) -> None:
    labels = ["sync.tool_chain_ok", "sync.llm_error_500", "stream_bg.background_stream"]
    wanted = {seeded.run_id(label) for label in labels}

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        async with AsyncRunsClient(base_url=seeded.base_url, timeout=120) as client:
            window = {
                b["run"]["id"]: b
                async for b in export_window(client, since=None)
                if b["run"]["id"] in wanted
            }
            alone = {
                run_id: await export_run(client, run_id, include_trace=False, include_stream=False)
                for run_id in wanted
            }
        return window, alone

    window, alone = asyncio.run(both())
    assert set(window) == wanted
    for run_id in wanted:
        for key in ("steps", "messages"):
            assert window[run_id][key] == alone[run_id][key], (run_id, key)
        one = dict(alone[run_id]["run"])
        listed = dict(window[run_id]["run"])
        listed.pop("total_duration_ns"), one.pop("total_duration_ns")
        assert listed == one
