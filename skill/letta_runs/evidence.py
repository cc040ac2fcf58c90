"""Everything the server knows about one run, fetched once and kept together.

``Evidence`` is the input of every analysis (``letta_runs.diagnosis``): the run, all its steps
and messages in chronological order, ``/usage``, ``/metrics``, ``/trace``, what the run's agent
is (``AgentProfile``: its type and the names of its tools, from ``GET /v1/agents/{id}``) and
optionally the replayed stream. An endpoint that failed is recorded in ``endpoint_errors`` instead of losing the
rest — an unavailable trace is a *limitation*, never a sign of health.

Evidence comes from three places:

* a server: ``await gather_evidence(async_client, run_id)`` (all requests concurrently) or
  ``gather_evidence_sync(client, run_id)`` (the same, from blocking code);
* a bundle file written by ``save_bundle`` / ``export_run``: ``load_bundle(path)``;
* a folder of recorded responses (``run.json``, ``steps.json`` …): ``Evidence.from_fixture_dir``.

Bundle format ``letta-runs.bundle/1`` (JSON object)::

    {"format": "letta-runs.bundle/1", "source": "...", "recorded_at": "<ISO time>",
     "run": {...}, "steps": [... oldest first ...], "messages": [... oldest first ...],
     "usage": {"status": 200, "body": {...}}, "metrics": {"status": 200, "body": {...}},
     "trace": {"status": 501, "body": {"detail": "..."}},
     "stream": {"status": 200, "sse": "data: ...\\n\\n"}  or  {"status": 400, "body": {...}},
     "agent": {"status": 200, "body": {"id": "agent-...", "agent_type": "memgpt_agent",
                                        "tool_names": ["send_message", ...]}}}

``usage``/``metrics``/``trace``/``stream``/``agent`` may be missing or ``null`` (not fetched;
bundles written before ``agent`` existed have none). ``agent`` keeps only the agent's type and
tool names (``tool_names`` is ``null`` when they were not read), never its system prompt or
memory.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._blocking import blocking
from ._exceptions import APIStatusError, InvalidArgumentError, LettaRunsError
from ._streaming import parse_sse
from .models import (
    Agent,
    Message,
    Run,
    RunMetrics,
    Step,
    StreamEvent,
    TraceSpan,
    Usage,
    parse_message,
)

if TYPE_CHECKING:
    from ._client import AsyncRunsClient

__all__ = [
    "BUNDLE_FORMAT",
    "AgentProfile",
    "EndpointError",
    "Evidence",
    "evidence_for",
    "gather_evidence",
    "gather_evidence_sync",
    "load_bundle",
    "load_run_bundle",
    "parse_sse_text",
    "save_bundle",
]

BUNDLE_FORMAT = "letta-runs.bundle/1"
PAGE_LIMIT = 1000
"""Steps/messages page size: a 50-step run comes back in one request per list."""

STREAM_CAPTURE_IDLE_TIMEOUT = 5.0
STREAM_CAPTURE_MAX_EVENTS = 2000

T = TypeVar("T")


class EndpointError(BaseModel):
    """An endpoint of the run that could not be read (the rest of the evidence is still valid)."""

    model_config = ConfigDict(extra="allow")

    endpoint: str
    status_code: int | None = None
    kind: str = "error"
    message: str = ""


class AgentProfile(BaseModel):
    """What the diagnosis needs to know about the run's agent: its type and the names of its
    tools (``None``: not read). Nothing else of the agent is kept (no system prompt, no memory).
    """

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    agent_type: str | None = None
    tool_names: list[str] | None = None

    @classmethod
    def of(cls, agent: Agent, *, with_tools: bool) -> AgentProfile:
        """The profile of an agent as the server returned it (``with_tools``: it was read with
        its tools, so an empty list means none are attached)."""
        return cls(
            id=agent.id,
            agent_type=agent.agent_type,
            tool_names=agent.tool_names if with_tools else None,
        )


class Evidence(BaseModel):
    """One run and everything fetched about it. Steps and messages are oldest first."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    run: Run
    steps: list[Step] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    usage: Usage | None = None
    metrics: RunMetrics | None = None
    trace: list[TraceSpan] | None = None
    endpoint_errors: dict[str, EndpointError] = Field(default_factory=dict)
    stream_events: list[StreamEvent] | None = None
    agent: AgentProfile | None = None
    """The run's agent (``None``: not read, or the read failed — see ``endpoint_errors``)."""
    source: str = "unknown"
    fetched_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse_messages(cls, data: Any) -> Any:
        # Messages are a union keyed on ``message_type``; parse them the tolerant way.
        if isinstance(data, dict) and isinstance(data.get("messages"), list):
            data = dict(data)
            data["messages"] = [
                parse_message(m) if isinstance(m, dict) else m for m in data["messages"]
            ]
        return data

    @property
    def run_id(self) -> str:
        return self.run.id

    @classmethod
    def from_fixture_dir(cls, path: str | Path) -> Evidence:
        """Load a folder of recorded responses (``run.json``, ``steps.json``, ``messages.json``,
        ``usage.json``, ``metrics.json``, ``trace.json``/``trace.error.json``,
        ``stream.sse``/``stream.error.json``).

        ``steps.json`` holds the server's default order (newest first); it is reversed here.
        """
        folder = Path(path)
        run = Run.model_validate(_read_json(folder / "run.json"))
        steps_raw = _read_json_or(folder / "steps.json", [])
        messages_raw = _read_json_or(folder / "messages.json", [])
        raw: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "source": f"recorded:{folder.name}",
            "run": run.to_json_dict(),
            "steps": list(reversed(steps_raw)),
            "messages": messages_raw,
        }
        for name in ("usage", "metrics", "trace"):
            ok = folder / f"{name}.json"
            bad = folder / f"{name}.error.json"
            if ok.exists():
                raw[name] = {"status": 200, "body": _read_json(ok)}
            elif bad.exists():
                raw[name] = _read_json(bad)
        if (folder / "stream.sse").exists():
            raw["stream"] = {"status": 200, "sse": (folder / "stream.sse").read_text()}
        elif (folder / "stream.error.json").exists():
            raw["stream"] = _read_json(folder / "stream.error.json")
        return _from_bundle_dict(raw)

    def to_bundle(self) -> dict[str, Any]:
        """This evidence in the ``letta-runs.bundle/1`` format."""
        out: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "source": self.source,
            "recorded_at": (self.fetched_at or datetime.now(UTC)).isoformat(),
            "run": self.run.to_json_dict(),
            "steps": [s.to_json_dict() for s in self.steps],
            "messages": [m.to_json_dict() for m in self.messages],
        }
        out["usage"] = _section(self.usage.to_json_dict() if self.usage else None, "usage", self)
        out["metrics"] = _section(
            self.metrics.to_json_dict() if self.metrics else None, "metrics", self
        )
        out["trace"] = _section(self.trace, "trace", self)
        if self.stream_events is not None:
            out["stream"] = {"status": 200, "sse": _events_to_sse(self.stream_events)}
        elif "stream" in self.endpoint_errors:
            out["stream"] = _error_section(self.endpoint_errors["stream"])
        else:
            out["stream"] = None
        out["agent"] = _section(
            self.agent.model_dump(mode="json") if self.agent else None, "agent", self
        )
        return out


