"""``letta-runs report``: the HTML post-mortem of a run (or of a triage) as one file."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._exceptions import InvalidArgumentError
from ._app import OUTPUT_FILE, global_options, state_of
from .reports import BUNDLE, DURATION

if TYPE_CHECKING:
    from .._client import AsyncRunsClient


def _write(
    html: str, output: str | None, *, what: str, summary: dict[str, object], json_flag: bool
) -> None:
    """HTML to ``output`` (a line on stderr, and a JSON summary for agents) or to stdout."""
    if output is None:
        click.echo(html, nl=False)
        return
    path = Path(output)
    path.write_text(html, encoding="utf-8")
    size = len(html.encode("utf-8"))
    click.echo(f"wrote {what} to {path} ({size / 1024:.0f} KB)", err=True)
    if json_flag or not sys.stdout.isatty():
        click.echo(json.dumps({**summary, "path": str(path), "bytes": size}))


@click.command("report")
@click.argument("run_id", required=False)
@click.option("--bundle", type=BUNDLE, help="Read the run from a bundle file (from `export`).")
@click.option(
    "--output",
    "-o",
    "output",
    type=OUTPUT_FILE,
    help="Write the HTML to FILE (default: stdout).",
)
@click.option(
    "--stuck-after",
    type=DURATION,
    default="10m",
    show_default=True,
    help="An unfinished run older than this is stuck.",
)
@click.option("--triage", is_flag=True, help="A page of the triage of recent runs instead.")
@click.option(
    "--since", type=DURATION, default="24h", show_default=True, help="With --triage: how far back."
)
@click.option("--agent-id", help="With --triage: only runs of this agent.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    help="With --triage: statuses to scan (repeatable; default every finished run).",
)
@click.option(
    "--limit", type=click.IntRange(min=1), help="With --triage: scan at most N runs (newest first)."
)
@click.option(
    "--with-runs",
    "with_runs",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --triage: also write each example run's report into DIR, linked from the page.",
)
@click.option("--json", "json_flag", is_flag=True, help="Print what was written as JSON.")
@global_options
def report(
    run_id: str | None,
    bundle: Path | None,
    output: str | None,
    stuck_after: float,
    triage: bool,
    since: float,
    agent_id: str | None,
    statuses: tuple[str, ...],
    limit: int | None,
    with_runs: Path | None,
    json_flag: bool,
) -> None:
    """Visual post-mortem of a run as one self-contained HTML file.

    Verdict, root cause and remedy first, then the key figures, the findings with their
    evidence ids, a step waterfall (loops as one band), tokens per step against the context
    window, the tool calls and the transcript (run content shown as inert text). The file
    loads nothing from the network and its charts need no JavaScript.

    With --triage, the triage of recent runs as a page instead: problems by root cause over
    time, each group with example runs, linked to their own reports with --with-runs DIR.

    \b
    Example:
      letta-runs --demo report run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011 -o loop.html
      letta-runs report run-… --bundle run.bundle.json -o run.html
      letta-runs report --triage --since 1d -o fleet.html --with-runs runs/
    """
    if json_flag:
        state_of(click.get_current_context()).json_errors = True
    from ..operations import get_operation

    if triage:
        _triage_page(
            run_id=run_id,
            output=output,
            since=since,
            agent_id=agent_id,
            statuses=statuses,
            limit=limit,
            with_runs=with_runs,
            json_flag=json_flag,
        )
        return
    if with_runs is not None:
        raise InvalidArgumentError(
            "--with-runs goes with --triage",
            hint="letta-runs report --triage --since 1d -o fleet.html --with-runs runs/",
        )
    if run_id is None:
        raise InvalidArgumentError(
            "report needs a RUN_ID",
            hint="letta-runs report RUN_ID -o run.html",
        )
    state = state_of(click.get_current_context())
    op = get_operation("run_report")
    page = state.blocking(
        lambda c: op.call(
            c, op.parse({"run_id": run_id, "stuck_after_seconds": stuck_after}), bundle=bundle
        )
    )
    _write(
        page.html,
        output,
        what=f"the report of {run_id}",
        summary={"run_id": run_id, "verdict": page.verdict},
        json_flag=json_flag,
    )


def _triage_page(
    *,
    run_id: str | None,
    output: str | None,
    since: float,
    agent_id: str | None,
    statuses: tuple[str, ...],
    limit: int | None,
    with_runs: Path | None,
    json_flag: bool,
) -> None:
    from .. import composites
    from ..report import fleet_report_html

    if run_id is not None:
        raise InvalidArgumentError(
            "--triage covers many runs and takes no RUN_ID",
            hint="letta-runs report RUN_ID -o run.html, or letta-runs report --triage -o fleet.html",
        )
    if with_runs is not None and output is None:
        raise InvalidArgumentError(
            "--with-runs needs -o FILE: the page links to the run reports relative to itself",
            hint="letta-runs report --triage -o fleet.html --with-runs runs/",
        )
    kwargs: dict[str, Any] = {
        "since": timedelta(seconds=since),
        "agent_id": agent_id,
        "limit": limit,
        "progress": lambda m: click.echo(m, err=True),
    }
    if statuses:
        kwargs["statuses"] = list(statuses)

    async def build(client: AsyncRunsClient) -> tuple[str, list[Path], int]:
        result = await composites.triage_runs(client, **kwargs)
        html, written = await fleet_report_html(
            client,
            result,
            runs_dir=with_runs,
            page_path=Path(output) if output else None,
        )
        return html, written, result.problems

    html, written, problems = state_of(click.get_current_context()).blocking(build)
    _write(
        html,
        output,
        what="the triage page" + (f" and {len(written)} run reports" if written else ""),
        summary={"problems": problems, "run_reports": [str(p) for p in written]},
        json_flag=json_flag,
    )
