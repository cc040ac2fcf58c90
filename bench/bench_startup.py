#!/usr/bin/env python3
"""Benchmark: start-up of the ``letta-runs`` command against ``python -c "import httpx"``.

An agent calls the CLI dozens of times per investigation, so what counts is the whole process:
interpreter start, imports, the command, exit. Every command is run as its own process, several
times, round-robin (so a burst of load on the machine hits every command alike), after one
untimed warm-up each; the report gives the median, the fastest and the slowest wall-clock time,
each command's median as a ratio of the reference ``python -c "import httpx"`` median, and the
same ratio for the processes' CPU time (user + system, from the kernel), which a busy machine
disturbs less than the wall clock — all from one run of this script. Targets: ``letta-runs --help`` at or under 1.5x the reference, and
``runs get --json`` close to it.

The commands run in the environment of ``--python`` (default: this interpreter): the
``letta-runs`` console script beside it, else ``python -m letta_runs``. Point ``--python`` at a
fresh ``pip install letta-runs`` to measure what a user gets.

    python bench/bench_startup.py                       # 15 runs of each command
    python bench/bench_startup.py --runs 30 --python /tmp/fresh/bin/python --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DEMO_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # the 50-step loop run of the demo data
REFERENCE = "import httpx"


@dataclass
class Command:
    label: str
    argv: list[str]
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def cli_argv(python: Path) -> list[str]:
    """How a user starts the CLI in that environment: its console script, or ``-m``."""
    script = python.parent / "letta-runs"
    return [str(script)] if script.is_file() else [str(python), "-m", "letta_runs"]


def commands(python: Path) -> list[Command]:
    cli = cli_argv(python)
    return [
        Command("python -c pass (interpreter only)", [str(python), "-c", "pass"]),
        Command(f'python -c "{REFERENCE}" (reference)', [str(python), "-c", REFERENCE]),
        Command("letta-runs --help", [*cli, "--help"]),
        Command("letta-runs --version", [*cli, "--version"]),
        Command("letta-runs --demo runs get RUN --json", [*cli, "--demo", "runs", "get", DEMO_RUN, "--json"]),
        Command("letta-runs --demo diagnose RUN --json", [*cli, "--demo", "diagnose", DEMO_RUN, "--json"]),
    ]  # fmt: skip


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"error: {' '.join(argv)} exited {proc.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime


def measure(cmds: list[Command], *, runs: int) -> None:
    # No LETTA_* settings leak in from the shell: every command reads the demo data or nothing.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETTA_")}
    for cmd in cmds:  # warm-up: byte-code caches, the page cache
        run_once(cmd.argv, env)
    for _ in range(runs):
        for cmd in cmds:
            wall, cpu = run_once(cmd.argv, env)
            cmd.times.append(wall)
            cmd.cpu.append(cpu)


def report(cmds: list[Command], *, python: Path, runs: int) -> dict[str, object]:
    ref = next(c for c in cmds if REFERENCE in c.label)
    return {
        "python": str(python),
        "runs": runs,
        "reference": f'python -c "{REFERENCE}"',
        "commands": [
            {
                "command": c.label,
                "median_s": round(c.median, 4),
                "min_s": round(min(c.times), 4),
                "max_s": round(max(c.times), 4),
                "ratio_to_reference": round(c.median / ref.median, 2),
                "cpu_median_s": round(c.cpu_median, 4),
                "cpu_ratio_to_reference": round(c.cpu_median / ref.cpu_median, 2),
            }
            for c in cmds
        ],
    }


def print_table(result: dict[str, object]) -> None:
    rows = result["commands"]
    assert isinstance(rows, list)
    print(f"python: {result['python']}  ({result['runs']} runs of each command, round-robin)")
    print(
        f"{'command':<40} {'median':>7} {'min':>7} {'max':>7} {'ratio':>6}   {'CPU':>6} {'ratio':>6}"
    )
    for row in rows:
        ms = [f"{row[k] * 1000:>5.0f}ms" for k in ("median_s", "min_s", "max_s", "cpu_median_s")]
        print(
            f"{row['command']:<40} {ms[0]} {ms[1]} {ms[2]} {row['ratio_to_reference']:>5.2f}x   "
            f"{ms[3]} {row['cpu_ratio_to_reference']:>5.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each command")
    parser.add_argument(
        "--python", type=Path, default=Path(sys.executable), help="interpreter of the environment"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    python = args.python.absolute()  # keep a venv's symlink: it selects the environment
    cmds = commands(python)
    measure(cmds, runs=args.runs)
    result = report(cmds, python=python, runs=args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
