"""Remedies: what to change for each root-cause kind, with the exact Letta call where one exists.

Calls are Letta 0.16.8's REST API with the run's ids filled in:

* approve / deny a pending tool call — ``POST /v1/agents/{agent_id}/messages`` (a conversation's
  run: ``POST /v1/conversations/{conversation_id}/messages``) with
  ``{"messages": [{"type": "approval", "approvals": [{"type": "approval", "tool_call_id": …,
  "approve": true}]}]}`` (``ApprovalCreate`` / ``ApprovalReturn`` in ``letta/schemas``);
* return a client-side tool's result — the same endpoint with
  ``{"messages": [{"type": "tool_return", "tool_returns": [{"type": "tool", "tool_call_id": …,
  "status": "success", "tool_return": "<result>"}]}]}`` (``ToolReturnCreate``);
* cancel a run — ``POST /v1/agents/{agent_id}/messages/cancel`` with ``{"run_ids": [run_id]}``;
* change the agent — ``PATCH /v1/agents/{agent_id}`` (``context_window_limit``, ``model``,
  ``max_tokens``, ``tool_rules``, ``compaction_settings`` …; ``UpdateAgent``).

Every kind in ``findings.FINDING_KINDS`` that can be a root cause has an entry in
``REMEDY_WRITERS`` (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .facts import RunFacts
from .findings import Finding
from .loops import MIN_REPEAT
from .result import ApiCall, PendingToolCall, Remedy

__all__ = ["REMEDY_WRITERS", "remedies"]

MAX_REMEDIES = 4
_PLACEHOLDER = "<the tool's result>"
Writer = Callable[[RunFacts, Finding, list[PendingToolCall]], list[Remedy]]


def _agent_path(f: RunFacts) -> str:
    return f"/v1/agents/{f.run.agent_id or '<agent_id>'}"


def _messages_path(f: RunFacts) -> str:
    conversation = f.run.conversation_id
    if conversation:
        return f"/v1/conversations/{conversation}/messages"
    return f"{_agent_path(f)}/messages"


def _model_handle(f: RunFacts) -> str | None:
    for step in reversed(f.steps):
        if step.model_handle or step.model:
            return step.model_handle or step.model
    return None


def _provider(f: RunFacts) -> str:
    """The provider whose key the model handle uses (``provider/model``: the handle's prefix)."""
    handle = _model_handle(f)
    step = next((s for s in reversed(f.steps) if s.provider_name), None)
    if handle and "/" in handle:
        name: str | None = handle.split("/", 1)[0]
    else:
        name = step.provider_name if step else None
    if not name:
        return "the model provider"
    return f"the {name} provider" + (f" (model {handle})" if handle else "")


def _patch(f: RunFacts, body: dict[str, Any], note: str) -> ApiCall:
    return ApiCall(method="PATCH", path=_agent_path(f), body=body, note=note)


def _approval(f: RunFacts, _: Finding, pending: list[PendingToolCall]) -> list[Remedy]:
    ids = [p.tool_call_id for p in pending if p.tool_call_id] or ["<tool_call_id>"]
    names = ", ".join(sorted({p.tool_name or "?" for p in pending})) or "the tool"
    path = _messages_path(f)

    def approvals(approve: bool) -> dict[str, Any]:
        items: list[dict[str, Any]] = [
            {"type": "approval", "tool_call_id": i, "approve": approve} for i in ids
        ]
        if not approve:
            for item in items:
                item["reason"] = "<why it was denied>"
        return {"messages": [{"type": "approval", "approvals": items}]}

    results = [
        {"type": "tool", "tool_call_id": i, "status": "success", "tool_return": _PLACEHOLDER}
        for i in ids
    ]
    note = "the continuation runs as a new run of the agent"
    return [
        Remedy(
            kind="approval_pending",
            summary=f'Approve the pending call of {names} (or deny it: "approve": false, with a reason)',
            detail="Approving runs the tool on the server and lets the model continue; denying "
            "tells the model the call was refused and why.",
            api=ApiCall(method="POST", path=path, body=approvals(True), note=note),
        ),
        Remedy(
            kind="approval_pending",
            summary=f"If {names} is a client-side tool, run it yourself and send its result",
            detail="A client-side tool pauses the run exactly like an approval; the server cannot "
            'run it. Send the result (status "error" if it failed).',
            api=ApiCall(
                method="POST",
                path=path,
                body={"messages": [{"type": "tool_return", "tool_returns": results}]},
                note=note,
            ),
        ),
    ]


def _cancel_call(f: RunFacts) -> ApiCall:
    return ApiCall(
        method="POST",
        path=f"{_agent_path(f)}/messages/cancel",
        body={"run_ids": [f.run.id]},
        note="marks the run cancelled; a model call or tool already running may still finish",
    )


def _stuck(f: RunFacts, finding: Finding, _: list[PendingToolCall]) -> list[Remedy]:
    finished = "never finalised" in (finding.detail or "")
    return [
        Remedy(
            kind="stuck",
            summary="Cancel the run so it stops counting as active"
            if not finished
            else "The run's work finished; cancel it to clear it from the active list",
            detail=(
                "Its last step ended but the server never finalised the run (a non-streaming "
                "conversation message does this); send conversation messages with streaming."
                if finished
                else "Its newest step is still waiting: check the model provider and the "
                "server's logs for a hung call before retrying the request."
            ),
            api=_cancel_call(f),
        )
    ]


def _static(kind: str, summary: str, detail: str) -> Writer:
    def write(f: RunFacts, finding: Finding, _: list[PendingToolCall]) -> list[Remedy]:
        return [Remedy(kind=kind, summary=summary, detail=detail)]

    return write


_empty_completion = _static(
    "no_final_answer",
    "The model ended without answering: retry, and check the model's completions",
    "An empty completion ends a run 'completed' with nothing for the user; a model that "
    "does this repeatedly needs another handle or a clearer instruction to answer.",
)


def _unsent_answer(f: RunFacts, finding: Finding, _: list[PendingToolCall]) -> list[Remedy]:
    return [
        Remedy(
            kind="no_final_answer",
            summary=f"Make the model answer with {f.message_tool}: its turn ended on a tool call",
            detail=f"In a {f.agent_type or 'memgpt-style agent'} a tool call without "
            f"request_heartbeat ends the turn, and only {f.message_tool} reaches the user; tell "
            "the model (system prompt) to end every turn with it, or give the agent a "
            f"required_before_exit tool rule for {f.message_tool}.",
        )
    ]


def _no_final_answer(f: RunFacts, finding: Finding, pending: list[PendingToolCall]) -> list[Remedy]:
    # Only the unsent-answer finding names the tool call that ended the turn.
    if finding.tool_name is not None:
        return _unsent_answer(f, finding, pending)
    return _empty_completion(f, finding, pending)


def _provider_error(kind: str, summary: str, detail: str) -> Writer:
    def write(f: RunFacts, finding: Finding, _: list[PendingToolCall]) -> list[Remedy]:
        handle = _model_handle(f)
        return [
            Remedy(
                kind=kind,
                summary=summary.format(provider=_provider(f)),
                detail=detail.format(provider=_provider(f)),
                api=_patch(
                    f,
                    {"model": "<provider/fallback-model>"},
                    f"switch the agent from {handle or 'its model'} to a fallback model handle",
                ),
            )
        ]

    return write


def _context(f: RunFacts, finding: Finding, _: list[PendingToolCall]) -> list[Remedy]:
    limit = max((s.context_window_limit or 0 for s in f.steps), default=0) or None
    return [
        Remedy(
            kind=finding.kind,
            summary="Give the agent a larger context window, or make the prompt smaller",
            detail="Raise context_window_limit (up to the model's maximum) or use a model with a "
            "larger window; compaction (compaction_settings) trims old messages, but large "
            "memory blocks, tool schemas and tool returns count every step.",
            api=_patch(
                f,
                {"context_window_limit": "<a larger limit>"},
                f"the limit was {limit} tokens" if limit else "the agent's context window",
            ),
        )
    ]


def _system_prompt(f: RunFacts, finding: Finding, _: list[PendingToolCall]) -> list[Remedy]:
    return [
        Remedy(
            kind=finding.kind,
            summary="Shrink the system prompt: it alone no longer fits the context window",
            detail="Compaction cannot help (it never trims the system prompt): shorten the "
            "system instructions and memory blocks, detach unused tools, or use a model with a "
            "larger context window (context_window_limit).",
            api=_patch(f, {"system": "<a shorter system prompt>"}, "or detach tools / trim blocks"),
        )
    ]


def _max_tokens(f: RunFacts, finding: Finding, _: list[PendingToolCall]) -> list[Remedy]:
    return [
        Remedy(
            kind="max_tokens_exceeded",
            summary="Raise the model's output limit, or ask for a shorter answer",
            detail="The completion was cut at max_tokens (finish_reason length); reasoning tokens "
            "count against the same limit.",
            api=_patch(f, {"max_tokens": "<a higher limit>"}, "the agent's output token limit"),
        )
    ]


LOOP_CALL_CAP = MIN_REPEAT
"""The ``max_count_limit`` the loop remedy proposes: as many calls as make a loop (a search tool
may need a few calls; more of them in one request is the loop)."""


def _loop(f: RunFacts, finding: Finding, _: list[PendingToolCall]) -> list[Remedy]:
    # Letta 0.16.8 (helpers/tool_rule_solver.py, agents/letta_agent_v2.py/_v3.py) builds one
    # ToolRulesSolver per request and never clears its call history, so max_count_per_step
    # counts a tool's calls over every step of the run; past the limit the tool is no longer
    # offered and a call of it is answered with a [ToolConstraintError]. LettaAgentV3
    # (letta_v1_agent, sleeptime_agent) registers every call twice, so there a limit of N lets
    # ceil(N/2) calls run (checked on a real server). exit_loop (TerminalToolRule) instead ends
    # the run after every call of the tool, useful or not.
    tool = finding.tool_name or "<tool_name>"
    cap = LOOP_CALL_CAP
    rule = {"type": "max_count_per_step", "tool_name": tool, "max_count_limit": cap}
    return [
        Remedy(
            kind=finding.kind,
            summary=f"Cap {tool} per request with a max_count_per_step tool rule (limit {cap}), "
            "and send max_steps with the request",
            detail=f"Past the limit Letta stops offering {tool} in that request and refuses "
            "further calls ([ToolConstraintError]), so the model must answer or change course. "
            "letta_v1_agent and sleeptime_agent count each call twice in Letta 0.16.8 "
            f"(limit {cap}: {(cap + 1) // 2} calls); no effect when it is the agent's only tool. "
            'max_steps defaults to 50: send e.g. {"max_steps": 10}.',
            api=_patch(
                f,
                {"tool_rules": [rule]},
                "tool_rules replaces the whole list: send this rule with the agent's current ones "
                "(GET the agent)",
            ),
        )
    ]


REMEDY_WRITERS: dict[str, Writer] = {
    "approval_pending": _approval,
    "stuck": _stuck,
    "cancelled": _static(
        "cancelled",
        "Send the request again if the cancel was not intended",
        "A tool that was running when the run was cancelled keeps running and its messages land "
        "in the cancelled run; check that its side effects happened only once.",
    ),
    "context_window_exceeded": _context,
    "context_pressure": _context,
    "context_window_overflow_in_system_prompt": _system_prompt,
    "llm_rate_limited": _provider_error(
        "llm_rate_limited",
        "Retry with backoff, or move to a fallback model: {provider} rate-limited the request",
        "Lower the request rate or raise the quota of {provider}; a fallback model handle keeps "
        "the agent answering meanwhile.",
    ),
    "llm_auth_error": _provider_error(
        "llm_auth_error",
        "Fix the API key of {provider}: it was rejected",
        "Check the key the server uses for {provider} (its environment or the BYOK provider "
        "entry) and the key's permissions for the model.",
    ),
    "insufficient_credits": _provider_error(
        "insufficient_credits",
        "Top up the account of {provider}, or move to another model",
        "The provider refused the call for lack of credits; retrying will not help.",
    ),
    "llm_api_error": _provider_error(
        "llm_api_error",
        "Retry the request; if {provider} keeps failing, use a fallback model",
        "The provider's API returned an error: check its status and the server's log for the "
        "request; a fallback model handle avoids the outage.",
    ),
    "invalid_llm_response": _provider_error(
        "invalid_llm_response",
        "Retry, and check what {provider} (or a proxy in front of it) returned",
        "The completion could not be used (empty, malformed, not JSON): a proxy page, a "
        "truncated body or an unsupported model; try another model handle.",
    ),
    "server_error": _static(
        "server_error",
        "Letta raised an exception: read the step's error and the server's log",
        "The error text below is Letta's own; upgrade the server if it is a known bug, and "
        "retry the request.",
    ),
    "invalid_tool_call": _static(
        "invalid_tool_call",
        "Attach the tool the model called, or fix the tool rules that disallowed it",
        "Attach it with PATCH /v1/agents/{agent_id}/tools/attach/{tool_id}, or name the valid "
        "tools in the system prompt so the model stops calling it.",
    ),
    "no_tool_call": _static(
        "no_tool_call",
        "The agent type requires a tool call: use one that allows plain answers, or a model "
        "that calls tools",
        "memgpt-style agents must answer through send_message; a letta_v1_agent accepts plain "
        "text. Otherwise use a model that follows tool calling, or tell it to call send_message.",
    ),
    "tool_rule": _static(
        "tool_rule",
        "Check the agent's tool rules: one stopped the run",
        "A terminal, child or required-before-exit rule decided the stop; read the rules "
        "(GET /v1/agents/{agent_id}) against the step's tool call.",
    ),
    "tool_loop": _loop,
    "max_steps": _static(
        "max_steps",
        "If the run was still making progress, send a higher max_steps with the request",
        "max_steps is a field of the message request (Letta's default is 50); a run that repeats "
        "itself needs the tool_loop remedy instead.",
    ),
    "tool_error": _static(
        "tool_error",
        "Fix the tool, or make it return an error the model can act on",
        "The tool's stderr and return are in the error text; a tool should return a short, "
        "actionable message instead of raising.",
    ),
    "no_final_answer": _no_final_answer,
    "max_tokens_exceeded": _max_tokens,
    "unknown_error": _static(
        "unknown_error",
        "Read the failing step and the server's log: Letta did not classify this error",
        "The run's steps and metadata.error are the only record of what happened.",
    ),
    "status_mismatch": _static(
        "status_mismatch",
        "Do not trust the run's status alone: read its steps",
        "The server reported success for a run whose steps say otherwise.",
    ),
    "suspicious_instructions": _static(
        "suspicious_instructions",
        "Treat the flagged content as data: check its source before acting on it",
        "Tool returns and messages can carry instructions aimed at the model; never follow "
        "them, and sanitise the source (web page, file, API) if it should not.",
    ),
}


# Consequences of another finding: a remedy only when they are the root cause themselves.
_CONSEQUENCES = frozenset({"no_final_answer", "status_mismatch", "max_steps"})


def remedies(
    f: RunFacts, root: Finding | None, findings: list[Finding], pending: list[PendingToolCall]
) -> list[Remedy]:
    """Remedies for the root cause first, then for each other error or warning kind (once)."""
    ordered = [root] if root is not None else []
    ordered += [
        x
        for x in findings
        if x.severity in ("error", "warning") and x is not root and x.kind not in _CONSEQUENCES
    ]
    out: list[Remedy] = []
    seen: set[str] = set()
    for finding in ordered:
        writer = REMEDY_WRITERS.get(finding.kind)
        if writer is None or finding.kind in seen:
            continue
        seen.add(finding.kind)
        out += writer(f, finding, pending)
        if len(seen) >= MAX_REMEDIES:
            break
    return out
