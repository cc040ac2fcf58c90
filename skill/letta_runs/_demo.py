"""Embedded demo data: recorded real-server runs served by an in-process transport.

``RunsClient(base_url="demo")`` (or ``LETTA_BASE_URL=demo``) reads runs recorded from a Letta
0.16.8 server instead of a live one. The transport mimics that server's behaviour — list filters,
the reversed runs cursors, message pages counted in internal messages, steps newest first, 404
and 400 bodies, the 501 of ``/trace``, and stream replays with ``starting_after`` — so every read
path of the toolkit can be tried offline. Writes are refused with 405.

Bundle format (``letta-runs.bundle/1``, also what ``export`` writes)::

    {"format": "letta-runs.bundle/1", "source": "...", "recorded_at": "<iso>",
     "run": {...}, "steps": [...chronological...], "messages": [...chronological...],
     "usage": {"status": 200, "body": {...}}, "metrics": {"status": 200, "body": {...}},
     "trace": {"status": 501, "body": {"detail": ...}},
     "stream": {"status": 200, "sse": "<raw SSE text>"} | {"status": 400, "body": {...}}}
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC
from email.utils import parsedate_to_datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from ._demo_bulk import BulkIndex
from ._validation import is_run_id
from .models import KNOWN_RUN_STATUSES, KNOWN_STOP_REASONS

__all__ = [
    "BUNDLE_FORMAT",
    "DEMO_LABELS",
    "DemoServer",
    "build_bundle",
    "build_demo_bundles",
    "demo_transport",
    "load_demo_bundles",
]

BUNDLE_FORMAT = "letta-runs.bundle/1"

DEMO_LABELS = (
    "sync_plain",
    "sync_reasoning",
    "sync_add_mem_search_note_add",
    "sync_max_steps_default",
    "sync_fail_then_answer",
    "sync_http500",
    "stream_fg_http500",
    "async_http500",
    "sync_empty_message",
    "sync_request_1",
    "stream_bg_slow_cancel",
    "stream_bg_steps",
    "stream_bg_hang_forever",
)
"""Recorded runs embedded as demo data: healthy, loops, tool errors, LLM failures, approval,
cancellation, background streams and a run stuck in ``running``."""


# -- building bundles from recorded fixtures ------------------------------------------------


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _endpoint(folder: Path, name: str) -> dict[str, Any]:
    ok = folder / f"{name}.json"
    if ok.exists():
        return {"status": 200, "body": _read(ok)}
    err = folder / f"{name}.error.json"
    if err.exists():
        data = _read(err)
        return {"status": data.get("status"), "body": data.get("body")}
    return {"status": None, "body": None}


def _recorded_at(folder: Path, run: dict[str, Any]) -> str | None:
    trigger = folder / "trigger.json"
    if trigger.exists():
        date = ((_read(trigger).get("response") or {}).get("headers") or {}).get("date")
        if isinstance(date, str):
            try:
                return parsedate_to_datetime(date).astimezone(UTC).isoformat()
            except (TypeError, ValueError):
                pass
    value = run.get("completed_at") or run.get("created_at")
    return value if isinstance(value, str) else None


def _step_order(
    steps: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Steps in chronological order (recorded newest first, the server's default)."""
    by_id = {str(s.get("id")): s for s in steps}
    order: list[str] = []
    for message in messages:
        step_id = message.get("step_id")
        if isinstance(step_id, str) and step_id in by_id and step_id not in order:
            order.append(step_id)
    if len(order) == len(steps):
        return [by_id[i] for i in order]
    return list(reversed(steps))


def build_bundle(folder: Path, *, source: str) -> dict[str, Any]:
    """One recorded run folder (run.json, steps.json, …) as a bundle."""
    run = _read(folder / "run.json")
    messages = _read(folder / "messages.json")
    steps = _step_order(_read(folder / "steps.json"), messages)
    stream: dict[str, Any]
    if (folder / "stream.sse").exists():
        stream = {"status": 200, "sse": (folder / "stream.sse").read_text(encoding="utf-8")}
    else:
        stream = _endpoint(folder, "stream")
    return {
        "format": BUNDLE_FORMAT,
        "source": source,
        "recorded_at": _recorded_at(folder, run),
        "run": run,
        "steps": steps,
        "messages": messages,
        "usage": _endpoint(folder, "usage"),
        "metrics": _endpoint(folder, "metrics"),
        "trace": _endpoint(folder, "trace"),
        "stream": stream,
    }


def build_demo_bundles(fixtures_dir: Path, out_dir: Path) -> list[Path]:
    """Convert the recorded fixtures named in ``DEMO_LABELS`` into ``out_dir/<label>.json``."""
    index = _read(Path(fixtures_dir) / "index.json")
    by_label = {entry["label"]: entry for entry in index}
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for label in DEMO_LABELS:
        entry = by_label[label]
        bundle = build_bundle(
            Path(fixtures_dir) / entry["path"],
            source=f"Letta 0.16.8 self-hosted, scripted LLM; scenario {entry['scenario']}/{label}",
        )
        path = out_dir / f"{label}.json"
        path.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


