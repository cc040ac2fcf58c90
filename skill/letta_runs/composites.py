"""Composite operations: fetch evidence with an ``AsyncRunsClient``, then analyse it.

Every composite is ``async`` and takes the client first; the ``*_sync`` twins take a
``RunsClient`` instead and run on the one blocking bridge (``letta_runs._blocking``), which copies
the client's settings. ``bundle`` arguments read a file written by ``export`` instead of the
server.

>>> async with AsyncRunsClient(base_url="demo") as client:            # doctest: +SKIP
...     diag = await diagnose_run(client, "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011")
...     report = await triage_runs(client, since=timedelta(days=1))
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._blocking import blocking
from ._exceptions import LettaRunsError
from .diagnosis.compare import RunComparison, compare_runs
from .diagnosis.engine import RunDiagnosis, diagnose
from .diagnosis.timeline import RunTimeline, build_timeline
from .diagnosis.triage import StuckReport, TriageAccumulator, TriageReport, stuck_reason
from .evidence import Evidence, evidence_for, gather_evidence
from .models import TERMINAL_RUN_STATUSES, Run, StreamEvent

if TYPE_CHECKING:
    from ._client import AsyncRunsClient

__all__ = [
    "compare_runs_by_id",
    "compare_runs_by_id_sync",
    "diagnose_run",
    "diagnose_run_sync",
    "export_run",
    "export_run_sync",
    "find_stuck_runs",
    "find_stuck_runs_sync",
    "run_timeline",
    "run_timeline_sync",
    "triage_runs",
    "triage_runs_sync",
    "watch_run",
]

Progress = Callable[[str], None]
BundlePath = Path | str | None


async def diagnose_run(
    client: AsyncRunsClient,
    run_id: str,
    *,
    stuck_after: float = 600.0,
    include_trace: bool = True,
    now: datetime | None = None,
    bundle: BundlePath = None,
) -> RunDiagnosis:
    """Fetch a run's evidence (or read it from ``bundle``) and diagnose it."""
    ev = await evidence_for(client, run_id, bundle=bundle, include_trace=include_trace)
    return diagnose(ev, stuck_after=stuck_after, now=now)


async def run_timeline(
    client: AsyncRunsClient,
    run_id: str,
    *,
    compact: bool = True,
    include_trace: bool = True,
    bundle: BundlePath = None,
) -> RunTimeline:
    """Fetch a run's evidence (or read it from ``bundle``) and build its timeline."""
    ev = await evidence_for(client, run_id, bundle=bundle, include_trace=include_trace)
    return build_timeline(ev, compact=compact)


async def export_run(
    client: AsyncRunsClient, run_id: str, *, include_trace: bool = True, include_stream: bool = True
) -> dict[str, Any]:
    """Everything about a run as a ``letta-runs.bundle/1`` dict (``save_bundle``'s format);
    ``diagnose(load_bundle(path))`` works on it offline."""
    ev = await gather_evidence(
        client, run_id, include_trace=include_trace, include_stream=include_stream
    )
    return ev.to_bundle()


async def compare_runs_by_id(
    client: AsyncRunsClient,
    run_a: str,
    run_b: str,
    *,
    now: datetime | None = None,
    bundle_a: BundlePath = None,
    bundle_b: BundlePath = None,
) -> RunComparison:
    """Fetch both runs concurrently (or read either from a bundle) and compare them."""
    ev_a, ev_b = await asyncio.gather(
        evidence_for(client, run_a, bundle=bundle_a, include_trace=False),
        evidence_for(client, run_b, bundle=bundle_b, include_trace=False),
    )
    return compare_runs(ev_a, ev_b, now=now)


def _terminal_statuses(statuses: Sequence[str] | None) -> list[str]:
    return list(statuses) if statuses else sorted(TERMINAL_RUN_STATUSES)


