"""Record one run's full evidence from a Letta server as a bundle (``letta-runs.bundle/1``).

The bundle has the format ``letta-runs export`` writes and ``load_bundle`` reads: every endpoint
as ``{"status", "body"}`` and the stream as its raw SSE text, plus a log of the pages fetched.

    bundle = record_bundle("http://127.0.0.1:8283", "run-…")

Raw httpx only, so a bundle shows exactly what the server said. Steps and messages are walked page
by page (messages with ``after=`` in ascending order, steps with ``order=asc`` and ``after=``);
``/trace`` and ``/stream`` keep their HTTP status whatever it is (501 without ClickHouse; 400 for a
run that was not started in background mode). The run's agent (``GET /v1/agents/{id}`` with its
tools) is kept as the bundle's ``agent`` section, reduced to its type and tool names: a bundle never
holds the agent's system prompt or memory. ``/stream`` is read with an idle timeout, because for
some runs it sends nothing but a ping every 20 s and never ends.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx

BUNDLE_FORMAT = "letta-runs.bundle/1"
PAGE = 100


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _pages(
    client: httpx.Client, url: str, params: dict[str, Any]
) -> tuple[list[Any], list[dict[str, Any]]]:
    items: list[Any] = []
    log: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        query = {**params, "limit": PAGE, **({"after": after} if after else {})}
        response = client.get(url, params=query)
        log.append({"params": query, "status": response.status_code})
        if response.status_code != 200:
            log[-1]["body"] = _body(response)
            break
        page = response.json()
        items.extend(page)
        if not page:
            break
        after = page[-1]["id"]
        if len(log) > 10_000:  # a server that ignores the cursor would loop forever
            break
    return items, log


def _stream(
    client: httpx.Client, run_id: str, *, idle_timeout_s: float, total_timeout_s: float
) -> dict[str, Any]:
    """``{"status", "sse": raw text, "ended"}`` — the SSE bytes exactly as they came."""
    started = time.monotonic()
    chunks: list[str] = []

    def result(status: int | None, ended: str) -> dict[str, Any]:
        return {"status": status, "sse": "".join(chunks), "ended": ended}

    try:
        timeout = httpx.Timeout(connect=5, read=idle_timeout_s, write=5, pool=5)
        with client.stream(
            "POST", f"/v1/runs/{run_id}/stream", json={}, timeout=timeout
        ) as response:
            if response.status_code != 200:
                response.read()
                return {"status": response.status_code, "body": _body(response)}
            for text in response.iter_text():
                chunks.append(text)
                if time.monotonic() - started > total_timeout_s:
                    return result(200, "total_timeout")
            return result(200, "eof")
    except httpx.ReadTimeout:
        # Headers only come with the first chunk: a stream that never sent one has no status.
        return result(200 if chunks else None, f"idle_timeout_{idle_timeout_s:g}s")
    except httpx.HTTPError as exc:
        return {"status": None, "error": repr(exc), "sse": "".join(chunks)}


def _section(response: httpx.Response) -> dict[str, Any]:
    return {"status": response.status_code, "body": _body(response)}


def scrub_paths(value: Any, replacements: dict[str, str]) -> Any:
    """Replace local folder names (the harness dir in server tracebacks) in every string."""
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [scrub_paths(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: scrub_paths(v, replacements) for k, v in value.items()}
    return value


def _agent_section(client: httpx.Client, agent_id: str | None) -> dict[str, Any] | None:
    """The agent's type and tool names (the bundle's ``agent``), or the error the read got."""
    if not agent_id:
        return None
    response = client.get(f"/v1/agents/{agent_id}", params={"include_relationships": ["tools"]})
    if response.status_code != 200:
        return _section(response)
    body = response.json()
    return {
        "status": 200,
        "body": {
            "id": body.get("id"),
            "agent_type": body.get("agent_type"),
            "tool_names": [t.get("name") for t in body.get("tools") or [] if t.get("name")],
        },
    }


def record_bundle(
    base_url: str,
    run_id: str,
    *,
    stream_idle_timeout_s: float = 5.0,
    stream_total_timeout_s: float = 30.0,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Everything the server says about one run, as one JSON-ready dict."""
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=60, headers=headers) as client:
        run = client.get(f"/v1/runs/{run_id}")
        if run.status_code != 200:
            raise LookupError(
                f"{run_id} not readable on {base_url}: HTTP {run.status_code} {run.text[:300]}"
            )
        steps, steps_pages = _pages(client, f"/v1/runs/{run_id}/steps", {"order": "asc"})
        messages, messages_pages = _pages(client, f"/v1/runs/{run_id}/messages", {"order": "asc"})
        usage = client.get(f"/v1/runs/{run_id}/usage")
        metrics = client.get(f"/v1/runs/{run_id}/metrics")
        trace = client.get(f"/v1/runs/{run_id}/trace")
        agent = _agent_section(client, run.json().get("agent_id"))
        stream = _stream(
            client,
            run_id,
            idle_timeout_s=stream_idle_timeout_s,
            total_timeout_s=stream_total_timeout_s,
        )
    return {
        "format": BUNDLE_FORMAT,
        "base_url": base_url,
        "recorded_at": datetime.now(UTC).isoformat(),
        "run": run.json(),
        "steps": steps,
        "messages": messages,
        "usage": _section(usage),
        "metrics": _section(metrics),
        "trace": _section(trace),
        "stream": stream,
        "agent": agent,
        "pages": {"steps": steps_pages, "messages": messages_pages},
    }


def write_bundle(bundle: dict[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(bundle, handle, indent=1)
        handle.write("\n")
