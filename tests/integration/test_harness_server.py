"""The test server is real and the seeded runs are what the verified notes say a 0.16.8 server produces.

Expected outcomes come from the verified behaviour of Letta 0.16.8 (run status / stop_reason and
step status / stop_reason / error_type, per endpoint). If a test here fails, the harness or the
server changed — not the letta_runs library.
"""

from __future__ import annotations

import httpx
import pytest

from tests.letta_server import SeededRuns, record_bundle

pytestmark = pytest.mark.letta_server

# label -> (run status, run stop_reason, step count, last step (status, stop_reason, error_type))
EXPECTED: dict[str, tuple[str, str | None, int, tuple[str, str | None, str | None]]] = {
    "sync.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "sync.ok_reply_reasoning": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "sync.tool_chain_ok": ("completed", "end_turn", 5, ("success", "end_turn", None)),
    "sync.loop_max_steps_3": ("completed", "max_steps", 3, ("success", None, None)),
    "sync.loop_max_steps_default": ("completed", "max_steps", 50, ("success", None, None)),
    "sync.tool_error": ("completed", "end_turn", 2, ("success", "end_turn", None)),
    "sync.invalid_tool_call": ("completed", "end_turn", 2, ("success", "end_turn", None)),
    "sync.invalid_llm_response_empty_message": (
        "failed",
        None,
        1,
        ("failed", "invalid_llm_response", "LLMEmptyResponseError"),
    ),
    "sync.invalid_llm_response_length": (
        "failed",
        "max_tokens_exceeded",
        1,
        ("success", "max_tokens_exceeded", None),
    ),
    "sync.invalid_llm_response_missing_fields": (
        "failed",
        None,
        1,
        ("failed", "invalid_llm_response", "ValidationError"),
    ),
    "sync.invalid_llm_response_empty_choices": (
        "failed",
        None,
        1,
        ("failed", "error", "IndexError"),
    ),
    "sync.llm_error_500": ("failed", None, 1, ("failed", "llm_api_error", "LLMServerError")),
    "sync.llm_error_429": ("failed", None, 1, ("failed", "llm_api_error", "LLMRateLimitError")),
    "sync.llm_error_500_at_1": ("failed", None, 2, ("failed", "llm_api_error", "LLMServerError")),
    "sync.llm_error_400ctx": ("failed", None, 1, ("failed", "error", "ContextWindowExceededError")),
    "sync.requires_approval": (
        "completed",
        "requires_approval",
        1,
        ("success", "requires_approval", None),
    ),
    "stream.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "stream.tool_chain_ok": ("completed", "end_turn", 3, ("success", "end_turn", None)),
    "stream.tool_error": ("completed", "end_turn", 2, ("success", "end_turn", None)),
    "stream.llm_error_500": (
        "failed",
        "llm_api_error",
        1,
        ("failed", "llm_api_error", "LLMServerError"),
    ),
    "stream.invalid_llm_response_empty_choices": (
        "completed",
        "end_turn",
        1,
        ("success", "end_turn", None),
    ),
    "async.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "async.tool_chain_ok": ("completed", "end_turn", 3, ("success", "end_turn", None)),
    "async.llm_error_500": ("failed", "error", 1, ("failed", "llm_api_error", "LLMServerError")),
    "stream_bg.background_stream": ("completed", "end_turn", 3, ("success", "end_turn", None)),
    "stream_bg.llm_error_429": (
        "failed",
        "llm_api_error",
        1,
        ("failed", "llm_api_error", "LLMRateLimitError"),
    ),
    "stream_bg.cancelled": ("cancelled", "cancelled", 1, ("failed", None, "Unknown")),
    "stream_bg.stuck_running": ("running", None, 1, ("pending", None, None)),
    # Foreground stream, provider errors: the run's stop_reason is llm_api_error whatever the code.
    "stream.llm_error_401": (
        "failed",
        "llm_api_error",
        1,
        ("failed", "llm_api_error", "LLMAuthenticationError"),
    ),
    "stream.llm_error_402": (
        "failed",
        "llm_api_error",
        1,
        ("failed", "llm_api_error", "LLMInsufficientCreditsError"),
    ),
    "stream.llm_error_503": (
        "failed",
        "llm_api_error",
        1,
        ("failed", "llm_api_error", "LLMServerError"),
    ),
    "stream_bg.llm_error_400ctx": (
        "failed",
        "error",
        1,
        ("failed", "error", "ContextWindowExceededError"),
    ),
    # Bad JSON tool arguments: the tool runs with {} and returns an error; the loop goes on.
    "sync.invalid_llm_response_bad_json": (
        "completed",
        "end_turn",
        2,
        ("success", "end_turn", None),
    ),
    # An HTML page with HTTP 200.
    "sync.invalid_llm_response_not_json": (
        "failed",
        None,
        1,
        ("failed", "llm_api_error", "LLMError"),
    ),
    # Cancelled while step 1's tool ran: the second model call is never made.
    "async.cancelled_in_tool": ("cancelled", "cancelled", 1, ("success", None, None)),
    # The approval of a pending tool call runs as a new run that finishes the turn.
    "sync.approval_approved": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    # Non-streaming conversation message: answered, but the run is never finalised.
    "conversation.zombie_created": ("created", None, 1, ("success", "end_turn", None)),
    # Streaming conversation messages; the model reports a context over 90% of the window at one
    # step, and Letta compacts right after that step (see test_harness_shapes.py).
    "conversation.tool_chain_ok": ("completed", "end_turn", 3, ("success", "end_turn", None)),
    "conversation.compaction_between_steps": (
        "completed",
        "end_turn",
        3,
        ("success", "end_turn", None),
    ),
    "conversation.compaction_after_answer": (
        "completed",
        "end_turn",
        2,
        ("success", "end_turn", None),
    ),
    "stream_bg.compaction_with_events": ("completed", "end_turn", 2, ("success", "end_turn", None)),
    # Tool rules: an exit_loop tool ends the run with stop_reason tool_rule, no answer.
    "sync.tool_rule_terminal": ("completed", "tool_rule", 2, ("success", "tool_rule", None)),
    "sync.tool_rule_violation": ("completed", "end_turn", 3, ("success", "end_turn", None)),
    "sync.tool_rule_required_before_exit": (
        "completed",
        "end_turn",
        3,
        ("success", "end_turn", None),
    ),
    # Long runs: the last step of a max_steps loop has no stop_reason.
    "sync.tool_chain_62_steps": ("completed", "end_turn", 63, ("success", "end_turn", None)),
    "sync.loop_max_steps_80": ("completed", "max_steps", 80, ("success", None, None)),
    # Approvals and client-side tools.
    "sync.approval_denied": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "sync.client_tool_requested": (
        "completed",
        "requires_approval",
        1,
        ("success", "requires_approval", None),
    ),
    "sync.client_tool_returned": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    # Cancelled while its tool slept: the step still finishes (and its messages land) later.
    "async.cancelled_tool_finishes_late": ("cancelled", "cancelled", 1, ("success", None, None)),
    # The system prompt alone exceeds the context window: the sync request fails (HTTP 400),
    # the foreground stream's run is `completed`; in both the step is `success`.
    "sync.system_prompt_overflow": (
        "failed",
        None,
        1,
        ("success", "context_window_overflow_in_system_prompt", None),
    ),
    "stream.system_prompt_overflow": (
        "completed",
        "context_window_overflow_in_system_prompt",
        1,
        ("success", "context_window_overflow_in_system_prompt", None),
    ),
    "sync.untrusted_tool_return": ("completed", "end_turn", 2, ("success", "end_turn", None)),
    # A sleeptime-enabled letta_v1_agent answers through send_message, a terminal tool.
    "sleeptime.foreground_ok": ("completed", "tool_rule", 1, ("success", "tool_rule", None)),
    "sleeptime.foreground_before_failure": (
        "completed",
        "tool_rule",
        1,
        ("success", "tool_rule", None),
    ),
    "sleeptime.background_ok": ("completed", "tool_rule", 2, ("success", "tool_rule", None)),
    "sleeptime.background_failed": (
        "failed",
        "error",
        1,
        ("failed", "llm_api_error", "LLMServerError"),
    ),
    # Other agent types (sync). The heartbeat loop (every type but letta_v1_agent and
    # sleeptime_agent) reports a provider error as the raw client exception with stop_reason error.
    "memgpt_agent.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "memgpt_agent.heartbeats": ("completed", "end_turn", 3, ("success", "end_turn", None)),
    "memgpt_agent.failed_tool_heartbeat": (
        "completed",
        "end_turn",
        2,
        ("success", "end_turn", None),
    ),
    "memgpt_agent.tool_rule_violation": ("completed", "end_turn", 2, ("success", "end_turn", None)),
    "memgpt_agent.never_send_message": ("completed", "end_turn", 2, ("success", "end_turn", None)),
    "memgpt_v2_agent.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "memgpt_v2_agent.no_tool_call": ("failed", None, 1, ("failed", "no_tool_call", "LLMError")),
    "react_agent.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "workflow_agent.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "split_thread_agent.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "sleeptime_agent.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "voice_convo_agent.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    "voice_sleeptime_agent.ok_reply": ("completed", "end_turn", 1, ("success", "end_turn", None)),
    # Its own tools run only inside the voice endpoint: here the call is an error tool return.
    "voice_sleeptime_agent.own_tool_error": (
        "completed",
        "end_turn",
        1,
        ("success", "end_turn", None),
    ),
    "sleeptime_agent.llm_error_500": (
        "failed",
        None,
        1,
        ("failed", "llm_api_error", "LLMServerError"),
    ),
    **{
        f"{agent_type}.llm_error_500": (
            "failed",
            None,
            1,
            ("failed", "error", "InternalServerError"),
        )
        for agent_type in (
            "memgpt_agent",
            "memgpt_v2_agent",
            "react_agent",
            "workflow_agent",
            "split_thread_agent",
            "voice_convo_agent",
            "voice_sleeptime_agent",
        )
    },
}


