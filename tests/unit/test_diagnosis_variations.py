"""Failure kinds the recorded runs lack, built by editing a recorded run the way the server would
have reported them (verified notes §1.4), never from nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from letta_runs.diagnosis import RunDiagnosis, diagnose, kind_for_error
from letta_runs.evidence import EndpointError, Evidence, parse_sse_text
from letta_runs.models import AssistantMessage, ToolCallMessage, ToolReturnMessage, UserMessage

SHARED_FIXTURES = (Path(__file__).resolve().parents[1] / "data" / "fixtures").resolve()
LATE = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)


def fixture_run_dir(label: str) -> Path:
    for entry in json.loads((SHARED_FIXTURES / "index.json").read_text()):
        if label in (entry["label"], entry["run_id"]):
            return SHARED_FIXTURES / entry["path"]
    raise KeyError(label)


def load(label: str) -> Evidence:
    return Evidence.from_fixture_dir(fixture_run_dir(label))


def edit_step(ev: Evidence, index: int = -1, **fields: Any) -> Evidence:
    steps = list(ev.steps)
    steps[index] = steps[index].model_copy(update=fields)
    return ev.model_copy(update={"steps": steps})


def edit_run(ev: Evidence, **fields: Any) -> Evidence:
    return ev.model_copy(update={"run": ev.run.model_copy(update=fields)})


def root(diag: RunDiagnosis) -> str | None:
    return diag.root_cause.kind if diag.root_cause else None


def kinds(diag: RunDiagnosis) -> set[str]:
    return {f.kind for f in diag.findings}


def test_context_window_exceeded_sync_run() -> None:
    ev = edit_step(
        load("sync_http500"),
        stop_reason="error",
        error_type="ContextWindowExceededError",
        error_data={"message": "Context window exceeded after 3 compaction attempts"},
    )
    diag = diagnose(ev, now=LATE)
    assert (diag.verdict, root(diag)) == ("failed", "context_window_exceeded")


def test_bad_request_whose_body_says_context_length_exceeded() -> None:
    ev = edit_step(
        load("stream_fg_http500"),
        error_type="LLMBadRequestError",
        error_data={"message": "Error code: 400 - {'code': 'context_length_exceeded'}"},
    )
    assert root(diagnose(ev, now=LATE)) == "context_window_exceeded"


def test_max_tokens_exceeded_failed_run_with_successful_step() -> None:
    ev = edit_run(load("sync_plain"), status="failed", stop_reason="max_tokens_exceeded")
    ev = edit_step(ev, stop_reason="max_tokens_exceeded")
    diag = diagnose(ev, now=LATE)
    assert (diag.verdict, root(diag)) == ("failed", "max_tokens_exceeded")


@pytest.mark.parametrize(
    ("stop_reason", "kind"),
    [
        ("no_tool_call", "no_tool_call"),
        ("invalid_tool_call", "invalid_tool_call"),
        ("tool_rule", "tool_rule"),
        ("insufficient_credits", "insufficient_credits"),
        ("context_window_overflow_in_system_prompt", "context_window_overflow_in_system_prompt"),
        ("invalid_llm_response", "invalid_llm_response"),
    ],
)
def test_problem_stop_reason_on_a_successful_step(stop_reason: str, kind: str) -> None:
    ev = edit_run(load("sync_plain"), status="failed", stop_reason=stop_reason)
    ev = edit_step(ev, stop_reason=stop_reason)
    diag = diagnose(ev, now=LATE)
    assert (diag.verdict, root(diag)) == ("failed", kind)


def test_completed_run_with_llm_api_error_stop_reason_is_failed() -> None:
    # A foreground stream whose provider fails mid-run can end completed + llm_api_error.
    ev = edit_run(load("stream_fg_http500"), status="completed")
    diag = diagnose(ev, now=LATE)
    assert (diag.verdict, root(diag)) == ("failed", "llm_api_error")
    assert "status_mismatch" in kinds(diag)


def _make_unknown_tool(ev: Evidence) -> Evidence:
    messages = []
    for m in ev.messages:
        if isinstance(m, ToolReturnMessage):
            m = m.model_copy(
                update={
                    "status": "error",
                    "tool_return": "Error: Tool lab_add not found",
                    "tool_returns": None,
                    "stderr": [],
                }
            )
        messages.append(m)
    return ev.model_copy(update={"messages": messages})


def test_unknown_tool_every_step_until_max_steps() -> None:
    diag = diagnose(_make_unknown_tool(load("sync_max_steps_3")), now=LATE)
    assert (diag.verdict, root(diag)) == ("failed", "invalid_tool_call")
    assert diag.root_cause is not None and "does not exist" in diag.root_cause.summary
    assert diag.root_cause.count == 3
    assert {"tool_loop", "max_steps", "status_mismatch"} <= kinds(diag)


def test_unknown_tool_then_answer_is_ok_with_warning() -> None:
    ev = load("sync_fail_then_answer")
    messages = [
        m.model_copy(
            update={"tool_return": "Tool lab_fail not found", "stderr": None, "tool_returns": None}
        )
        if isinstance(m, ToolReturnMessage)
        else m
        for m in ev.messages
    ]
    diag = diagnose(ev.model_copy(update={"messages": messages}), now=LATE)
    assert diag.verdict == "ok"
    assert [(f.kind, f.severity) for f in diag.findings if f.kind == "invalid_tool_call"] == [
        ("invalid_tool_call", "warning")
    ]


def test_unrecovered_tool_error_fails_the_run() -> None:
    ev = load("sync_fail_then_answer")
    ev = ev.model_copy(
        update={"messages": [m for m in ev.messages if not isinstance(m, AssistantMessage)]}
    )
    diag = diagnose(ev, now=LATE)
    assert (diag.verdict, root(diag)) == ("failed", "tool_error")
    assert "status_mismatch" in kinds(diag)


def test_empty_streamed_completion_is_failed_without_answer() -> None:
    ev = load("stream_tokens_fg")
    ev = ev.model_copy(update={"messages": [m for m in ev.messages if isinstance(m, UserMessage)]})
    diag = diagnose(ev, now=LATE)
    assert (diag.verdict, root(diag)) == ("failed", "no_final_answer")
    assert "status_mismatch" in kinds(diag)


def test_stop_reason_with_non_terminal_status_is_stuck_even_when_young() -> None:
    ev = edit_run(load("sync_plain"), status="created", completed_at=None)
    created = ev.run.created_at
    assert created is not None
    diag = diagnose(ev, now=created + timedelta(seconds=5))
    assert (diag.verdict, root(diag)) == ("stuck", "stuck")
    assert "status_mismatch" in kinds(diag)


def test_finished_steps_but_created_status_zombie_is_stuck_when_old() -> None:
    ev = edit_run(load("sync_plain"), status="created", completed_at=None, stop_reason=None)
    diag = diagnose(ev, now=LATE)
    assert diag.verdict == "stuck"
    assert diag.root_cause is not None and "never" in (diag.root_cause.detail or "")


def test_short_a_b_cycle_is_a_loop() -> None:
    ev = load("sync_max_steps_default")
    messages = []
    n = 0
    for m in ev.messages:
        if isinstance(m, ToolCallMessage):
            call = m.calls[0]
            if n % 2:
                call = call.model_copy(update={"name": "lab_note", "arguments": '{"text": "x"}'})
            n += 1
            m = m.model_copy(update={"tool_call": call, "tool_calls": [call]})
        messages.append(m)
    diag = diagnose(ev.model_copy(update={"messages": messages}), now=LATE)
    (loop,) = diag.loops
    assert loop.pattern == "cycle"
    assert loop.tool_names == ["lab_add", "lab_note"]
    assert loop.count == 25 and loop.calls == 50
    assert root(diag) == "tool_loop"


def test_unknown_future_values_do_not_raise() -> None:
    ev = edit_step(
        load("sync_http500"),
        stop_reason="cosmic_ray",
        error_type="LLMQuantumError",
        error_data={"message": "\x1b[31mflip\x1b[0m"},
    )
    ev = edit_run(ev, stop_reason="cosmic_ray", status="failed")
    diag = diagnose(ev, now=LATE)
    assert diag.verdict == "failed"
    assert root(diag) == "server_error"
    assert "\x1b" not in diag.model_dump_json()
    odd = edit_run(load("sync_plain"), status="paused", completed_at=None)
    assert diagnose(odd, now=LATE).verdict == "stuck"
    future = edit_run(load("sync_plain"), stop_reason="new_kind_of_end")
    assert diagnose(future, now=LATE).verdict in ("ok", "failed")


@pytest.mark.parametrize(
    ("error_type", "traceback", "kind"),
    [
        (
            "IndexError",
            "File llm_client/openai_client.py: response.choices[0]",
            "invalid_llm_response",
        ),
        ("KeyError", "File agents/letta_agent_v3.py", "server_error"),
        ("LLMAuthenticationError", "", "llm_auth_error"),
        ("LLMInsufficientCreditsError", "", "insufficient_credits"),
        ("LLMTimeoutError", "", "llm_api_error"),
        ("ValidationError", "", "invalid_llm_response"),
        ("Unknown", "", "unknown_error"),
    ],
)
def test_error_type_table(error_type: str, traceback: str, kind: str) -> None:
    assert kind_for_error(error_type, "boom", stop_reason="error", traceback=traceback) == kind


def test_stream_error_event_classifies_when_steps_are_missing() -> None:
    ev = load("stream_fg_http500")
    sse = (fixture_run_dir("stream_fg_http500") / "request_stream.sse").read_text()
    events = parse_sse_text(
        sse.replace('"error_type":"llm_error"', '"error_type":"llm_rate_limit"')
    )
    ev = ev.model_copy(
        update={
            "steps": [],
            "stream_events": events,
            "endpoint_errors": {
                "steps": EndpointError(
                    endpoint="steps", status_code=500, kind="server_error", message="x"
                )
            },
        }
    )
    diag = diagnose(ev, now=LATE)
    assert root(diag) == "llm_rate_limited"
    assert any("/steps could not be read" in lim for lim in diag.limitations)


def test_run_error_text_is_used_when_steps_say_nothing() -> None:
    ev = load("sync_http429").model_copy(update={"steps": []})
    diag = diagnose(ev, now=LATE)
    assert (diag.verdict, root(diag)) == ("failed", "llm_rate_limited")


def test_context_pressure_warning_keeps_run_ok() -> None:
    ev = edit_step(load("sync_plain"), prompt_tokens=110_000)
    diag = diagnose(ev, now=LATE)
    assert diag.verdict == "ok"
    assert [f.severity for f in diag.findings if f.kind == "context_pressure"] == ["warning"]
    assert diag.context.pressure == pytest.approx(110_000 / 128_000, abs=1e-3)


def test_untrusted_excerpts_are_capped_and_cleaned() -> None:
    ev = load("sync_plain")
    messages = [
        m.model_copy(update={"content": "\x07" + "A" * 5000 + "\u202e"})
        if isinstance(m, AssistantMessage)
        else m
        for m in ev.messages
    ]
    diag = diagnose(ev.model_copy(update={"messages": messages}), now=LATE)
    assert diag.final_answer is not None
    assert len(diag.final_answer.excerpt) <= 200
    assert "\x07" not in diag.final_answer.excerpt and "\u202e" not in diag.final_answer.excerpt
