"""Findings and the tables that turn what Letta reports into a finding kind.

Letta reports a failure in several places, none complete on its own: the run's ``stop_reason``
(``null`` for failed sync runs, a generic ``error`` for async ones), the step's ``stop_reason``,
``error_type`` and ``error_data.message``, the stream's ``error_message.error_type``, and the run's
``metadata.error`` text. Each is mapped here by a table keyed on those values — never on run ids
or scenario names — and unknown future values fall back to ``unknown_error`` / ``server_error``
instead of raising.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .._text import clean_text
from .._text import truncate as excerpt

__all__ = [
    "ERROR_TYPE_KINDS",
    "FINDING_KINDS",
    "STOP_REASON_KINDS",
    "STREAM_ERROR_KINDS",
    "Finding",
    "Severity",
    "clean_text",
    "excerpt",
    "kind_for_error",
    "kind_for_stop_reason",
    "kind_for_stream_error",
]

Severity = Literal["error", "warning", "info"]

FINDING_KINDS: dict[str, str] = {
    "llm_api_error": "the model provider's API returned an error",
    "llm_rate_limited": "the model provider rate-limited the request",
    "llm_auth_error": "the model provider rejected the credentials or permissions",
    "insufficient_credits": "the model provider account has no credits left",
    "context_window_exceeded": "the prompt no longer fits the model's context window",
    "invalid_llm_response": "the model answered something Letta could not use",
    "invalid_tool_call": "the model called a tool that does not exist or with unusable arguments",
    "tool_error": "a tool returned an error",
    "tool_loop": "the model repeated the same tool call(s) without progress",
    "tool_rule": "a tool rule ended the run",
    "max_steps": "the run hit its step limit",
    "max_tokens_exceeded": "the model hit its output token limit",
    "no_tool_call": "the model answered without the tool call the agent requires",
    "no_final_answer": "the run ended without an assistant answer",
    "approval_pending": "the run waits for a human to approve a tool call",
    "cancelled": "the run was cancelled",
    "stuck": "the run has not finished long after it started",
    "status_mismatch": "the server's status disagrees with what the run actually did",
    "server_error": "Letta itself raised an exception",
    "unknown_error": "an error Letta did not classify",
    "slow_step": "one step took much longer than the others",
    "context_pressure": "the prompt filled most of the context window",
    "trace_unavailable": "no trace spans were available",
}
"""Every finding kind with a one-line meaning (documentation, and a check in tests)."""

STOP_REASON_KINDS: dict[str, str | None] = {
    "end_turn": None,
    "error": None,  # generic: the step's error_type says what happened
    "llm_api_error": "llm_api_error",
    "invalid_llm_response": "invalid_llm_response",
    "invalid_tool_call": "invalid_tool_call",
    "max_steps": "max_steps",
    "max_tokens_exceeded": "max_tokens_exceeded",
    "no_tool_call": "no_tool_call",
    "tool_rule": "tool_rule",
    "cancelled": "cancelled",
    "insufficient_credits": "insufficient_credits",
    "requires_approval": "approval_pending",
    "context_window_overflow_in_system_prompt": "context_window_exceeded",
}
"""Run/step ``stop_reason`` → finding kind (``None``: not a problem by itself)."""

ERROR_TYPE_KINDS: dict[str, str] = {
    "LLMServerError": "llm_api_error",
    "LLMRateLimitError": "llm_rate_limited",
    "LLMBadRequestError": "llm_api_error",
    "LLMAuthenticationError": "llm_auth_error",
    "LLMPermissionDeniedError": "llm_auth_error",
    "LLMInsufficientCreditsError": "insufficient_credits",
    "LLMTimeoutError": "llm_api_error",
    "LLMConnectionError": "llm_api_error",
    "LLMNotFoundError": "llm_api_error",
    "LLMUnprocessableEntityError": "llm_api_error",
    "LLMError": "llm_api_error",
    "ContextWindowExceededError": "context_window_exceeded",
    "LLMEmptyResponseError": "invalid_llm_response",
    "LLMJSONParsingError": "invalid_llm_response",
    "ValidationError": "invalid_llm_response",
    "Unknown": "unknown_error",
}
"""Step ``error_type`` → finding kind. Other names (Python exceptions) → ``server_error``."""

STREAM_ERROR_KINDS: dict[str, str] = {
    "llm_error": "llm_api_error",
    "llm_rate_limit": "llm_rate_limited",
    "llm_authentication": "llm_auth_error",
    "llm_insufficient_credits": "insufficient_credits",
    "llm_timeout": "llm_api_error",
    "llm_bad_request": "llm_api_error",
    "llm_connection": "llm_api_error",
    "llm_not_found": "llm_api_error",
    "llm_empty_response": "invalid_llm_response",
    "llm_json_parsing": "invalid_llm_response",
    "context_window_overflow_in_system_prompt": "context_window_exceeded",
    "context_window_exceeded": "context_window_exceeded",
    "internal_error": "server_error",
}
"""Stream ``error_message.error_type`` → finding kind."""

# Error text beats a generic error_type: a 400 whose body says context_length_exceeded is a
# context problem, not a generic bad request.
_TEXT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"context_length_exceeded|context window|maximum context length|too many tokens",
            re.I,
        ),
        "context_window_exceeded",
    ),
    (re.compile(r"rate.?limit|RATE_LIMIT_EXCEEDED|\b429\b", re.I), "llm_rate_limited"),
    (re.compile(r"insufficient.?(credits|quota)|\b402\b", re.I), "insufficient_credits"),
    (re.compile(r"waiting for approval", re.I), "approval_pending"),
)
# Exceptions raised while reading the provider's answer (e.g. ``choices: []`` → IndexError).
_LLM_RESPONSE_TRACE = re.compile(r"choices|llm_client|openai_client|convert_response", re.I)
_SPECIFIC = {
    "context_window_exceeded",
    "llm_rate_limited",
    "llm_auth_error",
    "insufficient_credits",
    "invalid_llm_response",
}


def kind_for_stop_reason(stop_reason: str | None) -> str | None:
    """The finding kind a stop reason implies; unknown values → ``unknown_error``."""
    if not stop_reason:
        return None
    if stop_reason in STOP_REASON_KINDS:
        return STOP_REASON_KINDS[stop_reason]
    return "unknown_error"


def kind_for_stream_error(error_type: str | None, text: str | None = None) -> str:
    kind = STREAM_ERROR_KINDS.get(error_type or "", "unknown_error")
    if kind not in _SPECIFIC and text:
        for pattern, text_kind in _TEXT_RULES:
            if pattern.search(text):
                return text_kind
    return kind


def kind_for_error(
    error_type: str | None,
    message: str | None = None,
    *,
    stop_reason: str | None = None,
    traceback: str | None = None,
) -> str:
    """Classify a failed step (or run) from its ``error_type``, message text and stop reason."""
    if error_type in ERROR_TYPE_KINDS:
        kind = ERROR_TYPE_KINDS[error_type]
    elif error_type:
        # A Python exception name: Letta crashed. When it crashed reading the provider's answer,
        # the answer was the problem.
        kind = (
            "invalid_llm_response"
            if traceback and _LLM_RESPONSE_TRACE.search(traceback)
            else "server_error"
        )
    else:
        kind = kind_for_stop_reason(stop_reason) or "unknown_error"
    if kind not in _SPECIFIC and message:
        for pattern, text_kind in _TEXT_RULES:
            if pattern.search(message):
                return text_kind
    if kind == "unknown_error" and stop_reason:
        by_stop = kind_for_stop_reason(stop_reason)
        if by_stop and by_stop != "unknown_error":
            return by_stop
    return kind


class Finding(BaseModel):
    """One thing the diagnosis noticed. ``count`` > 1 when identical findings were merged."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    severity: Severity
    summary: str
    step_id: str | None = None
    message_id: str | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    detail: str | None = None
    count: int = 1