def _steps(client: httpx.Client, run_id: str) -> list[dict]:
    response = client.get(f"/v1/runs/{run_id}/steps", params={"order": "asc", "limit": 1000})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def client(letta_server) -> httpx.Client:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=letta_server.base_url, timeout=60) as http:
        yield http


def test_server_is_letta_0_16_8(client: httpx.Client) -> None:
    health = client.get("/v1/health/")
    assert health.status_code == 200
    assert health.json() == {"version": "0.16.8", "status": "ok"}


def test_every_scenario_was_seeded(seeded: SeededRuns) -> None:
    assert set(seeded.runs) == set(EXPECTED)
    assert all(run.run_id.startswith("run-") for run in seeded.runs.values())


@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_seeded_run_ends_as_documented(
    label: str, seeded: SeededRuns, client: httpx.Client
) -> None:
    status, stop_reason, step_count, last_step = EXPECTED[label]
    seeded_run = seeded.runs[label]
    run = client.get(f"/v1/runs/{seeded_run.run_id}").json()
    assert (run["status"], run["stop_reason"]) == (status, stop_reason)
    assert run["agent_id"] == seeded_run.agent_id
    assert (
        run["background"] is (seeded_run.endpoint in ("stream_bg", "async"))
        or run["background"] is None
    ), run["background"]
    steps = _steps(client, seeded_run.run_id)
    assert len(steps) == step_count
    assert (steps[-1]["status"], steps[-1]["stop_reason"], steps[-1]["error_type"]) == last_step


