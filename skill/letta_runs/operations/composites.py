"""The composite operations: a diagnosis, report, timeline, triage, stuck-run check, comparison
or watch of runs, each over :mod:`letta_runs.composites`, and how their reports read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from ..models import StreamEvent
from ..params import RUN_ID_PATTERN, RunId, RunStatusName
from .catalog import CliCommand, Face, Local, NextStep, OperationResult, Route, operation
from .presenting import _faced, _present_report

if TYPE_CHECKING:
    from .._client import AsyncRunsClient
    from ..diagnosis.compare import RunComparison
    from ..diagnosis.engine import RunDiagnosis
    from ..diagnosis.timeline import RunTimeline
    from ..diagnosis.triage import StuckReport, TriageReport
    from ..report import HtmlReport


Bundle = Annotated[Path | str | None, Local]
"""A bundle file (from ``export``) to read instead of the server: in-process callers only."""
StuckAfterArg = Annotated[
    float,
    Field(
        gt=0,
        allow_inf_nan=False,
        description="A run still created/running after this many seconds is stuck.",
    ),
]
DetailArg = Annotated[
    Literal["summary", "standard", "full"],
    Field(
        description="'summary' for a few lines, 'standard' for a full post-mortem that fits in a "
        "chat (default), 'full' for everything."
    ),
]


def _diagnosis_data(diag: RunDiagnosis, args: Any, face: Face) -> dict[str, Any]:
    from ..rendering import diagnosis_dict

    return diagnosis_dict(_faced(diag, face), detail=args.detail)


def _diagnosis_text(diag: RunDiagnosis, args: Any, face: Face) -> str:
    from ..rendering import render_diagnosis

    full = face.step(
        NextStep(operation="diagnose_run", args={"run_id": diag.run_id, "detail": "full"})
    )
    return render_diagnosis(
        _faced(diag, face), detail=args.detail, fmt="markdown", full_detail=full
    )


@operation(
    title="Diagnose a run (post-mortem)",
    route=Route("GET", "/v1/runs/{run_id}/diagnosis"),
    cli=CliCommand(
        ("diagnose",),
        options={"stuck_after_seconds": "--stuck-after"},
        units={"stuck_after_seconds": "s"},
    ),
    present=_present_report(_diagnosis_data, _diagnosis_text),
    composite=True,
)
async def diagnose_run(
    client: AsyncRunsClient,
    run_id: RunId,
    detail: DetailArg = "standard",
    stuck_after_seconds: StuckAfterArg = 600.0,
    bundle: Bundle = None,
) -> RunDiagnosis:
    """Post-mortem of one run: reads its steps, messages, usage, metrics and trace and returns
    the verdict (ok, failed, stuck, running, cancelled, awaiting_approval), the root cause with
    evidence ids, tool loops, tokens, latency and next steps. Start here when asked why a run
    failed or misbehaved. Runs the server calls 'completed' can still be failed (e.g. a tool loop
    that hit max_steps)."""
    from .. import composites

    return await composites.diagnose_run(
        client, run_id, stuck_after=stuck_after_seconds, bundle=bundle
    )


def _present_html_report(report: HtmlReport, args: Any, face: Face) -> OperationResult:
    """The page's facts and where to read it; the HTML itself is the artifact (REST serves it as
    ``text/html``, MCP as a resource)."""
    data = report.model_dump(mode="json")
    # Each face names only its own way to the page.
    if face.name != "mcp":
        data.pop("uri")
    if face.name != "rest":
        data.pop("route")
    where = {
        "mcp": f"read the resource {report.uri}",
        "rest": f"GET {report.route}",
        "cli": f"{face.step(NextStep(operation='run_report', args={'run_id': report.run_id}))}"
        " -o run.html",
    }.get(face.name, "the artifact holds the page")
    text = (
        f"HTML report of {report.run_id} ({report.bytes:,} bytes): {report.headline}\n"
        f"The page (verdict, waterfall, tokens, tool calls, transcript) is for a person: {where}."
    )
    return OperationResult(data, text, report)


@operation(
    title="HTML report of a run (for a person)",
    route=Route("GET", "/v1/runs/{run_id}/report.html", media_type="text/html"),
    cli=CliCommand(
        ("report",),
        options={"stuck_after_seconds": "--stuck-after"},
        units={"stuck_after_seconds": "s"},
    ),
    present=_present_html_report,
    composite=True,
)
async def run_report(
    client: AsyncRunsClient,
    run_id: RunId,
    stuck_after_seconds: StuckAfterArg = 600.0,
    bundle: Bundle = None,
) -> HtmlReport:
    """The post-mortem of one run as a self-contained HTML page for a person to look at: the
    verdict and root cause, the remedy, key figures, a step waterfall (loops as one band), tokens
    per step against the context window, the tool calls and the transcript. The result gives its
    size and where to read the page; for the diagnosis itself, as data, use the diagnosis."""
    from ..report import run_report as build

    return await build(client, run_id, stuck_after=stuck_after_seconds, bundle=bundle)


def _timeline_data(timeline: RunTimeline, args: Any, face: Face) -> dict[str, Any]:
    from ..rendering import timeline_dict

    return timeline_dict(timeline, detail=args.detail)


def _timeline_text(timeline: RunTimeline, args: Any, face: Face) -> str:
    from ..rendering import render_timeline

    full = face.step(
        NextStep(operation="run_timeline", args={"run_id": timeline.run_id, "detail": "full"})
    )
    return render_timeline(timeline, detail=args.detail, fmt="markdown", full_detail=full)


@operation(
    title="Timeline of a run",
    route=Route("GET", "/v1/runs/{run_id}/timeline"),
    cli=CliCommand(("timeline",)),
    present=_present_report(_timeline_data, _timeline_text),
    composite=True,
)
async def run_timeline(
    client: AsyncRunsClient,
    run_id: RunId,
    detail: Annotated[
        Literal["summary", "standard", "full"], Field(description="How much of each event to show.")
    ] = "standard",
    full: Annotated[bool, Field(description="Do not fold repeated steps.")] = False,
    bundle: Bundle = None,
) -> RunTimeline:
    """One ordered timeline of a run's steps, messages and trace spans with durations and tokens
    per step; repeated steps are folded. Use it after the diagnosis to see the order of
    events."""
    from .. import composites

    compact = not full and detail != "full"
    return await composites.run_timeline(client, run_id, compact=compact, bundle=bundle)


def _triage_data(report: TriageReport, args: Any, face: Face) -> dict[str, Any]:
    from ..rendering import triage_dict

    return triage_dict(_faced(report, face), detail=args.detail)


def _triage_text(report: TriageReport, args: Any, face: Face) -> str:
    from ..rendering import render_triage

    return render_triage(_faced(report, face), detail=args.detail, fmt="markdown")


@operation(
    title="Triage recent runs",
    route=Route("GET", "/v1/runs/triage"),
    cli=CliCommand(("triage",), arguments=(), options={"statuses": "--status"}),
    present=_present_report(_triage_data, _triage_text),
    composite=True,
)
async def triage_runs(
    client: AsyncRunsClient,
    since: Annotated[
        str,
        Field(
            description="Look back this far, e.g. '30m', '6h', '2d', or 'all' for every run.",
            pattern=r"^\s*(all|ALL|\d+(\.\d+)?\s*[smhdwSMHDW]?)\s*$",
        ),
    ] = "24h",
    agent_id: Annotated[str | None, Field(description="Only runs of this agent.")] = None,
    statuses: Annotated[
        list[RunStatusName] | None,
        Field(
            description="Only runs in these statuses. Default: every run of the window, finished "
            "or still active, because runs the server calls 'completed' can still have failed (a "
            "tool loop that hit max_steps, no answer)."
        ),
    ] = None,
    limit: Annotated[
        int | None,
        Field(
            ge=1,
            description="Scan at most this many runs, newest first. Default: every run of the "
            "window (a cap is reported as 'truncated').",
        ),
    ] = None,
    concurrency: Annotated[
        int, Field(ge=1, le=64, description="Runs read on their own at the same time.")
    ] = 8,
    per_run: Annotated[
        bool,
        Field(
            description="Read every run on its own instead of the bulk lists (slower; for "
            "servers whose bulk lists misbehave)."
        ),
    ] = False,
    detail: DetailArg = "standard",
    progress: Annotated[Callable[[str], None] | None, Local] = None,
) -> TriageReport:
    """Scan the runs of a window (e.g. since='24h', or 'all') and group the problem runs by root
    cause, stop reason, error type and tool, with counts and example run ids. Runs still active
    are counted and listed (find the stuck ones next); an empty window names the newest run and
    a 'since' that reaches it; reads that failed are counted in 'failed_reads'. Use it for 'what
    went wrong last night' questions, then diagnose an example id."""
    from datetime import timedelta

    from .. import composites
    from ..durations import parse_duration

    window = None if since.strip().lower() == "all" else timedelta(seconds=parse_duration(since))
    return await composites.triage_runs(
        client,
        since=window,
        agent_id=agent_id,
        statuses=list(statuses) if statuses else None,
        limit=limit,
        concurrency=concurrency,
        bulk=not per_run,
        progress=progress,
    )


