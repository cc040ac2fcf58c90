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
import math
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._blocking import blocking
from ._exceptions import LettaRunsError
from ._validation import check_seconds
from .diagnosis.compare import RunComparison, compare_runs
from .diagnosis.engine import RunDiagnosis, diagnose
from .diagnosis.timeline import RunTimeline, build_timeline
from .diagnosis.triage import (
    ActiveRun,
    NewestRun,
    StuckReport,
    TriageAccumulator,
    TriageReads,
    TriageReport,
    stuck_reason,
)
from .durations import format_duration
from .evidence import Evidence, evidence_for, gather_evidence
from .fleet import (
    DEFAULT_CONCURRENCY,
    MESSAGES_PAGE,
    RUNS_PAGE,
    ScanStats,
    WindowRead,
    read_window,
    scan_window,
)
from .models import Run, StreamEvent
from .operations import NextStep, render_next_step

if TYPE_CHECKING:
    from ._client import AsyncRunsClient

ACTIVITY_PAGES = 2
"""Newest bulk message pages read to find active runs' last activity (``find_stuck_runs``)."""

__all__ = [
    "compare_runs_by_id",
    "compare_runs_by_id_sync",
    "diagnose_run",
    "diagnose_run_sync",
    "export_run",
    "export_run_sync",
    "export_window",
    "find_stuck_runs",
    "find_stuck_runs_sync",
    "run_timeline",
    "run_timeline_sync",
    "settled_diagnosis",
    "triage_runs",
    "triage_runs_sync",
    "watch_run",
]

Progress = Callable[[str], None]
BundlePath = Path | str | None


# A run unfinished for a year is stuck by any measure; a larger threshold is a mistake.
MAX_STUCK_AFTER_SECONDS = 365 * 86_400.0


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
    stuck_after = check_seconds("stuck_after", stuck_after, maximum=MAX_STUCK_AFTER_SECONDS)
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


