"""The measurements pass: tokens, time and context, each from the most exact source."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from ..evidence import Evidence
from .facts import RunFacts, is_input
from .findings import Finding
from .result import ContextSummary, LatencySummary, StepDuration, UsageSummary

__all__ = [
    "CONTEXT_PRESSURE_RATIO",
    "SLOW_STEP_FACTOR",
    "SLOW_STEP_SECONDS",
    "context_findings",
    "context_summary",
    "latency_summary",
    "slow_step_findings",
    "step_durations",
    "usage_summary",
]

CONTEXT_PRESSURE_RATIO = 0.8
SLOW_STEP_SECONDS = 30.0
SLOW_STEP_FACTOR = 5.0


def _sum_optional(values: list[int | None]) -> int | None:
    """The sum of the known values; ``None`` (unknown) when no value is known, ``0`` for no
    steps at all."""
    present = [v for v in values if v is not None]
    return sum(present) if present or not values else None


def step_durations(ev: Evidence) -> list[StepDuration]:
    """Per-step durations estimated from message dates (steps carry no timestamps)."""
    run = ev.run
    start: datetime | None = run.created_at
    end_of_run: datetime | None = run.completed_at
    if ev.metrics and ev.metrics.run_start_ns:
        start = datetime.fromtimestamp(ev.metrics.run_start_ns / 1e9, tz=UTC)
        if ev.metrics.run_ns:
            end_of_run = start + timedelta(seconds=ev.metrics.run_ns / 1e9)
    last_date: dict[str, datetime] = {}
    for msg in ev.messages:
        if msg.step_id and msg.date and not is_input(msg):
            prev = last_date.get(msg.step_id)
            last_date[msg.step_id] = msg.date if prev is None else max(prev, msg.date)
    out: list[StepDuration] = []
    previous_end = start
    for i, step in enumerate(ev.steps):
        end = last_date.get(step.id)
        if i == len(ev.steps) - 1 and end_of_run is not None and step.status != "pending":
            end = max(end, end_of_run) if end else end_of_run
        seconds = None
        if end is not None and previous_end is not None:
            seconds = max((end - previous_end).total_seconds(), 0.0)
        out.append(
            StepDuration(
                index=i + 1, step_id=step.id, seconds=seconds, total_tokens=step.total_tokens
            )
        )
        if end is not None:
            previous_end = end
    return out


def usage_summary(f: RunFacts) -> UsageSummary:
    """Tokens from every step; when ``/steps`` could not be read, ``/usage``'s figures (which
    cover only the newest 50 steps) or unknown — never zero."""
    reported = f.ev.usage
    endpoint_total = reported.total_tokens if reported else None
    if not f.steps_read:
        return UsageSummary(
            prompt_tokens=reported.prompt_tokens if reported else None,
            completion_tokens=reported.completion_tokens if reported else None,
            total_tokens=endpoint_total,
            step_count=None,
            usage_endpoint_total_tokens=endpoint_total,
            source="usage_endpoint" if endpoint_total is not None else None,
        )
    steps = f.steps
    return UsageSummary(
        prompt_tokens=_sum_optional([s.prompt_tokens for s in steps]),
        completion_tokens=_sum_optional([s.completion_tokens for s in steps]),
        total_tokens=_sum_optional([s.total_tokens for s in steps]),
        cached_tokens=_sum_optional([s.cached_tokens for s in steps]),
        reasoning_tokens=_sum_optional([s.reasoning_token_count for s in steps]),
        step_count=len(steps),
        usage_endpoint_total_tokens=endpoint_total,
        source="steps",
    )


def latency_summary(f: RunFacts, durations: list[StepDuration]) -> LatencySummary:
    run, metrics = f.run, f.ev.metrics
    known = [d for d in durations if d.seconds is not None]
    wall = (
        (run.completed_at - run.created_at).total_seconds()
        if run.completed_at and run.created_at
        else None
    )
    measured = metrics.run_ns / 1e9 if metrics and metrics.run_ns else None
    total = measured if measured is not None else wall
    return LatencySummary(
        total_seconds=round(total, 3) if total is not None else None,
        wall_seconds=round(wall, 3) if wall is not None else None,
        ttft_seconds=run.ttft_ns / 1e9 if run.ttft_ns else None,
        source="metrics.run_ns"
        if measured is not None
        else ("timestamps" if wall is not None else None),
        age_seconds=round(f.age, 3) if f.age is not None and not f.terminal else None,
        slowest_steps=sorted(known, key=lambda d: d.seconds or 0.0, reverse=True)[:3],
    )


def slow_step_findings(durations: list[StepDuration]) -> list[Finding]:
    """A step is slow when it took ≥ 30 s and ≥ 5× the median step (or is the only step)."""
    known = [d for d in durations if d.seconds is not None]
    if not known:
        return []
    median = statistics.median(d.seconds or 0.0 for d in known)
    out: list[Finding] = []
    for d in known:
        seconds = d.seconds or 0.0
        if seconds >= SLOW_STEP_SECONDS and (
            len(known) == 1 or seconds >= SLOW_STEP_FACTOR * max(median, 1.0)
        ):
            out.append(
                Finding(
                    kind="slow_step",
                    severity="info",
                    summary=f"Step {d.index} took about {seconds:.0f} s",
                    step_id=d.step_id,
                )
            )
    return out


def context_summary(f: RunFacts) -> ContextSummary:
    steps = f.steps
    limit = max((s.context_window_limit for s in steps if s.context_window_limit), default=None)
    peak_step = max(steps, key=lambda s: s.prompt_tokens or 0, default=None)
    peak = peak_step.prompt_tokens if peak_step else None
    return ContextSummary(
        context_window_limit=limit,
        peak_prompt_tokens=peak,
        peak_step_id=peak_step.id if peak_step and peak else None,
        pressure=round(peak / limit, 3) if peak and limit else None,
    )


def context_findings(context: ContextSummary) -> list[Finding]:
    pressure = context.pressure
    if pressure is None or pressure < CONTEXT_PRESSURE_RATIO:
        return []
    return [
        Finding(
            kind="context_pressure",
            severity="warning",
            summary=f"The prompt reached {pressure:.0%} of the "
            f"{context.context_window_limit}-token context window",
            step_id=context.peak_step_id,
        )
    ]
