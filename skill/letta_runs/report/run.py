"""``build_run_report``: everything the HTML post-mortem of one run shows, computed (pure).

The report is built from the core's models — the run's :class:`~letta_runs.evidence.Evidence`,
its :class:`~letta_runs.diagnosis.RunDiagnosis` and its timeline — and holds only display-ready
values: chart geometry, table rows, transcript excerpts. The template places them and escapes
every string; nothing here is HTML.

Output stays bounded whatever the run: identical consecutive steps are folded in the transcript
and the tool-call table, and message text is cut to a per-message cap that shrinks as the run
grows (``TRANSCRIPT_BUDGET`` characters in all).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from ..diagnosis.engine import RunDiagnosis, diagnose
from ..diagnosis.findings import clean_text, excerpt
from ..diagnosis.loops import ToolCallRecord, normalize_arguments, tool_call_records
from ..diagnosis.measurements import step_durations
from ..evidence import Evidence
from ..models import (
    ApprovalRequestMessage,
    ApprovalResponseMessage,
    AssistantMessage,
    Message,
    Step,
    ToolCallMessage,
    ToolReturnMessage,
    UserMessage,
)
from .charts import Outcome, StepSpan, TokenChart, Waterfall, token_chart, waterfall

__all__ = [
    "TRANSCRIPT_BUDGET",
    "EvidenceRef",
    "Figure",
    "FindingRow",
    "RemedyView",
    "RunReport",
    "StepRow",
    "ToolCallRow",
    "TranscriptMessage",
    "TranscriptStep",
    "build_run_report",
]

TRANSCRIPT_BUDGET = 260_000
"""Characters of run content in the whole transcript (before escaping)."""
MESSAGE_CAP = 4_000
MESSAGE_FLOOR = 160
ARGS_EXCERPT = 160
ERROR_EXCERPT = 240
ERROR_TEXT = 1_200
TABLE_ROWS = 150
"""Rows of a chart's data table; longer runs keep the rest in the transcript."""


class Figure(BaseModel):
    label: str
    value: str
    note: str | None = None


class EvidenceRef(BaseModel):
    kind: str
    """``step``, ``message`` or ``tool call``."""
    id: str
    anchor: str | None = None
    """The transcript anchor it points at, when the report shows it."""
    step: int | None = None


class FindingRow(BaseModel):
    kind: str
    severity: str
    summary: str
    detail: str | None = None
    error: str | None = None
    """The error text the finding rests on (run content: shown as data)."""
    error_source: str | None = None
    count: int = 1
    is_root: bool = False
    evidence: list[EvidenceRef] = Field(default_factory=list)


class RemedyView(BaseModel):
    kind: str | None = None
    summary: str
    detail: str | None = None
    call: str | None = None
    """The Letta call that carries it out (``POST /v1/…``), with its JSON body below."""
    body: str | None = None
    note: str | None = None


class StepRow(BaseModel):
    """One row of the waterfall's data table (a step, or a folded loop band)."""

    steps: str
    anchor: str
    outcome: Outcome
    what: str
    start: str
    seconds: str
    tokens: str


class ToolCallRow(BaseModel):
    name: str
    arguments: str
    status: str
    error: str | None = None
    count: int = 1
    steps: str
    anchor: str | None = None
    tool_call_id: str | None = None


class TranscriptMessage(BaseModel):
    role: str
    """What the message is: ``user``, ``assistant``, ``reasoning``, ``tool call``, …"""
    css: str
    message_id: str | None = None
    anchor: str | None = None
    """Set on the first item of a message that a finding points at."""
    at: str | None = None
    status: str | None = None
    text: str
    length: int
    cut: bool = False


class TranscriptStep(BaseModel):
    anchor: str
    title: str
    step: int | None = None
    step_id: str | None = None
    outcome: Outcome = "ok"
    meta: str = ""
    messages: list[TranscriptMessage] = Field(default_factory=list)
    folded: list[StepRow] = Field(default_factory=list)
    """Later steps identical to this one (same messages, same outcome), listed but not repeated."""


