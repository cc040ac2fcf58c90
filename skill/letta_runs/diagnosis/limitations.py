"""The limitations pass: what the evidence could not show, stated once, never as a finding."""

from __future__ import annotations

from .facts import RunFacts
from .findings import excerpt
from .outcome import rests_on_agent_type
from .result import RunOutcome, UsageSummary

__all__ = ["USAGE_ENDPOINT_STEP_CAP", "limitations", "trace_limitation"]

USAGE_ENDPOINT_STEP_CAP = 50


def _usage_gaps(f: RunFacts, usage: UsageSummary) -> list[str]:
    """Where ``/usage`` and ``/metrics`` (newest 50 steps only) disagree with the steps."""
    if not f.steps_read:
        return [
            "/steps could not be read: the step count is unknown"
            + (
                "; tokens come from /usage, which sums only the newest "
                f"{USAGE_ENDPOINT_STEP_CAP} steps"
                if usage.source == "usage_endpoint"
                else "; tokens are unknown"
            )
            + "."
        ]
    out: list[str] = []
    n = len(f.steps)
    reported = f.ev.usage.total_tokens if f.ev.usage else None
    if reported is not None and usage.total_tokens is not None and reported != usage.total_tokens:
        gap = usage.total_tokens - reported
        out.append(
            f"/usage reports {reported} total tokens but the {n} steps sum to "
            f"{usage.total_tokens} (a gap of {gap:+d}): /usage only sums the newest "
            f"{USAGE_ENDPOINT_STEP_CAP} steps; the step sum is used here."
        )
    elif n > USAGE_ENDPOINT_STEP_CAP:
        out.append(
            f"/usage only sums the newest {USAGE_ENDPOINT_STEP_CAP} steps; totals here are summed "
            "over every step."
        )
    metrics = f.ev.metrics
    if metrics and metrics.num_steps is not None and metrics.num_steps != n:
        out.append(
            f"/metrics says num_steps={metrics.num_steps} but /steps lists {n}: the metric "
            f"covers at most {USAGE_ENDPOINT_STEP_CAP} steps; the step list is used here."
        )
    return out


def _missing(f: RunFacts) -> list[str]:
    out: list[str] = []
    for endpoint in f.missing:
        err = f.ev.endpoint_errors.get(endpoint)
        if err is not None:
            why = f"{err.status_code or err.kind}: {excerpt(err.message, 120, one_line=True)}"
        elif endpoint == "messages":
            why = "the request kept only some message types (include_return_message_types)"
        else:
            why = "the server listed none although messages name steps"
        out.append(f"/{endpoint} could not be read ({why}); nothing here rests on it.")
    return out


def trace_limitation(f: RunFacts) -> str | None:
    trace_error = f.ev.endpoint_errors.get("trace")
    if trace_error is None and f.ev.trace:
        return None
    if trace_error is not None:
        msg = excerpt(trace_error.message, 120, one_line=True)
        return f"/trace answered {trace_error.status_code}: {msg}"
    return "/trace returned no spans" if f.ev.trace is not None else "/trace was not fetched"


def _agent_unknown(f: RunFacts, outcome: RunOutcome) -> list[str]:
    """A turn that ended on a tool call is an answer only for an agent without a message tool."""
    if not rests_on_agent_type(f, outcome):
        return []
    err = f.ev.endpoint_errors.get("agent")
    why = (
        f" ({err.status_code or err.kind}: {excerpt(err.message, 120, one_line=True)})"
        if err is not None
        else ""
    )
    tool = excerpt(outcome.tool_name or "a tool", 80)
    return [
        f"The agent's type could not be read{why}, so the turn that ended on {tool} "
        f"(request_heartbeat false) was taken as by design; if the agent has "
        f"{f.message_tool} (memgpt_agent, memgpt_v2_agent), the user got no reply."
    ]


def limitations(f: RunFacts, usage: UsageSummary, outcome: RunOutcome) -> list[str]:
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
    out += _missing(f)
    out += _agent_unknown(f, outcome)
    if not f.messages and f.status == "failed":
        out.append(
            "No messages: Letta does not persist the input message when the first model call fails."
        )
    return out
