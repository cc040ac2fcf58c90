"""``triage`` over a window read with the bulk lists: never "nothing" by mistake, every run
counted, every failed read reported, the same verdicts as reading each run on its own."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from client_fixtures import STUCK_RUN, demo_bundles
from letta_runs import AsyncRunsClient
from letta_runs._demo import DemoServer
from letta_runs.cli import cli
from letta_runs.composites import triage_runs, widen_window
from letta_runs.diagnosis.triage import TriageReport
from triage_counts import triage_counts

LATE = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Server:
    """The demo server, with a hook to fail some requests and a record of what was asked."""

    def __init__(self, *, fail: str | None = None, steps_bulk: bool = False) -> None:
        self.demo = DemoServer(demo_bundles(), steps_bulk=steps_bulk)
        self.fail = fail
        self.paths: list[str] = []
        self.in_flight = 0
        self.peak = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            if self.fail and request.url.path.endswith(self.fail):
                return httpx.Response(503, json={"detail": "the steps store is down"})
            return self.demo(request)
        finally:
            self.in_flight -= 1


async def triage(server: Server, **kwargs: Any) -> TriageReport:
    async with AsyncRunsClient(
        base_url="http://letta.test",
        transport=httpx.MockTransport(server.handle),
        max_retries=0,
    ) as client:
        return await triage_runs(client, now=LATE, **kwargs)


async def test_every_run_of_the_window_is_counted_active_ones_too() -> None:
    report = await triage(Server(), since=None)
    assert report.window == "all" and report.scanned == 13 and report.diagnosed == 13
    assert report.active == 1 and [a.run_id for a in report.active_runs] == [STUCK_RUN]
    assert report.verdicts["stuck"] == 1
    assert "letta-runs stuck" in report.next_steps
    assert report.failed_reads == 0 and report.errors == []


async def test_the_bulk_path_and_the_per_run_path_agree() -> None:
    bulk_server, per_run_server = Server(), Server()
    bulk = await triage(bulk_server, since=None)
    per_run = await triage(per_run_server, since=None, bulk=False)
    assert triage_counts(bulk) == triage_counts(per_run)
    assert bulk.reads is not None and per_run.reads is not None
    assert bulk.reads.bulk and not per_run.reads.bulk
    # The per-run path never asks for a run the runs list already returned.
    assert not any(
        p.count("/") == 3 and p.startswith("/v1/runs/run-") for p in per_run_server.paths
    )
    assert "/v1/messages/" not in per_run_server.paths
    assert bulk.reads.requests < per_run.reads.requests


async def test_with_a_working_steps_list_no_run_is_read_on_its_own() -> None:
    server = Server(steps_bulk=True)
    report = await triage(server, since=None, statuses=["completed", "failed", "cancelled"])
    assert report.reads is not None and report.reads.steps_bulk is True
    assert report.reads.per_run == 0 and report.reads.from_bulk == 12
    assert not [p for p in server.paths if p.startswith("/v1/runs/run-")]
    assert triage_counts(report) == triage_counts(
        await triage(Server(), since=None, statuses=["completed", "failed", "cancelled"])
    )


async def test_an_empty_window_names_the_newest_run_and_the_since_that_reaches_it() -> None:
    report = await triage(Server(), since=timedelta(hours=1))
    assert report.scanned == 0 and report.newest_run is not None
    assert report.newest_run.run_id.startswith("run-a30ab545")
    age = report.newest_run.age_seconds
    assert age is not None and 4800 < age < 5000
    assert report.widen_since == "3h"
    assert report.next_steps[0] == "letta-runs triage --since 3h"
    again = await triage(Server(), since=timedelta(hours=3))
    assert again.scanned >= 1


@pytest.mark.parametrize(
    ("age", "since"),
    [(30, "2m"), (59 * 60, "60m"), (3600, "2h"), (26 * 3600 + 5, "28h"), (3 * 86400, "4d")],
)
def test_widen_window_is_wider_than_the_age(age: float, since: str) -> None:
    assert widen_window(age) == since


async def test_every_failed_read_is_counted_and_listed() -> None:
    server = Server(fail="/steps")
    report = await triage(server, since=None)
    assert report.reads is not None
    read_alone = report.reads.per_run  # the runs settled from the bulk lists read no steps
    assert read_alone == 8 and report.reads.from_bulk == 5
    assert report.failed_reads == report.read_errors["steps"] == read_alone
    assert len(report.errors) == read_alone
    assert all("/steps could not be read (503)" in e for e in report.errors)
    assert report.scanned == 13  # the runs were still diagnosed from what could be read


async def test_a_cap_is_opt_in_and_said() -> None:
    progress: list[str] = []
    full = await triage(Server(), since=None, progress=progress.append)
    assert full.limit is None and not full.truncated and full.scanned == 13
    capped = await triage(Server(), since=None, limit=4, progress=progress.append)
    assert capped.truncated and capped.scanned == 4 and capped.limit == 4
    assert "capped at --limit 4" in progress[-1]


async def test_concurrency_bounds_the_runs_read_at_once() -> None:
    server = Server()
    await triage(server, since=None, bulk=False, concurrency=2)
    assert server.peak <= 2 * 3  # two runs at a time, each reading steps and messages together
    wide = Server()
    await triage(wide, since=None, bulk=False, concurrency=8)
    assert wide.peak > server.peak


def test_cli_since_all_concurrency_and_the_exit_status_of_failed_reads() -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["--demo", "triage", "--since", "all", "--concurrency", "3", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["scanned"] == 13
    assert "triage: scanned 13 runs" in ok.stderr
    bad = runner.invoke(cli, ["--demo", "triage", "--since", "sometime"])
    assert bad.exit_code == 2


def test_cli_exits_8_and_says_so_when_reads_fail() -> None:
    from letta_runs.cli._app import CLIState

    server = Server(fail="/steps")
    state = CLIState(transport=httpx.MockTransport(server.handle), max_retries=0)
    result = CliRunner().invoke(
        cli,
        ["triage", "--since", "all", "--json"],
        obj=state,
        env={"LETTA_BASE_URL": "http://letta.test"},
    )
    assert result.exit_code == 8, result.output
    report = json.loads(result.stdout)
    assert report["failed_reads"] == 8 and report["read_errors"] == {"steps": 8}
    assert "reads FAILED (steps 8)" in result.stderr
    assert '"partial_result"' in result.stderr


@pytest.mark.parametrize("since", ["all", "ALL", " all ", "24h", "90m"])
def test_every_face_takes_since_all_a_cap_opt_in_and_a_concurrency(since: str) -> None:
    from letta_runs.operations import get_operation

    op = get_operation("triage-runs")
    args = op.parse({"since": since})
    assert args.limit is None and args.concurrency == 8 and args.per_run is False  # type: ignore[attr-defined]
    capped = op.parse({"since": since, "limit": 5, "concurrency": 16, "per_run": True})
    assert capped.limit == 5 and capped.concurrency == 16  # type: ignore[attr-defined]


def test_every_face_refuses_a_window_that_is_not_one() -> None:
    from letta_runs._exceptions import InvalidArgumentError
    from letta_runs.operations import get_operation

    op = get_operation("triage_runs")
    for bad in ("sometime", "-1h", "all days"):
        with pytest.raises((InvalidArgumentError, ValueError)):
            op.parse({"since": bad})
    with pytest.raises((InvalidArgumentError, ValueError)):
        op.parse({"concurrency": 0})


async def test_a_failing_bulk_list_is_a_note_not_a_partial_result() -> None:
    """When /v1/messages/ fails, every run is read on its own: the report is complete."""
    server = Server(fail="/v1/messages/")
    report = await triage(server, since=None)
    assert report.failed_reads == 0 and report.errors == []
    assert report.reads is not None and report.reads.from_bulk == 0
    assert report.reads.bulk_failures and "read one by one" in report.reads.bulk_failures[0]
    assert triage_counts(report) == triage_counts(await triage(Server(), since=None))


async def test_usage_failing_on_every_run_costs_triage_nothing() -> None:
    """Triage never reads /usage or /metrics (no verdict rests on them), so a server whose
    /usage fails everywhere gives the same report, with nothing to report as failed."""
    server = Server(fail="/usage")
    report = await triage(server, since=None)
    assert not any(p.endswith(("/usage", "/metrics")) for p in server.paths)
    assert report.failed_reads == 0
    assert triage_counts(report) == triage_counts(await triage(Server(), since=None))


def test_the_report_does_not_depend_on_the_order_runs_are_read(tmp_path: Any) -> None:
    """Reads finish in any order: groups with equal counts, their examples and the next steps
    come out the same whichever order the diagnoses arrive in (examples: the newest runs)."""
    import random

    from letta_runs.diagnosis import diagnose
    from letta_runs.diagnosis.triage import EXAMPLES_PER_GROUP, TriageAccumulator
    from letta_runs.evidence import load_bundle

    now = datetime(2026, 1, 2, tzinfo=UTC)
    diags = []
    for i, bundle in enumerate(demo_bundles() * 3):
        path = tmp_path / f"{i}.json"
        path.write_text(json.dumps(bundle))
        diag = diagnose(load_bundle(path), now=now)
        created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i)
        diags.append(diag.model_copy(update={"run_id": f"run-{i:04d}", "created_at": created}))
    assert len({d.root_cause.kind for d in diags if d.root_cause}) >= 2

    def report(order: list[Any]) -> str:
        acc = TriageAccumulator(since=None, agent_id=None, statuses=None)
        for diag in order:
            acc.add_diagnosis(diag)
        return acc.report().model_dump_json()

    first = report(diags)
    shuffled = list(diags)
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        assert report(shuffled) == first
    groups = json.loads(first)["by_root_cause"]
    counts = [(-g["count"], g["key"]) for g in groups]
    assert counts == sorted(counts)
    for group in groups:
        ids = group["examples"]
        assert len(ids) == min(group["count"], EXAMPLES_PER_GROUP)
        assert ids == sorted(ids, reverse=True)  # ids grow with creation time here
