"""Reading ``POST /v1/runs/{id}/stream``: SSE framing, resume, and knowing when to stop.

The server's stream has traps a plain SSE reader falls into (all observed on Letta 0.16.8):

* a background stream that fails ends with ``event: error`` and no ``[DONE]``;
* a cancelled run ends with ``stop_reason: cancelled`` (sometimes without ``[DONE]``);
* an async run, or ``starting_after`` past the end, yields nothing for 20 s, then a keep-alive
  ping every 20 s, forever — even when the run is long finished;
* a dropped connection can be resumed with ``starting_after=<last seq_id>``.

So the reader keeps its own idle timeout and resumes from the last ``seq_id`` after a drop. A
keep-alive ping never ends a stream: it may make the reader ask whether the run is already
terminal (at most every few seconds), and a terminal run's stream is then *drained* — resumed
from the last ``seq_id`` and read on until nothing but pings or silence has come for a short
grace (a finished run's stored events replay at once).
A connection silent past the idle timeout is reconnected from the last ``seq_id`` (twice at
most) before the reader gives up. A ``200`` that is not ``text/event-stream`` (an HTML proxy
page, JSON) is an ``APIResponseError`` at once, never retried. Lines and events are bounded in
size, and a final event cut off by the connection is dropped, not handed over half-parsed.

The decisions live in ``StreamState`` (no I/O); ``RunStream`` / ``AsyncRunStream`` only move
bytes.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._exceptions import APIConnectionError, APIResponseError
from .models import StreamEvent, parse_message

__all__ = [
    "AsyncRunStream",
    "RunStream",
    "SSEDecoder",
    "ServerSentEvent",
    "StreamState",
    "parse_sse",
    "to_stream_event",
]

ERROR_GRACE_SECONDS = 2.0
"""After ``event: error``, how long to wait for anything else (a foreground stream sends
``[DONE]`` right after; a background stream just ends)."""

TERMINAL_CHECK_INTERVAL = 5.0
"""At most one "is the run finished?" read per this many seconds, however many pings arrive."""
MAX_IDLE_RECONNECTS = 2
"""Silent connections reconnected (from the last ``seq_id``) before the reader gives up idle."""
MAX_LINE_CHARS = 16 * 1024 * 1024
"""A line (or an event's data) longer than this is not a Letta event: the stream is refused."""

END_REASONS = (
    "done",
    "error",
    "cancelled",
    "terminal",
    "idle_timeout",
    "max_events",
    "max_seconds",
    "closed",
)

_STREAM_DROPS: tuple[type[Exception], ...] = (
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.PoolTimeout,
)
"""Failures after which the stream is resumed (with backoff, bounded)."""

_IDLE = "_idle"
"""Internal outcome of a connection that went silent: check the run, maybe reconnect."""
_DRAIN = "_drain"
"""Internal outcome once a ping showed the run finished: reconnect from the last ``seq_id``
with the short drain grace as the read timeout. (The HTTP stack fixes a body's read timeout
when the body starts, so an open connection cannot be given a shorter one.)"""


def check_event_stream(response: httpx.Response, *, path: str) -> None:
    """Refuse a ``200`` that is not an event stream (a proxy's HTML page, a JSON body) at once."""
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == "text/event-stream":
        return
    shown = content_type or "no content-type"
    raise APIResponseError(
        f"POST {path} answered {response.status_code} with {shown}, not an event stream",
        hint="something other than Letta answered (a proxy, a login or error page); check "
        "LETTA_BASE_URL and any proxy in between",
    )


_EOL = re.compile(r"\r\n|\r|\n")


class LineSplitter:
    r"""SSE lines from text chunks (``\r\n``, ``\n`` or ``\r`` end a line), bounded in length."""

    def __init__(self, max_chars: int | None = None) -> None:
        self._buffer = ""
        self._max = max_chars if max_chars is not None else MAX_LINE_CHARS

    def feed(self, text: str) -> list[str]:
        buffer = self._buffer + text
        lines: list[str] = []
        start = 0
        for match in _EOL.finditer(buffer):
            if match.group() == "\r" and match.end() == len(buffer):
                break  # a CR at the end of a chunk may be the first half of a CRLF
            lines.append(buffer[start : match.start()])
            start = match.end()
        self._buffer = buffer[start:]
        if len(self._buffer) > self._max:
            raise APIResponseError(
                f"the stream sent a line longer than {self._max} characters",
                hint="this is not a Letta event stream; check LETTA_BASE_URL",
            )
        return lines

    def close(self) -> str | None:
        """The unterminated last line, if any (a connection cut mid-line)."""
        rest, self._buffer = self._buffer, ""
        return rest.rstrip("\r") or None


@dataclass
class ServerSentEvent:
    """One dispatched SSE event: its ``event:`` name (``None`` = message) and joined ``data``."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


@dataclass
class SSEDecoder:
    """Incremental SSE parser (WHATWG rules): feed lines, get an event at each blank line."""

    _data: list[str] = field(default_factory=list)
    _event: str | None = None
    _id: str | None = None
    _retry: int | None = None
    _size: int = 0

    def decode(self, line: str) -> ServerSentEvent | None:
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._size += len(value) + 1
            if self._size > MAX_LINE_CHARS:
                raise APIResponseError(
                    f"the stream sent an event larger than {MAX_LINE_CHARS} characters",
                    hint="this is not a Letta event stream; check LETTA_BASE_URL",
                )
            self._data.append(value)
        elif name == "event":
            self._event = value or None
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry":
            with contextlib.suppress(ValueError):
                self._retry = int(value)
        return None

    def flush(self) -> ServerSentEvent | None:
        """Dispatch what is pending at end of stream (a final event without its blank line)."""
        return self._dispatch()

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data and self._event is None:
            return None
        sse = ServerSentEvent(
            data="\n".join(self._data), event=self._event, id=self._id, retry=self._retry
        )
        self._data = []
        self._event = None
        self._retry = None
        self._size = 0
        if not sse.data and sse.event is None:
            return None
        return sse


def parse_sse(text: str) -> list[StreamEvent]:
    """Parse a whole recorded SSE text into stream events.

    >>> [e.kind for e in parse_sse('data: {"message_type":"stop_reason","stop_reason":"end_turn"}\\n\\ndata: [DONE]\\n\\n')]
    ['stop_reason', 'done']
    """
    decoder = SSEDecoder()
    events: list[StreamEvent] = []
    for line in text.splitlines():
        sse = decoder.decode(line)
        if sse is not None:
            events.append(to_stream_event(sse))
    tail = decoder.flush()
    if tail is not None:
        events.append(to_stream_event(tail))
    return events


_SPECIAL_KINDS = {
    "ping": "ping",
    "stop_reason": "stop_reason",
    "usage_statistics": "usage",
    "error_message": "error",
}


def to_stream_event(sse: ServerSentEvent) -> StreamEvent:
    """Classify one SSE event into a ``StreamEvent``."""
    raw = sse.data
    if raw.strip() == "[DONE]":
        return StreamEvent(kind="done", event=sse.event, data=None, raw=raw)
    try:
        data: Any = json.loads(raw)
    except ValueError:
        data = raw
    seq_id = data.get("seq_id") if isinstance(data, dict) else None
    seq = seq_id if isinstance(seq_id, int) and not isinstance(seq_id, bool) else None
    if sse.event == "error":
        return StreamEvent(kind="error", event="error", data=data, raw=raw, seq_id=seq)
    if sse.event == "cancelled":
        return StreamEvent(kind="stop_reason", event="cancelled", data=data, raw=raw, seq_id=seq)
    kind = "other"
    message = None
    if isinstance(data, dict):
        message_type = data.get("message_type")
        if isinstance(message_type, str):
            kind = _SPECIAL_KINDS.get(message_type, "message")
            if kind == "message":
                message = parse_message(data)
    return StreamEvent(kind=kind, event=sse.event, data=data, raw=raw, seq_id=seq, message=message)


def is_complete(sse: ServerSentEvent) -> bool:
    """Whether an event dispatched at end of stream (no closing blank line) is whole: its data
    is ``[DONE]`` or parses as JSON. A connection cut mid-event leaves a fragment."""
    raw = sse.data.strip()
    if raw == "[DONE]":
        return True
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def _is_cancel(event: StreamEvent) -> bool:
    return event.event == "cancelled" or event.stop_reason == "cancelled"


@dataclass
class StreamState:
    """Every decision of a stream reader, free of I/O.

    ``accept(event)`` says whether to hand an event to the caller (duplicates replayed after a
    resume are dropped) and records why the stream should end; ``wants_terminal_check`` says when
    a keep-alive ping makes it worth asking whether the run already finished; once it has,
    ``mark_terminal`` starts draining: the stream ends after ``drain_grace`` seconds without a
    real event (``drained``).
    """

    starting_after: int | None = None
    max_events: int | None = None
    max_seconds: float | None = None
    idle_timeout: float = 30.0
    drain_grace: float = ERROR_GRACE_SECONDS
    max_idle_reconnects: int = MAX_IDLE_RECONNECTS
    started: float = field(default_factory=time.monotonic)
    last_seq_id: int | None = None
    end_reason: str | None = None
    events_seen: int = 0
    reconnects: int = 0
    idle_reconnects: int = 0
    error_seen: bool = False
    run_terminal: bool = False
    _events_this_connection: int = 0
    _last_ping_first: bool = False
    _last_check: float | None = None
    _drain_deadline: float | None = None
    _seen_tail: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.last_seq_id is None and self.starting_after is not None:
            self.last_seq_id = self.starting_after

    def request_body(self, base: dict[str, Any]) -> dict[str, Any]:
        """The JSON body of the next (re)connection: resume after the last seen ``seq_id``."""
        body = dict(base)
        if self.last_seq_id is not None:
            body["starting_after"] = self.last_seq_id
        return body

    def new_connection(self) -> None:
        self._events_this_connection = 0
        if self.run_terminal:
            # A finished run's stored events replay at once: a short grace is enough.
            self._drain_deadline = time.monotonic() + self.drain_grace

    def mark_terminal(self) -> None:
        """The run is finished: read on only while real events keep coming."""
        self.run_terminal = True
        self._drain_deadline = time.monotonic() + self.drain_grace

    def drained(self) -> bool:
        return (
            self.run_terminal
            and self._drain_deadline is not None
            and time.monotonic() >= self._drain_deadline
        )

    def read_timeout(self) -> float:
        """Seconds the next read may block: the idle timeout, bounded by the drain grace and
        ``max_seconds``."""
        limit = ERROR_GRACE_SECONDS if self.error_seen else self.idle_timeout
        if self.run_terminal and self._drain_deadline is not None:
            limit = min(limit, max(self._drain_deadline - time.monotonic(), 0.001))
        remaining = self.remaining_seconds()
        if remaining is not None:
            limit = min(limit, max(remaining, 0.001))
        return limit

    def remaining_seconds(self) -> float | None:
        if self.max_seconds is None:
            return None
        return self.max_seconds - (time.monotonic() - self.started)

    def out_of_time(self) -> bool:
        remaining = self.remaining_seconds()
        return remaining is not None and remaining <= 0

    def accept(self, event: StreamEvent) -> bool:
        """Record ``event``; True if the caller should see it."""
        first_on_connection = self._events_this_connection == 0
        self._events_this_connection += 1
        if event.kind == "ping":
            self._last_ping_first = first_on_connection
        if self.reconnects or self.idle_reconnects:
            # A resumed stream may replay what we already have (its stored pings included).
            if event.seq_id is not None and self.last_seq_id is not None:
                if event.seq_id <= self.last_seq_id:
                    return False
            elif event.kind in ("stop_reason", "usage") and event.kind in self._seen_tail:
                return False
        if event.seq_id is not None and event.kind != "ping":
            self.last_seq_id = max(self.last_seq_id or 0, event.seq_id)
        elif event.seq_id is not None and self.last_seq_id is None:
            self.last_seq_id = event.seq_id
        if event.kind != "ping" and self.run_terminal:
            self._drain_deadline = time.monotonic() + self.drain_grace
        if event.kind in ("stop_reason", "usage"):
            self._seen_tail.add(event.kind)
        if event.kind == "done":
            self.end_reason = "error" if self.error_seen else "done"
        elif event.kind == "error":
            self.error_seen = True
        elif _is_cancel(event):
            self.end_reason = "cancelled"
        self.events_seen += 1
        if (
            self.end_reason is None
            and self.max_events is not None
            and self.events_seen >= self.max_events
        ):
            self.end_reason = "max_events"
        return True

    def wants_terminal_check(self, event: StreamEvent) -> bool:
        """A keep-alive ping (not the replay's opening ping) means the server has nothing new
        right now: worth asking whether the run finished — at most every few seconds."""
        if event.kind != "ping" or self.run_terminal:
            return False
        if self._last_ping_first and event.seq_id is not None:
            return False
        now = time.monotonic()
        if self._last_check is not None and now - self._last_check < TERMINAL_CHECK_INTERVAL:
            return False
        self._last_check = now
        return True

    def on_eof(self, *, clean: bool = True) -> str | None:
        """End reason when the body ends (``clean``: closed normally, not dropped); ``None``
        means resume from the last ``seq_id``."""
        if self.end_reason is not None:
            return self.end_reason
        if self.error_seen:
            return "error"
        if "stop_reason" in self._seen_tail:
            return "done"
        if self.run_terminal and clean:
            return "terminal"  # a finished run whose server closed the stream
        return None

    def on_idle(self) -> str | None:
        """End reason when a read timed out; ``None``: silent too long — check and reconnect."""
        if self.error_seen:
            return "error"
        if self.out_of_time():
            return "max_seconds"
        if self.run_terminal:
            return "terminal"
        return None

    def idle_reconnect(self) -> bool:
        """Count one reconnect of a silent connection; False when they are used up."""
        if self.idle_reconnects >= self.max_idle_reconnects:
            return False
        self.idle_reconnects += 1
        return True


def _accepted(state: StreamState, decoder: SSEDecoder, lines: list[str]) -> Iterator[StreamEvent]:
    """The events these lines complete that the caller should see."""
    for line in lines:
        sse = decoder.decode(line)
        if sse is None:
            continue
        event = to_stream_event(sse)
        if state.accept(event):
            yield event


def _tail(state: StreamState, decoder: SSEDecoder, splitter: LineSplitter) -> Iterator[StreamEvent]:
    """At a clean end of the body: the last event, if it is whole (not cut mid-way)."""
    last = splitter.close()
    if last is not None:
        decoder.decode(last)
    tail = decoder.flush()
    if tail is not None and is_complete(tail):
        event = to_stream_event(tail)
        if state.accept(event):
            yield event


def _dropped(state: StreamState, max_reconnects: int) -> APIConnectionError | None:
    """The error that ends a stream after too many drops, or None to reconnect."""
    if state.reconnects < max_reconnects:
        return None
    return APIConnectionError(
        f"the stream dropped {state.reconnects + 1} times (last seq_id {state.last_seq_id})",
        hint=f"check the network, or resume later with starting_after={state.last_seq_id}",
    )


class RunStream:
    """Iterate a run's stream; afterwards ``.end_reason``, ``.last_seq_id``, ``.events_seen``.

    >>> stream = client.runs.stream("run-…")            # doctest: +SKIP
    >>> for event in stream: print(event.kind)          # doctest: +SKIP
    >>> stream.end_reason                               # doctest: +SKIP
    'done'
    """

    def __init__(
        self,
        *,
        connect: Callable[[dict[str, Any], float], httpx.Response],
        is_terminal: Callable[[], bool] | None,
        body: dict[str, Any],
        state: StreamState,
        max_reconnects: int,
        pause: Callable[[int], None] | None = None,
        path: str = "/v1/runs/{run_id}/stream",
    ) -> None:
        self._connect = connect
        self._is_terminal = is_terminal
        self._body = body
        self._state = state
        self._max_reconnects = max_reconnects
        self._pause = pause
        self._path = path
        self._response: httpx.Response | None = None
        self._iterator: Iterator[StreamEvent] | None = None

    @property
    def last_seq_id(self) -> int | None:
        return self._state.last_seq_id

    @property
    def end_reason(self) -> str | None:
        return self._state.end_reason

    @property
    def events_seen(self) -> int:
        return self._state.events_seen

    @property
    def reconnects(self) -> int:
        return self._state.reconnects + self._state.idle_reconnects

    def __iter__(self) -> Iterator[StreamEvent]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    def __enter__(self) -> RunStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None
        if self._state.end_reason is None:
            self._state.end_reason = "closed"

    def _terminal(self) -> bool:
        if self._is_terminal is None or not self._is_terminal():
            return False
        self._state.mark_terminal()
        return True

    def _run(self) -> Iterator[StreamEvent]:
        state = self._state
        try:
            while state.end_reason is None:
                reason = yield from self._one_connection()
                if reason == _DRAIN:
                    continue  # reconnect at once; the run is finished, so only once
                if reason == _IDLE:
                    # Silent past the idle timeout: a hung connection, or a run with nothing
                    # to say. A finished run is drained once more; a live one is reconnected.
                    if not self._terminal() and not state.idle_reconnect():
                        state.end_reason = "idle_timeout"
                    continue
                if reason is not None:
                    state.end_reason = reason
                    break
                error = _dropped(state, self._max_reconnects)
                if error is not None:
                    raise error
                if self._pause is not None:
                    self._pause(state.reconnects)
                state.reconnects += 1
        finally:
            if self._response is not None:
                self._response.close()
                self._response = None

    def _one_connection(self) -> Generator[StreamEvent, None, str | None]:
        """Yield events of one connection; return an end reason, ``_IDLE``, ``_DRAIN``, or
        None to resume."""
        state = self._state
        state.new_connection()
        try:
            response = self._connect(state.request_body(self._body), state.read_timeout())
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            return None
        except httpx.TimeoutException:
            return state.on_idle() or _IDLE
        except _STREAM_DROPS:
            return None
        self._response = response
        decoder = SSEDecoder()
        splitter = LineSplitter()
        try:
            check_event_stream(response, path=self._path)
            chunks = response.iter_text()
            while True:
                if state.out_of_time():
                    return "max_seconds"
                if state.drained():
                    return "terminal"
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                for event in _accepted(state, decoder, splitter.feed(chunk)):
                    yield event
                    if state.end_reason is not None:
                        return state.end_reason
                    if state.wants_terminal_check(event) and self._terminal():
                        return _DRAIN
            yield from _tail(state, decoder, splitter)
            return state.on_eof()
        except httpx.TimeoutException:
            return state.on_idle() or _IDLE
        except _STREAM_DROPS:
            return state.on_eof(clean=False)
        finally:
            response.close()
            self._response = None


class AsyncRunStream:
    """The async twin of ``RunStream``: ``async for event in client.runs.stream(run_id)``."""

    def __init__(
        self,
        *,
        connect: Callable[[dict[str, Any], float], Awaitable[httpx.Response]],
        is_terminal: Callable[[], Awaitable[bool]] | None,
        body: dict[str, Any],
        state: StreamState,
        max_reconnects: int,
        pause: Callable[[int], Awaitable[None]] | None = None,
        path: str = "/v1/runs/{run_id}/stream",
    ) -> None:
        self._connect = connect
        self._is_terminal = is_terminal
        self._body = body
        self._state = state
        self._max_reconnects = max_reconnects
        self._pause = pause
        self._path = path
        self._response: httpx.Response | None = None
        self._iterator: AsyncIterator[StreamEvent] | None = None

    @property
    def last_seq_id(self) -> int | None:
        return self._state.last_seq_id

    @property
    def end_reason(self) -> str | None:
        return self._state.end_reason

    @property
    def events_seen(self) -> int:
        return self._state.events_seen

    @property
    def reconnects(self) -> int:
        return self._state.reconnects + self._state.idle_reconnects

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    async def __aenter__(self) -> AsyncRunStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._response is not None:
            await self._response.aclose()
            self._response = None
        if self._state.end_reason is None:
            self._state.end_reason = "closed"

    async def _terminal(self) -> bool:
        if self._is_terminal is None or not await self._is_terminal():
            return False
        self._state.mark_terminal()
        return True

    async def _run(self) -> AsyncIterator[StreamEvent]:
        state = self._state
        try:
            while state.end_reason is None:
                outcome: list[str | None] = []
                async for event in self._one_connection(outcome):
                    yield event
                reason = outcome[0] if outcome else None
                if reason == _DRAIN:
                    continue
                if reason == _IDLE:
                    if not await self._terminal() and not state.idle_reconnect():
                        state.end_reason = "idle_timeout"
                    continue
                if reason is not None:
                    state.end_reason = reason
                    break
                error = _dropped(state, self._max_reconnects)
                if error is not None:
                    raise error
                if self._pause is not None:
                    await self._pause(state.reconnects)
                state.reconnects += 1
        finally:
            if self._response is not None:
                await self._response.aclose()
                self._response = None

    async def _one_connection(self, outcome: list[str | None]) -> AsyncIterator[StreamEvent]:
        # Async generators cannot return a value, so the end reason goes into ``outcome``.
        import asyncio  # here, not at module level: the sync stream and the CLI do without it

        state = self._state
        state.new_connection()
        try:
            response = await asyncio.wait_for(
                self._connect(state.request_body(self._body), state.read_timeout()),
                timeout=state.read_timeout() + 5.0,
            )
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            outcome.append(None)
            return
        except (httpx.TimeoutException, TimeoutError):
            outcome.append(state.on_idle() or _IDLE)
            return
        except _STREAM_DROPS:
            outcome.append(None)
            return
        self._response = response
        decoder = SSEDecoder()
        splitter = LineSplitter()
        chunks = response.aiter_text()
        try:
            check_event_stream(response, path=self._path)
            while True:
                if state.out_of_time():
                    outcome.append("max_seconds")
                    return
                if state.drained():
                    outcome.append("terminal")
                    return
                timeout = state.read_timeout()
                try:
                    chunk = await asyncio.wait_for(anext(chunks), timeout=timeout)
                except StopAsyncIteration:
                    break
                for event in _accepted(state, decoder, splitter.feed(chunk)):
                    yield event
                    if state.end_reason is not None:
                        outcome.append(state.end_reason)
                        return
                    if state.wants_terminal_check(event) and await self._terminal():
                        outcome.append(_DRAIN)
                        return
            for event in _tail(state, decoder, splitter):
                yield event
            outcome.append(state.on_eof())
        except (httpx.TimeoutException, TimeoutError):
            outcome.append(state.on_idle() or _IDLE)
        except _STREAM_DROPS:
            outcome.append(state.on_eof(clean=False))
        finally:
            with contextlib.suppress(Exception):
                await chunks.aclose()  # type: ignore[attr-defined]
            await response.aclose()
            self._response = None
