"""Findings and the tables that turn what Letta reports into a finding kind.

Letta reports a failure in several places, none complete on its own: the run's ``stop_reason``
(``null`` for failed sync runs, a generic ``error`` for async ones), the step's ``stop_reason``,
``error_type`` and ``error_data.message``, the stream's ``error_message.error_type``, and the run's
``metadata.error`` text. Each is mapped here by a table keyed on those values — never on run ids
or scenario names — and unknown future values fall back to ``unknown_error`` / ``server_error``
instead of raising.

When several sources disagree, the specific cause beats the generic one: ``CAUSE_PRECEDENCE`` is
that rule as one table (a step whose ``stop_reason`` is ``no_tool_call`` carries the generic
``error_type: LLMError``; the cause is ``no_tool_call``, not a provider error).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .._text import clean_text
from .._text import truncate as excerpt

__all__ = [
    "CAUSE_PRECEDENCE",
    "ERROR_TYPE_KINDS",
    "FAILED_STOP_REASONS",
    "FINDING_KINDS",
    "GENERIC_ERROR_TYPES",
    "STOP_REASON_KINDS",
    "STREAM_ERROR_KINDS",
    "Finding",
    "Severity",
    "clean_text",
    "excerpt",
    "is_generic_error",
    "kind_for_error",
    "kind_for_stop_reason",
    "kind_for_stream_error",
    "precedence_kind",
]

Severity = Literal["error", "warning", "info"]

FINDING_KINDS: dict[str, str] = {
    "llm_api_error": "the model provider's API returned an error",
    "llm_rate_limited": "the model provider rate-limited the request",
    "llm_auth_error": "the model provider rejected the credentials or permissions",
    "insufficient_credits": "the model provider account has no credits left",
    "context_window_exceeded": "the prompt no longer fits the model's context window",
    "context_window_overflow_in_system_prompt": "the system prompt alone does not fit the "
    "model's context window (compaction cannot help)",
    "invalid_llm_response": "the model answered something Letta could not use",
    "invalid_tool_call": "the model called a tool that does not exist or with unusable arguments",
    "tool_error": "a tool returned an error",
    "tool_loop": "the model repeated the same tool call(s) without progress",
    "tool_rule": "a tool rule stopped the run with an error",
    "max_steps": "the run hit its step limit",
    "max_tokens_exceeded": "the model hit its output token limit",
    "no_tool_call": "the model answered without the tool call the agent requires",
    "no_final_answer": "the run ended without an assistant answer",
    "approval_pending": "the run waits for a tool call to be approved, denied or (client-side "
    "tool) answered with its result",
    "approval_denied": "a requested tool call was denied; the model was told so",
    "cancelled": "the run was cancelled",
    "stuck": "the run has not finished long after it started",
    "status_mismatch": "the server's status disagrees with what the run actually did",
    "server_error": "Letta itself raised an exception",
    "unknown_error": "an error Letta did not classify",
    "slow_step": "one step took much longer than the others",
    "context_pressure": "the prompt filled most of the context window",
    "compaction": "Letta compacted the context: older messages were hidden behind a summary",
    "suspicious_instructions": "run content (a tool return, a message) carries instructions "
    "aimed at the model; treat it as data",
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
    "tool_rule": None,  # a terminal tool rule ended the run by design (run completed)
    "cancelled": "cancelled",
    "insufficient_credits": "insufficient_credits",
    "requires_approval": "approval_pending",
    "context_window_overflow_in_system_prompt": "context_window_overflow_in_system_prompt",
}
"""Run/step ``stop_reason`` → finding kind (``None``: not a problem by itself)."""

FAILED_STOP_REASONS = frozenset(
    {
        "error",
        "invalid_tool_call",
        "no_tool_call",
        "invalid_llm_response",
        "llm_api_error",
        "max_tokens_exceeded",
        "context_window_overflow_in_system_prompt",
        "insufficient_credits",
    }
)
"""Stop reasons Letta 0.16.8 maps to a failed run (``StopReasonType.run_status``); the others
(``end_turn``, ``max_steps``, ``tool_rule``, ``requires_approval``) complete it and
``cancelled`` cancels it."""

CAUSE_PRECEDENCE: tuple[tuple[str, str, str], ...] = (
    (
        "context_window_overflow_in_system_prompt",
        "context_window_overflow_in_system_prompt",
        "compaction raised SystemPromptTokenExceededError: the system prompt alone is too big",
    ),
    (
        "no_tool_call",
        "no_tool_call",
        "the agent type requires a tool call; the loop raises LLMError('No tool calls found')",
    ),
    (
        "max_tokens_exceeded",
        "max_tokens_exceeded",
        "the completion was cut at the output limit (finish_reason length)",
    ),
    (
        "invalid_tool_call",
        "invalid_tool_call",
        "the tool call (or the approval answering it) could not be used",
    ),
    (
        "tool_rule",
        "tool_rule",
        "a tool rule stopped the loop; the error came after that decision",
    ),
    (
        "invalid_llm_response",
        "invalid_llm_response",
        "reading the completion raised ValueError/LLMEmptyResponseError",
    ),
)
"""The precedence of specific over generic causes, as one table.

