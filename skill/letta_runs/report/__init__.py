"""Visual post-mortems: one self-contained HTML file for a run or for a triage.

>>> from letta_runs.evidence import load_bundle
>>> from letta_runs.report import render_run_report
>>> html = render_run_report(load_bundle("run.bundle.json"))          # doctest: +SKIP

``build_*`` functions compute everything a page shows (pure, typed, testable without a
browser); ``render_*`` pass it through the templates in ``prompts/report/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..diagnosis.engine import RunDiagnosis, diagnose
from ..evidence import Evidence, gather_evidence
from .html import render_page
from .run import RunReport, build_run_report

if TYPE_CHECKING:
    from .._client import AsyncRunsClient

__all__ = ["RunReport", "build_run_report", "render_run_report", "run_report_html"]


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