def _stuck_data(report: StuckReport, args: Any, face: Face) -> dict[str, Any]:
    return _faced(report, face).model_dump(mode="json")  # type: ignore[no-any-return]


def _stuck_text(report: StuckReport, args: Any, face: Face) -> str:
    from ..rendering import render_stuck

    return render_stuck(_faced(report, face), fmt="markdown")


@operation(
    title="Find stuck runs",
    route=Route("GET", "/v1/runs/stuck"),
    cli=CliCommand(("stuck",), arguments=()),
    present=_present_report(_stuck_data, _stuck_text),
    composite=True,
)
async def find_stuck_runs(
    client: AsyncRunsClient,
    older_than: Annotated[
        str,
        Field(
            description="Active runs older than this are stuck, e.g. '10m', '1h'.",
            pattern=r"^\s*\d+(\.\d+)?\s*[smhdwSMHDW]?\s*$",
        ),
    ] = "10m",
    agent_id: Annotated[str | None, Field(description="Only runs of this agent.")] = None,
) -> StuckReport:
    """Active runs older than a threshold (default 10 minutes) and runs whose stop reason and
    status disagree. Sync and async runs stay 'created' while they execute."""
    from .. import composites
    from ..durations import parse_duration

    return await composites.find_stuck_runs(
        client, older_than=parse_duration(older_than), agent_id=agent_id
    )