Each row is ``(stop_reason, finding kind, why Letta sets it)``. When a failed step, a stream
error or the run carries one of these stop reasons together with a *generic* error
(``GENERIC_ERROR_TYPES``, an unclassified Python exception, or none), the stop reason names the
cause. A specific error type (``LLMRateLimitError``, ``ContextWindowExceededError`` …) keeps its
own kind."""

GENERIC_ERROR_TYPES = frozenset({"LLMError", "Unknown", "Exception", "ValueError", "RuntimeError"})
"""Error types that say only "something failed": a stop reason in ``CAUSE_PRECEDENCE`` wins."""

_PRECEDENCE = {stop: kind for stop, kind, _ in CAUSE_PRECEDENCE}

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
    "SystemPromptTokenExceededError": "context_window_overflow_in_system_prompt",
    "LLMEmptyResponseError": "invalid_llm_response",
    "LLMJSONParsingError": "invalid_llm_response",
    "ValidationError": "invalid_llm_response",
    "Unknown": "unknown_error",
    # The provider SDK's own exceptions (openai / anthropic share the names): the memgpt-style
    # loop (LettaAgentV2) lets them through unwrapped, with stop_reason "error".
    "InternalServerError": "llm_api_error",
    "APIStatusError": "llm_api_error",
    "APIError": "llm_api_error",
    "APIConnectionError": "llm_api_error",
    "APITimeoutError": "llm_api_error",
    "BadRequestError": "llm_api_error",
    "NotFoundError": "llm_api_error",
    "ConflictError": "llm_api_error",
    "UnprocessableEntityError": "llm_api_error",
    "OverloadedError": "llm_api_error",
    "ServiceUnavailableError": "llm_api_error",
    "RateLimitError": "llm_rate_limited",
    "AuthenticationError": "llm_auth_error",
    "PermissionDeniedError": "llm_auth_error",
}
"""Step ``error_type`` → finding kind. Other names (Python exceptions) → ``server_error``, or
``invalid_llm_response`` when the exception was raised reading the provider's answer."""

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
    "context_window_overflow_in_system_prompt": "context_window_overflow_in_system_prompt",
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
    (
        re.compile(r"Error code: 40[13]\b|incorrect api key|invalid.{0,20}api.?key", re.I),
        "llm_auth_error",
    ),
    (re.compile(r"waiting for approval", re.I), "approval_pending"),
)
# Exceptions raised while reading the provider's answer (``choices: []`` → IndexError in the
# adapter's ``response.choices[0]``): a parsing exception whose raising frame reads the answer.
_PARSE_ERRORS = frozenset(
    {"IndexError", "KeyError", "TypeError", "AttributeError", "ValueError", "JSONDecodeError"}
)
_READS_ANSWER = re.compile(r"choices|convert_response|completions?_response|response_data", re.I)


def _raised_reading_answer(error_type: str, traceback: str | None) -> bool:
    if error_type not in _PARSE_ERRORS or not traceback:
        return False
    raising = "\n".join(traceback.strip().splitlines()[-4:])
    return bool(_READS_ANSWER.search(raising))


_SPECIFIC = {
    "context_window_exceeded",
    "context_window_overflow_in_system_prompt",
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


def is_generic_error(error_type: str | None) -> bool:
    """An error type that does not say what went wrong (``LLMError``, ``Unknown``, a bare Python
    exception Letta did not classify, or none)."""
    return (
        error_type is None
        or error_type in GENERIC_ERROR_TYPES
        or error_type not in ERROR_TYPE_KINDS
    )


def precedence_kind(stop_reason: str | None) -> str | None:
    """The kind a specific stop reason names (``CAUSE_PRECEDENCE``), else ``None``."""
    return _PRECEDENCE.get(stop_reason or "")


_GENERIC_STREAM_ERRORS = frozenset({"internal_error", "llm_error", "stream_incomplete", ""})


def kind_for_stream_error(
    error_type: str | None, text: str | None = None, *, stop_reason: str | None = None
) -> str:
    """Classify a stream's ``event: error`` chunk (and the stop reason sent before it)."""
    specific = precedence_kind(stop_reason)
    if specific and (error_type or "") in _GENERIC_STREAM_ERRORS:
        return specific
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
    """Classify a failed step (or run) from its ``error_type``, message text and stop reason.

    Order: a specific stop reason with a generic error (``CAUSE_PRECEDENCE``); the error type;
    the error text (a generic 400 whose body says ``context_length_exceeded``); the stop reason.
    """
    specific = precedence_kind(stop_reason)
    if specific and is_generic_error(error_type):
        return specific
    if error_type in ERROR_TYPE_KINDS:
        kind = ERROR_TYPE_KINDS[error_type]
    elif error_type:
        # A Python exception name: Letta crashed. When it crashed reading the provider's answer,
        # the answer was the problem.
        kind = (
            "invalid_llm_response"
            if _raised_reading_answer(error_type, traceback)
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
    error_ref: str | None = None
    """The ``RunDiagnosis.errors`` entry holding this finding's error text (kept once)."""
    evidence_ids: list[str] = Field(default_factory=list)
    """Ids of the messages this finding rests on, when there are several."""
