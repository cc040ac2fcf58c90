"""The ``tools/*.py`` scripts: real subprocesses against the embedded recorded runs."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from letta_runs.cli import cli

REPO = Path(__file__).resolve().parents[2]
TOOLS = sorted(p for p in (REPO / "tools").glob("*.py") if not p.name.startswith("_"))
LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"
UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"


def run_script(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "tools" / name), *args],
        env={"PATH": os.environ["PATH"], "LETTA_BASE_URL": "demo", **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO / "tools",
    )


def command_path(script: Path) -> tuple[str, ...]:
    """The CLI command a script runs: the arguments of its ``run_tool(...)`` call."""
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "run_tool":
            return tuple(ast.literal_eval(a) for a in node.args)
    raise AssertionError(f"{script.name} does not call run_tool")


def test_there_is_one_script_per_operation_and_composite() -> None:
    assert {p.stem for p in TOOLS} == {
        "list_runs", "list_active_runs", "retrieve_run", "delete_run", "list_messages",
        "retrieve_usage", "retrieve_metrics", "list_steps", "retrieve_trace", "stream_run",
        "diagnose_run", "run_timeline", "triage_runs", "find_stuck_runs", "compare_runs",
        "watch_run", "export_run",
    }  # fmt: skip


@pytest.mark.parametrize("script", TOOLS, ids=lambda p: p.name)
def test_script_shape(script: Path) -> None:
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env python3\n# /// script\n")
    assert "# dependencies = [" in text and "# ///" in text.split("# /// script", 1)[1]
    assert os.access(script, os.X_OK)
    path = command_path(script)
    command: click.Command = cli
    for word in path:
        assert isinstance(command, click.Group), path
        command = command.commands[word]
    assert not isinstance(command, click.Group)


def test_retrieve_run_prints_json() -> None:
    proc = run_script("retrieve_run.py", LOOP_RUN)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["stop_reason"] == "max_steps"


def test_unknown_run_exits_3_with_a_json_error_on_stderr() -> None:
    proc = run_script("retrieve_run.py", UNKNOWN_RUN)
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert json.loads(proc.stderr)["error"] == "not_found"


def test_delete_without_yes_exits_2_and_with_read_only_too() -> None:
    assert run_script("delete_run.py", LOOP_RUN).returncode == 2
    assert run_script("delete_run.py", LOOP_RUN, "--yes", LETTA_RUNS_READ_ONLY="1").returncode == 2


def test_diagnose_run_prints_the_diagnosis_json() -> None:
    proc = run_script("diagnose_run.py", LOOP_RUN, "--detail", "summary")
    assert proc.returncode == 0, proc.stderr
    diag = json.loads(proc.stdout)
    assert diag["verdict"] == "failed" and diag["root_cause"]["kind"] == "tool_loop"


def test_list_runs_accepts_global_options_after_the_command() -> None:
    proc = run_script("list_runs.py", "--status", "failed", "--limit", "2", "--demo",
                      LETTA_BASE_URL="http://127.0.0.1:9")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)["items"]
    assert len(items) == 2 and {r["status"] for r in items} == {"failed"}