def test_tool_error_shows_only_in_the_tool_return(seeded: SeededRuns, client: httpx.Client) -> None:
    messages = client.get(f"/v1/runs/{seeded.run_id('sync.tool_error')}/messages").json()
    returns = [m for m in messages if m["message_type"] == "tool_return_message"]
    assert [r["status"] for r in returns] == ["error"]
    assert "lab_fail raised on purpose" in returns[0]["tool_return"]
    assert any("failing now" in line for line in returns[0]["stderr"])


def test_stuck_run_is_listed_as_active(seeded: SeededRuns, client: httpx.Client) -> None:
    active = client.get("/v1/runs/", params={"active": "true", "limit": 1000}).json()
    assert seeded.run_id("stream_bg.stuck_running") in {run["id"] for run in active}


def test_pagination_with_before_cursor_reaches_every_run_in_the_database(
    letta_server, seeded: SeededRuns, client: httpx.Client
) -> None:  # type: ignore[no-untyped-def]
    assert len(seeded.pagination_run_ids) >= 200
    in_database = int(letta_server.sql("select count(*) from runs")[0][0])
    walked: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 100, **({"before": cursor} if cursor else {})}
        page = client.get("/v1/runs/", params=params).json()
        if not page:
            break
        walked.extend(run["id"] for run in page)
        cursor = page[-1]["id"]
        assert len(walked) <= in_database, (
            "the before= walk returned more runs than the database holds"
        )
    assert len(walked) == len(set(walked)) == in_database
    assert set(seeded.pagination_run_ids) <= set(walked)