def _comparison_data(cmp: RunComparison, args: Any, face: Face) -> dict[str, Any]:
    return cmp.model_dump(mode="json")


def _comparison_text(cmp: RunComparison, args: Any, face: Face) -> str:
    from ..rendering import render_comparison

    return render_comparison(cmp, fmt="markdown")


@operation(
    title="Compare two runs",
    route=Route("GET", "/v1/runs/compare"),
    cli=CliCommand(("compare",), arguments=("run_id_a", "run_id_b")),
    present=_present_report(_comparison_data, _comparison_text),
    composite=True,
)
async def compare_runs(
    client: AsyncRunsClient,
    run_id_a: Annotated[
        str, Field(description="The first run id (e.g. a good run).", pattern=RUN_ID_PATTERN)
    ],
    run_id_b: Annotated[
        str, Field(description="The second run id (e.g. the bad run).", pattern=RUN_ID_PATTERN)
    ],
    bundle_a: Bundle = None,
    bundle_b: Bundle = None,
) -> RunComparison:
    """Differences between two runs: outcome, verdict, steps, tools used, tokens and durations.
    Useful to contrast a good run with a bad one of the same agent."""
    from .. import composites

    return await composites.compare_runs_by_id(
        client, run_id_a, run_id_b, bundle_a=bundle_a, bundle_b=bundle_b
    )


@operation(
    title="Watch a run to its end",
    route=Route("GET", "/v1/runs/{run_id}/watch"),
    cli=CliCommand(
        ("watch",),
        options={
            "max_seconds": "--max-time",
            "stuck_after_seconds": "--stuck-after",
            "idle_timeout": "--idle-timeout",
        },
        units={"max_seconds": "s", "stuck_after_seconds": "s", "idle_timeout": "s"},
    ),
    present=_present_report(_diagnosis_data, _diagnosis_text),
    composite=True,
)
async def watch_run(
    client: AsyncRunsClient,
    run_id: RunId,
    max_seconds: Annotated[
        float | None,
        Field(
            gt=0,
            le=600,
            description="Stop following after this many seconds, then diagnose (null: when the "
            "run ends).",
        ),
    ] = 60.0,
    idle_timeout: Annotated[
        float, Field(gt=0, le=600, description="Give up following after this long without data.")
    ] = 30.0,
    stuck_after_seconds: StuckAfterArg = 600.0,
    detail: DetailArg = "standard",
    on_event: Annotated[Callable[[StreamEvent], Any] | None, Local] = None,
    on_notice: Annotated[Callable[[str], None] | None, Local] = None,
) -> RunDiagnosis:
    """Follow a running background run until it ends (or max_seconds pass), then diagnose it.
    Runs that cannot be streamed (not background, or older than 3 hours) are diagnosed at
    once. If the stream failed or the watch stopped before the run ended, the diagnosis's
    limitations say so."""
    from .. import composites

    return await composites.watch_run(
        client,
        run_id,
        on_event=on_event,
        on_notice=on_notice,
        idle_timeout=idle_timeout,
        max_seconds=max_seconds,
        stuck_after=stuck_after_seconds,
    )
