"""Fault injection for the test suite: break requests the way networks, proxies and servers do.

Three pieces:

* ``FakeLetta`` — an upstream that answers like Letta 0.16.8 from the embedded recorded runs
  (``DemoServer``), plus ``GET /v1/health/`` and ``DELETE /v1/runs/{id}``: by default the 500 that
  0.16.8 answers to every delete; with ``deletes=True`` a working delete (the run is then 404).
* ``FaultTransport`` — an ``httpx`` transport (sync and async) in front of an upstream. Rules
  match requests by method and path; each matching request consumes the rule's next fault, and
  once a rule's faults are used up requests pass through ("fail N times, then recover").
  Faults: an error status (with or without ``Retry-After``), a connection failure before the
  request leaves or after the upstream acted on it, a hang (the read timeout fires), a body cut
  mid-way, a truncated / invalid / wrong-shape body, a 200 that is not an event stream, and SSE
  rewrites (keep-alive pings inserted, garbage lines, cut events, endless pings, silence).
* ``SocketServer`` — a loopback HTTP/1.1 server driven by a script, for what only a real
  connection shows: the HTTP stack's own exceptions for a reset after the request was sent, a
  body shorter than its ``Content-Length``, a server that never answers.

Every request is logged (``transport.sent``), so tests can assert how many were sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from letta_runs._demo import DemoServer, load_demo_bundles

Fault = Callable[[httpx.Request, Callable[[httpx.Request], httpx.Response]], httpx.Response]
"""Answers (or breaks) one request; may call the upstream (which then acts on it)."""

SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}
LETTA_500 = {"detail": "An unknown error occurred"}


# --------------------------------------------------------------------------- the upstream


class FakeLetta:
    """Letta 0.16.8 over the recorded demo runs, with a health endpoint and deletes."""

    def __init__(
        self,
        *,
        version: str = "0.16.8",
        deletes: bool = False,
        statuses: dict[str, str] | None = None,
    ) -> None:
        self.demo = DemoServer(load_demo_bundles())
        self.version = version
        self.deletes = deletes
        self.deleted: set[str] = set()
        self.statuses = dict(statuses or {})
        """Run id → status to report instead of the recorded one (e.g. a run still running)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/health/":
            return httpx.Response(200, json={"version": self.version, "status": "ok"})
        match = re.fullmatch(r"/v1/runs/(run-[0-9a-f-]+)(/[a-z]+)?", path)
        if match is not None:
            run_id, sub = match.group(1), match.group(2) or ""
            if run_id in self.deleted:
                return httpx.Response(404, json={"detail": f"Run not found with id='{run_id}'"})
            if request.method == "DELETE" and not sub:
                if not self.deletes:
                    return httpx.Response(500, json=LETTA_500)
                if run_id not in self.demo.bundles:
                    return httpx.Response(404, json={"detail": f"Run not found: {run_id}"})
                self.deleted.add(run_id)
                return httpx.Response(200, json=self.demo.bundles[run_id]["run"])
            if request.method == "GET" and not sub and run_id in self.statuses:
                response = self.demo(request)
                body = json.loads(response.read())
                body["status"] = self.statuses[run_id]
                body["stop_reason"] = None if body["status"] == "running" else body["stop_reason"]
                return httpx.Response(200, json=body)
        return self.demo(request)


# --------------------------------------------------------------------------- byte scripts


@dataclass
class Pause:
    """Wait this long between chunks (a slow server)."""

    seconds: float


@dataclass
class Silence:
    """Send nothing more until the reader's read timeout fires (a hung connection)."""


@dataclass
class Fail:
    """Raise this transport error here (a reset or drop mid-body)."""

    error: type[httpx.TransportError] = httpx.ReadError
    message: str = "connection reset by peer"


Step = bytes | str | Pause | Silence | Fail


class ScriptStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body played from a script of chunks, pauses, silences and failures.

    A ``Silence`` emulates the socket: it waits for the request's read timeout as it was when
    the body started (httpcore takes it once per response body) and then raises
    ``ReadTimeout``; an async reader with its own wall-clock timer gives up before that.
    """

    def __init__(self, steps: Iterable[Step], request: httpx.Request, *, max_wait: float = 5.0):
        self._steps = steps
        self._request = request
        timeouts = request.extensions.get("timeout") or {}
        read = timeouts.get("read") if isinstance(timeouts, dict) else None
        self._timeout = min(float(read), max_wait) if read else max_wait

    def _read_timeout(self) -> float:
        return self._timeout

    def __iter__(self) -> Iterator[bytes]:
        for step in self._steps:
            if isinstance(step, Pause):
                time.sleep(step.seconds)
            elif isinstance(step, Silence):
                time.sleep(self._read_timeout())
                raise httpx.ReadTimeout("timed out", request=self._request)
            elif isinstance(step, Fail):
                raise step.error(step.message, request=self._request)
            else:
                yield step.encode() if isinstance(step, str) else step

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for step in self._steps:
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, Silence):
                await asyncio.sleep(self._read_timeout())
                raise httpx.ReadTimeout("timed out", request=self._request)
            elif isinstance(step, Fail):
                raise step.error(step.message, request=self._request)
            else:
                yield step.encode() if isinstance(step, str) else step


def sse_events(text: str) -> list[str]:
    """The events of an SSE text, each with its closing blank line."""
    return [chunk + "\n\n" for chunk in text.split("\n\n") if chunk.strip()]


PING = 'data: {"message_type":"ping","seq_id":null}\n\n'
"""A keep-alive ping as Letta sends it between stored events (no seq_id)."""


# --------------------------------------------------------------------------- faults


def status(
    code: int,
    *,
    json_body: Any = None,
    text: str | None = None,
    headers: dict[str, str] | None = None,
    acted: bool = False,
) -> Fault:
    """An error status; ``acted``: the upstream got and acted on the request first (a proxy that
    answers 502 after the server deleted the run)."""

    def fault(request: httpx.Request, upstream: Callable[[httpx.Request], httpx.Response]):
        if acted:
            upstream(request)
        if text is not None:
            return httpx.Response(code, text=text, headers=headers)
        body = json_body if json_body is not None else {"detail": f"injected {code}"}
        return httpx.Response(code, json=body, headers=headers)

    fault.__name__ = f"status_{code}"
    return fault


def before_send(error: type[httpx.TransportError] = httpx.ConnectError) -> Fault:
    """The connection fails before the request leaves (refused, DNS, connect timeout)."""

    def fault(request: httpx.Request, upstream: Callable[[httpx.Request], httpx.Response]):
        raise error("connection refused", request=request)

    return fault


def after_send(error: type[httpx.TransportError] = httpx.ReadError) -> Fault:
    """The upstream gets and acts on the request, then the connection fails before the answer
    (a reset after send, a read timeout)."""

    def fault(request: httpx.Request, upstream: Callable[[httpx.Request], httpx.Response]):
        upstream(request)
        raise error("connection reset by peer", request=request)

    return fault


def body(content: bytes | str, *, code: int = 200, content_type: str = "application/json") -> Fault:
    """Answer ``content`` as is: truncated, invalid or wrong-shape JSON, an HTML page."""

    def fault(request: httpx.Request, upstream: Callable[[httpx.Request], httpx.Response]):
        data = content.encode() if isinstance(content, str) else content
        return httpx.Response(code, content=data, headers={"content-type": content_type})

    return fault


def cut_body(after: int, error: type[httpx.TransportError] = httpx.RemoteProtocolError) -> Fault:
    """The upstream's answer, cut after ``after`` bytes by a dropped connection."""

    def fault(request: httpx.Request, upstream: Callable[[httpx.Request], httpx.Response]):
        response = upstream(request)
        data = response.read()
        steps: list[Step] = [data[:after], Fail(error, "peer closed connection mid-body")]
        return httpx.Response(
            response.status_code,
            headers={"content-type": response.headers.get("content-type", "")},
            stream=ScriptStream(steps, request),
        )

    return fault


def hang(*, acted: bool = True) -> Fault:
    """The server never answers: the read timeout fires (after the upstream acted, by default)."""

    def fault(request: httpx.Request, upstream: Callable[[httpx.Request], httpx.Response]):
        if acted:
            upstream(request)
        raise httpx.ReadTimeout("timed out", request=request)

    return fault