async def export_window(
    client: AsyncRunsClient,
    *,
    since: timedelta | None,
    agent_id: str | None = None,
    statuses: Sequence[str] | None = None,
    limit: int | None = None,
    include_usage: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    stats: ScanStats | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """A ``letta-runs.bundle/1`` dict for every run created in the last ``since`` (every run when
    ``None``), in completion order, read like ``triage_runs`` reads a window: runs and messages
    from the bulk lists, steps from ``/v1/steps/`` where it works and per run where it does not.

    ``/usage`` and ``/metrics`` are read per run only with ``include_usage`` (a bundle without
    them says ``not_fetched``); ``/trace`` and the stream are never read here (``export_run``
    reads one run whole). ``stats`` counts the runs, requests and failed reads (a run that could
    not be read at all yields nothing and counts in ``stats.failed_runs``).
    """
    now = now or datetime.now(UTC)
    cutoff = now - since if since is not None else None
    wanted = list(statuses) if statuses else None
    stats = stats or ScanStats(
        window=WindowRead(since=cutoff, agent_id=agent_id, statuses=wanted, limit=limit)
    )
    async for res in scan_window(
        client,
        since=cutoff,
        settle=lambda ev: None if "steps" in ev.endpoint_errors else ev.to_bundle(),
        finish=lambda ev: ev.to_bundle(),
        agent_id=agent_id,
        statuses=wanted,
        limit=limit,
        include_usage=include_usage,
        include_metrics=include_usage,
        concurrency=concurrency,
        stats=stats,
        progress=progress,
        what="export",
    ):
        if res.result is not None:
            yield res.result


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


async def triage_runs(
    client: AsyncRunsClient,
    *,
    since: timedelta | None = None,
    agent_id: str | None = None,
    statuses: Sequence[str] | None = None,
    limit: int | None = None,
    diagnose_each: bool = True,
    progress: Progress | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    now: datetime | None = None,
    bulk: bool = True,
) -> TriageReport:
    """Diagnose every run created in the last ``since`` (every run when ``None``) and group the
    problems by root cause, stop reason, error type and tool.

    The window is read with the bulk lists (``letta_runs.fleet``): the runs list, every agent's
    messages and, where the server's ``/v1/steps/`` works, steps. A run whose verdict its run
    record and messages already settle (the engine's ``settled``) costs no request of its own;
    the others — and runs still ``created``/``running`` — have their steps read per run,
    ``concurrency`` at a time. ``bulk=False`` reads every run per run (steps and messages; the
    run object comes from the list). ``statuses`` keeps only runs in those statuses; ``limit``
    caps the runs scanned (said in ``truncated``). Only counters and a few example ids are kept.
    ``progress`` receives one-line updates with the count and rate (for stderr).

    Every read that failed is counted in ``failed_reads``/``read_errors`` and listed in
    ``errors``; the report says how many runs took the per-run path and why (``reads``).
    """
    now = now or datetime.now(UTC)
    cutoff = now - since if since is not None else None
    wanted = list(statuses) if statuses else None
    acc = TriageAccumulator(since=cutoff, agent_id=agent_id, statuses=wanted)
    stats = ScanStats(
        window=WindowRead(since=cutoff, agent_id=agent_id, statuses=wanted, limit=limit)
    )
    if not diagnose_each:
        async for item in read_window(
            client,
            since=cutoff,
            agent_id=agent_id,
            statuses=wanted,
            limit=limit,
            stats=stats.window,
            bulk=False,
            include_active=True,
        ):
            acc.add_run(item.run)
        return _triage_report(acc, stats, since=since, limit=limit, now=now)

    async for res in scan_window(
        client,
        since=cutoff,
        settle=lambda ev: settled_diagnosis(ev, now=now),
        finish=lambda ev: diagnose(ev, now=now),
        agent_id=agent_id,
        statuses=wanted,
        limit=limit,
        bulk=bulk,
        concurrency=concurrency,
        stats=stats,
        progress=progress,
        what="triage",
    ):
        if res.error is not None or res.result is None or res.evidence is None:
            acc.add_error(res.run.id, res.error.message if res.error else "not read")
            continue
        ev = res.evidence
        acc.add_diagnosis(
            res.result, step_error_types=[s.error_type for s in ev.steps if s.error_type]
        )
        for name, err in ev.endpoint_errors.items():
            if err.kind != "not_fetched":
                acc.note_error(
                    f"{res.run.id}: /{name} could not be read ({err.status_code or err.kind}): "
                    f"{err.message}"
                )
    return _triage_report(acc, stats, since=since, limit=limit, now=now)


def settled_diagnosis(ev: Evidence, *, now: datetime | None = None) -> RunDiagnosis | None:
    """The diagnosis of ``ev`` when it is final: an ``ok`` verdict that the engine calls settled
    (nothing left unread could change it). ``None`` means: read the run's steps first.

    Only ``ok`` is taken from the bulk lists: a problem run's report (root cause, stop reason,
    error types) rests on its steps, so it is always read per run.
    """
    diag = diagnose(ev, now=now)
    return diag if diag.verdict == "ok" and diag.settled else None


def _triage_report(
    acc: TriageAccumulator,
    stats: ScanStats,
    *,
    since: timedelta | None,
    limit: int | None,
    now: datetime,
) -> TriageReport:
    window = stats.window
    report = acc.report()
    report.window = format_duration(since.total_seconds()) if since is not None else "all"
    report.limit = limit
    report.truncated = window.truncated
    report.active = window.active
    report.active_runs = [
        ActiveRun(
            run_id=run.id,
            agent_id=run.agent_id,
            status=run.status,
            created_at=run.created_at,
            age_seconds=_age(run, now),
        )
        for run in window.active_examples
    ]
    report.other_statuses = dict(window.other_statuses)
    failed = Counter(stats.failed_reads)
    report.read_errors = dict(failed)
    report.failed_reads = sum(failed.values())
    scanned = max(report.scanned, 1)
    report.reads = TriageReads(
        bulk=window.bulk,
        steps_bulk=window.steps_bulk,
        from_bulk=stats.bulk_settled,
        per_run=stats.per_run,
        per_run_reasons=dict(stats.per_run_reasons.most_common()),
        requests=stats.requests,
        requests_per_run=round(stats.requests / scanned, 3),
        seconds=round(stats.seconds, 3),
        bulk_failures=list(window.bulk_failures),
    )
    newest = window.newest
    if report.scanned == 0 and newest is not None:
        age = _age(newest, now)
        report.newest_run = NewestRun(
            run_id=newest.id, status=newest.status, created_at=newest.created_at, age_seconds=age
        )
        if age is not None and since is not None:
            report.widen_since = widen_window(age)
            report.next_actions.insert(
                0,
                NextStep(
                    operation="triage_runs",
                    args={"since": report.widen_since},
                    why="the newest run is older than this window",
                ),
            )
    if report.active:
        report.next_actions.append(
            NextStep(operation="find_stuck_runs", args={}, why="runs of the window still active")
        )
    report.next_steps = [render_next_step(step, "cli") for step in report.next_actions]
    return report


def _age(run: Run, now: datetime) -> float | None:
    return round((now - run.created_at).total_seconds(), 1) if run.created_at else None


def widen_window(age_seconds: float) -> str:
    """A ``--since`` a little wider than ``age_seconds``, in a round unit: ``45m``, ``27h``, ``3d``."""
    minutes = age_seconds / 60
    if minutes < 60:
        return f"{math.ceil(minutes) + 1}m"
    hours = minutes / 60
    if hours < 48:
        return f"{math.ceil(hours) + 1}h"
    return f"{math.ceil(hours / 24) + 1}d"


async def find_stuck_runs(
    client: AsyncRunsClient,
    *,
    older_than: float = 600.0,
    agent_id: str | None = None,
    now: datetime | None = None,
) -> StuckReport:
    """Active runs older than ``older_than`` seconds, and runs whose stop reason and status
    disagree (a stop reason set while the status is still created/running).

    Every active run is read (the runs list with ``active=true``, 1,000 a page; the server's
    ``/v1/runs/active`` stops at 100), and each one's last message is looked up in the newest
    pages of the bulk messages list (``last_message_at``, ``idle_seconds``): a run that wrote
    nothing for long is dead, one that wrote a second ago is still working. Runs without a
    message in those pages are said to be idle since at least their oldest date
    (``activity_read_since``).
    """
    now = now or datetime.now(UTC)
    page = await client.runs.list(agent_id=agent_id, active=True, limit=RUNS_PAGE)
    active = [run async for run in page if not run.is_terminal]
    report = StuckReport(older_than_seconds=older_than, checked=len(active))
    wanted = {run.id for run in active}
    last_seen: dict[str, datetime] = {}
    if wanted:
        report.activity_read_since = await _last_messages(client, agent_id, wanted, last_seen)
    for run in active:
        found = stuck_reason(run, older_than=older_than, now=now)
        if found is None:
            report.active_young += 1
            continue
        seen = last_seen.get(run.id)
        found.last_message_at = seen
        if seen is not None:
            found.idle_seconds = round((now - seen).total_seconds(), 1)
        report.stuck.append(found)
    report.stuck.sort(key=lambda s: -(s.age_seconds or 0.0))
    return report


async def _last_messages(
    client: AsyncRunsClient, agent_id: str | None, wanted: set[str], found: dict[str, datetime]
) -> datetime | None:
    """The newest message date of each run in ``wanted`` among the newest bulk pages; returns
    the oldest date those pages reached (``None``: the whole list was read)."""
    try:
        if agent_id is not None:
            page = await client.agents.messages.list(agent_id, limit=MESSAGES_PAGE)
        else:
            page = await client.messages.list(limit=MESSAGES_PAGE)
    except LettaRunsError:
        return None
    oldest: datetime | None = None
    for pages_read in range(1, ACTIVITY_PAGES + 1):
        for message in reversed(page.items):
            if message.date is not None:
                oldest = message.date if oldest is None or message.date < oldest else oldest
                if message.run_id in wanted and message.run_id not in found:
                    found[message.run_id] = message.date
        if found.keys() >= wanted or pages_read == ACTIVITY_PAGES:
            break
        try:
            nxt = await page.next_page()
        except LettaRunsError:
            break
        if nxt is None or not nxt.items:
            return None
        page = nxt
    return oldest


async def watch_run(
    client: AsyncRunsClient,
    run_id: str,
    *,
    on_event: Callable[[StreamEvent], Awaitable[None] | None] | None = None,
    on_notice: Callable[[str], None] | None = None,
    idle_timeout: float = 30.0,
    max_seconds: float | None = None,
    stuck_after: float = 600.0,
) -> RunDiagnosis:
    """Follow a run's stream (resuming after drops) until it ends, then diagnose it.

    Runs that cannot be streamed (not background, expired) are diagnosed right away. When the
    stream failed, or the watch stopped before the run ended (idle, ``max_seconds``), the
    diagnosis says so in ``limitations`` and ``on_notice`` gets the same sentence (for stderr):
    the diagnosis then reads the stored run, it did not follow the run to its end.
    """
    stuck_after = check_seconds("stuck_after", stuck_after, maximum=MAX_STUCK_AFTER_SECONDS)
    run = await client.runs.retrieve(run_id)
    notice: str | None = None
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
        except LettaRunsError as exc:
            notice = (
                f"the stream of run {run_id} failed after {stream.events_seen} event(s): "
                f"{exc.message}"
            )
        else:
            notice = _stopped_early(run_id, stream.end_reason, stream.events_seen)
    diag = await diagnose_run(client, run_id, stuck_after=stuck_after)
    if notice is not None:
        notice += "; this diagnosis reads the stored run, it did not follow the run to its end"
        diag.limitations.append(notice)
        if on_notice is not None:
            on_notice(notice)
    return diag


def _stopped_early(run_id: str, end_reason: str | None, events: int) -> str | None:
    """A sentence when a watch stopped following before the run ended, else None."""
    why = {
        "idle_timeout": "nothing came for the idle timeout",
        "max_seconds": "the time limit was reached",
        "max_events": "the event limit was reached",
        "closed": "the stream was closed",
    }.get(end_reason or "")
    if why is None:
        return None
    return f"stopped following run {run_id} after {events} event(s): {why}"


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
