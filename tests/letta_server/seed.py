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
from datetime import UTC, datetime
from typing import Any

import httpx

from .scenarios import (
    CLIENT_TOOL_RETURN,
    DENIAL_REASON,
    TOOL_SOURCES,
    AgentSpec,
    Trigger,
    agent_spec,
    lanes,
)

# Bump when the scenario lanes change: a stored seed of another version is never reused.
SEED_VERSION = 6
SEED_TABLE = "letta_runs_harness_seed"
# Letta refuses to replay a background run's stream once the run is 3 h old (410).
SEED_MAX_AGE_S = 2 * 3600
TERMINAL = {"completed", "failed", "cancelled"}
# Lanes in flight at once; the timeout of one request, and of a request that runs a whole agent
# turn (an 80-step run on a busy 2-core machine can take many minutes).
MAX_PARALLEL_LANES = 24
REQUEST_TIMEOUT_S = 300
RUN_TIMEOUT_S = 1800

SqlRunner = Callable[[str], list[tuple[str, ...]]]


@dataclass
class SeededRun:
    """One seeded run and what the server made of it."""

    label: str
    scenario: str
    # sync | async | stream | stream_bg | conversation | conversation_stream, or sleeptime: the
    # background run of a sleeptime agent that a foreground request started
    endpoint: str
    agent_id: str
    run_id: str
    trigger_status: int | None = None
    agent_type: str = "letta_v1_agent"
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


def _wait_terminal(
    client: httpx.Client, run_id: str, timeout: float = RUN_TIMEOUT_S
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = _check(_get(client, f"/v1/runs/{run_id}"), f"reading {run_id}")
        if run["status"] in TERMINAL or time.monotonic() > deadline:
            return dict(run)
        time.sleep(0.3)


@dataclass
class _Agent:
    """A lane's agent, and what its requests share (one conversation per lane)."""

    agent_id: str
    agent_type: str
    sleeptime_agent_ids: list[str] = field(default_factory=list)
    conversation_id: str | None = None


def _send(client: httpx.Client, agent: _Agent, trigger: Trigger) -> list[SeededRun]:
    """Send one request; the seeded runs it makes (the labelled run first)."""
    agent_id = agent.agent_id
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": trigger.text}],
        **trigger.body_extra,
    }
    before = _agent_run_ids(client, agent_id)
    sleeptime_before = {a: _agent_run_ids(client, a) for a in agent.sleeptime_agent_ids}
    status: int | None
    note = ""
    extra: list[SeededRun] = []

    def seeded(label: str, run_id: str, status: int | None, note: str = "") -> SeededRun:
        return SeededRun(
            label,
            trigger.scenario,
            trigger.endpoint,
            agent_id,
            run_id,
            status,
            agent_type=agent.agent_type,
            note=note,
        )

    if trigger.endpoint == "sync":
        response = client.post(f"/v1/agents/{agent_id}/messages", json=body, timeout=RUN_TIMEOUT_S)
        status = response.status_code
        run_id = _wait_new_run(client, agent_id, before)
        if trigger.follow_up:
            if trigger.request_label:
                extra.append(seeded(trigger.request_label, run_id, status))
            status, run_id, note = _follow_up(client, agent_id, response, run_id, trigger)
    elif trigger.endpoint == "async":
        response = client.post(f"/v1/agents/{agent_id}/messages/async", json=body)
        status = response.status_code
        run_id = _check(response, "starting an async run")["id"]
        if trigger.cancel_after_s is not None:
            time.sleep(trigger.cancel_after_s)
            cancelled_at = datetime.now(UTC).isoformat(timespec="milliseconds")
            answer = _check(
                client.post(
                    f"/v1/agents/{agent_id}/messages/cancel",
                    json={"run_ids": [run_id]},
                    timeout=RUN_TIMEOUT_S,
                ),
                "cancelling",
            )
            note = f"cancel answered {json.dumps(answer)} at {cancelled_at}"
    elif trigger.endpoint == "conversation":
        # Non-streaming conversation messages: Letta answers, but never finishes the run (§ zombie).
        conversation = _check(
            client.post("/v1/conversations/", params={"agent_id": agent_id}, json={}),
            "creating a conversation",
        )
        response = client.post(
            f"/v1/conversations/{conversation['id']}/messages", json=body, timeout=RUN_TIMEOUT_S
        )
        status = response.status_code
        run_id = _wait_new_run(client, agent_id, before)
        note = f"conversation {conversation['id']}; the run is never finished by the server"
        return [seeded(trigger.label, run_id, status, note)]
    elif trigger.endpoint == "conversation_stream":
        # Streaming (the default) conversation messages: one conversation per lane.
        if agent.conversation_id is None:
            agent.conversation_id = _check(
                client.post("/v1/conversations/", params={"agent_id": agent_id}, json={}),
                "creating a conversation",
            )["id"]
        status = _consume_stream(
            client, f"/v1/conversations/{agent.conversation_id}/messages", body
        )
        run_id = _wait_new_run(client, agent_id, before)
        note = f"conversation {agent.conversation_id}"
    elif trigger.detach or trigger.cancel_after_s is not None:
        status, run_id, note = _stream_and_act(client, agent_id, body, before, trigger)
    else:
        status = _consume_stream(client, f"/v1/agents/{agent_id}/messages/stream", body)
        run_id = _wait_new_run(client, agent_id, before)
    if not trigger.detach:
        _wait_terminal(client, run_id)
    if trigger.await_late_tool_return:
        note += "; " + _await_tool_return(client, run_id)
    runs = [seeded(trigger.label, run_id, status, note), *extra]
    if trigger.sleeptime_label:
        runs.append(_sleeptime_run(client, agent, sleeptime_before, trigger, run_id))
    return runs


