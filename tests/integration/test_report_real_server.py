"""The HTML report of real runs, read from a real Letta 0.16.8 server.

What the page claims about Letta is checked on the server itself: steps carry no timestamp of
their own (so the waterfall's times are estimated from message dates), and the page draws every
step the server lists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from letta_runs.cli import cli

from tests.letta_server import SeededRuns

pytestmark = pytest.mark.letta_server

CASES = {
    "sync.loop_max_steps_default": "failed",
    "sync.tool_chain_ok": "ok",
    "sync.tool_error": "ok",
    "sync.llm_error_500": "failed",
    "sync.requires_approval": "awaiting_approval",
}


def _steps(seeded: SeededRuns, run_id: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{seeded.base_url}/v1/runs/{run_id}/steps", params={"limit": 1000}, timeout=30
    )
    response.raise_for_status()
    steps: list[dict[str, Any]] = response.json()
    return steps


def _report(seeded: SeededRuns, *args: str) -> Any:
    return CliRunner().invoke(
        cli, ["--base-url", seeded.base_url, "report", *args], env={"LETTA_API_KEY": None}
    )


def test_letta_steps_carry_no_timestamp_so_the_waterfall_estimates(seeded: SeededRuns) -> None:
    run_id = seeded.run_id("sync.tool_chain_ok")
    steps = _steps(seeded, run_id)
    assert steps
    for step in steps:
        timed = [k for k in step if re.search(r"(_at|date|time|_ns)$", k) or k in ("start", "end")]
        assert timed == [], timed  # if Letta adds one, the report should use it
    result = _report(seeded, run_id)
    assert result.exit_code == 0, result.output
    assert "times estimated" in result.stdout
    assert "Steps carry no timestamps" in result.stdout


@pytest.mark.parametrize("label", sorted(CASES))
def test_report_of_a_real_run_draws_every_step(
    seeded: SeededRuns, tmp_path: Path, label: str
) -> None:
    run_id = seeded.run_id(label)
    out = tmp_path / "run.html"
    result = _report(seeded, run_id, "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == CASES[label]
    html = out.read_text()
    assert f'data-verdict="{CASES[label]}"' in html
    bars = len(re.findall(r'<rect class="bar ', html))
    banded = sum(
        int(n) for n in re.findall(r'<rect class="band [^"]*"[^>]*data-steps="(\d+)"', html)
    )
    assert bars + banded == len(_steps(seeded, run_id))
    if label == "sync.loop_max_steps_default":
        assert banded == 50 and bars == 0


def test_triage_page_of_the_real_server_links_its_examples(
    seeded: SeededRuns, tmp_path: Path
) -> None:
    page = tmp_path / "fleet.html"
    result = _report(
        seeded, "--triage", "--since", "7d", "-o", str(page), "--with-runs", str(tmp_path / "r")
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["problems"] > 0
    html = page.read_text()
    for path in summary["run_reports"]:
        assert f'href="r/{Path(path).name}"' in html
    segments = [int(n) for n in re.findall(r'data-count="(\d+)"', html)]
    assert sum(segments) == summary["problems"]


async def test_rest_and_mcp_serve_the_report_of_a_real_run(seeded: SeededRuns) -> None:
    from letta_runs import AsyncRunsClient
    from letta_runs.mcp_server import create_server
    from letta_runs.rest import create_app
    from mcp import Client

    run_id = seeded.run_id("sync.loop_max_steps_default")

    def factory() -> AsyncRunsClient:
        return AsyncRunsClient(base_url=seeded.base_url)

    app = create_app(factory)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as api,
    ):
        page = await api.get(f"/v1/runs/{run_id}/report.html", timeout=120)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'data-verdict="failed"' in page.text
    async with Client(create_server(factory)) as client:
        uri = f"letta-runs://runs/{run_id}/report.html"
        (content,) = (await client.read_resource(uri)).contents
    assert content.mime_type == "text/html"
    assert 'data-steps="50"' in content.text  # type: ignore[union-attr]
