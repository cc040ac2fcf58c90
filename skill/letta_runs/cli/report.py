"""``letta-runs report``: the HTML post-mortem of a run (or of a triage) as one file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .._exceptions import InvalidArgumentError
from ._app import global_options, state_of
from .reports import BUNDLE, DURATION, _load, with_client


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
    type=click.Path(dir_okay=False, writable=True),
    help="Write the HTML to FILE (default: stdout).",
)
@click.option(
    "--stuck-after",
    type=DURATION,
    default="10m",
    show_default=True,
    help="An unfinished run older than this is stuck.",
)
@click.option("--json", "json_flag", is_flag=True, help="Print what was written as JSON.")
@global_options
def report(
    run_id: str | None,
    bundle: Path | None,
    output: str | None,
    stuck_after: float,
    json_flag: bool,
) -> None:
    """Visual post-mortem of a run as one self-contained HTML file.

    Verdict, root cause and remedy first, then the key figures, the findings with their
    evidence ids, a step waterfall (loops as one band), tokens per step against the context
    window, the tool calls and the transcript (run content shown as inert text). The file
    loads nothing from the network and its charts need no JavaScript.

    \b
    Example:
      letta-runs --demo report run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011 -o loop.html
      letta-runs report run-… --bundle run.bundle.json -o run.html
    """
    if json_flag:
        state_of(click.get_current_context()).json_errors = True
    from ..diagnosis.engine import diagnose
    from ..evidence import gather_evidence
    from ..report import render_run_report

    if run_id is None:
        raise InvalidArgumentError(
            "report needs a RUN_ID",
            hint="letta-runs report RUN_ID -o run.html",
        )
    if bundle is not None:
        ev = _load(bundle, run_id)
    else:
        ev = with_client(lambda c: gather_evidence(c, run_id, include_trace=True))
    diag = diagnose(ev, stuck_after=stuck_after)
    html = render_run_report(ev, diag)
    _write(
        html,
        output,
        what=f"the report of {run_id}",
        summary={"run_id": run_id, "verdict": diag.verdict},
        json_flag=json_flag,
    )
