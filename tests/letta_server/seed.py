"""Fill a test Letta server with runs of every scenario, through every endpoint where they differ.

    seeded = seed_runs(base_url, sql=harness.sql, llm_url=harness.llm_url)
    seeded.run_id("sync.tool_error")          # -> "run-…"
    seeded.runs["stream_bg.cancelled"].status  # what the server really produced

Agents talk to the scripted model (``scripted_llm.py``) through an explicit ``llm_config``. Each
agent works through its own *lane* of requests one at a time (the scripted model reads the latest
user message, so two requests in flight on one agent would garble each other); lanes run in
parallel. The result is stored in the database (table ``letta_runs_harness_seed``), so a second
call on the same database returns the stored seed at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

# Bump when the scenario lanes change: a stored seed of another version is never reused.
SEED_VERSION = 2
SEED_TABLE = "letta_runs_harness_seed"
# Letta refuses to replay a background run's stream once the run is 3 h old (410).
SEED_MAX_AGE_S = 2 * 3600
TERMINAL = {"completed", "failed", "cancelled"}

SqlRunner = Callable[[str], list[tuple[str, ...]]]

TOOL_SOURCES: dict[str, tuple[str, bool]] = {
    "lab_add": (
        '''
def lab_add(a: int, b: int) -> str:
    """Add two integers.

    Args:
        a (int): The first number.
        b (int): The second number.

    Returns:
        str: The sum, as text.
    """
    return str(a + b)
''',
        False,
    ),
    "lab_fail": (
        '''
def lab_fail(reason: str) -> str:
    """Always fail, to test tool errors.

    Args:
        reason (str): Why the tool should fail.

    Returns:
        str: Never returns.
    """
    import sys
    print(f"lab_fail stdout: about to fail because {reason}")
    print("lab_fail stderr: failing now", file=sys.stderr)
    raise ValueError(f"lab_fail raised on purpose: {reason}")
''',
        False,
    ),
    "lab_note": (
        '''
def lab_note(text: str) -> str:
    """Write a short note.

    Args:
        text (str): The note.

    Returns:
        str: A confirmation.
    """
    return f"noted: {text}"
''',
        False,
    ),
    "lab_sensitive": (
        '''
def lab_sensitive(action: str) -> str:
    """Perform a sensitive action that needs a human's approval.

    Args:
        action (str): What to do.

    Returns:
        str: A confirmation.
    """
    return f"done: {action}"
''',
        True,
    ),
}


@dataclass
class SeededRun:
    """One seeded run and what the server made of it."""

    label: str
    scenario: str
    endpoint: str  # sync | async | stream | stream_bg | conversation
    agent_id: str
    run_id: str
    trigger_status: int | None = None
    status: str | None = None
    stop_reason: str | None = None
    step_count: int = 0
    step_statuses: list[str] = field(default_factory=list)
    step_stop_reasons: list[str | None] = field(default_factory=list)
    step_error_types: list[str | None] = field(default_factory=list)
    note: str = ""


@dataclass
class SeededRuns:
    """What ``seed_runs`` created. ``runs`` maps labels like ``"sync.tool_error"`` to runs."""

    base_url: str
    runs: dict[str, SeededRun]
    agents: dict[str, str]  # agent name -> agent id
    tools: dict[str, str]  # tool name -> tool id
    pagination_agent_ids: list[str]
    pagination_run_ids: list[str]
    total_runs: int  # runs in the database when seeding finished
    seconds: float
    reused: bool = False

    def run_id(self, label: str) -> str:
        return self.runs[label].run_id

    def labels(self, *, scenario: str | None = None, endpoint: str | None = None) -> list[str]:
        return [
            label
            for label, run in self.runs.items()
            if (scenario is None or run.scenario == scenario)
            and (endpoint is None or run.endpoint == endpoint)
        ]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> SeededRuns:
        data = json.loads(text)
        data["runs"] = {label: SeededRun(**run) for label, run in data["runs"].items()}
        return cls(**data)


@dataclass(frozen=True)
class Trigger:
    label: str
    scenario: str
    endpoint: str
    text: str
    body_extra: dict[str, Any] = field(default_factory=dict)
    cancel_after_s: float | None = (
        None  # background stream / async: cancel this long after the run appears
    )
    detach: bool = False  # background stream: do not wait for the end (a run left running)
    approve: bool = (
        False  # sync: answer the approval request the message causes; the run is the approval's
    )


def _msg(label: str, marker: str) -> str:
    return f"{label.replace('.', ' ')} [scenario:{marker}]"


def _lanes() -> dict[str, list[Trigger]]:
    """Agent name -> its requests, in order. Markers follow the scripted model's table."""
    return {
        "lab-sync": [
            Trigger("sync.ok_reply", "ok_reply", "sync", _msg("sync.ok_reply", "ok_reply")),
            Trigger(
                "sync.ok_reply_reasoning",
                "ok_reply",
                "sync",
                _msg("sync.ok_reply_reasoning", "ok_reply reasoning=1"),
            ),
            Trigger(
                "sync.tool_chain_ok",
                "tool_chain_ok",
                "sync",
                _msg("sync.tool_chain_ok", "tool_chain_ok seq=add,mem,search,note"),
            ),
            Trigger(
                "sync.loop_max_steps_3",
                "loop_max_steps",
                "sync",
                _msg("sync.loop_max_steps_3", "loop_max_steps"),
                {"max_steps": 3},
            ),
            Trigger("sync.tool_error", "tool_error", "sync", _msg("sync.tool_error", "tool_error")),
            Trigger(
                "sync.invalid_tool_call",
                "invalid_tool_call",
                "sync",
                _msg("sync.invalid_tool_call", "invalid_tool_call"),
            ),
            Trigger(
                "sync.invalid_llm_response_empty_message",
                "invalid_llm_response",
                "sync",
                _msg(
                    "sync.invalid_llm_response_empty_message",
                    "invalid_llm_response kind=empty_message",
                ),
            ),
            Trigger(
                "sync.invalid_llm_response_length",
                "invalid_llm_response",
                "sync",
                _msg("sync.invalid_llm_response_length", "invalid_llm_response kind=length"),
            ),
            Trigger(
                "sync.invalid_llm_response_missing_fields",
                "invalid_llm_response",
                "sync",
                _msg(
                    "sync.invalid_llm_response_missing_fields",
                    "invalid_llm_response kind=missing_fields",
                ),
            ),
            Trigger(
                "sync.invalid_llm_response_empty_choices",
                "invalid_llm_response",
                "sync",
                _msg(
                    "sync.invalid_llm_response_empty_choices",
                    "invalid_llm_response kind=empty_choices",
                ),
            ),
        ],
        "lab-loop": [
            # Built-in tool: custom tools run in a fresh interpreter (seconds per call), 50 of them is slow.
            Trigger(
                "sync.loop_max_steps_default",
                "loop_max_steps",
                "sync",
                _msg("sync.loop_max_steps_default", "loop_max_steps tool=search"),
            ),
        ],
        "lab-errors": [
            Trigger(
                "sync.llm_error_500",
                "llm_error",
                "sync",
                _msg("sync.llm_error_500", "llm_error code=500"),
            ),
            Trigger(
                "sync.llm_error_429",
                "llm_error",
                "sync",
                _msg("sync.llm_error_429", "llm_error code=429"),
            ),
            Trigger(
                "sync.llm_error_500_at_1",
                "llm_error",
                "sync",
                _msg("sync.llm_error_500_at_1", "llm_error code=500 at=1"),
            ),
            Trigger(
                "sync.llm_error_400ctx",
                "llm_error",
                "sync",
                _msg("sync.llm_error_400ctx", "llm_error code=400ctx"),
            ),
        ],
        "lab-stream": [
            Trigger(
                "stream.ok_reply",
                "ok_reply",
                "stream",
                _msg("stream.ok_reply", "ok_reply reasoning=1"),
                {"stream_tokens": True},
            ),
            Trigger(
                "stream.tool_chain_ok",
                "tool_chain_ok",
                "stream",
                _msg("stream.tool_chain_ok", "tool_chain_ok seq=add,search"),
                {"stream_tokens": True},
            ),
            Trigger(
                "stream.tool_error",
                "tool_error",
                "stream",
                _msg("stream.tool_error", "tool_error"),
                {"stream_tokens": True},
            ),
            Trigger(
                "stream.llm_error_500",
                "llm_error",
                "stream",
                _msg("stream.llm_error_500", "llm_error code=500"),
            ),
            Trigger(
                "stream.invalid_llm_response_empty_choices",
                "invalid_llm_response",
                "stream",
                _msg(
                    "stream.invalid_llm_response_empty_choices",
                    "invalid_llm_response kind=empty_choices",
                ),
                {"stream_tokens": True},
            ),
        ],
        "lab-async": [
            Trigger("async.ok_reply", "ok_reply", "async", _msg("async.ok_reply", "ok_reply")),
            Trigger(
                "async.tool_chain_ok",
                "tool_chain_ok",
                "async",
                _msg("async.tool_chain_ok", "tool_chain_ok seq=search,note"),
            ),
            Trigger(
                "async.llm_error_500",
                "llm_error",
                "async",
                _msg("async.llm_error_500", "llm_error code=500"),
            ),
        ],
        "lab-bg": [
            Trigger(
                "stream_bg.background_stream",
                "background_stream",
                "stream_bg",
                _msg("stream_bg.background_stream", "background_stream n=2 reasoning=1"),
                {"background": True},
            ),
            Trigger(
                "stream_bg.llm_error_429",
                "llm_error",
                "stream_bg",
                _msg("stream_bg.llm_error_429", "llm_error code=429"),
                {"background": True},
            ),
            Trigger(
                "stream_bg.cancelled",
                "slow",
                "stream_bg",
                _msg("stream_bg.cancelled", "slow secs=6"),
                {"background": True, "stream_tokens": True},
                cancel_after_s=2.0,
            ),
        ],
        "lab-approval": [
            Trigger(
                "sync.requires_approval",
                "requires_approval",
                "sync",
                _msg("sync.requires_approval", "requires_approval"),
            ),
        ],
        "lab-stream-errors": [
            Trigger(
                "stream.llm_error_401",
                "llm_error",
                "stream",
                _msg("stream.llm_error_401", "llm_error code=401"),
            ),
            Trigger(
                "stream.llm_error_402",
                "llm_error",
                "stream",
                _msg("stream.llm_error_402", "llm_error code=402"),
            ),
            Trigger(
                "stream.llm_error_503",
                "llm_error",
                "stream",
                _msg("stream.llm_error_503", "llm_error code=503"),
            ),
        ],
        # Context-window failures make Letta compact (rewrite) the agent's history: a lane of its own.
        "lab-bg-ctx": [
            Trigger(
                "stream_bg.llm_error_400ctx",
                "llm_error",
                "stream_bg",
                _msg("stream_bg.llm_error_400ctx", "llm_error code=400ctx"),
                {"background": True},
            ),
        ],
        "lab-invalid": [
            Trigger(
                "sync.invalid_llm_response_bad_json",
                "invalid_llm_response",
                "sync",
                _msg("sync.invalid_llm_response_bad_json", "invalid_llm_response kind=bad_json"),
            ),
            Trigger(
                "sync.invalid_llm_response_not_json",
                "invalid_llm_response",
                "sync",
                _msg("sync.invalid_llm_response_not_json", "invalid_llm_response kind=not_json"),
            ),
        ],
        "lab-async-cancel": [
            # The model answers the first step with a tool call after 2 s; the cancel lands while
            # the (slow, fresh-interpreter) custom tool runs.
            Trigger(
                "async.cancelled_in_tool",
                "slow",
                "async",
                _msg("async.cancelled_in_tool", "slow secs=2 tool=1"),
                cancel_after_s=2.8,
            ),
        ],
        "lab-approval-ok": [
            Trigger(
                "sync.approval_approved",
                "requires_approval",
                "sync",
                _msg("sync.approval_approved", "requires_approval"),
                approve=True,
            ),
        ],
        "lab-conversation": [
            Trigger(
                "conversation.zombie_created",
                "ok_reply",
                "conversation",
                _msg("conversation.zombie_created", "ok_reply"),
                {"streaming": False},
            ),
        ],
        "lab-stuck": [
            Trigger(
                "stream_bg.stuck_running",
                "hang",
                "stream_bg",
                _msg("stream_bg.stuck_running", "hang secs=86400"),
                {"background": True},
                detach=True,
            ),
        ],
    }