# --- bundles -------------------------------------------------------------------------------


def _section(body: Any, name: str, ev: Evidence) -> dict[str, Any] | None:
    if body is not None:
        return {"status": 200, "body": body}
    if name in ev.endpoint_errors:
        return _error_section(ev.endpoint_errors[name])
    return None


def _error_section(err: EndpointError) -> dict[str, Any]:
    return {"status": err.status_code, "body": {"detail": err.message}, "kind": err.kind}


def _events_to_sse(events: Iterable[StreamEvent]) -> str:
    chunks: list[str] = []
    for ev in events:
        prefix = f"event: {ev.event}\n" if ev.event else ""
        chunks.append(f"{prefix}data: {ev.raw}\n\n")
    return "".join(chunks)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def _read_json_or(path: Path, default: Any) -> Any:
    return _read_json(path) if path.exists() else default


_KIND_BY_STATUS = {
    400: "bad_request",
    401: "authentication_error",
    403: "permission_denied",
    404: "not_found",
    409: "conflict",
    410: "gone",
    422: "validation_error",
    429: "rate_limited",
    501: "not_supported",
}


def _endpoint_error_from_section(endpoint: str, section: dict[str, Any]) -> EndpointError:
    status = section.get("status")
    body = section.get("body")
    detail = body.get("detail") if isinstance(body, dict) else body
    code = status if isinstance(status, int) else None
    kind = section.get("kind")
    if not isinstance(kind, str):
        kind = _KIND_BY_STATUS.get(code or 0, "server_error" if (code or 0) >= 500 else "error")
    return EndpointError(
        endpoint=endpoint, status_code=code, kind=kind, message=str(detail or "")[:500]
    )


