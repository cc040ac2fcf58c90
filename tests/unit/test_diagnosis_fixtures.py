"""Given each recorded real-server run, the diagnosis says this."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from letta_runs.diagnosis import FINDING_KINDS, RunDiagnosis, diagnose
from letta_runs.evidence import Evidence

SHARED_FIXTURES = (Path(__file__).resolve().parents[1] / "data" / "fixtures").resolve()


def fixture_index() -> list[dict[str, Any]]:
    return list(json.loads((SHARED_FIXTURES / "index.json").read_text()))


def fixture_run_dir(label: str) -> Path:
    for entry in fixture_index():
        if label in (entry["label"], entry["run_id"]):
            return SHARED_FIXTURES / entry["path"]
    raise KeyError(label)


# label → (verdict, root cause kind or None). "Long after" = the fixtures' server clock + 2 h.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "sync_plain": ("ok", None),
    "sync_reasoning": ("ok", None),
    "stream_tokens_fg": ("ok", None),
    "sync_add_mem_search_note_add": ("ok", None),
    "sync_max_steps_3": ("failed", "tool_loop"),
    "sync_max_steps_default": ("failed", "tool_loop"),
    "sync_fail_then_answer": ("ok", None),
    "sync_http500": ("failed", "llm_api_error"),
    "sync_http429": ("failed", "llm_rate_limited"),
    "stream_fg_http500": ("failed", "llm_api_error"),
    "async_http500": ("failed", "llm_api_error"),
    "sync_empty_message": ("failed", "invalid_llm_response"),
    "sync_request_1": ("awaiting_approval", "approval_pending"),
    "sync_approve_1": ("ok", None),
    "stream_bg_slow_cancel": ("cancelled", "cancelled"),
    "stream_bg_steps": ("ok", None),
    "stream_bg_hang_forever": ("stuck", "stuck"),
    "sacrificial_for_DELETE": ("ok", None),
    "stream_bg_aged_4h": ("ok", None),
}
LATE = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)


def load(label: str) -> Evidence:
    return Evidence.from_fixture_dir(fixture_run_dir(label))


def kinds(diag: RunDiagnosis) -> list[str]:
    return [f.kind for f in diag.findings]


def test_every_recorded_run_has_an_expectation() -> None:
    assert SHARED_FIXTURES.is_dir()
    assert {e["label"] for e in fixture_index()} == set(EXPECTED)


@pytest.mark.parametrize("entry", fixture_index(), ids=lambda e: e["label"])
def test_recorded_run_gets_expected_verdict_and_root_cause(entry: dict[str, object]) -> None:
    diag = diagnose(Evidence.from_fixture_dir(SHARED_FIXTURES / str(entry["path"])), now=LATE)
    verdict, root = EXPECTED[str(entry["label"])]
    assert diag.verdict == verdict
    assert (diag.root_cause.kind if diag.root_cause else None) == root
    assert diag.schema_version == 1
    assert all(f.kind in FINDING_KINDS for f in diag.findings)
    if diag.root_cause is not None:
        assert diag.findings[0] == diag.root_cause
    if verdict == "ok":
        assert diag.final_answer is not None
        assert not [f for f in diag.findings if f.severity == "error"]


def test_loop_run_is_failed_with_loop_details_and_status_mismatch() -> None:
    diag = diagnose(load("sync_max_steps_default"), now=LATE)
    assert {"tool_loop", "max_steps", "no_final_answer", "status_mismatch"} <= set(kinds(diag))
    (loop,) = diag.loops
    assert loop.pattern == "repeat"
    assert loop.tool_names == ["lab_add"]
    assert loop.calls == 50 and loop.steps == 50 and loop.reaches_end
    assert loop.tokens == diag.usage.total_tokens == 400550
    assert loop.first_step_id == diag.findings[0].step_id
    assert diag.usage.step_count == 50


def test_recovered_tool_error_is_ok_with_warning_and_first_failure() -> None:
    diag = diagnose(load("sync_fail_then_answer"), now=LATE)
    (tool_error,) = [f for f in diag.findings if f.kind == "tool_error"]
    assert tool_error.severity == "warning"
    assert tool_error.tool_name == "lab_fail"
    ff = diag.first_failure
    assert ff is not None and ff.tool_name == "lab_fail" and ff.step_index == 1
    # The tool's return and stderr are kept once, in errors; the finding and first_failure
    # point at that entry.
    (text,) = diag.errors
    assert ff.error_ref == tool_error.error_ref == text.ref
    assert "ValueError" in text.text and "stderr" in text.text
    assert ff.stderr is None and tool_error.detail is None
    assert ff.arguments is not None and "scripted failure" in ff.arguments
    assert diag.final_answer is not None and "giving up" in diag.final_answer.excerpt


def test_approval_request_names_the_pending_tool_call() -> None:
    diag = diagnose(load("sync_request_1"), now=LATE)
    (pending,) = diag.pending_approval
    assert pending.tool_name == "lab_sensitive"
    assert pending.tool_call_id == "call_3ab6fc94f1fd"
    assert diag.root_cause is not None and diag.root_cause.tool_name == "lab_sensitive"


def test_cancelled_step_unknown_error_is_not_a_separate_failure() -> None:
    diag = diagnose(load("stream_bg_slow_cancel"), now=LATE)
    assert "unknown_error" not in kinds(diag)
    assert diag.root_cause is not None and "Unknown" in (diag.root_cause.detail or "")


def test_stuck_run_is_running_when_young_and_stuck_when_old() -> None:
    ev = load("stream_bg_hang_forever")
    created = ev.run.created_at
    assert created is not None
    young = diagnose(ev, now=created + timedelta(seconds=30))
    assert young.verdict == "running" and young.root_cause is None
    assert young.latency.age_seconds == pytest.approx(30, abs=1)
    assert diagnose(ev, now=created + timedelta(seconds=601)).verdict == "stuck"
    assert diagnose(ev, now=created + timedelta(seconds=601), stuck_after=3600).verdict == "running"


def test_failed_llm_runs_record_that_messages_were_not_persisted() -> None:
    diag = diagnose(load("sync_http500"), now=LATE)
    assert any("does not persist the input" in lim for lim in diag.limitations)
    assert diag.first_failure is not None and diag.first_failure.error_type == "LLMServerError"


def test_trace_501_is_a_limitation_not_health() -> None:
    diag = diagnose(load("sync_plain"), now=LATE)
    assert any("/trace answered 501" in lim for lim in diag.limitations)
    assert "trace_unavailable" not in kinds(diag)  # a limitation is not also a finding


def test_usage_is_summed_over_steps_with_cache_and_reasoning() -> None:
    ev = load("sync_add_mem_search_note_add")
    diag = diagnose(ev, now=LATE)
    assert diag.usage.total_tokens == sum(s.total_tokens or 0 for s in ev.steps)
    assert diag.usage.cached_tokens == 0
    assert diag.usage.reasoning_tokens == 0
    assert diag.context.context_window_limit == 128000
    assert diag.context.peak_prompt_tokens == max(s.prompt_tokens or 0 for s in ev.steps)
    assert [t.name for t in diag.tools][:1] == ["lab_add"]
    assert diag.tools[0].calls == 2


def test_latency_prefers_server_measured_run_time() -> None:
    # The expired probe's created_at was moved 4 h back in SQL; /metrics still has the real time.
    diag = diagnose(load("stream_bg_aged_4h"), now=LATE)
    assert diag.latency.source == "metrics.run_ns"
    assert diag.latency.total_seconds is not None and diag.latency.total_seconds < 5
    assert diag.latency.wall_seconds is not None and diag.latency.wall_seconds > 4 * 3600 - 5
    assert "slow_step" not in kinds(diag)


def test_next_steps_are_cli_commands_for_this_run() -> None:
    diag = diagnose(load("sync_max_steps_3"), now=LATE)
    assert diag.next_steps
    assert all(cmd.startswith("letta-runs ") and diag.run_id in cmd for cmd in diag.next_steps)


def test_diagnosis_json_round_trips() -> None:
    diag = diagnose(load("sync_max_steps_default"), now=LATE)
    again = RunDiagnosis.model_validate_json(diag.model_dump_json())
    assert again == diag