# ---------------------------------------------------------------- HTTP plumbing


class SeedError(RuntimeError):
    pass


def _check(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise SeedError(f"{what}: HTTP {response.status_code}: {response.text[:800]}")
    return response.json()


def _get(client: httpx.Client, url: str, **kwargs: Any) -> httpx.Response:
    """GET with a few retries: a busy 2-core server sometimes resets idle keep-alive connections."""
    for attempt in range(5):
        try:
            return client.get(url, **kwargs)
        except httpx.TransportError:
            if attempt == 4:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def _agent_run_ids(client: httpx.Client, agent_id: str) -> set[str]:
    runs = _check(
        _get(client, "/v1/runs/", params={"agent_id": agent_id, "limit": 1000}),
        "listing an agent's runs",
    )
    return {run["id"] for run in runs}


def _wait_new_run(
    client: httpx.Client, agent_id: str, before: set[str], timeout: float = 60
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = _agent_run_ids(client, agent_id) - before
        if len(new) == 1:
            return new.pop()
        if len(new) > 1:
            raise SeedError(
                f"agent {agent_id} got {len(new)} new runs for one request: {sorted(new)}"
            )
        time.sleep(0.2)
    raise SeedError(f"no run appeared for agent {agent_id} within {timeout:.0f} s")


def _wait_terminal(client: httpx.Client, run_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = _check(_get(client, f"/v1/runs/{run_id}"), f"reading {run_id}")
        if run["status"] in TERMINAL or time.monotonic() > deadline:
            return dict(run)
        time.sleep(0.3)


def _send(client: httpx.Client, agent_id: str, trigger: Trigger) -> SeededRun:
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": trigger.text}],
        **trigger.body_extra,
    }
    before = _agent_run_ids(client, agent_id)
    status: int | None
    note = ""
    if trigger.endpoint == "sync":
        response = client.post(f"/v1/agents/{agent_id}/messages", json=body, timeout=600)
        status = response.status_code
        run_id = _wait_new_run(client, agent_id, before)
        if trigger.approve:
            status, run_id, note = _approve(client, agent_id, response, run_id)
    elif trigger.endpoint == "async":
        response = client.post(f"/v1/agents/{agent_id}/messages/async", json=body)
        status = response.status_code
        run_id = _check(response, "starting an async run")["id"]
        if trigger.cancel_after_s is not None:
            time.sleep(trigger.cancel_after_s)
            answer = _check(
                client.post(f"/v1/agents/{agent_id}/messages/cancel", json={"run_ids": [run_id]}),
                "cancelling",
            )
            note = f"cancel answered {json.dumps(answer)}"
    elif trigger.endpoint == "conversation":
        # Non-streaming conversation messages: Letta answers, but never finishes the run (§ zombie).
        conversation = _check(
            client.post("/v1/conversations/", params={"agent_id": agent_id}, json={}),
            "creating a conversation",
        )
        response = client.post(
            f"/v1/conversations/{conversation['id']}/messages", json=body, timeout=600
        )
        status = response.status_code
        run_id = _wait_new_run(client, agent_id, before)
        note = f"conversation {conversation['id']}; the run is never finished by the server"
        return SeededRun(
            trigger.label, trigger.scenario, trigger.endpoint, agent_id, run_id, status, note=note
        )
    elif trigger.detach or trigger.cancel_after_s is not None:
        status, run_id, note = _stream_and_act(client, agent_id, body, before, trigger)
    else:
        with client.stream(
            "POST", f"/v1/agents/{agent_id}/messages/stream", json=body, timeout=600
        ) as response:
            status = response.status_code
            for _ in response.iter_bytes():
                pass
        run_id = _wait_new_run(client, agent_id, before)
    if not trigger.detach:
        _wait_terminal(client, run_id)
    return SeededRun(
        trigger.label, trigger.scenario, trigger.endpoint, agent_id, run_id, status, note=note
    )


def _approve(
    client: httpx.Client, agent_id: str, response: httpx.Response, request_run_id: str
) -> tuple[int, str, str]:
    """Approve the tool call the previous request is waiting on; the approval starts a new run."""
    answer = _check(response, "the request that needs approval")
    pending = [m for m in answer["messages"] if m.get("message_type") == "approval_request_message"]
    if not pending:
        raise SeedError(f"no approval request in {request_run_id}: {json.dumps(answer)[:800]}")
    tool_call_id = pending[-1]["tool_call"]["tool_call_id"]
    body = {
        "messages": [
            {
                "type": "approval",
                "approvals": [{"type": "approval", "tool_call_id": tool_call_id, "approve": True}],
            }
        ]
    }
    before = _agent_run_ids(client, agent_id)
    approval = client.post(f"/v1/agents/{agent_id}/messages", json=body, timeout=600)
    run_id = _wait_new_run(client, agent_id, before)
    note = (
        f"approves {tool_call_id}, requested by {request_run_id} (left completed/requires_approval)"
    )
    return approval.status_code, run_id, note


def _stream_and_act(
    client: httpx.Client, agent_id: str, body: dict[str, Any], before: set[str], trigger: Trigger
) -> tuple[int | None, str, str]:
    """Start a background stream, then either leave it running or cancel it by run id."""
    result: dict[str, Any] = {}

    def consume() -> None:
        try:
            with client.stream(
                "POST", f"/v1/agents/{agent_id}/messages/stream", json=body, timeout=None
            ) as response:
                result["status"] = response.status_code
                for _ in response.iter_bytes():
                    if trigger.detach and "stop" in result:
                        return
        except httpx.HTTPError as exc:
            result["error"] = repr(exc)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    run_id = _wait_new_run(client, agent_id, before)
    note = ""
    if trigger.detach:
        # Wait until the run is running with a pending step, then drop the client connection:
        # a background run does not depend on it.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            run = _check(_get(client, f"/v1/runs/{run_id}"), "reading the stuck run")
            if run["status"] == "running":
                break
            time.sleep(0.3)
        result["stop"] = True
        note = "left running: the scripted model holds its request open"
    else:
        time.sleep(trigger.cancel_after_s or 0)
        answer = _check(
            client.post(f"/v1/agents/{agent_id}/messages/cancel", json={"run_ids": [run_id]}),
            "cancelling",
        )
        note = f"cancel answered {json.dumps(answer)}"
        thread.join(timeout=120)
    return result.get("status"), run_id, note


def _observe(client: httpx.Client, run: SeededRun) -> None:
    data = _check(_get(client, f"/v1/runs/{run.run_id}"), f"reading {run.run_id}")
    run.status, run.stop_reason = data["status"], data.get("stop_reason")
    steps: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, "order": "asc"}
        if after:
            params["after"] = after
        page = _check(_get(client, f"/v1/runs/{run.run_id}/steps", params=params), "listing steps")
        steps.extend(page)
        if len(page) < 100:
            break
        after = page[-1]["id"]
    run.step_count = len(steps)
    run.step_statuses = [s.get("status") for s in steps]
    run.step_stop_reasons = [s.get("stop_reason") for s in steps]
    run.step_error_types = [s.get("error_type") for s in steps]


# ---------------------------------------------------------------- setup


def _upsert_tools(client: httpx.Client) -> dict[str, str]:
    tools = {}
    for name, (source, needs_approval) in TOOL_SOURCES.items():
        body = {
            "source_code": source.strip() + "\n",
            "source_type": "python",
            "default_requires_approval": needs_approval,
        }
        tools[name] = _check(client.put("/v1/tools/", json=body), f"registering tool {name}")["id"]
    return tools


def llm_config_for(client: httpx.Client, llm_url: str | None) -> dict[str, Any]:
    models = _check(client.get("/v1/models/"), "listing models")
    config = next((m for m in models if m.get("handle") == "openai-proxy/gpt-4o-mini"), None)
    if config is None:
        raise SeedError(
            f"model openai-proxy/gpt-4o-mini missing; handles: {[m.get('handle') for m in models]}"
        )
    config = dict(config)
    if llm_url:
        config["model_endpoint"] = llm_url
    return config


def _create_agent(
    client: httpx.Client, name: str, llm_config: dict[str, Any], tool_ids: list[str]
) -> str:
    body = {
        "name": name,
        "agent_type": "letta_v1_agent",
        "llm_config": llm_config,
        "embedding": "openai/text-embedding-3-small",
        "tool_ids": tool_ids,
        "include_base_tools": True,
        "memory_blocks": [
            {"label": "human", "value": "A test harness."},
            {"label": "persona", "value": "A scripted agent."},
        ],
    }
    return str(_check(client.post("/v1/agents/", json=body), f"creating agent {name}")["id"])


def _ensure_table(sql: SqlRunner) -> None:
    sql(
        f"create table if not exists {SEED_TABLE} (version int primary key, payload text not null, created_at timestamptz default now())"
    )


def load_seed(sql: SqlRunner, *, max_age_s: float = SEED_MAX_AGE_S) -> SeededRuns | None:
    """The stored seed, unless it is older than ``max_age_s`` (Letta expires streams after 3 h)."""
    _ensure_table(sql)
    # psql prints one row per line: fold the (JSON-insignificant) newlines away.
    rows = sql(
        f"select replace(payload, E'\\n', ' '), extract(epoch from now() - created_at) "
        f"from {SEED_TABLE} where version = {SEED_VERSION}"
    )
    if not rows or float(rows[0][1]) > max_age_s:
        return None
    return SeededRuns.from_json(rows[0][0])


def _stream_replays(client: httpx.Client, run_id: str) -> bool:
    """A background run's stream lives in Redis; if Redis lost it the server sends nothing for 20 s."""
    try:
        timeout = httpx.Timeout(connect=5, read=3, write=5, pool=5)
        with client.stream(
            "POST", f"/v1/runs/{run_id}/stream", json={}, timeout=timeout
        ) as response:
            return response.status_code == 200 and any(
                line.strip() == "data: [DONE]" for line in response.iter_lines()
            )
    except httpx.HTTPError:
        return False


def _store_seed(sql: SqlRunner, seeded: SeededRuns) -> None:
    payload = json.dumps(asdict(seeded))
    if "$seed$" in payload:
        raise SeedError("seed payload cannot be quoted")
    sql(
        f"insert into {SEED_TABLE} (version, payload) values ({SEED_VERSION}, $seed${payload}$seed$) "
        "on conflict (version) do update set payload = excluded.payload, created_at = now()"
    )


def _repoint_agents(client: httpx.Client, seeded: SeededRuns, llm_url: str | None) -> None:
    """A reused seed's agents still point at the previous start's model port."""
    if not llm_url:
        return
    config = llm_config_for(client, llm_url)
    for agent_id in list(seeded.agents.values()) + seeded.pagination_agent_ids:
        client.patch(f"/v1/agents/{agent_id}", json={"llm_config": config})


def seed_runs(
    base_url: str,
    *,
    sql: SqlRunner,
    llm_url: str | None = None,
    pagination_agents: int = 5,
    runs_per_pagination_agent: int = 50,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> SeededRuns:
    """Seed the server (or return the seed already stored in its database)."""
    started = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=120) as client:
        if not force:
            existing = load_seed(sql)
            if existing is not None and not _stream_replays(
                client, existing.run_id("stream_bg.background_stream")
            ):
                log(
                    "the stored seed's background streams are gone (Redis lost them): seeding again"
                )
                existing = None
            if existing is not None:
                existing.reused = True
                existing.base_url = base_url
                _repoint_agents(client, existing, llm_url)
                log(
                    f"reusing the stored seed ({len(existing.runs)} scenario runs, {existing.total_runs} runs)"
                )
                return existing
        tools = _upsert_tools(client)
        config = llm_config_for(client, llm_url)
        custom = [tools["lab_add"], tools["lab_fail"], tools["lab_note"]]
        lanes = _lanes()
        suffix = time.strftime("%H%M%S")
        agents = {
            name: _create_agent(
                client,
                f"{name}-{suffix}",
                config,
                [tools["lab_sensitive"]] if name.startswith("lab-approval") else custom,
            )
            for name in lanes
        }
        page_agents = [
            _create_agent(client, f"lab-page-{i}-{suffix}", config, [tools["lab_add"]])
            for i in range(pagination_agents)
        ]
        log(
            f"created {len(agents) + len(page_agents)} agents; seeding scenario lanes and pagination runs"
        )

        def run_lane(name: str) -> list[SeededRun]:
            done = []
            with httpx.Client(base_url=base_url, timeout=120) as lane_client:
                for trigger in lanes[name]:
                    t0 = time.monotonic()
                    done.append(_send(lane_client, agents[name], trigger))
                    log(f"  {trigger.label}: {done[-1].run_id} ({time.monotonic() - t0:.1f} s)")
            return done

        def run_pages(agent_id: str) -> list[str]:
            ids = []
            with httpx.Client(base_url=base_url, timeout=120) as page_client:
                for index in range(runs_per_pagination_agent):
                    body = {
                        "messages": [
                            {"role": "user", "content": f"page run {index} [scenario:ok_reply]"}
                        ]
                    }
                    answer = _check(
                        page_client.post(f"/v1/agents/{agent_id}/messages", json=body),
                        "pagination run",
                    )
                    ids.extend({m["run_id"] for m in answer["messages"] if m.get("run_id")})
            return ids

        with ThreadPoolExecutor(max_workers=len(lanes) + len(page_agents)) as pool:
            lane_futures = [pool.submit(run_lane, name) for name in lanes]
            page_futures = [pool.submit(run_pages, agent_id) for agent_id in page_agents]
            seeded_runs = [run for future in lane_futures for run in future.result()]
            page_run_ids = [run_id for future in page_futures for run_id in future.result()]
        for run in seeded_runs:
            _observe(client, run)
        total = int(sql("select count(*) from runs")[0][0])
        seeded = SeededRuns(
            base_url,
            {run.label: run for run in seeded_runs},
            agents,
            tools,
            page_agents,
            page_run_ids,
            total,
            round(time.monotonic() - started, 1),
        )
    _store_seed(sql, seeded)
    log(
        f"seeded {len(seeded_runs)} scenario runs and {len(page_run_ids)} pagination runs in {seeded.seconds:.0f} s"
    )
    return seeded


def outcome_table(seeded: SeededRuns) -> str:
    """Markdown: what the server really produced for each seeded scenario run."""

    def fmt(values: list[Any]) -> str:
        unique = list(dict.fromkeys("null" if v is None else str(v) for v in values))
        return ", ".join(unique) if unique else "—"

    lines = [
        "| label | scenario | endpoint | HTTP | run status | run stop_reason | steps | step statuses | step stop_reasons | step error_types |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in seeded.runs.values():
        lines.append(
            f"| `{run.label}` | {run.scenario} | {run.endpoint} | {run.trigger_status} | {run.status} | "
            f"{run.stop_reason} | {run.step_count} | {fmt(run.step_statuses)} | {fmt(run.step_stop_reasons)} | "
            f"{fmt(run.step_error_types)} |"
        )
    return "\n".join(lines)