def sse(rewrite: Callable[[list[str]], list[Step]], *, content_type: str | None = None) -> Fault:
    """The upstream's event stream, its events rewritten by ``rewrite`` (a list of events, each
    with its blank line, in; a byte script out)."""

    def fault(request: httpx.Request, upstream: Callable[[httpx.Request], httpx.Response]):
        response = upstream(request)
        if response.status_code != 200:
            return response
        text = _read_events(response)
        headers = {"content-type": content_type} if content_type else SSE_HEADERS
        return httpx.Response(
            200, headers=headers, stream=ScriptStream(rewrite(sse_events(text)), request)
        )

    return fault


def _read_events(response: httpx.Response) -> str:
    """The upstream's stream up to its end (``[DONE]``, an error event, or the body's end): a
    real server may keep a finished stream open, so reading stops at its last event."""
    text = ""
    try:
        for chunk in response.iter_text():
            text += chunk
            error_at = text.find("event: error")
            if "data: [DONE]" in text or (error_at >= 0 and "\n\n" in text[error_at:]):
                break
    except httpx.ReadTimeout:
        pass  # a recording that never ended: the rewrite sees what came
    finally:
        response.close()
    return text


def endless(step: Step, *, every: float = 0.01) -> Fault:
    """A 200 event stream that sends ``step`` forever."""

    def steps() -> Iterator[Step]:
        while True:
            yield step
            yield Pause(every)

    def fault(request: httpx.Request, upstream: Callable[[httpx.Request], httpx.Response]):
        return httpx.Response(200, headers=SSE_HEADERS, stream=ScriptStream(steps(), request))

    return fault


# --------------------------------------------------------------------------- the transport


@dataclass
class Rule:
    """Requests of ``method`` whose path matches ``path`` (a regex, full match) take the next of
    ``faults``; when they are used up, requests reach the upstream untouched."""

    method: str
    path: str
    faults: list[Fault]
    used: int = 0

    def matches(self, request: httpx.Request) -> bool:
        return (
            request.method == self.method and re.fullmatch(self.path, request.url.path) is not None
        )


@dataclass
class Sent:
    method: str
    path: str
    fault: str | None
    body: bytes = b""


@dataclass
class FaultTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An ``httpx`` transport (sync and async) that applies ``rules`` in front of ``upstream``."""

    upstream: Callable[[httpx.Request], httpx.Response] = field(default_factory=FakeLetta)
    rules: list[Rule] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        request.read()
        for rule in self.rules:
            if rule.matches(request) and rule.used < len(rule.faults):
                fault = rule.faults[rule.used]
                rule.used += 1
                self.sent.append(
                    Sent(request.method, request.url.path, fault.__name__, request.content)
                )
                return fault(request, self.upstream)
        self.sent.append(Sent(request.method, request.url.path, None, request.content))
        return self.upstream(request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request)

    def count(self, method: str, path_regex: str = ".*") -> int:
        """How many requests of ``method`` to matching paths were sent."""
        return sum(1 for s in self.sent if s.method == method and re.fullmatch(path_regex, s.path))


# --------------------------------------------------------------------------- real sockets


@dataclass
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Script = Callable[[int, RawRequest, socket.socket], None]
"""Handles the n-th request (0-based) of a ``SocketServer``: write bytes, close, or hang."""


def http_response(
    code: int,
    body: bytes | str,
    *,
    content_type: str = "application/json",
    extra: str = "",
    length: int | None = None,
) -> bytes:
    data = body.encode() if isinstance(body, str) else body
    size = len(data) if length is None else length
    head = (
        f"HTTP/1.1 {code} X\r\ncontent-type: {content_type}\r\ncontent-length: {size}\r\n"
        f"connection: close\r\n{extra}\r\n"
    )
    return head.encode() + data


class SocketServer:
    """A loopback HTTP/1.1 server (one thread per connection) that plays ``script``.

    >>> with SocketServer(lambda n, req, sock: sock.sendall(http_response(200, "{}"))) as url:
    ...     httpx.get(url + "/x").status_code
    200
    """

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[RawRequest] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> str:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self.url

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()

    def _accept(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                request = _read_request(conn)
            except OSError:
                return
            if request is None:
                return
            with self._lock:
                index = len(self.requests)
                self.requests.append(request)
            with contextlib.suppress(OSError):
                self.script(index, request, conn)


def _read_request(conn: socket.socket) -> RawRequest | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    size = int(headers.get("content-length", "0") or 0)
    while len(rest) < size:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return RawRequest(method, path, headers, rest[:size])


def reset(conn: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0) instead of an orderly shutdown."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()
