"""Given a real run of each scenario, the post-mortem says what happened.

The runs are produced by the harness on a real Letta 0.16.8 server with the scripted model; the
expected verdict and root cause are what a person reading the steps and messages would say,
whatever status the server itself reports.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from letta_runs import AsyncRunsClient, RunsClient
from letta_runs.cli import cli
from letta_runs.composites import diagnose_run, export_run, find_stuck_runs, triage_runs
from letta_runs.diagnosis import diagnose
from letta_runs.evidence import gather_evidence, load_bundle
from letta_runs.rendering import diagnosis_dict, render_diagnosis

from tests.letta_server import SeededRuns

pytestmark = pytest.mark.letta_server

# label -> (verdict, root cause kind or None, a finding kind that must be present or None)
EXPECTED: dict[str, tuple[str, str | None, str | None]] = {
    "sync.ok_reply": ("ok", None, None),
    "sync.ok_reply_reasoning": ("ok", None, None),
    "sync.tool_chain_ok": ("ok", None, None),
    "stream.ok_reply": ("ok", None, None),
    "stream.tool_chain_ok": ("ok", None, None),
    "async.ok_reply": ("ok", None, None),
    "async.tool_chain_ok": ("ok", None, None),
    "stream_bg.background_stream": ("ok", None, None),
    # A tool raised, the model explained and answered: recovered, but the error is reported.
    "sync.tool_error": ("ok", None, "tool_error"),
    "stream.tool_error": ("ok", None, "tool_error"),
    # Completed by the server, yet a loop that hit the step limit.
    "sync.loop_max_steps_3": ("failed", "tool_loop", "status_mismatch"),
    "sync.loop_max_steps_default": ("failed", "tool_loop", "max_steps"),
    # Provider failures: the run's own stop_reason is null (sync) or "error" (async).
    "sync.llm_error_500": ("failed", "llm_api_error", None),
    "sync.llm_error_500_at_1": ("failed", "llm_api_error", None),
    "stream.llm_error_500": ("failed", "llm_api_error", None),
    "async.llm_error_500": ("failed", "llm_api_error", None),
    "sync.llm_error_429": ("failed", "llm_rate_limited", None),
    "stream_bg.llm_error_429": ("failed", "llm_rate_limited", None),
    "sync.llm_error_400ctx": ("failed", "context_window_exceeded", None),
    # Malformed completions.
    "sync.invalid_llm_response_empty_message": ("failed", "invalid_llm_response", None),
    "sync.invalid_llm_response_missing_fields": ("failed", "invalid_llm_response", None),
    "sync.invalid_llm_response_empty_choices": ("failed", "invalid_llm_response", None),
    "sync.invalid_llm_response_length": ("failed", "max_tokens_exceeded", None),
    # The streaming path accepts an empty completion as "completed": no answer at all.
    "stream.invalid_llm_response_empty_choices": ("failed", "no_final_answer", "status_mismatch"),
    "sync.requires_approval": ("awaiting_approval", "approval_pending", None),
    "stream_bg.cancelled": ("cancelled", "cancelled", None),
    # Foreground stream: stop_reason llm_api_error for every code; the step's error_type says which.
    "stream.llm_error_401": ("failed", "llm_auth_error", None),
    "stream.llm_error_402": ("failed", "insufficient_credits", None),
    "stream.llm_error_503": ("failed", "llm_api_error", None),
    "stream_bg.llm_error_400ctx": ("failed", "context_window_exceeded", None),
    # Bad JSON tool arguments: the tool ran with {} and returned an error, then the model answered.
    "sync.invalid_llm_response_bad_json": ("ok", None, "tool_error"),
    # An HTML page with HTTP 200: Letta reports an unhandled LLMError (llm_api_error).
    "sync.invalid_llm_response_not_json": ("failed", "llm_api_error", None),
    "async.cancelled_in_tool": ("cancelled", "cancelled", None),
    # The approval of a pending tool call: a new run that runs the tool and answers.
    "sync.approval_approved": ("ok", None, None),
    # Compaction: Letta's system_alert note (a user_message) between steps or after the answer.
    "conversation.tool_chain_ok": ("ok", None, None),
    "conversation.compaction_between_steps": ("ok", None, "compaction"),
    "conversation.compaction_after_answer": ("ok", None, "compaction"),
    "stream_bg.compaction_with_events": ("ok", None, "compaction"),
    # Tool rules: the terminal rule's call is the outcome (stop_reason tool_rule); a rule
    # violation and a required-before-exit note are recovered from.
    "sync.tool_rule_terminal": ("ok", None, None),
    "sync.tool_rule_violation": ("ok", None, "invalid_tool_call"),
    "sync.tool_rule_required_before_exit": ("ok", None, None),
    # Long runs: every step counted, /usage and /metrics stop at 50.
    "sync.tool_chain_62_steps": ("ok", None, None),
    "sync.loop_max_steps_80": ("failed", "tool_loop", "max_steps"),
    # Approvals: a denial is a note; a client-side tool pauses the run like an approval.
    "sync.approval_denied": ("ok", None, "approval_denied"),
    "sync.client_tool_requested": ("awaiting_approval", "approval_pending", None),
    "sync.client_tool_returned": ("ok", None, None),
    "async.cancelled_tool_finishes_late": ("cancelled", "cancelled", None),
    # The system prompt alone does not fit: HTTP 400 (sync) or completed with an answer (stream).
    "sync.system_prompt_overflow": ("failed", "context_window_overflow_in_system_prompt", None),
    "stream.system_prompt_overflow": (
        "failed",
        "context_window_overflow_in_system_prompt",
        "status_mismatch",
    ),
    "sync.untrusted_tool_return": ("ok", None, "suspicious_instructions"),
    "sleeptime.foreground_ok": ("ok", None, None),
    "sleeptime.background_ok": ("ok", None, None),
    "sleeptime.foreground_before_failure": ("ok", None, None),
    "sleeptime.background_failed": ("failed", "llm_api_error", None),
    # Every other agent type: healthy, and failing on a provider 500 (the heartbeat loop stores
    # the SDK's InternalServerError); a plain-text answer where a tool call is required.
    "memgpt_agent.ok_reply": ("ok", None, None),
    "memgpt_agent.heartbeats": ("ok", None, None),
    "memgpt_agent.llm_error_500": ("failed", "llm_api_error", None),
    # A heartbeat call, then an ordinary tool without one: the turn ends, send_message is never
    # called, the user gets no reply (the agent read says it is a memgpt_agent).
    "memgpt_agent.never_send_message": ("failed", "no_final_answer", "status_mismatch"),
    "memgpt_v2_agent.ok_reply": ("ok", None, None),
    "memgpt_v2_agent.llm_error_500": ("failed", "llm_api_error", None),
    "memgpt_v2_agent.no_tool_call": ("failed", "no_tool_call", None),
    "react_agent.ok_reply": ("ok", None, None),
    "react_agent.llm_error_500": ("failed", "llm_api_error", None),
    "workflow_agent.ok_reply": ("ok", None, None),
    "workflow_agent.llm_error_500": ("failed", "llm_api_error", None),
    "split_thread_agent.ok_reply": ("ok", None, None),
    "split_thread_agent.llm_error_500": ("failed", "llm_api_error", None),
    "sleeptime_agent.ok_reply": ("ok", None, None),
    "sleeptime_agent.llm_error_500": ("failed", "llm_api_error", None),
    "voice_convo_agent.ok_reply": ("ok", None, None),
    "voice_convo_agent.llm_error_500": ("failed", "llm_api_error", None),
    "voice_sleeptime_agent.ok_reply": ("ok", None, None),
    # Its own finish_rethinking_memory crashes outside the voice endpoint: nothing done, failed.
    "voice_sleeptime_agent.own_tool_error": ("failed", "tool_error", None),
    "voice_sleeptime_agent.llm_error_500": ("failed", "llm_api_error", None),
}

# label -> the outcome's kind: how the run delivered, by agent type and run type.
OUTCOMES: dict[str, str] = {
    "sync.tool_rule_terminal": "terminal_tool",
    "sleeptime.foreground_ok": "assistant_message",
    "sleeptime.background_ok": "background",
    "memgpt_agent.ok_reply": "assistant_message",
    "memgpt_agent.heartbeats": "assistant_message",
    "memgpt_v2_agent.ok_reply": "assistant_message",
    "react_agent.ok_reply": "tool_call",
    "workflow_agent.ok_reply": "tool_call",
    "split_thread_agent.ok_reply": "assistant_message",
    "sleeptime_agent.ok_reply": "text",
    "voice_convo_agent.ok_reply": "assistant_message",
    "voice_sleeptime_agent.ok_reply": "tool_call",
    "conversation.compaction_after_answer": "assistant_message",
    "memgpt_agent.never_send_message": "none",
}


@pytest.fixture(scope="module")
def client(seeded: SeededRuns) -> Any:
    with RunsClient(base_url=seeded.base_url) as c:
        yield c


def _diagnose(seeded: SeededRuns, label: str, **kwargs: Any) -> Any:
    async def go() -> Any:
        async with AsyncRunsClient(base_url=seeded.base_url) as ac:
            return await diagnose_run(ac, seeded.run_id(label), **kwargs)

    import asyncio

    return asyncio.run(go())


@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_each_real_scenario_gets_the_right_verdict_and_root_cause(
    seeded: SeededRuns, label: str
) -> None:
    verdict, root, must_have = EXPECTED[label]
    diag = _diagnose(seeded, label)
    kinds = {f.kind for f in diag.findings}
    assert diag.verdict == verdict, (label, diag.headline, sorted(kinds))
    assert (diag.root_cause.kind if diag.root_cause else None) == root, (label, diag.headline)
    if must_have:
        assert must_have in kinds, (label, sorted(kinds))
    # The trace endpoint answers 501 here: a limitation (never a finding too), never a clean
    # bill of health.
    assert "trace_unavailable" not in kinds
    assert any(lim.startswith("No trace spans (/trace answered 501") for lim in diag.limitations)
    if label in OUTCOMES:
        assert diag.outcome is not None and diag.outcome.kind == OUTCOMES[label], diag.outcome
    if verdict == "ok":
        assert diag.outcome is not None and diag.outcome.kind != "none"
        assert not [f for f in diag.findings if f.severity == "error"]
    else:
        assert not (diag.root_cause is None and verdict == "failed")


@pytest.mark.parametrize(
    ("label", "agent_type"),
    [
        ("memgpt_agent.never_send_message", "memgpt_agent"),
        ("react_agent.ok_reply", "react_agent"),
        ("workflow_agent.ok_reply", "workflow_agent"),
    ],
)
def test_the_diagnosis_reads_the_agent_that_decides_a_turn_ending_on_a_tool_call(
    seeded: SeededRuns, label: str, agent_type: str
) -> None:
    async def go() -> Any:
        async with AsyncRunsClient(base_url=seeded.base_url) as ac:
            return await gather_evidence(ac, seeded.run_id(label))

    import asyncio

    ev = asyncio.run(go())
    assert "agent" not in ev.endpoint_errors
    assert ev.agent is not None and ev.agent.agent_type == agent_type
    assert ev.agent.tool_names is not None
    # Letta 0.16.8 gives send_message to memgpt agents only; react and workflow agents end a
    # turn on a tool call without a heartbeat by design.
    has_send_message = "send_message" in ev.agent.tool_names
    assert has_send_message == (agent_type == "memgpt_agent")
    diag = diagnose(ev)
    assert not any("agent's type could not be read" in lim for lim in diag.limitations)
    if has_send_message:
        assert (diag.verdict, diag.outcome and diag.outcome.kind) == ("failed", "none")
        assert diag.root_cause is not None and "did not call it" in diag.root_cause.summary
    else:
        assert (diag.verdict, diag.outcome and diag.outcome.kind) == ("ok", "tool_call")
        # Without the agent read the same run is kept as by design, with the limitation.
        unknown = diagnose(ev.model_copy(update={"agent": None}))
        assert unknown.verdict == "ok"
        assert any("agent's type could not be read" in lim for lim in unknown.limitations)


def test_a_call_to_a_tool_that_does_not_exist_is_named(seeded: SeededRuns) -> None:
    diag = _diagnose(seeded, "sync.invalid_tool_call")
    kinds = {f.kind for f in diag.findings}
    assert "invalid_tool_call" in kinds, (diag.headline, sorted(kinds))
    finding = next(f for f in diag.findings if f.kind == "invalid_tool_call")
    assert finding.tool_name and finding.tool_call_id
    # Letta words a missing tool and a forbidden one alike; the agent's tools tell them apart.
    assert "(it is not attached to the agent)" in finding.summary


def test_a_call_a_tool_rule_forbade_is_not_called_missing(seeded: SeededRuns) -> None:
    diag = _diagnose(seeded, "sync.tool_rule_violation")
    finding = next(f for f in diag.findings if f.kind == "invalid_tool_call")
    assert finding.tool_name == "memory_insert"
    assert "attached to the agent, but the agent's tool rules did not allow it" in finding.summary


def test_a_run_left_running_is_running_when_young_and_stuck_when_old(seeded: SeededRuns) -> None:
    young = _diagnose(seeded, "stream_bg.stuck_running", stuck_after=86_400)
    assert young.verdict == "running"
    old = _diagnose(seeded, "stream_bg.stuck_running", stuck_after=0.001)
    assert old.verdict == "stuck"
    assert old.root_cause is not None and old.root_cause.kind == "stuck"


def test_a_zombie_run_that_finished_its_step_is_stuck_once_old(seeded: SeededRuns) -> None:
    # Non-streaming conversation message: the step ended (end_turn), the run stays `created`.
    young = _diagnose(seeded, "conversation.zombie_created", stuck_after=86_400)
    assert young.verdict == "running"
    old = _diagnose(seeded, "conversation.zombie_created", stuck_after=0.001)
    kinds = {f.kind for f in old.findings}
    assert old.verdict == "stuck", (old.headline, sorted(kinds))
    assert old.root_cause is not None and old.root_cause.kind == "stuck"
    assert "status_mismatch" in kinds
    stuck = next(f for f in old.findings if f.kind == "stuck")
    assert stuck.detail is not None and "never finalised" in stuck.detail
    assert old.final_answer is not None


def test_no_looping_or_unanswered_run_is_ever_ok(seeded: SeededRuns) -> None:
    for label, run in seeded.runs.items():
        if run.stop_reason == "max_steps" or run.status in ("failed", "cancelled"):
            assert _diagnose(seeded, label).verdict != "ok", label


def test_the_50_step_post_mortem_fits_in_a_chat(seeded: SeededRuns) -> None:
    diag = _diagnose(seeded, "sync.loop_max_steps_default")
    assert diag.step_count == 50
    assert len(render_diagnosis(diag)) <= 8_000
    assert len(json.dumps(diagnosis_dict(diag))) <= 16_000
    assert diag.usage.step_count == 50
    assert diag.loops and diag.loops[0].count >= 48


def test_export_then_offline_diagnosis_agrees(seeded: SeededRuns, tmp_path: Any) -> None:
    import asyncio

    async def bundle() -> dict[str, Any]:
        async with AsyncRunsClient(base_url=seeded.base_url) as ac:
            return await export_run(ac, seeded.run_id("stream_bg.background_stream"))

    data = asyncio.run(bundle())
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(data))
    offline = diagnose(load_bundle(path))
    online = _diagnose(seeded, "stream_bg.background_stream")
    assert (offline.verdict, offline.step_count) == (online.verdict, online.step_count)
    assert offline.usage.total_tokens == online.usage.total_tokens


def test_triage_over_the_real_runs_finds_the_hidden_failures(seeded: SeededRuns) -> None:
    import asyncio

    async def go() -> Any:
        async with AsyncRunsClient(base_url=seeded.base_url) as ac:
            return await triage_runs(
                ac, since=timedelta(days=1), agent_id=seeded.agents["lab-sync"]
            )

    report = asyncio.run(go())
    causes = {g.key: g for g in report.by_root_cause}
    assert seeded.run_id("sync.loop_max_steps_3") in causes["tool_loop"].examples
    assert report.hidden_failures >= 1


def test_stuck_lists_the_run_left_running(seeded: SeededRuns) -> None:
    import asyncio

    async def go() -> Any:
        async with AsyncRunsClient(base_url=seeded.base_url) as ac:
            return await find_stuck_runs(ac, older_than=0.001)

    report = asyncio.run(go())
    assert seeded.run_id("stream_bg.stuck_running") in {s.run_id for s in report.stuck}


def test_cli_diagnose_timeline_and_compare_on_real_runs(seeded: SeededRuns) -> None:
    runner = CliRunner()
    base = ["--base-url", seeded.base_url]
    loop = seeded.run_id("sync.loop_max_steps_3")
    good = seeded.run_id("sync.tool_chain_ok")
    diag = runner.invoke(cli, [*base, "diagnose", loop, "--json"], env={"LETTA_API_KEY": None})
    assert diag.exit_code == 0, diag.output
    assert json.loads(diag.stdout)["verdict"] == "failed"
    timeline = runner.invoke(cli, [*base, "timeline", loop, "--format", "markdown"])
    assert timeline.exit_code == 0 and loop in timeline.stdout
    compare = runner.invoke(cli, [*base, "compare", good, loop, "--json"])
    assert compare.exit_code == 0, compare.output
    assert json.loads(compare.stdout)["same_outcome"] is False


def test_long_runs_count_every_step_where_usage_and_metrics_stop_at_50(seeded: SeededRuns) -> None:
    for label, steps in (("sync.tool_chain_62_steps", 63), ("sync.loop_max_steps_80", 80)):
        diag = _diagnose(seeded, label)
        assert diag.step_count == steps == diag.usage.step_count, label
        assert diag.usage.usage_endpoint_total_tokens is not None
        assert diag.usage.total_tokens is not None
        assert diag.usage.total_tokens > diag.usage.usage_endpoint_total_tokens
        assert any(lim.startswith("/usage reports") for lim in diag.limitations)
        assert len(render_diagnosis(diag)) <= 8_000
        assert len(json.dumps(diagnosis_dict(diag))) <= 16_000


def test_compaction_is_an_event_with_where_it_happened(seeded: SeededRuns) -> None:
    between = _diagnose(seeded, "conversation.compaction_between_steps")
    after = _diagnose(seeded, "conversation.compaction_after_answer")
    assert [c.where for c in between.compactions] == ["between steps"]
    assert [c.where for c in after.compactions] == ["after the answer"]
    assert all(c.hidden_messages is not None for c in between.compactions + after.compactions)


def test_a_tool_finishing_after_the_cancel_is_named(seeded: SeededRuns) -> None:
    diag = _diagnose(seeded, "async.cancelled_tool_finishes_late")
    assert diag.root_cause is not None and diag.root_cause.evidence_ids
    assert "after the cancel" in (diag.root_cause.detail or "")


def test_instructions_in_a_fetched_page_are_flagged_never_followed(seeded: SeededRuns) -> None:
    diag = _diagnose(seeded, "sync.untrusted_tool_return")
    finding = next(f for f in diag.findings if f.kind == "suspicious_instructions")
    assert (
        finding.severity == "warning" and finding.evidence_ids and finding.tool_name == "lab_fetch"
    )
    md = render_diagnosis(diag, detail="full")
    assert "ignore previous instructions" not in md.split("```")[0]  # only ever inside a fence
