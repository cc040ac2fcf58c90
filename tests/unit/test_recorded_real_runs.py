"""Given a run recorded from a real Letta 0.16.8 server by the harness, the diagnosis says this.

The bundles in tests/data/recorded/ were written by ``python -m tests.letta_server record`` from
the harness's seeded scenarios; they cover failures the shared fixtures do not (context window,
max tokens, malformed completions, a tool that is not available, an empty streamed answer, a
background rate limit, provider auth/credit errors, a cancel during a tool step, an approval
follow-up, and a run the server never finalises).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from letta_runs.diagnosis import diagnose
from letta_runs.evidence import Evidence, load_bundle
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
    "stream__llm_error_401": ("failed", "llm_api_error", "failed", "llm_auth_error", None),
    "stream__llm_error_402": ("failed", "llm_api_error", "failed", "insufficient_credits", None),
    "stream__llm_error_503": ("failed", "llm_api_error", "failed", "llm_api_error", None),
    "stream_bg__llm_error_400ctx": ("failed", "error", "failed", "context_window_exceeded", None),
    "sync__invalid_llm_response_bad_json": ("completed", "end_turn", "ok", None, "tool_error"),
    "sync__invalid_llm_response_not_json": ("failed", None, "failed", "llm_api_error", None),
    "async__cancelled_in_tool": ("cancelled", "cancelled", "cancelled", "cancelled", None),
    "sync__approval_approved": ("completed", "end_turn", "ok", None, None),
    # Evaluated a day after it was created (see _late): the run the server never finalised.
    "conversation__zombie_created": ("created", None, "stuck", "stuck", "status_mismatch"),
}


def _late(ev: Evidence) -> datetime | None:
    """A fixed evaluation time a day after the run was created: the same answer on every day."""
    return ev.run.created_at + timedelta(days=1) if ev.run.created_at else None


def test_every_recorded_bundle_has_a_case() -> None:
    assert {p.stem for p in RECORDED.glob("*.json")} == set(CASES)


@pytest.mark.parametrize("stem", sorted(CASES))
def test_the_diagnosis_of_each_recorded_real_run(stem: str) -> None:
    status, stop_reason, verdict, root, required = CASES[stem]
    ev = load_bundle(RECORDED / f"{stem}.json")
    assert (ev.run.status, ev.run.stop_reason) == (status, stop_reason)
    assert ev.usage is not None and ev.metrics is not None
    diag = diagnose(ev, now=_late(ev))
    kinds = {f.kind for f in diag.findings}
    assert diag.verdict == verdict, (diag.headline, sorted(kinds))
    assert (diag.root_cause.kind if diag.root_cause else None) == root
    if required:
        assert required in kinds
    # The trace endpoint answers 501 there: a limitation, and only a limitation.
    assert "trace_unavailable" not in kinds
    assert any(lim.startswith("No trace spans (/trace answered 501") for lim in diag.limitations)
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


def test_a_zombie_run_is_running_while_young_and_stuck_with_its_answer_once_old() -> None:
    ev = load_bundle(RECORDED / "conversation__zombie_created.json")
    assert ev.run.created_at is not None and ev.run.completed_at is None
    assert [(s.status, s.stop_reason) for s in ev.steps] == [("success", "end_turn")]
    young = diagnose(ev, now=ev.run.created_at + timedelta(seconds=30))
    assert young.verdict == "running"
    old = diagnose(ev, now=_late(ev))
    stuck = next(f for f in old.findings if f.kind == "stuck")
    assert stuck.detail is not None and "never finalised" in stuck.detail
    assert old.final_answer is not None


def test_a_tool_called_with_unparseable_arguments_is_a_recovered_tool_error() -> None:
    diag = diagnose(load_bundle(RECORDED / "sync__invalid_llm_response_bad_json.json"))
    finding = next(f for f in diag.findings if f.kind == "tool_error")
    assert finding.severity == "warning" and finding.tool_name == "lab_add"
    assert diag.final_answer is not None


def test_a_cancel_during_a_tool_step_has_no_interrupted_step() -> None:
    ev = load_bundle(RECORDED / "async__cancelled_in_tool.json")
    assert [(s.status, s.error_type) for s in ev.steps] == [("success", None)]
    diag = diagnose(ev)
    assert diag.root_cause is not None and diag.root_cause.kind == "cancelled"