@lru_cache(maxsize=1)
def load_demo_bundles() -> tuple[dict[str, Any], ...]:
    """The bundles shipped in ``letta_runs/demo`` (read once)."""
    folder = resources.files("letta_runs") / "demo"
    bundles = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            bundles.append(json.loads(item.read_text(encoding="utf-8")))
    return tuple(bundles)


# -- the fake server ---------------------------------------------------------------------------


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _not_found(run_id: str, what: str = "Run") -> httpx.Response:
    return _json(
        404,
        {
            "detail": f"{what} not found with id='['{run_id}']', access level in ['read'] for "
            "actor='id='user-00000000-0000-4000-8000-000000000000' name='default_user''"
        },
    )


def _bad_id(run_id: str) -> httpx.Response:
    return _json(
        400,
        {
            "detail": f"INVALID_ARGUMENT: Invalid run ID format: {run_id}. "
            "Expected format: 'run-<uuid4>'"
        },
    )


def _unprocessable(loc: str, msg: str, value: str) -> httpx.Response:
    return _json(
        422,
        {
            "trace_id": "",
            "detail": f"[{{'type': 'value_error', 'loc': ('query', '{loc}'), 'msg': "
            f"\"{msg}\", 'input': '{value}'}}]",
        },
    )


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ValueError(value)


def _sse_chunks(text: str) -> list[tuple[int, str]]:
    """Split recorded SSE into (seq position, chunk text); seq-less chunks take the next number."""
    chunks = [c for c in re.split(r"\n\n+", text) if c.strip()]
    out: list[tuple[int, str]] = []
    position = 0
    for chunk in chunks:
        seq = None
        for line in chunk.splitlines():
            if line.startswith("data:"):
                payload = line[5:].strip()
                try:
                    data = json.loads(payload)
                except ValueError:
                    continue
                if isinstance(data, dict) and isinstance(data.get("seq_id"), int):
                    seq = data["seq_id"]
        if seq is not None and seq > position:
            position = seq
        elif seq is None or seq < position:
            position += 1
        out.append((position, chunk + "\n\n"))
    return out


def _ends_cleanly(text: str) -> bool:
    return "data: [DONE]" in text or "event: error" in text


