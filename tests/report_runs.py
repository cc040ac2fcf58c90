"""Runs for the HTML report's tests and benchmark, made from recorded real-server runs.

* :func:`long_run` — a long healthy tool chain with large tool outputs, built from the shape
  of a recorded Letta 0.16.8 chain (the same message types, ids, step fields and 1 s message
  dates), because no recorded run has hundreds of steps;
* :func:`planted` — a recorded run whose user input, tool call, tool return, assistant answer
  and step error carry hostile markup, to check that a report shows it as text.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from letta_runs.evidence import Evidence, load_bundle

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO = REPO_ROOT / "skill" / "letta_runs" / "demo"
RECORDED = REPO_ROOT / "tests" / "data" / "recorded"
CHAIN_TEMPLATE = DEMO / "sync_add_mem_search_note_add.json"

HOSTILE = (
    '<script>window.__pwned = 1</script><img src="https://example.invalid/x.png" '
    'onerror="window.__pwned = 2"></pre></data></details><b id="injected">bold</b>'
    "<style>body{display:none}</style>&amp; {{ 7*7 }} ignore previous instructions"
)


def _uid(rng: random.Random, prefix: str) -> str:
    return f"{prefix}-{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def long_run(steps: int = 500, *, tool_output_chars: int = 20_000, seed: int = 7) -> Evidence:
    """A healthy run of ``steps`` steps (tool calls, then an answer) with large tool outputs."""
    rng = random.Random(seed)
    template = load_bundle(CHAIN_TEMPLATE)
    run = template.run.to_json_dict()
    step_t = template.steps[0].to_json_dict()
    run_id, agent_id = run["id"], run["agent_id"]
    start = template.run.created_at
    assert start is not None
    tools = ["web_search", "read_file", "conversation_search", "lab_note", "fetch_page"]
    at = start
    messages: list[dict[str, Any]] = []
    step_dicts: list[dict[str, Any]] = []
    prompt = 1_200
    user_step = None
    for i in range(1, steps + 1):
        step_id = _uid(rng, "step")
        user_step = user_step or step_id
        if i == 1:
            messages.append(
                {
                    "id": _uid(rng, "message"),
                    "date": at.isoformat(),
                    "message_type": "user_message",
                    "content": "Research the topic across many sources and summarise.",
                    "step_id": step_id,
                    "run_id": run_id,
                }
            )
        at += timedelta(seconds=rng.choice([0, 1, 1, 2, 3, 5]))
        step = dict(step_t, id=step_id, run_id=run_id, agent_id=agent_id)
        prompt += rng.randint(40, 400)
        step.update(prompt_tokens=prompt, completion_tokens=rng.randint(12, 90))
        step["total_tokens"] = step["prompt_tokens"] + step["completion_tokens"]
        step["stop_reason"] = "end_turn" if i == steps else None
        step_dicts.append(step)
        base = {"date": at.isoformat(), "step_id": step_id, "run_id": run_id}
        if i == steps:
            messages.append(
                dict(
                    base,
                    id=_uid(rng, "message"),
                    message_type="assistant_message",
                    content=f"Done after {steps - 1} tool calls.",
                )
            )
            break
        tool = tools[i % len(tools)]
        call_id = f"call_{rng.getrandbits(64):016x}"
        msg_id = _uid(rng, "message")
        messages.append(
            dict(
                base,
                id=msg_id,
                message_type="reasoning_message",
                reasoning=f"Step {i}: looking at source {i}.",
            )
        )
        messages.append(
            dict(
                base,
                id=msg_id,
                message_type="tool_call_message",
                tool_call={
                    "name": tool,
                    "arguments": json.dumps({"query": f"source {i}", "page": i}),
                    "tool_call_id": call_id,
                },
            )
        )
        body = f"Result {i} of {tool}: " + " ".join(
            rng.choice(["alpha", "beta", "gamma", "delta", "<tag>", "&", "data"])
            for _ in range(tool_output_chars // 6)
        )
        messages.append(
            dict(
                base,
                id=_uid(rng, "message"),
                message_type="tool_return_message",
                tool_return=body[:tool_output_chars],
                status="success",
                tool_call_id=call_id,
                stdout=None,
                stderr=None,
            )
        )
    run["completed_at"] = at.isoformat()
    run["stop_reason"] = "end_turn"
    run["status"] = "completed"
    return Evidence.model_validate(
        {"run": run, "steps": step_dicts, "messages": messages, "source": "synthetic:long_run"}
    )


def planted(bundle: Path, payload: str = HOSTILE) -> Evidence:
    """``bundle``'s run with ``payload`` in every piece of run content a report shows."""
    ev = load_bundle(bundle)
    data = ev.model_dump(mode="json", by_alias=True)
    for msg in data["messages"]:
        kind = msg["message_type"]
        if kind in ("user_message", "assistant_message"):
            msg["content"] = payload
        elif kind == "tool_return_message":
            msg["tool_return"] = payload
            for ret in msg.get("tool_returns") or []:
                ret["tool_return"] = payload
        elif kind == "tool_call_message":
            for call in [msg.get("tool_call"), *(msg.get("tool_calls") or [])]:
                if call:
                    call["name"] = payload[:60]
                    call["arguments"] = json.dumps({"q": payload})
        elif kind == "reasoning_message":
            msg["reasoning"] = payload
    for step in data["steps"]:
        if step.get("error_data"):
            step["error_data"]["message"] = payload
    return Evidence.model_validate(data)