def _lane_steps(triggers: list[Trigger]) -> int:
    """A rough cost of a lane: the model steps its requests ask for."""
    steps = 0
    for trigger in triggers:
        steps += int(trigger.body_extra.get("max_steps", 3))
        if "loop_max_steps" in trigger.text and "max_steps" not in trigger.body_extra:
            steps += 50
    return steps


def _consume_stream(client: httpx.Client, path: str, body: dict[str, Any]) -> int:
    with client.stream("POST", path, json=body, timeout=RUN_TIMEOUT_S) as response:
        for _ in response.iter_bytes():
            pass
        return response.status_code


def _await_tool_return(client: httpx.Client, run_id: str, timeout: float = 120) -> str:
    """After a cancel during a tool: wait until the tool's messages land in the cancelled run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = _check(_get(client, f"/v1/runs/{run_id}/messages"), "listing messages")
        returns = [m for m in messages if m.get("message_type") == "tool_return_message"]
        if returns:
            return f"the tool return landed at {returns[0]['date']}"
        time.sleep(0.5)
    raise SeedError(f"the tool of the cancelled run {run_id} never returned")


def _sleeptime_run(
    client: httpx.Client,
    agent: _Agent,
    before: dict[str, set[str]],
    trigger: Trigger,
    foreground_run_id: str,
) -> SeededRun:
    """The background run that the foreground request started on the sleeptime agent."""
    assert trigger.sleeptime_label is not None
    (sleeptime_agent_id,) = agent.sleeptime_agent_ids
    run_id = _wait_new_run(client, sleeptime_agent_id, before[sleeptime_agent_id])
    _wait_terminal(client, run_id)
    return SeededRun(
        trigger.sleeptime_label,
        trigger.scenario,
        "sleeptime",
        sleeptime_agent_id,
        run_id,
        None,
        agent_type="sleeptime_agent",
        note=f"started by {foreground_run_id} of {agent.agent_id}",
    )


def _follow_up(
    client: httpx.Client,
    agent_id: str,
    response: httpx.Response,
    request_run_id: str,
    trigger: Trigger,
) -> tuple[int, str, str]:
    """Answer the tool call the previous request left pending; the answer starts a new run."""
    answer = _check(response, "the request that left a tool call pending")
    pending = [m for m in answer["messages"] if m.get("message_type") == "approval_request_message"]
    if not pending:
        raise SeedError(f"no approval request in {request_run_id}: {json.dumps(answer)[:800]}")
    tool_call_id = pending[-1]["tool_call"]["tool_call_id"]
    reply: dict[str, Any]
    if trigger.follow_up == "approve":
        reply = {"type": "approval", "tool_call_id": tool_call_id, "approve": True}
    elif trigger.follow_up == "deny":
        reply = {
            "type": "approval",
            "tool_call_id": tool_call_id,
            "approve": False,
            "reason": DENIAL_REASON,
        }
    elif trigger.follow_up == "tool_return":
        reply = {
            "type": "tool",
            "tool_call_id": tool_call_id,
            "tool_return": CLIENT_TOOL_RETURN,
            "status": "success",
        }
    else:
        raise SeedError(f"unknown follow-up {trigger.follow_up!r}")
    body: dict[str, Any] = {"messages": [{"type": "approval", "approvals": [reply]}]}
    if "client_tools" in trigger.body_extra:
        body["client_tools"] = trigger.body_extra["client_tools"]
    before = _agent_run_ids(client, agent_id)
    follow = client.post(f"/v1/agents/{agent_id}/messages", json=body, timeout=RUN_TIMEOUT_S)
    run_id = _wait_new_run(client, agent_id, before)
    verb = {"approve": "approves", "deny": "denies", "tool_return": "returns the result of"}
    note = (
        f"{verb[trigger.follow_up]} {tool_call_id}, requested by {request_run_id} "
        "(left completed/requires_approval)"
    )
    return follow.status_code, run_id, note


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
    """A letta_v1_agent on the scripted model (the harness's default recipe); its id."""
    return _create_lane_agent(client, name, llm_config, tool_ids).agent_id


def _create_lane_agent(
    client: httpx.Client,
    name: str,
    llm_config: dict[str, Any],
    tool_ids: list[str],
    spec: AgentSpec | None = None,
) -> _Agent:
    spec = spec or AgentSpec()
    if spec.context_window is not None:
        llm_config = {**llm_config, "context_window": spec.context_window}
    body: dict[str, Any] = {
        "name": name,
        "agent_type": spec.agent_type,
        "llm_config": llm_config,
        "embedding": "openai/text-embedding-3-small",
        "tool_ids": tool_ids,
        "tools": list(spec.tools),
        "tool_rules": list(spec.tool_rules),
        "include_base_tools": True,
        "enable_sleeptime": spec.enable_sleeptime,
        "memory_blocks": [
            {"label": "human", "value": "A test harness."},
            {"label": "persona", "value": "A scripted agent."},
        ],
    }
    if spec.system is not None:
        body["system"] = spec.system
    created = _check(client.post("/v1/agents/", json=body), f"creating agent {name}")
    agent = _Agent(str(created["id"]), spec.agent_type)
    group = created.get("multi_agent_group")
    if spec.enable_sleeptime and group and spec.agent_type != "voice_convo_agent":
        # Letta runs the sleeptime agent every 5th turn by default; every turn here.
        manager = {"manager_type": "sleeptime", "sleeptime_agent_frequency": 1}
        _check(
            client.patch(f"/v1/groups/{group['id']}", json={"manager_config": manager}),
            "making the sleeptime agent run after every turn",
        )
        agent.sleeptime_agent_ids = list(group["agent_ids"])
    return agent


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
    for name, agent_id in list(seeded.agents.items()) + [
        ("", agent_id) for agent_id in seeded.pagination_agent_ids
    ]:
        window = agent_spec(name.split("/")[0]).context_window
        own = config if window is None else {**config, "context_window": window}
        client.patch(f"/v1/agents/{agent_id}", json={"llm_config": own})


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
        scenario_lanes = lanes()
        suffix = time.strftime("%H%M%S")
        lane_agents = {
            name: _create_lane_agent(
                client,
                f"{name}-{suffix}",
                config,
                [tools[tool] for tool in agent_spec(name).custom_tools],
                agent_spec(name),
            )
            for name in scenario_lanes
        }
        page_agents = [
            _create_agent(client, f"lab-page-{i}-{suffix}", config, [tools["lab_add"]])
            for i in range(pagination_agents)
        ]
        agents = {name: agent.agent_id for name, agent in lane_agents.items()}
        for name, agent in lane_agents.items():
            agents.update({f"{name}/sleeptime": a for a in agent.sleeptime_agent_ids})
        log(
            f"created {len(agents) + len(page_agents)} agents; seeding scenario lanes and pagination runs"
        )

        def run_lane(name: str) -> list[SeededRun]:
            done: list[SeededRun] = []
            with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as lane_client:
                for trigger in scenario_lanes[name]:
                    t0 = time.monotonic()
                    runs = _send(lane_client, lane_agents[name], trigger)
                    done.extend(runs)
                    log(f"  {trigger.label}: {runs[0].run_id} ({time.monotonic() - t0:.1f} s)")
            return done

        def run_pages(agent_id: str) -> list[str]:
            ids = []
            with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as page_client:
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

        # Longest lanes first; a bounded pool keeps each request's latency sane on 2 cores.
        by_length = sorted(scenario_lanes, key=lambda name: -_lane_steps(scenario_lanes[name]))
        with ThreadPoolExecutor(max_workers=MAX_PARALLEL_LANES) as pool:
            page_futures = [pool.submit(run_pages, agent_id) for agent_id in page_agents]
            futures = {name: pool.submit(run_lane, name) for name in by_length}
            lane_futures = [futures[name] for name in scenario_lanes]
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