def test_record_bundle_of_a_background_stream(seeded: SeededRuns, letta_server) -> None:  # type: ignore[no-untyped-def]
    bundle = record_bundle(letta_server.base_url, seeded.run_id("stream_bg.background_stream"))
    assert bundle["format"] == "letta-runs.bundle/1"
    assert bundle["run"]["status"] == "completed"
    assert len(bundle["steps"]) == 3
    assert {m["message_type"] for m in bundle["messages"]} >= {
        "user_message",
        "tool_call_message",
        "tool_return_message",
        "assistant_message",
    }
    assert bundle["trace"]["status"] == 501
    assert bundle["stream"]["status"] == 200
    assert bundle["stream"]["sse"].rstrip().endswith("data: [DONE]")
    assert bundle["usage"]["status"] == bundle["metrics"]["status"] == 200


def test_record_bundle_of_a_sync_run_keeps_the_stream_error(
    seeded: SeededRuns, letta_server
) -> None:  # type: ignore[no-untyped-def]
    bundle = record_bundle(letta_server.base_url, seeded.run_id("sync.ok_reply"))
    assert bundle["stream"]["status"] == 400
    assert "background" in str(bundle["stream"]["body"])
    assert bundle["usage"]["body"]["total_tokens"] > 0


def test_bad_json_arguments_reach_the_tool_as_an_error(
    seeded: SeededRuns, client: httpx.Client
) -> None:
    run_id = seeded.run_id("sync.invalid_llm_response_bad_json")
    messages = client.get(f"/v1/runs/{run_id}/messages").json()
    returns = [m for m in messages if m["message_type"] == "tool_return_message"]
    assert [r["status"] for r in returns] == ["error"]
    assert any(m["message_type"] == "assistant_message" for m in messages)


def test_the_approval_follow_up_leaves_the_other_approval_pending(
    seeded: SeededRuns, client: httpx.Client
) -> None:
    follow_up = seeded.runs["sync.approval_approved"]
    assert follow_up.agent_id != seeded.runs["sync.requires_approval"].agent_id
    messages = client.get(f"/v1/runs/{follow_up.run_id}/messages").json()
    returns = [m for m in messages if m["message_type"] == "tool_return_message"]
    assert [r["status"] for r in returns] == ["success"]
    pending = client.get(f"/v1/runs/{seeded.run_id('sync.requires_approval')}").json()
    assert (pending["status"], pending["stop_reason"]) == ("completed", "requires_approval")


def test_the_zombie_conversation_run_is_active_forever(
    seeded: SeededRuns, client: httpx.Client
) -> None:
    run = client.get(f"/v1/runs/{seeded.run_id('conversation.zombie_created')}").json()
    assert run["completed_at"] is None and run["conversation_id"] is None
    active = client.get("/v1/runs/", params={"active": "true", "limit": 1000}).json()
    assert run["id"] in {r["id"] for r in active}