def _from_bundle_dict(data: dict[str, Any]) -> Evidence:
    fmt = data.get("format")
    if fmt is not None and not str(fmt).startswith("letta-runs.bundle/"):
        raise ValueError(f"not a letta-runs bundle (format {fmt!r})")
    if not isinstance(data.get("run"), dict):
        raise ValueError("bundle has no 'run' object")
    errors: dict[str, EndpointError] = {}
    parsed: dict[str, Any] = {}
    for name in ("usage", "metrics", "trace"):
        section = data.get(name)
        if isinstance(section, list) or (isinstance(section, dict) and "status" not in section):
            parsed[name] = section  # a bare response body (what the server returned, 200)
            continue
        if not isinstance(section, dict):
            continue
        if section.get("status") == 200:
            parsed[name] = section.get("body")
        else:
            errors[name] = _endpoint_error_from_section(name, section)
    stream_events: list[StreamEvent] | None = None
    stream = data.get("stream")
    if isinstance(stream, dict):
        if isinstance(stream.get("sse"), str):
            stream_events = parse_sse_text(stream["sse"])
        elif stream.get("status") != 200:
            errors["stream"] = _endpoint_error_from_section("stream", stream)
    agent: Any = None
    section = data.get("agent")
    if isinstance(section, dict):
        if section.get("status") == 200 and isinstance(section.get("body"), dict):
            agent = section["body"]
        elif "status" in section:
            errors["agent"] = _endpoint_error_from_section("agent", section)
    steps = data.get("steps") or []
    if data.get("steps_order") == "desc":
        steps = list(reversed(steps))
    trace = parsed.get("trace")
    recorded = data.get("recorded_at")
    return Evidence.model_validate(
        {
            "run": data["run"],
            "steps": steps,
            "messages": data.get("messages") or [],
            "usage": parsed.get("usage"),
            "metrics": parsed.get("metrics"),
            "trace": trace if isinstance(trace, list) else None,
            "endpoint_errors": errors,
            "stream_events": stream_events,
            "agent": agent,
            "source": str(data.get("source") or "bundle"),
            "fetched_at": recorded if isinstance(recorded, str) else None,
        }
    )


