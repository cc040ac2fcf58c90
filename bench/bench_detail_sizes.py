#!/usr/bin/env python3
"""Benchmark: how many characters each ``--detail`` level costs an agent that reads it.

An agent pays for every character it reads, so SKILL.md recommends the smallest output that
answers a question. This measures, in one run, the size of ``diagnose`` at each detail level,
``timeline`` folded and ``--full``, ``triage``, and the raw evidence they replace (the run, all
its steps and all its messages as the API returns them), as JSON and as Markdown, over every
run of the embedded demo data (recorded from a real Letta server); it prints the median and the
largest size per command and format.

    python bench/bench_detail_sizes.py                  # the embedded demo runs
    python bench/bench_detail_sizes.py --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path
from typing import Any

try:
    import letta_runs  # noqa: F401
except ImportError:  # running from a checkout without an install
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "skill"))

from letta_runs import AsyncRunsClient
from letta_runs.composites import diagnose_run, run_timeline, triage_runs
from letta_runs.output import dump_json
from letta_runs.rendering import render_diagnosis, render_timeline, render_triage

LEVELS = ("summary", "standard", "full")
FORMATS = ("json", "markdown")


async def measure() -> dict[str, list[int]]:
    """``command | format`` → its size in characters for each run."""
    sizes: dict[str, list[int]] = {}

    def add(label: str, fmt: str, text: str) -> None:
        sizes.setdefault(f"{label} | {fmt}", []).append(len(text))

    async with AsyncRunsClient(base_url="demo") as client:
        run_ids = [run.id for run in (await client.runs.list(limit=1000)).items]
        for run_id in run_ids:
            diag = await diagnose_run(client, run_id)
            folded = await run_timeline(client, run_id)
            unfolded = await run_timeline(client, run_id, compact=False)
            steps = (await client.runs.steps.list(run_id)).iter_all()
            messages = (await client.runs.messages.list(run_id)).iter_all()
            raw = [
                await client.runs.retrieve(run_id),
                [step async for step in steps],
                [message async for message in messages],
            ]
            add("raw: runs get + steps + messages", "json", dump_json(raw))
            for fmt in FORMATS:
                for level in LEVELS:
                    text = render_diagnosis(diag, detail=level, fmt=fmt)  # type: ignore[arg-type]
                    add(f"diagnose --detail {level}", fmt, text)
                add("timeline", fmt, render_timeline(folded, fmt=fmt))  # type: ignore[arg-type]
                add("timeline --full", fmt, render_timeline(unfolded, detail="full", fmt=fmt))  # type: ignore[arg-type]
        report = await triage_runs(client, since=None, limit=len(run_ids))
        for fmt in FORMATS:
            add(f"triage ({len(run_ids)} runs)", fmt, render_triage(report, fmt=fmt))  # type: ignore[arg-type]
    return sizes


def summarize(sizes: dict[str, list[int]]) -> list[dict[str, Any]]:
    rows = []
    for key, values in sizes.items():
        command, fmt = key.split(" | ")
        rows.append(
            {
                "command": command,
                "format": fmt,
                "runs": len(values),
                "median_chars": int(statistics.median(values)),
                "max_chars": max(values),
            }
        )
    return sorted(rows, key=lambda r: (r["format"], r["command"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = summarize(asyncio.run(measure()))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'command':<28} {'format':<9} {'runs':>4} {'median':>8} {'max':>8}  (characters)")
    for row in rows:
        print(
            f"{row['command']:<28} {row['format']:<9} {row['runs']:>4} "
            f"{row['median_chars']:>8,} {row['max_chars']:>8,}"
        )


if __name__ == "__main__":
    main()
