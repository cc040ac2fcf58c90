"""Visual post-mortems: one self-contained HTML file for a run or for a triage.

>>> from letta_runs.evidence import load_bundle
>>> from letta_runs.report import render_run_report
>>> html = render_run_report(load_bundle("run.bundle.json"))          # doctest: +SKIP

``build_*`` functions compute everything a page shows (pure, typed, testable without a
browser); ``render_*`` pass it through the templates in ``prompts/report/``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from .._client import validate_run_id
from .._exceptions import LettaRunsError
from ..diagnosis.engine import RunDiagnosis, diagnose
from ..diagnosis.triage import TriageReport
from ..evidence import Evidence, evidence_for, gather_evidence
from .fleet import FleetReport, build_fleet_report
from .html import render_page
from .run import RunReport, build_run_report

if TYPE_CHECKING:
    from .._client import AsyncRunsClient

__all__ = [
    "REPORT_URI_TEMPLATE",
    "FleetReport",
    "HtmlReport",
    "RunReport",
    "build_fleet_report",
    "build_run_report",
    "fleet_report_html",
    "render_fleet_report",
    "render_run_report",
    "run_report",
    "run_report_html",
]

REPORT_URI_TEMPLATE = "letta-runs://runs/{run_id}/report.html"
"""Where an MCP client reads a run's report (a resource of type ``text/html``)."""


class HtmlReport(BaseModel):
    """A run's HTML post-mortem, and what it says in a line (for faces that do not show HTML)."""

    run_id: str
    verdict: str
    headline: str
    bytes: int = Field(description="Size of the HTML page in bytes (UTF-8).")
    uri: str = Field(description="The MCP resource that serves this page.")
    route: str = Field(description="The REST route that serves this page.")
    html: str = Field(exclude=True, repr=False)
    """The page itself: kept out of the JSON (it is served as text/html)."""


async def run_report(
    client: AsyncRunsClient,
    run_id: str,
    *,
    stuck_after: float = 600.0,
    bundle: str | Path | None = None,
) -> HtmlReport:
    """Fetch a run's evidence (or read ``bundle``), diagnose it and render its HTML report."""
    ev = await evidence_for(client, run_id, bundle=bundle, include_trace=True)
    diag = diagnose(ev, stuck_after=stuck_after)
    html = render_run_report(ev, diag)
    return HtmlReport(
        run_id=diag.run_id,
        verdict=diag.verdict,
        headline=diag.headline,
        bytes=len(html.encode()),
        uri=REPORT_URI_TEMPLATE.format(run_id=diag.run_id),
        route=f"/v1/runs/{diag.run_id}/report.html",
        html=html,
    )


def render_fleet_report(triage: TriageReport, *, run_links: dict[str, str] | None = None) -> str:
    """The triage as one HTML page; ``run_links`` maps example run ids to their report's URL."""
    return render_page("fleet.html.j2", f=build_fleet_report(triage, run_links=run_links))


def render_run_report(
    ev: Evidence, diag: RunDiagnosis | None = None, *, fleet_link: str | None = None
) -> str:
    """The HTML post-mortem of one run: a single file that needs nothing else to open."""
    report = build_run_report(ev, diag, fleet_link=fleet_link)
    return render_page("run.html.j2", r=report)


async def run_report_html(
    client: AsyncRunsClient,
    run_id: str,
    *,
    stuck_after: float = 600.0,
    fleet_link: str | None = None,
) -> str:
    """Fetch a run's evidence, diagnose it and render its HTML post-mortem."""
    ev = await gather_evidence(client, run_id, include_trace=True)
    return render_run_report(ev, diagnose(ev, stuck_after=stuck_after), fleet_link=fleet_link)


async def fleet_report_html(
    client: AsyncRunsClient,
    triage: TriageReport,
    *,
    runs_dir: Path | None = None,
    page_path: Path | None = None,
    concurrency: int = 4,
) -> tuple[str, list[Path]]:
    """The triage page; with ``runs_dir``, also each example run's report, linked both ways.

    Links are relative (``page_path`` is where the page will be written), so the page and its
    folder of run reports can be moved or attached together.
    """
    written: list[Path] = []
    links: dict[str, str] = {}
    failed: list[str] = []
    if runs_dir is not None:
        page = (page_path or Path("fleet.html")).resolve()
        folder = runs_dir.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        back = Path(os.path.relpath(page, folder)).as_posix()
        ids = list(dict.fromkeys(r for g in triage.by_root_cause for r in g.examples))
        sem = asyncio.Semaphore(max(1, concurrency))

        async def one(run_id: str) -> None:
            try:
                validate_run_id(run_id)  # it becomes a file name
                async with sem:
                    html = await run_report_html(client, run_id, fleet_link=back)
            except LettaRunsError as exc:
                failed.append(f"{run_id}: no report ({exc.message})")
                return
            target = folder / f"{run_id}.html"
            target.write_text(html, encoding="utf-8")
            written.append(target)
            links[run_id] = Path(os.path.relpath(target, page.parent)).as_posix()

        await asyncio.gather(*(one(r) for r in ids))
    if failed:
        triage = triage.model_copy(update={"errors": [*triage.errors, *failed]})
    return render_fleet_report(triage, run_links=links), sorted(written)
