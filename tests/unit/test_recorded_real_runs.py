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
from typing import Any

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
    # Compaction: Letta's system_alert note between steps or after the answer is no request.
    "conversation__tool_chain_ok": ("completed", "end_turn", "ok", None, None),
    "conversation__compaction_between_steps": ("completed", "end_turn", "ok", None, "compaction"),
    "conversation__compaction_after_answer": ("completed", "end_turn", "ok", None, "compaction"),
    "stream_bg__compaction_with_events": ("completed", "end_turn", "ok", None, "compaction"),
    # Tool rules: a terminal rule's call is the outcome; a violation and a required-before-exit
    # note are recovered from.
    "sync__tool_rule_terminal": ("completed", "tool_rule", "ok", None, None),
    "sync__tool_rule_violation": ("completed", "end_turn", "ok", None, "invalid_tool_call"),
    "sync__tool_rule_required_before_exit": ("completed", "end_turn", "ok", None, None),
    # Long runs: /usage and /metrics cover the newest 50 steps only.
    "sync__tool_chain_62_steps": ("completed", "end_turn", "ok", None, None),
    "sync__loop_max_steps_80": ("completed", "max_steps", "failed", "tool_loop", "max_steps"),
    # Approvals: a denial is a note; a client-side tool pauses like an approval.
    "sync__approval_denied": ("completed", "end_turn", "ok", None, "approval_denied"),
    "sync__client_tool_requested": (
        "completed",
        "requires_approval",
        "awaiting_approval",
        "approval_pending",
        None,
    ),
    "sync__client_tool_returned": ("completed", "end_turn", "ok", None, None),
    "async__cancelled_tool_finishes_late": (
        "cancelled",
        "cancelled",
        "cancelled",
        "cancelled",
        None,
    ),
    # The system prompt alone does not fit: failed whatever the run's status says.
    "sync__system_prompt_overflow": (
        "failed",
        None,
        "failed",
        "context_window_overflow_in_system_prompt",
        None,
    ),
    "stream__system_prompt_overflow": (
        "completed",
        "context_window_overflow_in_system_prompt",
        "failed",
        "context_window_overflow_in_system_prompt",
        "status_mismatch",
    ),
    "sync__untrusted_tool_return": ("completed", "end_turn", "ok", None, "suspicious_instructions"),
    # A sleeptime group: the foreground answers through send_message (a terminal rule); the
    # background run keeps its result in memory.
    "sleeptime__foreground_ok": ("completed", "tool_rule", "ok", None, None),
    "sleeptime__background_ok": ("completed", "tool_rule", "ok", None, None),
    "sleeptime__foreground_before_failure": ("completed", "tool_rule", "ok", None, None),
    "sleeptime__background_failed": ("failed", "error", "failed", "llm_api_error", None),
    # Every other agent type, healthy and failing (the heartbeat loop's provider errors are the
    # SDK's own exceptions; a plain-text answer where a tool call is required is no_tool_call).
    "memgpt_agent__ok_reply": ("completed", "end_turn", "ok", None, None),
    "memgpt_agent__heartbeats": ("completed", "end_turn", "ok", None, None),
    "memgpt_agent__llm_error_500": ("failed", None, "failed", "llm_api_error", None),
    # A heartbeat call, then lab_add without one: the turn ended and send_message was never
    # called (the bundle records the agent: a memgpt_agent with send_message).
    "memgpt_agent__never_send_message": (
        "completed",
        "end_turn",
        "failed",
        "no_final_answer",
        "status_mismatch",
    ),
    "memgpt_v2_agent__ok_reply": ("completed", "end_turn", "ok", None, None),
    "memgpt_v2_agent__llm_error_500": ("failed", None, "failed", "llm_api_error", None),
    "memgpt_v2_agent__no_tool_call": ("failed", None, "failed", "no_tool_call", None),
    "react_agent__ok_reply": ("completed", "end_turn", "ok", None, None),
    "react_agent__llm_error_500": ("failed", None, "failed", "llm_api_error", None),
    "workflow_agent__ok_reply": ("completed", "end_turn", "ok", None, None),
    "workflow_agent__llm_error_500": ("failed", None, "failed", "llm_api_error", None),
    "split_thread_agent__ok_reply": ("completed", "end_turn", "ok", None, None),
    "split_thread_agent__llm_error_500": ("failed", None, "failed", "llm_api_error", None),
    "sleeptime_agent__ok_reply": ("completed", "end_turn", "ok", None, None),
    "sleeptime_agent__llm_error_500": ("failed", None, "failed", "llm_api_error", None),
    "voice_convo_agent__ok_reply": ("completed", "end_turn", "ok", None, None),
    "voice_convo_agent__llm_error_500": ("failed", None, "failed", "llm_api_error", None),
    # Both recorded when the agent called its own finish_rethinking_memory, which crashes outside
    # the voice endpoint (TypeError in compile()): the run ends on that error return with nothing
    # done — completed by the server, failed in fact.
    "voice_sleeptime_agent__ok_reply": ("completed", "end_turn", "failed", "tool_error", None),
    "voice_sleeptime_agent__own_tool_error": (
        "completed",
        "end_turn",
        "failed",
        "tool_error",
        None,
    ),
    "voice_sleeptime_agent__llm_error_500": ("failed", None, "failed", "llm_api_error", None),
}

