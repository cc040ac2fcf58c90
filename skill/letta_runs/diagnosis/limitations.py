"""The limitations pass: what the evidence could not show, stated once, never as a finding."""

from __future__ import annotations

from .facts import RunFacts
from .findings import Finding, excerpt
from .result import UsageSummary

__all__ = ["USAGE_ENDPOINT_STEP_CAP", "limitations", "trace_findings", "trace_limitation"]

USAGE_ENDPOINT_STEP_CAP = 50


def _usage_gaps(f: RunFacts, usage: UsageSummary) -> list[str]:
    out: list[str] = []
    n = len(f.steps)
    reported = f.ev.usage.total_tokens if f.ev.usage else None
    if reported is not None and reported != usage.total_tokens:
        out.append(
            f"/usage reports {reported} total tokens but the {n} steps sum "
            f"to {usage.total_tokens}: /usage only sums the newest {USAGE_ENDPOINT_STEP_CAP} "
            "steps; the step sum is used here."
        )
    elif n > USAGE_ENDPOINT_STEP_CAP:
        out.append(
            f"/usage only sums the newest {USAGE_ENDPOINT_STEP_CAP} steps; totals here are summed "
            "over every step."
        )
    metrics = f.ev.metrics
    if metrics and metrics.num_steps is not None and metrics.num_steps != n:
        out.append(
            f"/metrics says num_steps={metrics.num_steps} but /steps lists {n} "
            "(the metric is capped at 50 and is not updated for some runs)."
        )
    return out


def trace_limitation(f: RunFacts) -> str | None:
    trace_error = f.ev.endpoint_errors.get("trace")
    if trace_error is None and f.ev.trace:
        return None
    if trace_error is not None:
        msg = excerpt(trace_error.message, 120, one_line=True)
        return f"/trace answered {trace_error.status_code}: {msg}"
    return "/trace returned no spans" if f.ev.trace is not None else "/trace was not fetched"


def limitations(f: RunFacts, usage: UsageSummary) -> list[str]:
    out = _usage_gaps(f, usage)
    if f.steps:
        out.append(
            "Steps carry no timestamps: per-step durations are estimated from message dates "
            "(1 s resolution)."
        )
    trace = trace_limitation(f)
    if trace is not None:
        out.append(
            f"No trace spans ({trace}); the absence of spans says nothing about the run's health."
        )
    for endpoint in ("steps", "messages", "usage", "metrics"):
        err = f.ev.endpoint_errors.get(endpoint)
        if err is not None:
            out.append(
                f"/{endpoint} could not be read ({err.status_code or err.kind}: "
                f"{excerpt(err.message, 120, one_line=True)}); the diagnosis is partial."
            )
    if not f.messages and f.status == "failed":
        out.append(
            "No messages: Letta does not persist the input message when the first model call fails."
        )
    return out


def trace_findings(f: RunFacts) -> list[Finding]:
    reason = trace_limitation(f)
    if reason is None:
        return []
    return [Finding(kind="trace_unavailable", severity="info", summary=f"No trace spans: {reason}")]
