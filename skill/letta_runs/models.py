"""Typed models of what Letta's Runs API returns.

Every model keeps fields it does not know (``extra="allow"``) so a newer server never breaks us,
and enumerations are plain strings checked against known values rather than closed ``Enum``s: an
unknown ``status`` or ``stop_reason`` is kept as-is, never an error.

Timestamps without an offset (Letta stores ``completed_at`` naive) are read as UTC.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

__all__ = [
    "KNOWN_RUN_STATUSES",
    "KNOWN_STEP_STATUSES",
    "KNOWN_STOP_REASONS",
    "TERMINAL_RUN_STATUSES",
    "ApprovalRequestMessage",
    "ApprovalResponseMessage",
    "AssistantMessage",
    "EventMessage",
    "HiddenReasoningMessage",
    "LettaMessage",
    "Message",
    "ReasoningMessage",
    "Run",
    "RunMetrics",
    "Step",
    "StreamEvent",
    "SummaryMessage",
    "SystemMessage",
    "ToolCall",
    "ToolCallMessage",
    "ToolReturn",
    "ToolReturnMessage",
    "TraceSpan",
    "UnknownMessage",
    "Usage",
    "UserMessage",
    "parse_message",
    "parse_messages",
]

KNOWN_RUN_STATUSES = ("created", "running", "completed", "failed", "cancelled")
TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled"})
KNOWN_STEP_STATUSES = ("pending", "success", "failed", "cancelled")
KNOWN_STOP_REASONS = (
    "end_turn",
    "error",
    "llm_api_error",
    "invalid_llm_response",
    "invalid_tool_call",
    "max_steps",
    "max_tokens_exceeded",
    "no_tool_call",
    "tool_rule",
    "cancelled",
    "insufficient_credits",
    "requires_approval",
    "context_window_overflow_in_system_prompt",
)


def _utc(value: Any) -> Any:
    """Read naive ISO timestamps as UTC (Letta stores ``completed_at`` without an offset)."""
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


UTCDateTime = Annotated[datetime, BeforeValidator(_utc)]


class LettaModel(BaseModel):
    """Base of every API model: unknown fields are kept and round-trip through ``model_dump``.

    Letta names fields ``model_handle``, ``model_endpoint``, …: pydantic before 2.10 reserves the
    ``model_`` prefix and would warn on every import, so the namespace guard is off (the
    methods pydantic really defines are never shadowed by Letta's field names). Validators are
    built on first use (``defer_build``): a command that reads one run does not pay for the
    twenty other models.
    """

    model_config = ConfigDict(
        extra="allow", populate_by_name=True, protected_namespaces=(), defer_build=True
    )

    def to_json_dict(self) -> dict[str, Any]:
        """The model as JSON-ready data, unknown fields included, ``None`` kept."""
        return self.model_dump(mode="json", by_alias=True)


class Run(LettaModel):
    """A run: one agent invocation (``GET /v1/runs/{run_id}``)."""

    id: str
    agent_id: str | None = None
    status: str | None = None
    created_at: UTCDateTime | None = None
    completed_at: UTCDateTime | None = None
    conversation_id: str | None = None
    base_template_id: str | None = None
    background: bool | None = None
    metadata: dict[str, Any] | None = None
    request_config: dict[str, Any] | None = None
    stop_reason: str | None = None
    callback_url: str | None = None
    callback_sent_at: UTCDateTime | None = None
    callback_status_code: int | None = None
    callback_error: str | None = None
    ttft_ns: int | None = None
    total_duration_ns: int | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_RUN_STATUSES

    @property
    def run_type(self) -> str | None:
        value = (self.metadata or {}).get("run_type")
        return value if isinstance(value, str) else None

    @property
    def error_text(self) -> str | None:
        """``metadata.error``: a string (sync/async runs) or an error object (streamed runs)."""
        err = (self.metadata or {}).get("error")
        if err is None:
            return None
        if isinstance(err, str):
            return err
        if isinstance(err, dict):
            parts = [str(err[k]) for k in ("error_type", "message", "detail") if err.get(k)]
            return ": ".join(parts) if parts else json.dumps(err)
        return str(err)


class AgentTool(LettaModel):
    """One tool attached to an agent (``GET /v1/agents/{id}`` with its ``tools`` relationship)."""

    id: str | None = None
    name: str | None = None
    tool_type: str | None = None


class Agent(LettaModel):
    """An agent as ``GET /v1/agents/{id}`` returns it; only the fields letta-runs reads are typed.

    ``agent_type`` decides how Letta renders the agent's text: as ``assistant_message`` for a
    ``letta_v1_agent``, as ``reasoning_message`` for the other types.
    """

    id: str
    name: str | None = None
    agent_type: str | None = None
    tools: list[AgentTool] | None = None
    """The attached tools: only meaningful when read with ``include_tools=True`` (without it
    Letta leaves the relationship out, and may answer an empty list)."""

    @property
    def tool_names(self) -> list[str] | None:
        return None if self.tools is None else [t.name for t in self.tools if t.name]


class Step(LettaModel):
    """One agent step: one LLM call and the tool calls it made (``/v1/runs/{id}/steps``)."""

    id: str
    run_id: str | None = None
    agent_id: str | None = None
    organization_id: str | None = None
    origin: str | None = None
    provider_id: str | None = None
    tid: str | None = None
    status: str | None = None
    stop_reason: str | None = None
    error_type: str | None = None
    error_data: dict[str, Any] | None = None
    provider_name: str | None = None
    provider_category: str | None = None
    model: str | None = None
    model_handle: str | None = None
    model_endpoint: str | None = None
    context_window_limit: int | None = None
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    total_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    completion_tokens_details: dict[str, Any] | None = None
    prompt_tokens_details: dict[str, Any] | None = None
    trace_id: str | None = None
    request_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    feedback: str | None = None
    project_id: str | None = None

    @property
    def error_message(self) -> str | None:
        data = self.error_data or {}
        msg = data.get("message")
        return str(msg) if msg else None

    @property
    def cached_tokens(self) -> int | None:
        """Cache-read prompt tokens from the first field that carries them."""
        if self.cached_input_tokens is not None:
            return self.cached_input_tokens
        details = self.prompt_tokens_details or {}
        for key in ("cached_tokens", "cache_read_tokens"):
            if isinstance(details.get(key), int):
                return int(details[key])
        return None

    @property
    def reasoning_token_count(self) -> int | None:
        if self.reasoning_tokens is not None:
            return self.reasoning_tokens
        value = (self.completion_tokens_details or {}).get("reasoning_tokens")
        return int(value) if isinstance(value, int) else None


class ToolCall(LettaModel):
    """A tool call; in token streams a delta where every field may be missing."""

    name: str | None = None
    arguments: str | None = None
    tool_call_id: str | None = None

    def parsed_arguments(self) -> Any:
        """The arguments as JSON when they parse, else the raw text."""
        if self.arguments is None:
            return None
        try:
            return json.loads(self.arguments)
        except ValueError:
            return self.arguments


class ToolReturn(LettaModel):
    type: str | None = None
    tool_return: Any = None
    status: str | None = None
    tool_call_id: str | None = None
    stdout: list[str] | None = None
    stderr: list[str] | None = None


class _MessageBase(LettaModel):
    id: str | None = None
    date: UTCDateTime | None = None
    name: str | None = None
    message_type: str
    otid: str | None = None
    sender_id: str | None = None
    step_id: str | None = None
    is_err: bool | None = None
    seq_id: int | None = None
    run_id: str | None = None


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for item in content:
            if isinstance(item, dict):
                if isinstance(item.get("text"), str):
                    parts.append(item["text"])
                elif item.get("type"):
                    parts.append(f"[{item['type']}]")
            else:
                parts.append(str(item))
        return "\n".join(parts)
    return str(content)


class SystemMessage(_MessageBase):
    message_type: Literal["system_message"] = "system_message"
    content: Any = None

    @property
    def text(self) -> str:
        return _content_text(self.content)


class UserMessage(_MessageBase):
    message_type: Literal["user_message"] = "user_message"
    content: Any = None

    @property
    def text(self) -> str:
        return _content_text(self.content)


class AssistantMessage(_MessageBase):
    message_type: Literal["assistant_message"] = "assistant_message"
    content: Any = None

    @property
    def text(self) -> str:
        return _content_text(self.content)


class ReasoningMessage(_MessageBase):
    message_type: Literal["reasoning_message"] = "reasoning_message"
    source: str | None = None
    reasoning: str | None = None
    signature: str | None = None

    @property
    def text(self) -> str:
        return self.reasoning or ""


class HiddenReasoningMessage(_MessageBase):
    message_type: Literal["hidden_reasoning_message"] = "hidden_reasoning_message"
    state: str | None = None
    hidden_reasoning: str | None = None

    @property
    def text(self) -> str:
        return self.hidden_reasoning or ""


def _tool_calls_list(value: Any) -> Any:
    # In token streams ``tool_calls`` is a single delta object instead of a list.
    if isinstance(value, dict):
        return [value]
    return value


class ToolCallMessage(_MessageBase):
    message_type: Literal["tool_call_message"] = "tool_call_message"
    tool_call: ToolCall | None = None
    tool_calls: Annotated[list[ToolCall] | None, BeforeValidator(_tool_calls_list)] = None

    @property
    def calls(self) -> list[ToolCall]:
        if self.tool_calls:
            return list(self.tool_calls)
        return [self.tool_call] if self.tool_call else []

    @property
    def text(self) -> str:
        return "; ".join(f"{c.name}({c.arguments or ''})" for c in self.calls)


class ToolReturnMessage(_MessageBase):
    message_type: Literal["tool_return_message"] = "tool_return_message"
    tool_return: Any = None
    status: str | None = None
    tool_call_id: str | None = None
    stdout: list[str] | None = None
    stderr: list[str] | None = None
    tool_returns: list[ToolReturn] | None = None

    @property
    def returns(self) -> list[ToolReturn]:
        if self.tool_returns:
            return list(self.tool_returns)
        return [
            ToolReturn(
                type="tool",
                tool_return=self.tool_return,
                status=self.status,
                tool_call_id=self.tool_call_id,
                stdout=self.stdout,
                stderr=self.stderr,
            )
        ]

    @property
    def text(self) -> str:
        return _content_text(self.tool_return)


class ApprovalRequestMessage(_MessageBase):
    message_type: Literal["approval_request_message"] = "approval_request_message"
    tool_call: ToolCall | None = None
    tool_calls: Annotated[list[ToolCall] | None, BeforeValidator(_tool_calls_list)] = None

    @property
    def calls(self) -> list[ToolCall]:
        if self.tool_calls:
            return list(self.tool_calls)
        return [self.tool_call] if self.tool_call else []

    @property
    def text(self) -> str:
        return "; ".join(f"{c.name}({c.arguments or ''})" for c in self.calls)


class ApprovalResponseMessage(_MessageBase):
    message_type: Literal["approval_response_message"] = "approval_response_message"
    approvals: list[dict[str, Any]] | None = None
    approve: bool | None = None
    approval_request_id: str | None = None
    reason: str | None = None

    @property
    def text(self) -> str:
        return f"approve={self.approve}" + (f" reason={self.reason}" if self.reason else "")


class SummaryMessage(_MessageBase):
    message_type: Literal["summary_message"] = "summary_message"
    summary: str | None = None
    compaction_stats: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return self.summary or ""


class EventMessage(_MessageBase):
    message_type: Literal["event_message"] = "event_message"
    event_type: str | None = None
    event_data: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return f"{self.event_type}: {json.dumps(self.event_data or {})}"


class UnknownMessage(_MessageBase):
    """A ``message_type`` this version does not know: kept whole, never an error."""

    message_type: str = "unknown"

    @property
    def text(self) -> str:
        extra = {k: v for k, v in (self.model_extra or {}).items()}
        return json.dumps(extra, default=str)[:200]


Message = (
    SystemMessage
    | UserMessage
    | AssistantMessage
    | ReasoningMessage
    | HiddenReasoningMessage
    | ToolCallMessage
    | ToolReturnMessage
    | ApprovalRequestMessage
    | ApprovalResponseMessage
    | SummaryMessage
    | EventMessage
    | UnknownMessage
)
LettaMessage = Message

_MESSAGE_CLASSES: dict[str, type[_MessageBase]] = {
    "system_message": SystemMessage,
    "user_message": UserMessage,
    "assistant_message": AssistantMessage,
    "reasoning_message": ReasoningMessage,
    "hidden_reasoning_message": HiddenReasoningMessage,
    "tool_call_message": ToolCallMessage,
    "tool_return_message": ToolReturnMessage,
    "approval_request_message": ApprovalRequestMessage,
    "approval_response_message": ApprovalResponseMessage,
    "summary_message": SummaryMessage,
    "event_message": EventMessage,
}


def parse_message(data: dict[str, Any]) -> Message:
    """Parse one ``/messages`` item by its ``message_type``.

    Unknown types, and known types whose shape does not validate, become ``UnknownMessage`` so a
    single odd item never loses the rest of a page.
    """
    kind = data.get("message_type")
    cls = _MESSAGE_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is not None:
        try:
            return cls.model_validate(data)  # type: ignore[return-value]
        except ValueError:
            pass
    fallback = dict(data)
    fallback.setdefault("message_type", str(kind) if kind is not None else "unknown")
    if not isinstance(fallback["message_type"], str):
        fallback["message_type"] = str(fallback["message_type"])
    return UnknownMessage.model_validate(_coerce_base(fallback))


def _coerce_base(data: dict[str, Any]) -> dict[str, Any]:
    """Drop base fields of the wrong type so ``UnknownMessage`` always validates."""
    out = dict(data)
    checks: dict[str, type | tuple[type, ...]] = {
        "id": str,
        "name": str,
        "otid": str,
        "sender_id": str,
        "step_id": str,
        "run_id": str,
        "seq_id": int,
        "is_err": bool,
    }
    for key, typ in checks.items():
        if key in out and out[key] is not None and not isinstance(out[key], typ):
            out[f"raw_{key}"] = out.pop(key)
    if "date" in out and out["date"] is not None:
        try:
            _utc_adapter.validate_python(out["date"])
        except ValueError:
            out["raw_date"] = out.pop("date")
    return out


_utc_adapter: TypeAdapter[datetime] = TypeAdapter(UTCDateTime)


def parse_messages(items: list[dict[str, Any]]) -> list[Message]:
    return [parse_message(item) for item in items]


class Usage(LettaModel):
    """``GET /v1/runs/{id}/usage``: OpenAI-style totals (Letta sums only the newest 50 steps).

    A field the server did not send is ``None`` (unknown), never ``0``.
    """

    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    total_tokens: int | None = None
    prompt_tokens_details: dict[str, Any] | None = None
    completion_tokens_details: dict[str, Any] | None = None


class RunMetrics(LettaModel):
    """``GET /v1/runs/{id}/metrics`` (``num_steps`` is capped at 50; ``tools_used`` holds ids)."""

    id: str | None = None
    organization_id: str | None = None
    agent_id: str | None = None
    project_id: str | None = None
    run_start_ns: int | None = None
    run_ns: int | None = None
    num_steps: int | None = None
    tools_used: list[str] | None = None
    template_id: str | None = None
    base_template_id: str | None = None


TraceSpan = dict[str, Any]
"""One OTEL span row from ``/trace``; the server documents no fixed shape."""


class StreamEvent(LettaModel):
    """One server-sent event of ``POST /v1/runs/{id}/stream``.

    ``kind`` is ``message`` (a run message, with ``message`` parsed), ``ping``, ``stop_reason``,
    ``usage``, ``error`` (an ``event: error`` chunk), ``done`` (``[DONE]``) or ``other``.
    ``data`` is the decoded JSON payload (``None`` for ``[DONE]``), ``raw`` the payload text.
    """

    kind: str
    event: str | None = None
    data: Any = None
    raw: str = ""
    seq_id: int | None = None
    message: Message | None = None

    @property
    def message_type(self) -> str | None:
        if isinstance(self.data, dict):
            value = self.data.get("message_type")
            return value if isinstance(value, str) else None
        return None

    @property
    def stop_reason(self) -> str | None:
        if isinstance(self.data, dict) and self.kind == "stop_reason":
            value = self.data.get("stop_reason")
            return value if isinstance(value, str) else None
        return None
