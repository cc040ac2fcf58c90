"""``stuck`` sees every active run (not the first 100) with its last activity, and ``export
--since`` writes a window's bundles read like ``triage`` reads them."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner
from client_fixtures import STUCK_RUN, demo_bundles
from letta_runs import AsyncRunsClient
from letta_runs._demo import DemoServer
from letta_runs.cli import cli
from letta_runs.cli._app import CLIState
from letta_runs.composites import export_window, find_stuck_runs, triage_runs
from letta_runs.diagnosis.engine import diagnose
from letta_runs.evidence import Evidence, load_bundle

LATE = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ZOMBIE_CHAIN = "run-1bcd7407-1899-4bd3-9d6a-6058cfee7e69"


def many_active(count: int) -> list[dict[str, Any]]:
    """The demo runs plus ``count`` copies of the stuck one, and one stuck run that wrote."""
    bundles = demo_bundles()
    stuck = next(b for b in bundles if b["run"]["id"] == STUCK_RUN)
    for i in range(count):
        clone = copy.deepcopy(stuck)
        clone["run"]["id"] = f"run-{uuid.UUID(int=i + 1, version=4)}"
        created = datetime(2026, 11, 28, 9, 0, tzinfo=UTC) + timedelta(seconds=i)
        clone["run"]["created_at"] = created.isoformat()
        bundles.append(clone)
    chain = next(b for b in bundles if b["run"]["id"] == ZOMBIE_CHAIN)
    chain["run"]["status"], chain["run"]["completed_at"] = "created", None
    return bundles


async def with_client(bundles: list[dict[str, Any]], fn: Any) -> Any:
    async with AsyncRunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(DemoServer(bundles))
    ) as client:
        return await fn(client)


async def test_stuck_reads_every_active_run_not_the_first_hundred() -> None:
    report = await with_client(many_active(150), lambda c: find_stuck_runs(c, now=LATE))
    assert report.checked == 152 and len(report.stuck) == 152
    by_id = {s.run_id: s for s in report.stuck}
    chain = by_id[ZOMBIE_CHAIN]
    assert chain.last_message_at is not None and chain.idle_seconds is not None
    assert chain.idle_seconds > 90 * 60  # it last wrote at 10:17, long before noon
    assert by_id[STUCK_RUN].last_message_at is None  # the hanging run never wrote a message
    assert report.activity_read_since is None  # the demo's whole list fits in one page


async def test_export_window_bundles_are_what_the_run_holds() -> None:
    bundles = {b["run"]["id"]: b for b in demo_bundles()}

    async def export(client: AsyncRunsClient) -> list[dict[str, Any]]:
        return [b async for b in export_window(client, since=None, now=LATE)]

    exported = await with_client(list(bundles.values()), export)
    assert {b["run"]["id"] for b in exported} == set(bundles)
    for bundle in exported:
        recorded = bundles[bundle["run"]["id"]]
        assert [m["id"] for m in bundle["messages"]] == [m["id"] for m in recorded["messages"]]
        assert [s["id"] for s in bundle["steps"]] == [s["id"] for s in recorded["steps"]]
        assert bundle["usage"]["kind"] == "not_fetched"


def test_cli_export_since_writes_one_bundle_per_run_that_diagnoses_offline(tmp_path: Path) -> None:
    out = tmp_path / "bundles"
    result = CliRunner().invoke(cli, ["--demo", "export", "--since", "all", "-o", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("run-*.json"))
    assert len(files) == 13
    assert "export: wrote 13 bundles" in result.stderr
    verdicts = {f.stem: diagnose(load_bundle(f), now=LATE).verdict for f in files}
    assert verdicts[ZOMBIE_CHAIN] == "ok"
    assert verdicts["run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"] == "failed"
    lines = CliRunner().invoke(cli, ["--demo", "export", "--since", "all"]).stdout.splitlines()
    assert len(lines) == 13 and all(json.loads(line)["format"] for line in lines)


def test_cli_export_with_usage_reads_usage_and_says_it() -> None:
    fails = {"n": 0}
    demo = DemoServer(demo_bundles())

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/metrics"):
            fails["n"] += 1
            return httpx.Response(503, json={"detail": "metrics store down"})
        return demo(request)

    state = CLIState(transport=httpx.MockTransport(handler), max_retries=0)
    result = CliRunner().invoke(
        cli,
        ["export", "--since", "all", "--with-usage"],
        obj=state,
        env={"LETTA_BASE_URL": "http://letta.test"},
    )
    assert result.exit_code == 8, result.output
    bundles = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(bundles) == 13 == fails["n"]
    assert all(b["usage"]["status"] == 200 for b in bundles)
    assert all(b["metrics"]["status"] == 503 for b in bundles)
    assert "metrics 13" in result.stderr


def test_cli_export_needs_a_run_or_a_window() -> None:
    result = CliRunner().invoke(cli, ["--demo", "export"])
    assert result.exit_code == 2 and "--since" in result.output


async def test_triage_and_export_agree_on_every_run() -> None:
    async def both(client: AsyncRunsClient) -> tuple[Any, list[dict[str, Any]]]:
        report = await triage_runs(client, since=None, now=LATE)
        bundles = [b async for b in export_window(client, since=None, now=LATE)]
        return report, bundles

    report, bundles = await with_client(demo_bundles(), both)
    verdicts: dict[str, int] = {}
    for bundle in bundles:
        ev = Evidence.model_validate(
            {"run": bundle["run"], "steps": bundle["steps"], "messages": bundle["messages"]}
        )
        verdict = diagnose(ev, now=LATE).verdict
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
    assert verdicts == report.verdicts