async def triage_runs(
    client: AsyncRunsClient,
    *,
    since: timedelta | None = None,
    agent_id: str | None = None,
    statuses: Sequence[str] | None = None,
    limit: int | None = None,
    diagnose_each: bool = True,
    progress: Progress | None = None,
    concurrency: int = 4,
    now: datetime | None = None,
) -> TriageReport:
    """Group recent problem runs by root cause, stop reason, error type and tool.

    ``statuses=None`` (the default) scans every terminal run, including ``completed`` ones, which
    can hide a loop that hit max_steps or a missing answer; pass ``["failed"]`` for a cheaper scan
    of the runs the server itself calls failed. Runs are read newest first, page by page, and
    paging stops at the first run older than ``since``; only counters and a few example ids are
    kept. ``progress`` receives one-line updates (for stderr).
    """
    now = now or datetime.now(UTC)
    cutoff = now - since if since is not None else None
    wanted = _terminal_statuses(statuses)
    acc = TriageAccumulator(since=cutoff, agent_id=agent_id, statuses=wanted)
    sem = asyncio.Semaphore(max(1, concurrency))
    pending: set[asyncio.Task[None]] = set()

    async def one(run: Run) -> None:
        async with sem:
            try:
                ev = await gather_evidence(client, run.id, include_trace=False)
            except LettaRunsError as exc:
                acc.add_error(run.id, exc.message)
                return
            diag = diagnose(ev, now=now)
            acc.add_diagnosis(
                diag, step_error_types=[s.error_type for s in ev.steps if s.error_type]
            )
            if progress and acc.report_base.diagnosed % 10 == 0:
                progress(f"diagnosed {acc.report_base.diagnosed} runs")

    page = await client.runs.list(agent_id=agent_id, statuses=wanted, limit=100)
    seen = 0
    async for run in page:
        if cutoff is not None and run.created_at is not None and run.created_at < cutoff:
            break
        if limit is not None and seen >= limit:
            acc.report_base.truncated = True
            break
        seen += 1
        if progress and seen % 100 == 0:
            progress(f"scanned {seen} runs")
        if not diagnose_each:
            acc.add_run(run)
            continue
        task = asyncio.create_task(one(run))
        pending.add(task)
        task.add_done_callback(pending.discard)
        if len(pending) >= concurrency * 2:
            # Bounded memory: never more than a few evidence bundles alive at once.
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    if pending:
        await asyncio.gather(*pending)
    if progress:
        progress(f"done: {seen} runs scanned")
    return acc.report()


async def find_stuck_runs(
    client: AsyncRunsClient,
    *,
    older_than: float = 600.0,
    agent_id: str | None = None,
    now: datetime | None = None,
) -> StuckReport:
    """Active runs older than ``older_than`` seconds, and runs whose stop reason and status
    disagree (a stop reason set while the status is still created/running)."""
    now = now or datetime.now(UTC)
    active = await client.runs.list_active(agent_id=agent_id)
    report = StuckReport(older_than_seconds=older_than, checked=len(active))
    for run in active:
        found = stuck_reason(run, older_than=older_than, now=now)
        if found is None:
            report.active_young += 1
        else:
            report.stuck.append(found)
    report.stuck.sort(key=lambda s: -(s.age_seconds or 0.0))
    return report


async def watch_run(
    client: AsyncRunsClient,
    run_id: str,
    *,
    on_event: Callable[[StreamEvent], Awaitable[None] | None] | None = None,
    idle_timeout: float = 30.0,
    max_seconds: float | None = None,
    stuck_after: float = 600.0,
) -> RunDiagnosis:
    """Follow a run's stream (resuming after drops) until it ends, then diagnose it.

    Runs that cannot be streamed (not background, expired) are diagnosed right away.
    """
    run = await client.runs.retrieve(run_id)
    if not run.is_terminal and run.background:
        stream = client.runs.stream(
            run_id, idle_timeout=idle_timeout, stop_when_terminal=True, max_seconds=max_seconds
        )
        try:
            async for event in stream:
                if on_event is not None:
                    result = on_event(event)
                    if asyncio.iscoroutine(result):
                        await result
        except LettaRunsError:
            pass  # the stream is a convenience; the diagnosis below reads the stored truth
    return await diagnose_run(client, run_id, stuck_after=stuck_after)


# --- blocking twins (a RunsClient instead of an AsyncRunsClient) ----------------------------------

diagnose_run_sync = blocking(diagnose_run)
run_timeline_sync = blocking(run_timeline)
export_run_sync = blocking(export_run)
compare_runs_by_id_sync = blocking(compare_runs_by_id)
triage_runs_sync = blocking(triage_runs)
find_stuck_runs_sync = blocking(find_stuck_runs)


def load_evidence(path: str) -> Evidence:
    """Evidence from a bundle file or recorded folder (for offline diagnosis)."""
    from .evidence import load_bundle

    return load_bundle(path)