class RunReport(BaseModel):
    """What the HTML post-mortem shows, in order."""

    run_id: str
    agent_id: str | None = None
    verdict: str
    headline: str
    long_headline: bool = False
    unsettled: str | None = None
    """Set when evidence that could change the verdict was missing: what was missing."""
    status: str | None = None
    stop_reason: str | None = None
    root_cause: FindingRow | None = None
    remedies: list[RemedyView] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    findings: list[FindingRow] = Field(default_factory=list)
    waterfall: Waterfall
    waterfall_summary: str
    step_rows: list[StepRow] = Field(default_factory=list)
    step_rows_omitted: int = 0
    tokens: TokenChart | None = None
    tokens_summary: str
    token_rows: list[tuple[int, str, str]] = Field(default_factory=list)
    token_rows_omitted: int = 0
    models: list[str] = Field(default_factory=list)
    compactions: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCallRow] = Field(default_factory=list)
    tool_call_count: int = 0
    transcript: list[TranscriptStep] = Field(default_factory=list)
    transcript_note: str | None = None
    limitations: list[str] = Field(default_factory=list)
    created_at: str | None = None
    generated_at: str
    source: str | None = None
    fleet_link: str | None = None


# --- helpers ---------------------------------------------------------------------------------


def _int(value: int | None) -> str:
    return f"{value:,}" if value is not None else "—"


