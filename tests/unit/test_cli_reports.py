"""Report commands on the embedded recorded runs (``--demo``): the post-mortems a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from letta_runs._exceptions import InvalidArgumentError
from letta_runs.cli import cli
from letta_runs.durations import format_duration, parse_duration

LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # completed + max_steps: a tool loop
OK_RUN = "run-69218f56-d739-427f-a971-333ece5c2cdc"  # a tool fails, the model recovers
FAILED_SYNC_RUN = "run-1784de63-64f5-4f8f-be0a-197d17c67164"  # provider 500, stop_reason null
STUCK_RUN = "run-50b3d930-2d58-48a9-a24b-8b4341b50365"  # running for ever
BG_RUN = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"


def demo(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--demo", *args], env={"LETTA_BASE_URL": None})


def test_diagnose_json_says_the_completed_loop_failed() -> None:
    result = demo("diagnose", LOOP_RUN)
    assert result.exit_code == 0, result.output
    diag = json.loads(result.stdout)
    assert diag["run_id"] == LOOP_RUN
    assert diag["status"] == "completed"
    assert diag["verdict"] == "failed"
    assert diag["root_cause"]["kind"] == "tool_loop"


def test_diagnose_markdown_on_request() -> None:
    result = demo("diagnose", LOOP_RUN, "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Run " + LOOP_RUN)
    assert "tool_loop" in result.stdout


def test_diagnose_of_a_failed_sync_run_finds_the_provider_error() -> None:
    result = demo("diagnose", FAILED_SYNC_RUN, "--json")
    assert result.exit_code == 0, result.output
    diag = json.loads(result.stdout)
    assert diag["stop_reason"] is None
    assert diag["root_cause"]["kind"] == "llm_api_error"


def test_diagnose_of_an_unknown_run_exits_3() -> None:
    result = demo("diagnose", "run-00000000-0000-4000-8000-000000000000")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: ")


def test_bad_duration_is_a_usage_error() -> None:
    result = demo("diagnose", LOOP_RUN, "--stuck-after", "soon")
    assert result.exit_code == 2
    assert "duration" in result.stderr


def test_export_then_diagnose_the_bundle_offline(tmp_path: Path) -> None:
    bundle = tmp_path / "loop.json"
    exported = demo("export", LOOP_RUN, "--output", str(bundle))
    assert exported.exit_code == 0, exported.output
    assert exported.stdout == "" and str(bundle) in exported.stderr
    offline = CliRunner().invoke(
        cli,
        ["--base-url", "http://127.0.0.1:9", "diagnose", LOOP_RUN, "--bundle", str(bundle)],
    )
    assert offline.exit_code == 0, offline.output  # no request was needed
    assert json.loads(offline.stdout)["root_cause"]["kind"] == "tool_loop"


def test_a_bundle_of_another_run_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "loop.json"
    assert demo("export", LOOP_RUN, "-o", str(bundle)).exit_code == 0
    result = demo("diagnose", OK_RUN, "--bundle", str(bundle))
    assert result.exit_code == 2
    assert LOOP_RUN in result.stderr


def test_a_broken_bundle_is_an_invalid_argument(tmp_path: Path) -> None:
    bundle = tmp_path / "broken.json"
    bundle.write_text("[1, 2")
    result = demo("diagnose", LOOP_RUN, "--bundle", str(bundle))
    assert result.exit_code == 2
    assert "cannot read the bundle" in result.stderr


def test_timeline_folds_the_loop() -> None:
    result = demo("timeline", LOOP_RUN)
    assert result.exit_code == 0, result.output
    timeline = json.loads(result.stdout)
    assert timeline["run_id"] == LOOP_RUN
    assert any(e.get("repeat", 1) > 1 for e in timeline["entries"])


def test_triage_groups_problem_runs_and_reports_progress_on_stderr() -> None:
    result = demo("triage", "--since", "3650d", "--status", "failed", "--status", "completed")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    causes = {g["key"] for g in report["by_root_cause"]}
    assert {"tool_loop", "llm_api_error"} <= causes
    assert report["hidden_failures"] >= 1
    assert "scanned" in result.stderr


def test_triage_by_default_scans_completed_runs_too_and_finds_the_hidden_loop() -> None:
    result = demo("triage", "--since", "3650d")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    loops = {g["key"]: g for g in report["by_root_cause"]}["tool_loop"]
    assert LOOP_RUN in loops["examples"]
    assert report["hidden_failures"] >= 1
    assert "cancelled" in report["verdicts"]


def test_triage_status_failed_is_a_narrower_scan() -> None:
    result = demo("triage", "--since", "3650d", "--status", "failed")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "tool_loop" not in {g["key"] for g in report["by_root_cause"]}
    assert report["hidden_failures"] == 0


def test_stuck_finds_the_run_that_never_ended() -> None:
    result = demo("stuck", "--older-than", "10m")
    assert result.exit_code == 0, result.output
    assert STUCK_RUN in [s["run_id"] for s in json.loads(result.stdout)["stuck"]]


def test_compare_a_recovered_run_with_the_loop() -> None:
    result = demo("compare", OK_RUN, LOOP_RUN)
    assert result.exit_code == 0, result.output
    comparison = json.loads(result.stdout)
    assert comparison["a"]["verdict"] == "ok" and comparison["b"]["verdict"] == "failed"
    assert comparison["same_outcome"] is False


def test_watch_a_finished_background_run_prints_its_diagnosis() -> None:
    result = demo("watch", BG_RUN, "--idle-timeout", "5s")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "ok"


def test_prompt_analyze_renders_the_evidence_for_a_model() -> None:
    result = demo("prompt", "analyze", LOOP_RUN, "--json")
    assert result.exit_code == 0, result.output
    prompt = json.loads(result.stdout)["prompt"]
    assert LOOP_RUN in prompt and "<data>" in prompt


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("10m", 600), ("1.5h", 5400), ("2d", 172800), ("45", 45)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "10 minutes", "-5m", "0s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (45, 600, 5400, 90000)] == ["45s", "10m", "1h30m", "1d1h"]