def load_bundle(path: str | Path) -> Evidence:
    """Read evidence from a bundle file, or from a folder of recorded responses.

    >>> ev = load_bundle("run-….json")        # doctest: +SKIP
    """
    p = Path(path)
    if p.is_dir():
        return Evidence.from_fixture_dir(p)
    data = json.loads(p.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{p.name}: a bundle is a JSON object")
    return _from_bundle_dict(data)


def load_run_bundle(path: str | Path, run_id: str) -> Evidence:
    """The evidence in the bundle at ``path``, which must be about ``run_id``.

    Unreadable files and bundles of another run are ``InvalidArgumentError``s that say so.
    """
    try:
        ev = load_bundle(path)
    except LettaRunsError:
        raise
    except (ValueError, OSError) as exc:
        raise InvalidArgumentError(
            f"cannot read the bundle {path}: {exc}",
            hint="pass a file written by `export` (or a folder of recorded responses)",
        ) from exc
    if ev.run.id != run_id:
        raise InvalidArgumentError(
            f"the bundle {path} holds {ev.run.id}, not {run_id}",
            hint="pass the run id the bundle was exported for",
        )
    return ev


def save_bundle(ev: Evidence, path: str | Path) -> Path:
    """Write ``ev`` as a ``letta-runs.bundle/1`` JSON file and return its path."""
    p = Path(path)
    p.write_text(json.dumps(ev.to_bundle(), indent=1, default=str) + "\n")
    return p


# --- server-sent events ----------------------------------------------------------------------


def parse_sse_text(text: str) -> list[StreamEvent]:
    """Parse recorded ``text/event-stream`` bytes into events (bundles and captures)."""
    return parse_sse(text)


# --- fetching ----------------------------------------------------------------------------------


def _endpoint_error(endpoint: str, exc: LettaRunsError) -> EndpointError:
    code = exc.status_code if isinstance(exc, APIStatusError) else None
    return EndpointError(endpoint=endpoint, status_code=code, kind=exc.kind, message=exc.message)


async def _guard(
    endpoint: str, coro: Coroutine[Any, Any, T], errors: dict[str, EndpointError]
) -> T | None:
    try:
        return await coro
    except LettaRunsError as exc:
        errors[endpoint] = _endpoint_error(endpoint, exc)
        return None


async def _collect_async(page_coro: Coroutine[Any, Any, Any]) -> list[Any]:
    page = await page_coro
    return [item async for item in page]


async def _collect_messages_async(client: AsyncRunsClient, run_id: str) -> list[Any]:
    """Every message of a run, usually in one round trip.

    A short messages page proves nothing (``limit`` counts internal messages, one of which can
    yield several items or, filtered, none), so the list call also asks for the newest message
    (``has_more``): when the first page already holds it, the page is the whole run.
    """
    first = await client.runs.messages.list(run_id, limit=PAGE_LIMIT, order="asc")
    if first.has_more is False:
        return list(first.items)
    return [item async for item in first]


async def _capture_stream_async(client: AsyncRunsClient, run_id: str) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    stream = client.runs.stream(
        run_id, idle_timeout=STREAM_CAPTURE_IDLE_TIMEOUT, stop_when_terminal=True
    )
    async for event in stream:
        events.append(event)
        if len(events) >= STREAM_CAPTURE_MAX_EVENTS:
            break
    return events


def _stream_worth_reading(run: Run) -> bool:
    # Only background streamed runs keep a replayable stream; async runs (also ``background``)
    # never end theirs, so reading one would only wait for the idle timeout.
    return bool(run.background) and run.run_type != "send_message_async"


async def gather_evidence(
    client: AsyncRunsClient,
    run_id: str,
    *,
    include_trace: bool = True,
    include_stream: bool = False,
    include_usage: bool = True,
    include_metrics: bool = True,
    run: Run | None = None,
    messages: list[Message] | None = None,
    steps: list[Step] | None = None,
    include_agent: bool = True,
    agent: AgentProfile | None = None,
) -> Evidence:
    """Fetch a run and everything about it, all endpoints concurrently.

    Steps and messages are walked to the end with ``limit=1000`` pages in ascending order.
    ``/usage``, ``/metrics``, ``/trace`` (and the stream) failing is recorded in
    ``endpoint_errors``; only a failing ``GET /runs/{id}`` raises. ``run``, ``messages`` and
    ``steps`` already read elsewhere (a runs list, the bulk lists) are used as they are and not
    fetched again; ``include_usage=False`` / ``include_metrics=False`` leave those unread
    (``endpoint_errors`` says ``not_fetched``).

    The run's agent (``GET /v1/agents/{agent_id}`` with its tools: one more request, sent as soon
    as the run names its agent, alongside the steps and messages) becomes ``Evidence.agent``; a
    failure is recorded in ``endpoint_errors["agent"]``. ``agent`` known elsewhere (a triage that
    read the agent's type) is used as it is; ``include_agent=False`` leaves it unread.

    >>> async with AsyncRunsClient() as client:                  # doctest: +SKIP
    ...     ev = await gather_evidence(client, "run-…")
    """
    errors: dict[str, EndpointError] = {}
    run_task = asyncio.ensure_future(
        _given(run) if run is not None else client.runs.retrieve(run_id)
    )
    agent_task = asyncio.ensure_future(
        _given(agent)
        if agent is not None or not include_agent
        else _guard("agent", _read_agent_profile(client, run_task), errors)
    )
    steps_task = (
        _given(steps)
        if steps is not None
        else _guard(
            "steps",
            _collect_async(client.runs.steps.list(run_id, limit=PAGE_LIMIT, order="asc")),
            errors,
        )
    )
    messages_task = (
        _given(messages)
        if messages is not None
        else _guard("messages", _collect_messages_async(client, run_id), errors)
    )
    usage_task = (
        _guard("usage", client.runs.usage.retrieve(run_id), errors)
        if include_usage
        else _not_fetched("usage", errors)
    )
    metrics_task = (
        _guard("metrics", client.runs.metrics.retrieve(run_id), errors)
        if include_metrics
        else _not_fetched("metrics", errors)
    )
    trace_task = (
        _guard("trace", client.runs.trace.retrieve(run_id), errors) if include_trace else _none()
    )
    run, steps, messages, usage, metrics, trace = await asyncio.gather(
        run_task, steps_task, messages_task, usage_task, metrics_task, trace_task
    )
    agent = await agent_task
    stream_events: list[StreamEvent] | None = None
    if include_stream and _stream_worth_reading(run):
        stream_events = await _guard("stream", _capture_stream_async(client, run_id), errors)
    return Evidence(
        run=run,
        steps=list(steps or []),
        messages=list(messages or []),
        usage=usage,
        metrics=metrics,
        trace=list(trace) if trace is not None else None,
        endpoint_errors=errors,
        stream_events=stream_events,
        agent=agent,
        source=f"api:{client.base_url}",
        fetched_at=datetime.now(UTC),
    )


async def _read_agent_profile(
    client: AsyncRunsClient, run_task: asyncio.Future[Run]
) -> AgentProfile | None:
    """The run's agent, read as soon as the run names it (a failing run read is reported by the
    run's own task, not here)."""
    try:
        run = await asyncio.shield(run_task)
    except Exception:  # the run read's own error is the one raised
        return None
    if not run.agent_id:
        return None
    agent = await client.agents.retrieve(run.agent_id, include_tools=True)
    return AgentProfile.of(agent, with_tools=True)


async def _none() -> None:
    return None


async def _given(value: T) -> T:
    return value


async def _not_fetched(endpoint: str, errors: dict[str, EndpointError]) -> None:
    errors[endpoint] = EndpointError(
        endpoint=endpoint, kind="not_fetched", message="not read (not asked for)"
    )


async def evidence_for(
    client: AsyncRunsClient,
    run_id: str,
    *,
    bundle: str | Path | None = None,
    include_trace: bool = True,
    include_stream: bool = False,
) -> Evidence:
    """The evidence of ``run_id``: read from ``bundle`` when one is given, else fetched."""
    if bundle is not None:
        return load_run_bundle(bundle, run_id)
    return await gather_evidence(
        client, run_id, include_trace=include_trace, include_stream=include_stream
    )


gather_evidence_sync = blocking(gather_evidence)
