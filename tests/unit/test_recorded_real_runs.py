"""Given a run recorded from a real Letta 0.16.8 server by the harness, the diagnosis says this.

The bundles in tests/data/recorded/ were written by ``python -m tests.letta_server record`` from
the harness's seeded scenarios; they cover failures the shared fixtures do not (context window,
max tokens, malformed completions, a tool that is not available, an empty streamed answer, a
background rate limit).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from letta_runs.diagnosis import diagnose
from letta_runs.evidence import load_bundle
from letta_runs.rendering import diagnosis_dict, render_diagnosis

RECORDED = Path(__file__).resolve().parents[1] / "data" / "recorded"

# file stem -> (server status, server stop_reason, verdict, root cause, required finding)
CASES = {
    "sync__invalid_tool_call": ("completed", "end_turn", "ok", None, "invalid_tool_call"),
    "sync__llm_error_400ctx": ("failed", None, "failed", "context_window_exceeded", None),
    "sync__invalid_llm_response_length": (
        "failed",
        "max_tokens_exceeded",
        "failed",
        "max_tokens_exceeded",
        None,
    ),
    "sync__invalid_llm_response_missing_fields": (
        "failed",
        None,
        "failed",
        "invalid_llm_response",
        None,
    ),
    "sync__invalid_llm_response_empty_choices": (
        "failed",
        None,
        "failed",
        "invalid_llm_response",
        None,
    ),
    "stream__invalid_llm_response_empty_choices": (
        "completed",
        "end_turn",
        "failed",
        "no_final_answer",
        "status_mismatch",
    ),
    "stream_bg__llm_error_429": (
        "failed",
        "llm_api_error",
        "failed",
        "llm_rate_limited",
        None,
    ),
    "sync__llm_error_500_at_1": ("failed", None, "failed", "llm_api_error", None),
    "stream__tool_error": ("completed", "end_turn", "ok", None, "tool_error"),
    "async__tool_chain_ok": ("completed", "end_turn", "ok", None, None),
    "stream_bg__cancelled": ("cancelled", "cancelled", "cancelled", "cancelled", None),
    "sync__loop_max_steps_default": ("completed", "max_steps", "failed", "tool_loop", "max_steps"),
}


def test_every_recorded_bundle_has_a_case() -> None:
    assert {p.stem for p in RECORDED.glob("*.json")} == set(CASES)


@pytest.mark.parametrize("stem", sorted(CASES))
def test_the_diagnosis_of_each_recorded_real_run(stem: str) -> None:
    status, stop_reason, verdict, root, required = CASES[stem]
    ev = load_bundle(RECORDED / f"{stem}.json")
    assert (ev.run.status, ev.run.stop_reason) == (status, stop_reason)
    assert ev.usage is not None and ev.metrics is not None
    diag = diagnose(ev)
    kinds = {f.kind for f in diag.findings}
    assert diag.verdict == verdict, (diag.headline, sorted(kinds))
    assert (diag.root_cause.kind if diag.root_cause else None) == root
    if required:
        assert required in kinds
    assert "trace_unavailable" in kinds
    assert len(render_diagnosis(diag)) <= 8_000
    assert len(json.dumps(diagnosis_dict(diag))) <= 16_000


def test_an_unavailable_tool_is_named_with_the_tools_that_were_valid() -> None:
    diag = diagnose(load_bundle(RECORDED / "sync__invalid_tool_call.json"))
    finding = next(f for f in diag.findings if f.kind == "invalid_tool_call")
    assert finding.tool_name == "lab_does_not_exist"
    assert "not attached" in finding.summary and "lab_add" in finding.summary
    assert diag.first_failure is not None
    assert diag.first_failure.error_type == "invalid_tool_call"


def test_the_context_window_failure_points_at_the_failing_step() -> None:
    ev = load_bundle(RECORDED / "sync__llm_error_400ctx.json")
    diag = diagnose(ev)
    assert diag.root_cause is not None
    assert diag.root_cause.step_id == ev.steps[-1].id
    assert ev.steps[-1].error_type == "ContextWindowExceededError"


def test_a_background_failure_is_read_from_its_stream_too() -> None:
    ev = load_bundle(RECORDED / "stream_bg__llm_error_429.json")
    assert ev.stream_events and ev.stream_events[-1].kind == "error"


def test_recorded_bundles_hold_no_local_paths() -> None:
    # The recorder rewrites the harness folder in server tracebacks to /srv/letta.
    for path in RECORDED.glob("*.json"):
        assert ".letta-server" not in path.read_text(), path
