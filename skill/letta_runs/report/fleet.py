"""``build_fleet_report``: the triage of many runs as a page (pure).

Problems by root cause over time (a stacked column chart), then each root-cause group with its
meaning and example runs — linked to their own HTML post-mortems when those were written next
to the page (``run_links``) — then the groupings by stop reason, step error type and tool.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from ..diagnosis.findings import FINDING_KINDS
from ..diagnosis.triage import TriageGroup, TriageReport
from .charts import Histogram, time_histogram

__all__ = ["CATEGORY_COLOURS", "FleetGroup", "FleetReport", "build_fleet_report"]

CATEGORY_COLOURS = 8
"""Distinct colours for root causes in the chart; the rest share "other"."""


class ExampleRun(BaseModel):
    run_id: str
    href: str | None = None


class FleetGroup(BaseModel):
    key: str
    count: int
    share: str
    meaning: str | None = None
    css: str
    examples: list[ExampleRun] = Field(default_factory=list)


class FleetTable(BaseModel):
    title: str
    groups: list[FleetGroup]


class FleetReport(BaseModel):
    title: str
    since: str | None = None
    generated_at: str
    scanned: int
    diagnosed: int
    problems: int
    hidden_failures: int
    verdicts: list[tuple[str, int]]
    truncated: bool
    chart: Histogram | None = None
    chart_summary: str
    chart_rows: list[tuple[str, list[int]]] = Field(default_factory=list)
    legend: list[tuple[str, str]] = Field(default_factory=list)
    root_causes: list[FleetGroup] = Field(default_factory=list)
    tables: list[FleetTable] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    linked_runs: int = 0


def _groups(
    groups: list[TriageGroup], total: int, css_of: dict[str, str], links: dict[str, str]
) -> list[FleetGroup]:
    return [
        FleetGroup(
            key=g.key,
            count=g.count,
            share=f"{g.count / total:.0%}" if total else "—",
            meaning=FINDING_KINDS.get(g.key),
            css=css_of.get(g.key, "kother"),
            examples=[ExampleRun(run_id=r, href=links.get(r)) for r in g.examples],
        )
        for g in groups
    ]


def build_fleet_report(
    triage: TriageReport,
    *,
    run_links: dict[str, str] | None = None,
    now: datetime | None = None,
) -> FleetReport:
    """The triage page's content; ``run_links`` maps run ids to their report's relative URL."""
    now = now or datetime.now(UTC)
    links = run_links or {}
    kinds = [g.key for g in triage.by_root_cause]
    shown = kinds[:CATEGORY_COLOURS]
    css_of = {k: f"k{i}" for i, k in enumerate(shown)}
    events = [(at, k if k in css_of else "other") for at, k in triage.problem_times]
    categories = shown + (["other"] if len(kinds) > len(shown) else [])
    css_of["other"] = "kother"

    chart = None
    rows: list[tuple[str, list[int]]] = []
    if events:
        first = min(at for at, _ in events)
        end = max(now, max(at for at, _ in events) + timedelta(seconds=1))
        # The window, unless it is mostly empty before the first problem: then from there on.
        since = triage.since
        start = since if since is not None and first - since <= end - first else first
        chart = time_histogram(events, start=start, end=end, categories=categories)
        for col in chart.columns:
            by_cat = {seg[0]: seg[3] for seg in col.segments}
            if col.total:
                rows.append((col.label, [by_cat.get(c, 0) for c in categories]))
    busiest = max(chart.columns, key=lambda c: c.total) if chart and chart.columns else None
    chart_summary = (
        f"{triage.problems} problem run{'s' if triage.problems != 1 else ''} of "
        f"{triage.scanned} scanned"
        + (
            f", in {chart.bucket} buckets; the busiest began {busiest.label} UTC "
            f"with {busiest.total}"
            if chart and busiest
            else ""
        )
        + (
            "; by root cause: " + ", ".join(f"{g.key} {g.count}" for g in triage.by_root_cause)
            if triage.by_root_cause
            else ""
        )
        + "."
    )
    tables = [
        FleetTable(title=title, groups=_groups(groups, triage.problems, {}, links))
        for title, groups in (
            ("By stop reason", triage.by_stop_reason),
            ("By step error type", triage.by_error_type),
            ("By tool", triage.by_tool),
        )
        if groups
    ]
    return FleetReport(
        title="letta-runs triage",
        since=triage.since.strftime("%Y-%m-%d %H:%M UTC") if triage.since else None,
        generated_at=now.strftime("%Y-%m-%d %H:%M UTC"),
        scanned=triage.scanned,
        diagnosed=triage.diagnosed,
        problems=triage.problems,
        hidden_failures=triage.hidden_failures,
        verdicts=sorted(triage.verdicts.items(), key=lambda kv: -kv[1]),
        truncated=triage.truncated,
        chart=chart,
        chart_summary=chart_summary,
        chart_rows=rows,
        legend=[(c, css_of[c]) for c in categories],
        root_causes=_groups(triage.by_root_cause, triage.problems, css_of, links),
        tables=tables,
        errors=list(triage.errors),
        next_steps=list(triage.next_steps),
        linked_runs=sum(1 for g in triage.by_root_cause for r in g.examples if r in links),
    )
