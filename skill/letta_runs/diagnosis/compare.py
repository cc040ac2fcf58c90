"""``compare_runs``: what differs between two runs (pure), e.g. a good and a bad run of one agent."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ..evidence import Evidence
from .engine import RunDiagnosis, diagnose

__all__ = ["RunComparison", "RunSide", "compare_runs"]


class RunSide(BaseModel):
    run_id: str
    agent_id: str | None = None
    verdict: str
    root_cause: str | None = None
    status: str | None = None
    stop_reason: str | None = None
    steps: int | None
    """``None`` when the run's steps could not be read."""
    messages: int
    tools: dict[str, int] = Field(default_factory=dict)
    tool_errors: int = 0
    total_tokens: int | None = 0
    """``None``: unknown (the evidence could not be read), never zero."""
    prompt_tokens: int | None = 0
    completion_tokens: int | None = 0
    seconds: float | None = None
    model: str | None = None
    final_answer: str | None = None


class RunComparison(BaseModel):
    schema_version: int = 1
    a: RunSide
    b: RunSide
    same_outcome: bool
    differences: list[str] = Field(default_factory=list)


def _side(diag: RunDiagnosis, ev: Evidence) -> RunSide:
    models = {s.model_handle or s.model for s in ev.steps if s.model_handle or s.model}
    return RunSide(
        run_id=diag.run_id,
        agent_id=diag.agent_id,
        verdict=diag.verdict,
        root_cause=diag.root_cause.kind if diag.root_cause else None,
        status=diag.status,
        stop_reason=diag.effective_stop_reason,
        steps=diag.step_count,
        messages=diag.message_count,
        tools={t.name: t.calls for t in diag.tools},
        tool_errors=sum(t.errors for t in diag.tools),
        total_tokens=diag.usage.total_tokens,
        prompt_tokens=diag.usage.prompt_tokens,
        completion_tokens=diag.usage.completion_tokens,
        seconds=diag.latency.total_seconds,
        model=", ".join(sorted(m for m in models if m)) or None,
        final_answer=diag.final_answer.excerpt if diag.final_answer else None,
    )


def _known(value: int | None) -> str:
    return "unknown" if value is None else str(value)


def _ratio(a: float, b: float) -> str:
    if a == 0:
        return "from 0"
    return f"×{b / a:.1f}"


def compare_runs(
    ev_a: Evidence, ev_b: Evidence, *, now: datetime | None = None, stuck_after: float = 600.0
) -> RunComparison:
    """Compare two runs: outcome, verdicts, steps, tools, tokens and time, plus a list of
    plain-language differences (A → B)."""
    a = _side(diagnose(ev_a, now=now, stuck_after=stuck_after), ev_a)
    b = _side(diagnose(ev_b, now=now, stuck_after=stuck_after), ev_b)
    diffs: list[str] = []
    if a.verdict != b.verdict or a.root_cause != b.root_cause:
        diffs.append(
            f"outcome: {a.verdict}{f' ({a.root_cause})' if a.root_cause else ''} → "
            f"{b.verdict}{f' ({b.root_cause})' if b.root_cause else ''}"
        )
    if a.stop_reason != b.stop_reason:
        diffs.append(f"stop reason: {a.stop_reason} → {b.stop_reason}")
    if a.agent_id != b.agent_id:
        diffs.append("different agents")
    if a.model != b.model:
        diffs.append(f"model: {a.model} → {b.model}")
    if a.steps != b.steps:
        diffs.append(f"steps: {_known(a.steps)} → {_known(b.steps)}")
    for name in sorted(set(a.tools) | set(b.tools)):
        ca, cb = a.tools.get(name, 0), b.tools.get(name, 0)
        if ca != cb:
            diffs.append(f"tool {name}: {ca} → {cb} calls")
    if a.tool_errors != b.tool_errors:
        diffs.append(f"tool errors: {a.tool_errors} → {b.tool_errors}")
    if a.total_tokens != b.total_tokens:
        known = a.total_tokens is not None and b.total_tokens is not None
        diffs.append(
            f"tokens: {_known(a.total_tokens)} → {_known(b.total_tokens)}"
            + (f" ({_ratio(a.total_tokens or 0, b.total_tokens or 0)})" if known else "")
        )
    if a.seconds is not None and b.seconds is not None and abs(a.seconds - b.seconds) >= 1:
        diffs.append(f"duration: {a.seconds:.1f} s → {b.seconds:.1f} s")
    if (a.final_answer is None) != (b.final_answer is None):
        diffs.append(
            "final answer: " + ("none → present" if a.final_answer is None else "present → none")
        )
    return RunComparison(
        a=a,
        b=b,
        same_outcome=a.verdict == b.verdict and a.root_cause == b.root_cause,
        differences=diffs,
    )
