"""A deterministic OpenAI-compatible model for driving a real Letta server into known states.

Standard library only, so it runs under any Python without the project's dependencies::

    python -m tests.letta_server.scripted_llm --port 18290

Behaviour is chosen by a marker in the latest user message of each chat request,
``[scenario:NAME key=value ...]``. The *step index* is the number of assistant messages that follow
that user message, which lets a scenario change behaviour at step N (Letta sends one chat request per
agent step). User messages that Letta writes itself (JSON whose ``type`` is ``heartbeat``,
``system_alert`` or ``login``: heartbeats, compaction notes) are not the user's request: the marker
is looked up before them, and only if no user-written message carries one, in them. Requests without
``tools`` are Letta's own summarisation calls and get a plain summary that, like a real model's,
keeps the user's request: it repeats the newest marker it was shown, so a scenario survives a
compaction that summarised the user's message away.

The model follows the agent type's protocol when it answers: if the request offers ``send_message``
(memgpt-style agents) a text answer goes out as a ``send_message`` call; if the tools carry
``request_heartbeat`` (agents on Letta's heartbeat loop) but there is no ``send_message``, the
answer is the call of a *result tool* (the first of ``lab_note``, ``finish_rethinking_memory``
offered) without a heartbeat; otherwise it is plain content. ``plain_text`` ignores the protocol.
A sleeptime agent's request (its user message starts with Letta's sleeptime system reminder and
quotes the foreground transcript, marker included) follows the marker's ``sleeptime=`` parameter.

| marker                                   | behaviour                                                     |
|------------------------------------------|---------------------------------------------------------------|
| ``ok_reply [reasoning=1]`` (or none)     | plain content (``reasoning_content`` added with reasoning=1)  |
| ``tool_chain_ok seq=add,mem,search,note [repeat=N] [hb=1]`` | one tool call per step (``seq`` repeated N times; ``hb=1``: each with ``request_heartbeat: true``; ``hb=1,0``: per step, ``0`` is ``request_heartbeat: false``, the last value holds for later steps), then text; ``say`` in ``seq`` answers text at that step; ``find`` searches a new query each step; ``sleep``, ``fetch``, ``finish``, ``fail`` call ``lab_sleep``, ``lab_fetch``, ``finish_rethinking_memory``, ``lab_fail`` |
| ``loop_max_steps [tool=search]``        | ``lab_add {"a":1,"b":1}`` (or ``conversation_search``) forever |
| ``tool_error [retry=N]``                 | calls ``lab_fail`` (1+N times), then text                     |
| ``llm_error code=500|503|429|400ctx|400|401|402|404 [at=N]`` | that HTTP error (from step N on)          |
| ``invalid_tool_call [always=1]``         | calls a tool name that does not exist                         |
| ``invalid_llm_response kind=...``        | empty_choices, empty_message, missing_fields, length, bad_json, not_json |
| ``requires_approval``                    | calls ``lab_sensitive`` (registered as requiring approval)    |
| ``slow secs=N [tool=1]``                 | sleeps N s before every answer (tool=1: a tool step first)    |
| ``hang secs=N``                          | keeps the request open (a space / SSE comment every 5 s)      |
| ``background_stream n=N [reasoning=1]``  | N ``lab_note`` steps, then text                               |
| ``plain_text``                           | plain content, whatever the agent's protocol (``no_tool_call`` on heartbeat-loop agents) |
| ``client_tool name=X``                   | calls the client-side tool ``X``, then text quoting its return |
| ``compaction tokens=N``                  | text, reporting N prompt tokens                               |
| any marker ``huge=I,J [tokens=N]``       | steps I and J report N (200000) prompt tokens: Letta compacts after them |
| any marker ``sleeptime=ok|500``          | the sleeptime agent's run: ``memory_insert`` then ``memory_finish_edits`` (ok) or HTTP 500 |

Every request is appended as one JSON line to ``--log`` when given, so tests can count calls.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "gpt-4o-mini"
EMBEDDING_MODEL_ID = "text-embedding-3-small"
MARKER = re.compile(r"\[scenario:([A-Za-z0-9_]+)((?:\s+[A-Za-z0-9_]+=[^\s\]]+)*)\s*\]")
KEEPALIVE_EVERY_S = 5.0

_log_lock = threading.Lock()
_log_path: str | None = None


# ---------------------------------------------------------------- request analysis


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text") or part.get("content") or ""))
            else:
                parts.append(str(part))
        return "\n".join(parts)
    return "" if content is None else str(content)


SYSTEM_USER_TYPES = {"heartbeat", "system_alert", "login"}
SLEEPTIME_REMINDER = "You are a sleeptime agent"


def is_system_generated(text: str) -> bool:
    """A user message Letta wrote itself: a heartbeat, a compaction note, a login event."""
    try:
        packed = json.loads(text)
    except ValueError:
        return False
    return isinstance(packed, dict) and packed.get("type") in SYSTEM_USER_TYPES


def _scenario_message(messages: list[dict[str, Any]]) -> int | None:
    """Index of the user message that carries the request (see the module docstring)."""
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    for index in reversed(users):
        text = _text_of(messages[index].get("content"))
        if not is_system_generated(text):
            return index
    for index in reversed(users):
        if MARKER.search(_text_of(messages[index].get("content"))):
            return index
    return users[-1] if users else None


def parse_scenario(messages: list[dict[str, Any]]) -> tuple[str, dict[str, str], int]:
    """Return (scenario name, parameters, step index) for a chat request's messages."""
    index = _scenario_message(messages)
    if index is None:
        return "ok_reply", {}, 0
    step = sum(1 for m in messages[index + 1 :] if m.get("role") == "assistant")
    match = MARKER.search(_text_of(messages[index].get("content")))
    if not match:
        return "ok_reply", {}, step
    params = dict(pair.split("=", 1) for pair in match.group(2).split())
    return match.group(1), params, step