# file stem -> the outcome's kind (how the run delivered), for the shapes where it matters.
OUTCOMES = {
    "sync__tool_rule_terminal": "terminal_tool",
    "sleeptime__background_ok": "background",
    "sleeptime__foreground_ok": "assistant_message",
    "memgpt_agent__ok_reply": "assistant_message",
    "memgpt_agent__heartbeats": "assistant_message",
    "memgpt_v2_agent__ok_reply": "assistant_message",
    "react_agent__ok_reply": "tool_call",
    "workflow_agent__ok_reply": "tool_call",
    "sleeptime_agent__ok_reply": "text",
    "conversation__compaction_after_answer": "assistant_message",
    "sync__client_tool_returned": "assistant_message",
    "memgpt_v2_agent__no_tool_call": "none",
    "memgpt_agent__never_send_message": "none",
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
    if stem in OUTCOMES:
        assert diag.outcome is not None and diag.outcome.kind == OUTCOMES[stem]
    if verdict == "ok":
        assert not [f for f in diag.findings if f.severity == "error"]
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


def _diag(stem: str) -> Any:
    ev = load_bundle(RECORDED / f"{stem}.json")
    return ev, diagnose(ev, now=_late(ev))


def test_a_compaction_after_the_answer_is_reported_where_it_happened() -> None:
    ev, diag = _diag("conversation__compaction_after_answer")
    (event,) = diag.compactions
    assert event.where == "after the answer" and event.hidden_messages is not None
    assert event.trigger == "post_step_context_check"
    answer = next(i for i, m in enumerate(ev.messages) if m.message_type == "assistant_message")
    note = next(i for i, m in enumerate(ev.messages) if m.id == event.message_id)
    assert note > answer and diag.context.compactions == 1


def test_a_compaction_between_tool_steps_sits_between_them() -> None:
    _, diag = _diag("conversation__compaction_between_steps")
    assert [c.where for c in diag.compactions] == ["between steps"]


def test_memgpt_heartbeats_are_letta_notes_not_requests() -> None:
    ev, diag = _diag("memgpt_agent__heartbeats")
    users = [m for m in ev.messages if m.message_type == "user_message"]
    assert len(users) >= 2  # the request and at least one heartbeat
    assert diag.final_answer is not None and diag.verdict == "ok"


def test_long_runs_count_every_step_and_say_where_the_endpoints_stop() -> None:
    for stem, steps in (("sync__tool_chain_62_steps", 63), ("sync__loop_max_steps_80", 80)):
        ev, diag = _diag(stem)
        assert diag.step_count == steps == len(ev.steps)
        assert diag.usage.total_tokens == sum(s.total_tokens or 0 for s in ev.steps)
        assert ev.usage is not None and ev.usage.total_tokens != diag.usage.total_tokens
        assert any(lim.startswith("/usage reports") for lim in diag.limitations)
        assert any("/metrics says num_steps=50" in lim for lim in diag.limitations)
        assert len(render_diagnosis(diag)) <= 8_000
        assert len(json.dumps(diagnosis_dict(diag))) <= 16_000
    ev, _ = _diag("sync__loop_max_steps_80")
    assert ev.steps[-1].stop_reason is None


def test_a_tool_that_finishes_after_the_cancel_is_named() -> None:
    ev, diag = _diag("async__cancelled_tool_finishes_late")
    assert diag.root_cause is not None and diag.root_cause.evidence_ids
    assert "after the cancel" in (diag.root_cause.detail or "")
    late = set(diag.root_cause.evidence_ids)
    assert {m.message_type for m in ev.messages if m.id in late} >= {"tool_return_message"}


def test_the_untrusted_page_is_flagged_with_its_message_and_the_run_stays_ok() -> None:
    ev, diag = _diag("sync__untrusted_tool_return")
    finding = next(f for f in diag.findings if f.kind == "suspicious_instructions")
    page = next(m for m in ev.messages if m.message_type == "tool_return_message")
    assert finding.evidence_ids == [page.id] and finding.tool_name == "lab_fetch"
    assert diag.verdict == "ok"


def test_a_denied_approval_follow_up_is_healthy_and_notes_the_denial() -> None:
    _, diag = _diag("sync__approval_denied")
    denial = next(f for f in diag.findings if f.kind == "approval_denied")
    assert denial.severity == "info" and diag.final_answer is not None


def test_the_client_tool_pause_carries_the_call_that_returns_its_result() -> None:
    ev, diag = _diag("sync__client_tool_requested")
    (pending,) = diag.pending_approval
    returning = next(
        r for r in diag.remedies if r.api and r.api.body and "tool_returns" in str(r.api.body)
    )
    assert returning.api is not None and returning.api.body is not None
    (result,) = returning.api.body["messages"][0]["tool_returns"]
    assert result["tool_call_id"] == pending.tool_call_id
    assert returning.api.path == f"/v1/agents/{ev.run.agent_id}/messages"