def _secs(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 120:
        return f"{value / 60:.1f} min"
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def _range(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def _step_messages(ev: Evidence) -> dict[str, list[Message]]:
    by_step: dict[str, list[Message]] = {}
    for msg in ev.messages:
        if msg.step_id:
            by_step.setdefault(msg.step_id, []).append(msg)
    return by_step


def _step_tools(msgs: Sequence[Message]) -> list[str]:
    names: list[str] = []
    for m in msgs:
        if isinstance(m, ToolCallMessage | ApprovalRequestMessage):
            names += [c.name or "?" for c in m.calls]
    return names


def _step_error(step: Step, msgs: Sequence[Message]) -> str | None:
    if step.status == "failed" or step.error_type or step.error_data:
        return excerpt(
            f"{step.error_type or step.stop_reason or 'error'}: {step.error_message or ''}",
            ERROR_EXCERPT,
            one_line=True,
        ).rstrip(": ")
    for m in msgs:
        if isinstance(m, ToolReturnMessage):
            for ret in m.returns:
                if ret.status == "error":
                    return excerpt(
                        f"{m.name or 'tool'} returned an error: {clean_text(ret.tool_return)}",
                        ERROR_EXCERPT,
                        one_line=True,
                    )
    return None


def _step_what(step: Step, msgs: Sequence[Message]) -> str:
    tools = _step_tools(msgs)
    if any(isinstance(m, ApprovalRequestMessage) for m in msgs):
        return "approval requested: " + ", ".join(tools)
    if tools:
        return ", ".join(dict.fromkeys(tools))
    if step.error_type or step.status == "failed":
        return step.error_type or "failed"
    if any(isinstance(m, AssistantMessage) for m in msgs):
        return "answer"
    if step.status in ("pending", "cancelled"):
        return step.status
    return "no tool call"


class _LoopRange(BaseModel):
    first: int
    last: int
    label: str
    title: str
    inner: str


def _loop_ranges(
    diag: RunDiagnosis, records: list[ToolCallRecord], step_index: dict[str, int]
) -> tuple[list[_LoopRange], set[int]]:
    """Bands (consecutive ``repeat``/``cycle`` loops) and every step that is part of a loop."""
    bands: list[_LoopRange] = []
    loop_steps: set[int] = set()
    for loop in diag.loops:
        span = records[loop.first_call_index : loop.last_call_index + 1]
        if loop.pattern == "scattered":
            key = records[loop.first_call_index].key if span else None
            span = [r for r in span if r.key == key]
        steps = sorted({step_index[r.step_id] for r in span if r.step_id in step_index})
        loop_steps.update(steps)
        if loop.pattern == "scattered" or len(steps) < 2:
            continue
        first, last = steps[0], steps[-1]
        if bands and first <= bands[-1].last:
            first = bands[-1].last + 1
            if first >= last:
                continue
        names = " → ".join(loop.tool_names)
        label = f"{names} ×{loop.count}"
        title = (
            f"steps {first}–{last}: {names}({loop.arguments}) "
            f"{'repeated' if loop.pattern == 'repeat' else 'cycled'} {loop.count}×"
            + (f" · ~{loop.seconds:.0f} s" if loop.seconds is not None else "")
            + (f" · {loop.tokens:,} tokens" if loop.tokens is not None else "")
            + (" · until the run ended" if loop.reaches_end else "")
        )
        inner = " · ".join(
            p
            for p in (
                f"{label}: {last - first + 1} steps",
                f"~{loop.seconds:.0f} s" if loop.seconds is not None else "",
                f"{loop.tokens:,} tokens" if loop.tokens is not None else "",
                "never broken" if loop.reaches_end else "",
            )
            if p
        )
        bands.append(_LoopRange(first=first, last=last, label=label, title=title, inner=inner))
    return bands, loop_steps


def _outcome(step: Step, msgs: Sequence[Message], error: str | None, in_loop: bool) -> Outcome:
    if error:
        return "error"
    if in_loop:
        return "loop"
    if step.status in ("pending", "cancelled") or any(
        isinstance(m, ApprovalRequestMessage) for m in msgs
    ):
        return "open"  # still running, interrupted, or waiting for a person
    return "ok"


# --- the pieces --------------------------------------------------------------------------------


class _StepFacts(BaseModel):
    index: int
    step: Step
    what: str
    error: str | None
    outcome: Outcome
    start: float | None
    end: float | None


def _step_facts(
    ev: Evidence, by_step: dict[str, list[Message]], loop_steps: set[int]
) -> list[_StepFacts]:
    seconds = {d.index: d.seconds for d in step_durations(ev)}
    facts: list[_StepFacts] = []
    cursor = 0.0
    for i, step in enumerate(ev.steps, start=1):
        msgs = by_step.get(step.id, [])
        error = _step_error(step, msgs)
        took = seconds.get(i)
        start = end = None
        if took is not None:
            start, end = cursor, cursor + took
            cursor = end
        facts.append(
            _StepFacts(
                index=i,
                step=step,
                what=_step_what(step, msgs),
                error=error,
                outcome=_outcome(step, msgs, error, i in loop_steps),
                start=start,
                end=end,
            )
        )
    return facts


def _spans(facts: list[_StepFacts], bands: list[_LoopRange]) -> list[StepSpan]:
    band_at = {b.first: b for b in bands}
    spans: list[StepSpan] = []
    i = 0
    while i < len(facts):
        f = facts[i]
        band = band_at.get(f.index)
        if band is not None:
            members = facts[band.first - 1 : band.last]
            starts = [m.start for m in members[1:] if m.start is not None]
            errors = sum(1 for m in members if m.error)
            spans.append(
                StepSpan(
                    first_step=band.first,
                    last_step=band.last,
                    start=members[0].start,
                    end=members[-1].end,
                    outcome="loop",
                    label=f"{_range(band.first, band.last)} · {band.label}",
                    title=band.title + (f" · {errors} with an error" if errors else ""),
                    anchor=f"step-{band.first}",
                    tokens=sum(m.step.total_tokens or 0 for m in members),
                    inner=band.inner,
                    step_starts=starts,
                )
            )
            i = band.last
            continue
        took = (
            f"{f.end - f.start:.1f} s" if f.start is not None and f.end is not None else "no time"
        )
        spans.append(
            StepSpan(
                first_step=f.index,
                last_step=f.index,
                start=f.start,
                end=f.end,
                outcome=f.outcome,
                label=f"{f.index} · {excerpt(f.what, 26, one_line=True)}",
                title=f"step {f.index} · {f.outcome} · {excerpt(f.what, 60, one_line=True)} · "
                f"{took} · {_int(f.step.total_tokens)} tokens"
                + (f" · {excerpt(f.error, 160)}" if f.error else ""),
                anchor=f"step-{f.index}",
                tokens=f.step.total_tokens,
            )
        )
        i += 1
    return spans


def _step_rows(spans: list[StepSpan]) -> list[StepRow]:
    rows = []
    for s in spans:
        took = s.end - s.start if s.start is not None and s.end is not None else None
        rows.append(
            StepRow(
                steps=_range(s.first_step, s.last_step),
                anchor=s.anchor,
                outcome=s.outcome,
                what=s.label.split(" · ", 1)[-1],
                start=_secs(s.start),
                seconds=_secs(took),
                tokens=_int(s.tokens),
            )
        )
    return rows


def _compaction_steps(diag: RunDiagnosis, steps: int) -> list[tuple[int, str]]:
    """Where the diagnosis saw Letta compact the context: (step number, label) for the chart."""
    out: list[tuple[int, str]] = []
    for c in diag.compactions:
        step = c.step_index or (1 if c.where.startswith("before") else max(steps, 1))
        hidden = f", {c.hidden_messages} messages hidden" if c.hidden_messages is not None else ""
        out.append((step, f"compaction ({c.where}{hidden})"))
    return out


def _finding_rows(diag: RunDiagnosis, step_index: dict[str, int]) -> list[FindingRow]:
    errors = {e.ref: e for e in diag.errors}
    rows = []
    for f in diag.findings:
        refs: list[EvidenceRef] = []
        if f.step_id:
            n = step_index.get(f.step_id)
            refs.append(
                EvidenceRef(kind="step", id=f.step_id, step=n, anchor=f"step-{n}" if n else None)
            )
        for mid in dict.fromkeys([*([f.message_id] if f.message_id else []), *f.evidence_ids]):
            refs.append(EvidenceRef(kind="message", id=mid, anchor=f"m-{mid}"))
        if f.tool_call_id:
            refs.append(EvidenceRef(kind="tool call", id=f.tool_call_id))
        error = errors.get(f.error_ref or "")
        rows.append(
            FindingRow(
                kind=f.kind,
                severity=f.severity,
                summary=f.summary,
                detail=f.detail,
                error=excerpt(error.text, ERROR_TEXT) if error else None,
                error_source=error.source if error else None,
                count=f.count,
                is_root=diag.root_cause is not None and f == diag.root_cause,
                evidence=refs,
            )
        )
    return rows


def _remedies(diag: RunDiagnosis) -> list[RemedyView]:
    """The diagnosis's remedies, each with the Letta call that carries it out, if any."""
    out: list[RemedyView] = []
    for remedy in diag.remedies:
        api = remedy.api
        out.append(
            RemedyView(
                kind=remedy.kind,
                summary=remedy.summary,
                detail=remedy.detail,
                call=f"{api.method} {api.path}" if api else None,
                body=json.dumps(api.body, indent=2, ensure_ascii=False)
                if api and api.body is not None
                else None,
                note=api.note if api else None,
            )
        )
    return out


def _figures(diag: RunDiagnosis, tool_calls: int, tool_errors: int) -> list[Figure]:
    u, lat, ctx = diag.usage, diag.latency, diag.context
    loops = len(diag.loops)
    figures = [
        Figure(
            label="steps",
            value=_int(diag.step_count),
            note=f"{diag.message_count:,} messages"
            + (f", {loops} loop{'s' if loops != 1 else ''}" if loops else ""),
        ),
        Figure(
            label="tokens",
            value=_int(u.total_tokens),
            note=f"{_int(u.prompt_tokens)} prompt · {_int(u.completion_tokens)} completion"
            + (f" · {u.cached_tokens:,} cached" if u.cached_tokens else ""),
        ),
        Figure(
            label="time",
            value=_secs(lat.total_seconds if lat.total_seconds is not None else lat.age_seconds),
            note=(
                "still open, age"
                if lat.total_seconds is None and lat.age_seconds is not None
                else (
                    "measured by the server" if lat.source == "metrics.run_ns" else lat.source or ""
                )
            )
            + (f" · first token {lat.ttft_seconds:.1f} s" if lat.ttft_seconds else ""),
        ),
        Figure(
            label="context peak",
            value=_int(ctx.peak_prompt_tokens),
            note=(
                f"{ctx.pressure:.0%} of {ctx.context_window_limit:,}"
                if ctx.pressure is not None and ctx.context_window_limit
                else "context window unknown"
            ),
        ),
        Figure(
            label="tool calls",
            value=_int(tool_calls),
            note=f"{tool_errors} with an error" if tool_errors else "no errors",
        ),
    ]
    return figures


def _returns_by_call(ev: Evidence) -> dict[str, tuple[str, str, str]]:
    """tool_call_id → (status, return text, stderr)."""
    out: dict[str, tuple[str, str, str]] = {}
    for m in ev.messages:
        if isinstance(m, ToolReturnMessage):
            for ret in m.returns:
                if ret.tool_call_id:
                    out[ret.tool_call_id] = (
                        ret.status or "unknown",
                        clean_text(ret.tool_return),
                        "".join(ret.stderr or []),
                    )
    return out


def _tool_call_rows(
    ev: Evidence, records: list[ToolCallRecord], step_index: dict[str, int]
) -> tuple[list[ToolCallRow], int]:
    returns = _returns_by_call(ev)
    rows: list[ToolCallRow] = []
    keys: list[tuple[str, str, str | None]] = []
    firsts: list[int] = []
    lasts: list[int] = []
    errors = 0

    def add(
        name: str, args: str | None, status: str, error: str | None, step: int | None, cid: str
    ) -> None:
        key = (f"{name}\x00{normalize_arguments(args)}", status, error)
        if rows and keys[-1] == key:
            rows[-1].count += 1
            if step is not None:
                lasts[-1] = step
                rows[-1].steps = _range(firsts[-1], step)
            return
        keys.append(key)
        firsts.append(step or 0)
        lasts.append(step or 0)
        rows.append(
            ToolCallRow(
                name=excerpt(name, 80, one_line=True),
                arguments=excerpt(args, ARGS_EXCERPT, one_line=True),
                status=status,
                error=error,
                steps=str(step) if step else "—",
                anchor=f"step-{step}" if step else None,
                tool_call_id=cid or None,
            )
        )

    for r in records:
        status, text, stderr = returns.get(r.tool_call_id or "", ("no return", "", ""))
        error = None
        if status == "error":
            errors += 1
            error = excerpt(
                text + (f" | stderr: {stderr[-300:]}" if stderr else ""),
                ERROR_EXCERPT,
                one_line=True,
            )
        add(
            r.name,
            r.arguments,
            status,
            error,
            step_index.get(r.step_id or ""),
            r.tool_call_id or "",
        )
    for m in ev.messages:
        if isinstance(m, ApprovalRequestMessage):
            for c in m.calls:
                add(
                    c.name or "?",
                    c.arguments,
                    "approval requested",
                    None,
                    step_index.get(m.step_id or ""),
                    c.tool_call_id or "",
                )
    return rows, errors


_ROLES: dict[str, tuple[str, str]] = {
    "user_message": ("user", "user"),
    "assistant_message": ("assistant", "assistant"),
    "reasoning_message": ("reasoning", "reasoning"),
    "hidden_reasoning_message": ("hidden reasoning", "reasoning"),
    "tool_call_message": ("tool call", "call"),
    "tool_return_message": ("tool return", "ret"),
    "approval_request_message": ("approval request", "call"),
    "approval_response_message": ("approval response", "user"),
    "system_message": ("system", "system"),
    "summary_message": ("compaction summary", "system"),
    "event_message": ("event", "system"),
}


def _message_text(msg: Message) -> str:
    """The message's content as raw text (cleaned only once cut, see ``_transcript``)."""
    if isinstance(msg, ToolCallMessage | ApprovalRequestMessage):
        return "\n".join(f"{c.name or '?'}({c.arguments or ''})" for c in msg.calls)
    if isinstance(msg, ToolReturnMessage):
        stderr = "".join(msg.stderr or [])
        return msg.text + (f"\n[stderr]\n{stderr}" if stderr else "")
    text = getattr(msg, "text", "")
    return text if isinstance(text, str) else str(text)


def _message_key(msg: Message, text: str) -> str:
    status = msg.status if isinstance(msg, ToolReturnMessage) else ""
    return f"{msg.message_type}\x00{status}\x00{text}"


_Group = tuple[_StepFacts | None, list[Message]]


def _transcript_groups(ev: Evidence, facts: list[_StepFacts]) -> list[_Group]:
    """The run's messages grouped by step, in step order; loose messages keep their place."""
    fact_of = {f.step.id: f for f in facts}
    groups: list[_Group] = []
    order: list[tuple[int, int]] = []
    at = 0
    for msg in ev.messages:
        fact = fact_of.get(msg.step_id or "")
        if groups and groups[-1][0] is fact and fact is not None:
            groups[-1][1].append(msg)
            continue
        at = fact.index if fact is not None else at
        groups.append((fact, [msg]))
        order.append((at, 0 if fact is not None else 1))
    shown_ids = {m.step_id for m in ev.messages}
    for f in facts:  # steps without any message still get their place
        if f.step.id not in shown_ids:
            groups.append((f, []))
            order.append((f.index, 0))
    ranked = sorted(range(len(groups)), key=lambda k: order[k])
    return [groups[k] for k in ranked]


def _message_cap(groups: list[_Group], texts: dict[int, str]) -> int:
    """Characters shown per message: ``MESSAGE_CAP``, shrunk so the whole fits the budget."""
    total_msgs = sum(len(msgs) for _, msgs in groups)
    cap = MESSAGE_CAP
    raw_total = sum(min(len(texts[id(m)]), cap) for _, msgs in groups for m in msgs)
    if raw_total > TRANSCRIPT_BUDGET and total_msgs:
        cap = max(MESSAGE_FLOOR, TRANSCRIPT_BUDGET // total_msgs)
    return cap


def _fold_key(fact: _StepFacts | None, msgs: list[Message], texts: dict[int, str]) -> str | None:
    """What a step said and how it ended: equal keys in a row fold into one transcript step."""
    if fact is None or not msgs:
        return None
    return hashlib.sha1(
        "\x01".join(
            _message_key(m, texts[id(m)]) for m in msgs if not isinstance(m, UserMessage)
        ).encode()
        + f"#{fact.outcome}#{fact.step.stop_reason}".encode()
    ).hexdigest()


def _folded_row(fact: _StepFacts) -> StepRow:
    """The row a step folded into the one before it shows."""
    return StepRow(
        steps=str(fact.index),
        anchor=f"step-{fact.index}",
        outcome=fact.outcome,
        what=fact.step.id,
        start=_secs(fact.start),
        seconds=_secs(fact.end - fact.start)
        if fact.start is not None and fact.end is not None
        else "—",
        tokens=_int(fact.step.total_tokens),
    )


def _transcript_message(m: Message, text: str, referenced: set[str], cap: int) -> TranscriptMessage:
    """One message as the transcript shows it; the first one a finding cites gets the anchor."""
    anchor = None
    if m.id and m.id in referenced:
        referenced.discard(m.id)
        anchor = f"m-{m.id}"
    role, css = _ROLES.get(m.message_type, (m.message_type.removesuffix("_message"), "system"))
    status = m.status if isinstance(m, ToolReturnMessage) else None
    if isinstance(m, ApprovalResponseMessage):
        status = "approved" if m.approve else ("denied" if m.approve is False else None)
    return TranscriptMessage(
        role=role,
        css=css + (" err" if status == "error" else ""),
        message_id=m.id,
        anchor=anchor,
        at=m.date.strftime("%H:%M:%S") if m.date else None,
        status=status,
        text=excerpt(text, cap),
        length=len(text),
        cut=len(text) > cap,
    )


def _step_meta(fact: _StepFacts, *, show_model: bool) -> str:
    """The line under a transcript step's title: status, duration, tokens, stop, model."""
    s = fact.step
    return " · ".join(
        p
        for p in (
            s.status or "",
            f"{_secs(fact.end - fact.start)} (estimated)"
            if fact.start is not None and fact.end is not None
            else "",
            f"{s.total_tokens:,} tokens" if s.total_tokens is not None else "",
            f"stop {s.stop_reason}" if s.stop_reason else "",
            (s.model or "") if show_model else "",
        )
        if p
    )


def _transcript_step(
    fact: _StepFacts, messages: list[TranscriptMessage], *, show_model: bool
) -> TranscriptStep:
    """One step of the transcript, its error (if the step failed) shown after its messages."""
    s = fact.step
    return TranscriptStep(
        anchor=f"step-{fact.index}",
        title=f"Step {fact.index} · {excerpt(fact.what, 80, one_line=True)}",
        step=fact.index,
        step_id=s.id,
        outcome=fact.outcome,
        meta=_step_meta(fact, show_model=show_model),
        messages=messages
        + (
            [
                TranscriptMessage(
                    role="step error",
                    css="ret err",
                    text=excerpt(fact.error, 1_000),
                    length=len(fact.error),
                )
            ]
            if fact.error and (s.error_type or s.status == "failed")
            else []
        ),
    )


def _cut_note(cut_count: int, cap: int) -> str | None:
    """The transcript's note on messages shown cut, if any were."""
    if not cut_count:
        return None
    return (
        f"{cut_count} message{'s' if cut_count != 1 else ''} longer than {cap:,} characters "
        "shown cut (…); `letta-runs runs messages` prints them whole."
    )


def _transcript(
    ev: Evidence, facts: list[_StepFacts], referenced: set[str], *, show_model: bool
) -> tuple[list[TranscriptStep], str | None]:
    """The transcript step by step (repeats folded) and its note on messages shown cut."""
    texts = {id(m): _message_text(m) for m in ev.messages}
    groups = _transcript_groups(ev, facts)
    cap = _message_cap(groups, texts)
    cut_count = 0
    out: list[TranscriptStep] = []
    previous_key: str | None = None
    for fact, msgs in groups:
        key = _fold_key(fact, msgs, texts)
        if (
            fact is not None
            and key is not None
            and key == previous_key
            and out
            and out[-1].step is not None
            and not any(isinstance(m, UserMessage) for m in msgs)
        ):
            out[-1].folded.append(_folded_row(fact))
            continue
        previous_key = key
        messages = [_transcript_message(m, texts[id(m)], referenced, cap) for m in msgs]
        cut_count += sum(1 for m in msgs if len(texts[id(m)]) > cap)
        if fact is None:
            out.append(
                TranscriptStep(
                    anchor=f"loose-{len(out)}",
                    title="Messages outside any step",
                    messages=messages,
                )
            )
            continue
        out.append(_transcript_step(fact, messages, show_model=show_model))
    return out, _cut_note(cut_count, cap)


# --- the report ---------------------------------------------------------------------------------


def _waterfall_summary(
    diag: RunDiagnosis, facts: list[_StepFacts], loop_steps: set[int], bands: list[_LoopRange]
) -> str:
    """The waterfall in words: steps, outcomes, loops, and steps drawn without a time."""
    errors = sum(1 for f in facts if f.error)
    timed = sum(1 for f in facts if f.start is not None)
    return (
        f"{len(facts)} step{'s' if len(facts) != 1 else ''}"
        + (f" over {_secs(diag.latency.total_seconds)}" if diag.latency.total_seconds else "")
        + f": {sum(1 for f in facts if f.outcome == 'ok')} ok, {errors} with an error"
        + (f", {len(loop_steps)} in a loop" if loop_steps else "")
        + (
            "; " + "; ".join(f"loop {b.label} over steps {b.first}–{b.last}" for b in bands)
            if bands
            else ""
        )
        + "."
        + (
            f" {len(facts) - timed} step(s) have no message date and are drawn without a time."
            if facts and timed < len(facts)
            else ""
        )
    )


def _has_token_counts(ev: Evidence) -> bool:
    """Whether any step reported a prompt or completion token count."""
    return any(s.prompt_tokens or s.completion_tokens for s in ev.steps)


def _token_view(
    ev: Evidence, diag: RunDiagnosis, compactions: list[tuple[int, str]]
) -> tuple[TokenChart | None, list[tuple[int, str, str]]]:
    """The tokens-per-step chart and its data rows (none when no step counted tokens)."""
    if not _has_token_counts(ev):
        return None, []
    chart = token_chart(
        [s.prompt_tokens for s in ev.steps],
        [s.completion_tokens for s in ev.steps],
        context_window=diag.context.context_window_limit,
        compaction_steps=compactions,
    )
    rows = [
        (i, _int(s.prompt_tokens), _int(s.completion_tokens))
        for i, s in enumerate(ev.steps, start=1)
    ]
    return chart, rows


def _tokens_summary(
    ev: Evidence,
    diag: RunDiagnosis,
    step_index: dict[str, int],
    compactions: list[tuple[int, str]],
) -> str:
    """The token chart in words: peak prompt, context pressure, completions, compactions."""
    ctx = diag.context
    return (
        "No steps, so no token counts."
        if not ev.steps
        else "No step reported a token count (a model call that fails is not counted)."
        if not _has_token_counts(ev)
        else f"Prompt tokens peak at {_int(ctx.peak_prompt_tokens)}"
        + (f" (step {step_index[ctx.peak_step_id]})" if ctx.peak_step_id in step_index else "")
        + (
            f", {ctx.pressure:.0%} of the {ctx.context_window_limit:,}-token context window"
            if ctx.pressure is not None and ctx.context_window_limit
            else ""
        )
        + f"; completion tokens total {_int(diag.usage.completion_tokens)}"
        + (f"; {len(compactions)} compaction event(s)" if compactions else "; no compaction")
        + "."
    )


def _report_limitations(
    diag: RunDiagnosis, chart: Waterfall, facts: list[_StepFacts], transcript_note: str | None
) -> list[str]:
    """What the report cannot show: the diagnosis's limits, then the page's own."""
    limitations = list(diag.limitations)
    if not chart.timed and facts:
        limitations.append(
            "No message of this run carries a date: the waterfall is drawn on the step number."
        )
    if transcript_note:
        limitations.append(transcript_note)
    return limitations


def _unsettled(diag: RunDiagnosis) -> str | None:
    """Which evidence could not be read, when the diagnosis is not settled."""
    if diag.settled:
        return None
    return "could not read " + (
        ", ".join(f"/{e}" for e in diag.missing_evidence) or "some evidence"
    )


def build_run_report(
    ev: Evidence,
    diag: RunDiagnosis | None = None,
    *,
    now: datetime | None = None,
    fleet_link: str | None = None,
) -> RunReport:
    """Everything the HTML post-mortem of ``ev``'s run shows (diagnosed here if ``diag`` is None).

    >>> report = build_run_report(load_bundle("loop.bundle.json"))   # doctest: +SKIP
    >>> [b.label for b in report.waterfall.bars]                      # doctest: +SKIP
    ['1–50 · lab_add ×50']
    """
    diag = diag or diagnose(ev, now=now)
    step_index = {s.id: i for i, s in enumerate(ev.steps, start=1)}
    records = tool_call_records(ev.messages)
    bands, loop_steps = _loop_ranges(diag, records, step_index)
    facts = _step_facts(ev, _step_messages(ev), loop_steps)
    spans = _spans(facts, bands)
    chart = waterfall(spans)
    rows = _step_rows(spans)
    compactions = _compaction_steps(diag, len(ev.steps))
    tokens, token_rows = _token_view(ev, diag, compactions)
    tool_rows, tool_errors = _tool_call_rows(ev, records, step_index)
    tool_call_count = sum(c.count for c in tool_rows)
    findings = _finding_rows(diag, step_index)
    models = sorted({s.model for s in ev.steps if s.model})
    cited = {m for f in diag.findings for m in [f.message_id, *f.evidence_ids] if m}
    transcript, transcript_note = _transcript(ev, facts, cited, show_model=len(models) > 1)
    return RunReport(
        run_id=diag.run_id,
        agent_id=diag.agent_id,
        verdict=diag.verdict,
        headline=diag.headline.removeprefix(f"{diag.verdict}: "),
        long_headline=len(diag.headline) > 110,
        unsettled=_unsettled(diag),
        status=diag.status,
        stop_reason=diag.effective_stop_reason or diag.stop_reason,
        root_cause=next((f for f in findings if f.is_root), None),
        remedies=_remedies(diag),
        next_steps=list(diag.next_steps),
        figures=_figures(diag, tool_call_count, tool_errors),
        findings=findings,
        waterfall=chart,
        waterfall_summary=_waterfall_summary(diag, facts, loop_steps, bands),
        step_rows=rows[:TABLE_ROWS],
        step_rows_omitted=max(len(rows) - TABLE_ROWS, 0),
        tokens=tokens,
        tokens_summary=_tokens_summary(ev, diag, step_index, compactions),
        token_rows=token_rows[:TABLE_ROWS],
        token_rows_omitted=max(len(token_rows) - TABLE_ROWS, 0),
        models=models,
        compactions=[f"step {s}: {label}" for s, label in compactions],
        tool_calls=tool_rows,
        tool_call_count=tool_call_count,
        transcript=transcript,
        transcript_note=transcript_note,
        limitations=_report_limitations(diag, chart, facts, transcript_note),
        created_at=diag.created_at.isoformat() if diag.created_at else None,
        generated_at=(now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        source=diag.source,
        fleet_link=fleet_link,
    )