def is_sleeptime_request(messages: list[dict[str, Any]]) -> bool:
    index = _scenario_message(messages)
    return index is not None and SLEEPTIME_REMINDER in _text_of(messages[index].get("content"))


def _tool_schemas(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Tool name -> its parameters' JSON schema, for the tools the request offers."""
    schemas = {}
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and function.get("name"):
            schemas[function["name"]] = function.get("parameters") or {}
    return schemas


def _tool_names(body: dict[str, Any]) -> set[str]:
    return set(_tool_schemas(body))


def _call(name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    return {
        "name": name,
        "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
    }


SEQ_CALLS = {
    "add": lambda i: _call("lab_add", {"a": i + 1, "b": 2}),
    "mem": lambda i: _call(
        "memory_insert", {"label": "human", "new_string": f"scripted fact {i}", "insert_line": -1}
    ),
    "search": lambda i: _call("conversation_search", {"query": "scripted"}),
    "find": lambda i: _call("conversation_search", {"query": f"scripted topic {i}"}),
    "note": lambda i: _call("lab_note", {"text": f"note {i}"}),
    "sleep": lambda i: _call("lab_sleep", {"seconds": 8}),
    "fetch": lambda i: _call("lab_fetch", {"url": "https://example.com/notes"}),
    "finish": lambda i: _call("finish_rethinking_memory", {}),
    "fail": lambda i: _call("lab_fail", {"reason": "scripted failure"}),
}
# The tool a heartbeat-loop agent without send_message ends its turn with (see the docstring).
RESULT_TOOLS = ("lab_note", "finish_rethinking_memory")
HUGE_TOKENS = 200_000


class Plan:
    """What to answer: text, a tool call, an HTTP error or a malformed body."""

    def __init__(self, **fields: Any) -> None:
        self.text: str | None = fields.get("text")
        self.reasoning: str | None = fields.get("reasoning")
        self.tool_call: dict[str, Any] | None = fields.get("tool_call")
        self.error: tuple[int, dict[str, Any]] | None = fields.get("error")
        self.malformed: str | None = fields.get("malformed")
        self.delay_s: float = float(fields.get("delay_s", 0.0))
        self.hang_s: float = float(fields.get("hang_s", 0.0))
        self.prompt_tokens: int | None = fields.get("prompt_tokens")


def _error_body(code: str) -> tuple[int, dict[str, Any]]:
    if code == "400ctx":
        return 400, {
            "error": {
                "message": "This model's maximum context length is 128000 tokens. However, your messages "
                "resulted in 250000 tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        }
    status = int(code)
    kinds = {
        400: ("invalid_request_error", "Scripted bad request."),
        401: ("authentication_error", "Incorrect API key provided (scripted)."),
        402: ("insufficient_quota", "You exceeded your current quota (scripted)."),
        404: ("not_found_error", "The model does not exist (scripted)."),
        429: ("rate_limit_exceeded", "Rate limit reached (scripted)."),
        500: ("server_error", "The server had an error while processing your request (scripted)."),
        503: ("server_error", "The engine is currently overloaded (scripted)."),
    }
    kind, message = kinds.get(status, ("server_error", f"Scripted HTTP {status}."))
    return status, {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def summary_text(messages: list[dict[str, Any]]) -> str:
    """A compaction summary: a fixed sentence, plus the newest scenario marker among the messages."""
    text = "Summary (scripted): the conversation so far was a scripted test exchange."
    for message in reversed(messages):
        match = MARKER.search(_text_of(message.get("content")))
        if match:
            return f"{text} The user's latest request: {match.group(0)}"
    return text


def plan_for(body: dict[str, Any]) -> Plan:
    messages = body.get("messages") or []
    tools = _tool_schemas(body)
    if not tools:
        return Plan(text=summary_text(messages))
    name, params, step = parse_scenario(messages)
    if is_sleeptime_request(messages):
        plan = _sleeptime_plan(params.get("sleeptime", "ok"), step)
    else:
        plan = _scenario_plan(name, params, step, messages)
        if name != "plain_text":
            _follow_protocol(plan, tools)
    if str(step) in params.get("huge", "").split(","):
        plan.prompt_tokens = int(params.get("tokens", HUGE_TOKENS))
    return plan


def _follow_protocol(plan: Plan, tools: dict[str, dict[str, Any]]) -> None:
    """Agents on Letta's heartbeat loop must answer through a tool call (see the docstring)."""
    if plan.text is None or plan.malformed or plan.error:
        return
    if "send_message" in tools:
        plan.tool_call, plan.text = _call("send_message", {"message": plan.text}), None
        return
    heartbeat_loop = any(
        "request_heartbeat" in (schema.get("properties") or {}) for schema in tools.values()
    )
    result_tool = next((tool for tool in RESULT_TOOLS if tool in tools), None)
    if heartbeat_loop and result_tool is not None:
        arguments = {"text": plan.text} if result_tool == "lab_note" else {}
        plan.tool_call, plan.text = _call(result_tool, arguments), None


def _sleeptime_plan(kind: str, step: int) -> Plan:
    """A sleeptime agent's background run: store a fact, then finish editing (or fail)."""
    if kind == "500":
        return Plan(error=_error_body("500"))
    if step == 0:
        return Plan(
            tool_call=_call(
                "memory_insert",
                {"label": "human", "new_string": "Sleeptime note (scripted).", "insert_line": -1},
            )
        )
    if step == 1:
        return Plan(tool_call=_call("memory_finish_edits", {}))
    return Plan(text="Memory is up to date (scripted).")


def _last_tool_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "tool":
            return _text_of(message.get("content"))
    return ""


def _scenario_plan(
    name: str, params: dict[str, str], step: int, messages: list[dict[str, Any]]
) -> Plan:
    reasoning = "Thinking about the scripted request." if params.get("reasoning") == "1" else None

    def text(message: str) -> Plan:
        return Plan(text=message, reasoning=reasoning)

    def call(tool_call: dict[str, Any]) -> Plan:
        return Plan(tool_call=tool_call, reasoning=reasoning)

    if name == "tool_chain_ok":
        seq = [
            s
            for s in params.get("seq", "add,mem,search,note").split(",")
            if s in SEQ_CALLS or s == "say"
        ]
        seq = seq * int(params.get("repeat", "1"))
        if step < len(seq) and seq[step] == "say":
            return text(f"An answer in the middle of the chain, step {step} (scripted).")
        if step < len(seq):
            tool_call = SEQ_CALLS[seq[step]](step)
            heartbeats = params.get("hb", "").split(",")
            heartbeat = heartbeats[min(step, len(heartbeats) - 1)]
            if heartbeat in ("0", "1"):
                arguments = json.loads(tool_call["arguments"])
                tool_call = _call(
                    tool_call["name"], {**arguments, "request_heartbeat": heartbeat == "1"}
                )
            return call(tool_call)
        return text("All tools ran (scripted).")
    if name == "plain_text":
        return text("A plain answer without any tool call (scripted).")
    if name == "client_tool":
        if step == 0:
            return call(_call(params.get("name", "client_lookup"), {"key": "weather"}))
        return text(f"The client tool returned: {_last_tool_text(messages)[:200]} (scripted).")
    if name == "loop_max_steps":
        if params.get("tool") == "search":
            return call(_call("conversation_search", {"query": "loop"}))
        return call(_call("lab_add", {"a": 1, "b": 1}))
    if name == "tool_error":
        if step <= int(params.get("retry", "0")):
            return call(_call("lab_fail", {"reason": "scripted failure"}))
        return text("The tool failed; giving up (scripted).")
    if name == "llm_error":
        if step >= int(params.get("at", "0")):
            return Plan(error=_error_body(params.get("code", "500")))
        return call(_call("lab_add", {"a": step, "b": 1}))
    if name == "invalid_tool_call":
        if step == 0 or params.get("always") == "1":
            return call(_call("lab_does_not_exist", {"x": 1}))
        return text("That tool did not exist (scripted).")
    if name == "invalid_llm_response":
        kind = params.get("kind", "empty_message")
        if kind == "length":
            return Plan(text="This answer was cut off because it ran out of to", malformed="length")
        if kind == "bad_json":
            if step == 0:
                return call(_call("lab_add", '{"a": 1, "b": '))
            return text("Recovered from bad arguments (scripted).")
        return Plan(malformed=kind)
    if name == "requires_approval":
        if step == 0:
            return call(_call("lab_sensitive", {"action": "delete the scratch file"}))
        if "denied" in _last_tool_text(messages):
            return text("The request was denied, so nothing was done (scripted).")
        return text("The sensitive action is done (scripted).")
    if name == "slow":
        delay = float(params.get("secs", "10"))
        if params.get("tool") == "1" and step == 0:
            plan = call(_call("lab_add", {"a": 2, "b": 2}))
        else:
            plan = text("Finally answering (scripted, slow).")
        plan.delay_s = delay
        return plan
    if name in ("hang", "stuck_running"):
        return Plan(
            text="Answer after a long hang (scripted).", hang_s=float(params.get("secs", "86400"))
        )
    if name == "background_stream":
        if step < int(params.get("n", "2")):
            return call(_call("lab_note", {"text": f"background step {step}"}))
        return text("Background work finished (scripted).")
    if name == "compaction":
        plan = text("Reporting a huge context (scripted).")
        plan.prompt_tokens = int(params.get("tokens", HUGE_TOKENS))
        return plan
    return text(
        f"Scripted reply {hashlib.sha1(json.dumps(messages[-1:]).encode()).hexdigest()[:8]}."
    )


# ---------------------------------------------------------------- response building


def _usage(plan: Plan) -> dict[str, int]:
    prompt = plan.prompt_tokens or 2000
    completion = 15
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _call_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


def completion_body(plan: Plan, model: str) -> dict[str, Any]:
    created = int(time.time())
    base: dict[str, Any] = {
        "id": "chatcmpl-" + uuid.uuid4().hex[:24],
        "object": "chat.completion",
        "created": created,
        "model": model,
    }
    if plan.malformed == "missing_fields":
        return {"id": base["id"], "object": "chat.completion", "model": model}
    if plan.malformed == "empty_choices":
        return {**base, "choices": [], "usage": _usage(plan)}
    message: dict[str, Any] = {"role": "assistant", "content": None}
    finish = "stop"
    if plan.malformed == "empty_message":
        pass
    elif plan.tool_call is not None:
        message["tool_calls"] = [{"id": _call_id(), "type": "function", "function": plan.tool_call}]
        finish = "tool_calls"
    else:
        message["content"] = plan.text
        if plan.malformed == "length":
            finish = "length"
    if plan.reasoning:
        message["reasoning_content"] = plan.reasoning
    return {
        **base,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": _usage(plan),
    }


def stream_chunks(plan: Plan, model: str, include_usage: bool) -> list[dict[str, Any]]:
    created = int(time.time())
    cid = "chatcmpl-" + uuid.uuid4().hex[:24]

    def chunk(
        delta: dict[str, Any] | None, finish: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        choices = (
            []
            if delta is None
            else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        )
        return {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": choices,
            **extra,
        }

    if plan.malformed == "empty_choices":
        return [chunk(None)]
    chunks = [chunk({"role": "assistant", "content": ""})]
    finish = "stop"
    if plan.reasoning:
        for piece in _pieces(plan.reasoning):
            chunks.append(chunk({"reasoning_content": piece}))
    if plan.malformed == "empty_message":
        pass
    elif plan.tool_call is not None:
        call_id = _call_id()
        chunks.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": plan.tool_call["name"], "arguments": ""},
                        }
                    ]
                }
            )
        )
        for piece in _pieces(plan.tool_call["arguments"]):
            chunks.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        finish = "tool_calls"
    elif plan.text:
        for piece in _pieces(plan.text):
            chunks.append(chunk({"content": piece}))
        if plan.malformed == "length":
            finish = "length"
    chunks.append(chunk({}, finish))
    if include_usage:
        chunks.append(chunk(None, usage=_usage(plan)))
    return chunks


def _pieces(text: str, size: int = 12) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def embedding_body(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("input")
    if isinstance(inputs, str) or (
        isinstance(inputs, list) and inputs and isinstance(inputs[0], int)
    ):
        inputs = [inputs]
    dims = int(body.get("dimensions") or 1536)
    data = []
    for index, item in enumerate(inputs or []):
        seed = hashlib.sha256(json.dumps(item).encode()).digest()
        vector = [((seed[i % len(seed)] + i) % 97) / 97.0 - 0.5 for i in range(dims)]
        data.append({"object": "embedding", "index": index, "embedding": vector})
    return {
        "object": "list",
        "data": data,
        "model": body.get("model", EMBEDDING_MODEL_ID),
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }


# ---------------------------------------------------------------- HTTP


class ScriptedHandler(BaseHTTPRequestHandler):
    server_version = "scripted-llm/1"
    protocol_version = (
        "HTTP/1.0"  # close-delimited bodies let a hang trickle bytes without a length
    )

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/models"):
            now = int(time.time())
            self._json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": MODEL_ID, "object": "model", "created": now, "owned_by": "scripted"},
                        {
                            "id": EMBEDDING_MODEL_ID,
                            "object": "model",
                            "created": now,
                            "owned_by": "scripted",
                        },
                    ],
                },
            )
        elif path in ("", "/health", "/v1/health"):
            self._json(200, {"status": "ok"})
        else:
            self._json(
                404, {"error": {"message": f"no route {self.path}", "type": "not_found_error"}}
            )

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._json(
                400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}}
            )
            return
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/embeddings"):
            self._json(200, embedding_body(body))
            return
        if not path.endswith("/chat/completions"):
            self._json(
                404, {"error": {"message": f"no route {self.path}", "type": "not_found_error"}}
            )
            return
        plan = plan_for(body)
        name, params, step = parse_scenario(body.get("messages") or [])
        _log(
            {
                "t": time.time(),
                "scenario": name,
                "params": params,
                "step": step,
                "stream": bool(body.get("stream")),
                "tools": bool(body.get("tools")),
                "error": plan.error[0] if plan.error else None,
                "malformed": plan.malformed,
            }
        )
        if plan.delay_s:
            time.sleep(plan.delay_s)
        if plan.error:
            self._json(*plan.error)
            return
        model = str(body.get("model") or MODEL_ID)
        streaming = bool(body.get("stream"))
        if plan.malformed == "not_json":
            data = b"<html><body>Scripted gateway page</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if streaming:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self._hang(plan.hang_s, b": keep-alive\n\n")
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            for item in stream_chunks(plan, model, include_usage):
                self.wfile.write(b"data: " + json.dumps(item).encode() + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            return
        if plan.hang_s:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self._hang(plan.hang_s, b" ")
            self.wfile.write(json.dumps(completion_body(plan, model)).encode())
            return
        self._json(200, completion_body(plan, model))

    def _hang(self, seconds: float, keepalive: bytes) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.wfile.write(keepalive)
            self.wfile.flush()
            time.sleep(min(KEEPALIVE_EVERY_S, max(0.0, deadline - time.monotonic())))


def _log(entry: dict[str, Any]) -> None:
    if not _log_path:
        return
    with _log_lock, open(_log_path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


class ScriptedLLMServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(host: str, port: int, log_path: str | None = None) -> None:
    global _log_path
    _log_path = log_path
    server = ScriptedLLMServer((host, port), ScriptedHandler)
    print(f"scripted LLM listening on http://{host}:{server.server_address[1]}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Deterministic OpenAI-compatible model for Letta tests."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--log", default=None, help="append one JSON line per chat request to this file"
    )
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