class _ReplayStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Replay recorded chunks; a recording that never ended stays silent (a read timeout)."""

    def __init__(self, chunks: list[str], *, open_ended: bool, request: httpx.Request) -> None:
        self._chunks = chunks
        self._open_ended = open_ended
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            yield chunk.encode("utf-8")
        if self._open_ended:
            raise httpx.ReadTimeout("the recorded stream never ended", request=self._request)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk.encode("utf-8")
        if self._open_ended:
            raise httpx.ReadTimeout("the recorded stream never ended", request=self._request)


class DemoServer:
    """Answers Runs API requests from bundles, with Letta 0.16.8's semantics."""

    def __init__(
        self,
        bundles: tuple[dict[str, Any], ...] | list[dict[str, Any]],
        *,
        steps_bulk: bool = False,
    ) -> None:
        self.bundles = {b["run"]["id"]: b for b in bundles}
        self._steps_bulk = steps_bulk
        self._bulk_index: BulkIndex | None = None
        self._runs_sorted: dict[bool, list[dict[str, Any]]] = {}

    @property
    def bulk(self) -> BulkIndex:
        """The bulk lists (built on first use)."""
        if self._bulk_index is None:
            self._bulk_index = BulkIndex(list(self.bundles.values()), steps_bulk=self._steps_bulk)
        return self._bulk_index

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        query = parse_qs(request.url.query.decode("ascii"), keep_blank_values=True)
        if path.startswith("/latest/"):
            path = "/v1/" + path[len("/latest/") :]
        if path in ("/v1/runs/", "/v1/runs"):
            if request.method != "GET":
                return _json(405, {"detail": "Method Not Allowed"})
            return self._list(query)
        if path == "/v1/runs/active":
            return self._active(query)
        bulk = self._bulk_route(request.method, path, query)
        if bulk is not None:
            return bulk
        match = re.fullmatch(r"/v1/runs/([^/]+)(?:/([a-z]+))?", path)
        if match is None:
            return _json(404, {"detail": "Not Found"})
        run_id, sub = match.group(1), match.group(2)
        if request.method == "DELETE" and sub is None:
            return _json(405, {"detail": "the embedded demo data is read-only"})
        if sub == "trace":
            return self._trace(run_id, query)
        if sub == "stream":
            if request.method != "POST":
                return _json(405, {"detail": "Method Not Allowed"})
        elif request.method != "GET":
            return _json(405, {"detail": "Method Not Allowed"})
        if not is_run_id(run_id):
            return _bad_id(run_id)
        bundle = self.bundles.get(run_id)
        if bundle is None:
            return _not_found(run_id, "RunMetrics" if sub == "metrics" else "Run")
        if sub is None:
            return _json(200, bundle["run"])
        if sub in ("usage", "metrics"):
            recorded = bundle.get(sub) or {}
            return _json(recorded.get("status") or 200, recorded.get("body"))
        if sub == "messages":
            return self._messages(bundle, query)
        if sub == "steps":
            return self._steps(bundle, query)
        if sub == "stream":
            return self._stream(bundle, request)
        return _json(404, {"detail": "Not Found"})

    def _bulk_route(
        self, method: str, path: str, query: dict[str, list[str]]
    ) -> httpx.Response | None:
        if path in ("/v1/messages/", "/v1/steps/"):
            if method != "GET":
                return _json(405, {"detail": "Method Not Allowed"})
            if path == "/v1/steps/":
                return self.bulk.list_steps(query)
            return self.bulk.messages(query, None)
        match = re.fullmatch(r"/v1/agents/([^/]+)(/messages)?", path)
        if match is None:
            return None
        if method != "GET":
            return _json(405, {"detail": "the embedded demo data is read-only"})
        if match.group(2):
            return self.bulk.messages(query, match.group(1))
        return self.bulk.agent(match.group(1))

    # -- runs list

    def _sorted_runs(self, ascending: bool) -> list[dict[str, Any]]:
        cached = self._runs_sorted.get(ascending)
        if cached is None:
            runs = [b["run"] for b in self.bundles.values()]
            cached = sorted(
                runs, key=lambda r: (r.get("created_at") or "", r["id"]), reverse=not ascending
            )
            self._runs_sorted[ascending] = cached
        return cached

    def _list(self, query: dict[str, list[str]]) -> httpx.Response:
        one = {k: v[-1] for k, v in query.items()}
        try:
            limit = int(one.get("limit", "100"))
        except ValueError:
            return _unprocessable("limit", "Input should be a valid integer", one["limit"])
        if not 1 <= limit <= 1000:
            return _unprocessable("limit", "Input should be between 1 and 1000", str(limit))
        order = one.get("order", "desc")
        if order not in ("asc", "desc"):
            return _unprocessable("order", "Input should be 'asc' or 'desc'", order)
        statuses = query.get("statuses")
        for status in statuses or []:
            if status not in KNOWN_RUN_STATUSES:
                return _json(400, {"detail": f"'{status}' is not a valid RunStatus"})
        stop_reason = one.get("stop_reason")
        if stop_reason is not None and stop_reason not in KNOWN_STOP_REASONS:
            return _unprocessable("stop_reason", "Input should be a valid stop reason", stop_reason)
        try:
            background = _bool(one.get("background"))
            active = _bool(one.get("active"))
            ascending_flag = _bool(one.get("ascending"))
        except ValueError as exc:
            return _unprocessable("background", "Input should be a valid boolean", str(exc))
        ascending = bool(ascending_flag) or order == "asc"
        if active and not statuses:
            statuses = ["created", "running"]
        agent_id = one.get("agent_id")
        agent_ids = query.get("agent_ids")

        def keep(run: dict[str, Any]) -> bool:
            if agent_id is not None:
                if run.get("agent_id") != agent_id:
                    return False
            elif agent_ids and run.get("agent_id") not in agent_ids:
                return False
            if statuses and run.get("status") not in statuses:
                return False
            if background is not None and bool(run.get("background")) != background:
                return False
            if stop_reason is not None and run.get("stop_reason") != stop_reason:
                return False
            conversation = one.get("conversation_id")
            return conversation is None or run.get("conversation_id") == conversation

        every = self._sorted_runs(ascending)
        position = {r["id"]: i for i, r in enumerate(every)}
        items = [r for r in every if keep(r)]
        # The server's reversed cursors: before=X is the page after X in the current order,
        # after=X is the head of the list up to X. Unknown cursors are ignored.
        before, after = one.get("before"), one.get("after")
        if before in position:
            items = [r for r in items if position[r["id"]] > position[before]]
        if after in position:
            items = [r for r in items if position[r["id"]] < position[after]]
        return _json(200, items[:limit])

    def _active(self, query: dict[str, list[str]]) -> httpx.Response:
        one = {k: v[-1] for k, v in query.items()}
        try:
            background = _bool(one.get("background"))
        except ValueError as exc:
            return _unprocessable("background", "Input should be a valid boolean", str(exc))
        runs = [
            r
            for r in self._sorted_runs(False)
            if r.get("status") in ("created", "running")
            and (one.get("agent_id") is None or r.get("agent_id") == one["agent_id"])
            and (background is None or bool(r.get("background")) == background)
        ]
        return _json(200, runs[:100])

    # -- children

    @staticmethod
    def _child_params(
        query: dict[str, list[str]], default_order: str
    ) -> tuple[int, str] | httpx.Response:
        one = {k: v[-1] for k, v in query.items()}
        try:
            limit = int(one.get("limit", "100"))
        except ValueError:
            return _unprocessable("limit", "Input should be a valid integer", one["limit"])
        if limit < 0:
            return _json(500, {"detail": "A database error occurred."})
        order = one.get("order", default_order)
        if order not in ("asc", "desc"):
            return _unprocessable("order", "Input should be 'asc' or 'desc'", order)
        return limit, order

    def _messages(self, bundle: dict[str, Any], query: dict[str, list[str]]) -> httpx.Response:
        parsed = self._child_params(query, "asc")
        if isinstance(parsed, httpx.Response):
            return parsed
        limit, order = parsed
        # Group the items into internal messages: consecutive items sharing one id.
        groups: list[list[dict[str, Any]]] = []
        for item in bundle["messages"]:
            if groups and groups[-1][0].get("id") == item.get("id"):
                groups[-1].append(item)
            else:
                groups.append([item])
        index = {g[0].get("id"): i for i, g in enumerate(groups)}
        chosen = list(range(len(groups)))
        for key in ("after", "before"):
            cursor = query.get(key, [None])[-1]
            if cursor is None:
                continue
            if cursor not in index:
                return _json(
                    404, {"detail": f"No message found with id '{cursor}' for agent 'None'."}
                )
            pos = index[cursor]
            chosen = [i for i in chosen if (i > pos if key == "after" else i < pos)]
        if order == "desc":
            chosen.reverse()
        out: list[dict[str, Any]] = []
        for i in chosen[:limit]:
            out.extend(groups[i])
        return _json(200, out)

    def _steps(self, bundle: dict[str, Any], query: dict[str, list[str]]) -> httpx.Response:
        parsed = self._child_params(query, "desc")
        if isinstance(parsed, httpx.Response):
            return parsed
        limit, order = parsed
        steps = list(bundle["steps"])
        if order == "desc":
            steps.reverse()
        position = {s["id"]: i for i, s in enumerate(steps)}
        chosen = list(range(len(steps)))
        for key in ("after", "before"):
            cursor = query.get(key, [None])[-1]
            if cursor is None:
                continue
            if cursor not in position:
                return _json(404, {"detail": f"No Step found with id {cursor}"})
            pos = position[cursor]
            chosen = [i for i in chosen if (i > pos if key == "after" else i < pos)]
        return _json(200, [steps[i] for i in chosen[:limit]])

    def _trace(self, run_id: str, query: dict[str, list[str]]) -> httpx.Response:
        raw = query.get("limit", ["1000"])[-1]
        try:
            limit = int(raw)
        except ValueError:
            return _unprocessable("limit", "Input should be a valid integer", raw)
        if not 1 <= limit <= 5000:
            return _unprocessable("limit", "Input should be between 1 and 5000", raw)
        bundle = self.bundles.get(run_id)
        recorded = (bundle or {}).get("trace") or {}
        status = recorded.get("status") or 501
        if bundle is None or status == 501:
            return _json(
                501,
                {
                    "detail": "OTEL traces require ClickHouse. Set LETTA_CLICKHOUSE_ENDPOINT and "
                    "configure ClickHouse connection."
                },
            )
        return _json(status, recorded.get("body"))

    def _stream(self, bundle: dict[str, Any], request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _json(500, {"detail": "An unknown error occurred"})
        recorded = bundle.get("stream") or {}
        if recorded.get("status") != 200 or "sse" not in recorded:
            return _json(recorded.get("status") or 400, recorded.get("body"))
        after = body.get("starting_after") or 0
        if not isinstance(after, int):
            return _unprocessable("starting_after", "Input should be a valid integer", str(after))
        text = recorded["sse"]
        chunks = _sse_chunks(text)
        if body.get("include_pings") is False:
            chunks = [
                (p, c) for p, c in chunks if '"message_type":"ping"' not in c.replace(" ", "")
            ]
        selected = [c for p, c in chunks if p > after]
        open_ended = not _ends_cleanly(text) or not selected
        stream = _ReplayStream(selected, open_ended=open_ended, request=request)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream; charset=utf-8"}, stream=stream
        )


def demo_transport(bundles: list[dict[str, Any]] | None = None) -> httpx.MockTransport:
    """An httpx transport (sync and async) answering from the embedded demo bundles."""
    server = DemoServer(bundles if bundles is not None else load_demo_bundles())
    return httpx.MockTransport(server)
