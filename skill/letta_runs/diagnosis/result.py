"""The result models of a diagnosis: ``RunDiagnosis`` and its parts (a stable JSON contract).

Fields are only ever added (all optional or defaulted), never renamed or removed;
``schema_version`` changes only if a field had to change meaning.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..operations.catalog import NextStep  # the one definition, beside the catalog it names
from .findings import Finding
from .loops import ToolLoop

__all__ = [
    "SCHEMA_VERSION",
    "ApiCall",
    "CompactionEvent",
    "ContextSummary",
    "ErrorText",
    "FinalAnswer",
    "FirstFailure",
    "LatencySummary",
    "NextStep",
    "PendingToolCall",
    "Remedy",
    "RunDiagnosis",
    "RunOutcome",
    "StepDuration",
    "ToolUsage",
    "UsageSummary",
    "Verdict",
]

SCHEMA_VERSION = 1
Verdict = Literal["ok", "failed", "stuck", "running", "cancelled", "awaiting_approval", "unknown"]
"""``unknown``: the run completed but the evidence that would show whether it succeeded (its
messages) could not be read; ``settled`` is then false."""


class UsageSummary(BaseModel):
    """Tokens summed over every step (``/usage`` only sums the newest 50).

    ``None`` means unknown (the evidence could not be read), never zero; ``source`` says where
    the figures come from: ``steps`` (exact), ``usage_endpoint`` (``/usage``, newest 50 steps
    only, used when ``/steps`` could not be read) or ``None`` (no figures).
    """

    prompt_tokens: int | None = 0
    completion_tokens: int | None = 0
    total_tokens: int | None = 0
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    step_count: int | None = 0
    usage_endpoint_total_tokens: int | None = None
    source: Literal["steps", "usage_endpoint"] | None = "steps"


class StepDuration(BaseModel):
    index: int
    step_id: str
    seconds: float | None = None
    total_tokens: int | None = None


class LatencySummary(BaseModel):
    total_seconds: float | None = None
    """Server-measured (``/metrics.run_ns``) when available, else completed_at − created_at."""
    wall_seconds: float | None = None
    ttft_seconds: float | None = None
    source: str | None = None
    age_seconds: float | None = None
    """For a run that is not terminal: how long ago it was created."""
    slowest_steps: list[StepDuration] = Field(default_factory=list)
    step_durations_approximate: bool = True


class ContextSummary(BaseModel):
    context_window_limit: int | None = None
    peak_prompt_tokens: int | None = None
    peak_step_id: str | None = None
    pressure: float | None = None
    compactions: int = 0
    """How many times Letta compacted the context during the run (see ``compactions``)."""


class CompactionEvent(BaseModel):
    """Letta hid older messages behind a summary (its ``system_alert`` note) during the run."""

    message_id: str | None = None
    step_id: str | None = None
    step_index: int | None = None
    at: datetime | None = None
    where: str
    """``before the first step``, ``between steps`` or ``after the answer``."""
    hidden_messages: int | None = None
    total_messages: int | None = None
    trigger: str | None = None
    context_tokens_before: int | None = None
    context_tokens_after: int | None = None
    context_window: int | None = None


class RunOutcome(BaseModel):
    """What the run produced, by the rule that fits its agent type and run type.

    ``kind``: ``assistant_message`` (an answer), ``send_message`` (a memgpt-style agent's answer
    through its message tool), ``terminal_tool`` (a terminal tool rule's call ended the run,
    ``stop_reason: tool_rule``), ``tool_call`` (the model ended its turn with a tool call and no
    heartbeat, the memgpt-loop way), ``text`` (final text Letta shows as reasoning for agent
    types that do not mark text as an answer), ``background`` (a sleeptime run: its result is
    the memory it edited), ``none`` (nothing).
    """

    kind: str
    answer_expected: bool = True
    rule: str
    message_id: str | None = None
    step_id: str | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None
    excerpt: str | None = None


class ErrorText(BaseModel):
    """One error text (a step's error, a stream error, a tool's error with its stderr), kept
    once per diagnosis; findings and ``first_failure`` refer to it by ``ref``."""

    ref: str
    source: str
    """Where the text comes from: ``step 3``, ``tool lab_fail``, ``run``."""
    error_type: str | None = None
    text: str
    step_ids: list[str] = Field(default_factory=list)


class FinalAnswer(BaseModel):
    message_id: str | None = None
    step_id: str | None = None
    excerpt: str


class FirstFailure(BaseModel):
    step_id: str | None = None
    step_index: int | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    arguments: str | None = None
    stderr: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    error_ref: str | None = None
    """The ``RunDiagnosis.errors`` entry with the full error text (and stderr)."""


class PendingToolCall(BaseModel):
    tool_name: str | None = None
    tool_call_id: str | None = None
    arguments: str | None = None
    message_id: str | None = None


class ToolUsage(BaseModel):
    name: str
    calls: int = 0
    errors: int = 0


class ApiCall(BaseModel):
    """An exact Letta call that carries out a remedy (ids filled in)."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    note: str | None = None


class Remedy(BaseModel):
    """What to change for one finding kind, with the Letta call that does it where one exists."""

    kind: str
    summary: str
    detail: str | None = None
    api: ApiCall | None = None


class RunDiagnosis(BaseModel):
    """The diagnosis of one run. Its JSON is a stable contract (``schema_version``)."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    agent_id: str | None = None
    verdict: Verdict
    headline: str
    status: str | None = None
    stop_reason: str | None = None
    effective_stop_reason: str | None = None
    run_type: str | None = None
    background: bool | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    evaluated_at: datetime
    step_count: int | None = 0
    """``None`` when ``/steps`` could not be read (unknown, not zero)."""
    message_count: int = 0
    root_cause: Finding | None = None
    findings: list[Finding] = Field(default_factory=list)
    loops: list[ToolLoop] = Field(default_factory=list)
    tools: list[ToolUsage] = Field(default_factory=list)
    usage: UsageSummary = Field(default_factory=UsageSummary)
    latency: LatencySummary = Field(default_factory=LatencySummary)
    context: ContextSummary = Field(default_factory=ContextSummary)
    final_answer: FinalAnswer | None = None
    first_failure: FirstFailure | None = None
    pending_approval: list[PendingToolCall] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    """The CLI rendering of ``next_actions`` (kept for existing readers)."""
    source: str | None = None
    remedies: list[Remedy] = Field(default_factory=list)
    """What to change, for the root cause first (each with the Letta call where one exists)."""
    next_actions: list[NextStep] = Field(default_factory=list)
    """Drill-downs as catalog operations; every face renders them in its own names."""
    outcome: RunOutcome | None = None
    compactions: list[CompactionEvent] = Field(default_factory=list)
    errors: list[ErrorText] = Field(default_factory=list)
    """Each error text once; findings point at it with ``error_ref``."""
    missing_evidence: list[str] = Field(default_factory=list)
    """Endpoints whose evidence could not be read (``steps``, ``messages``, ``usage``, ``metrics``,
    ``stream``); the diagnosis claims nothing that rests on them."""
    settled: bool = True
    """False when missing evidence could change the verdict (e.g. ``ok`` without ``/steps``)."""

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
