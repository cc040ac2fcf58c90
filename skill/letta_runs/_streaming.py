"""Reading ``POST /v1/runs/{id}/stream``: SSE framing, resume, and knowing when to stop.

The server's stream has traps a plain SSE reader falls into (all observed on Letta 0.16.8):

* a background stream that fails ends with ``event: error`` and no ``[DONE]``;
* a cancelled run ends with ``stop_reason: cancelled`` (sometimes without ``[DONE]``);
* an async run, or ``starting_after`` past the end, yields nothing for 20 s, then a keep-alive
  ping every 20 s, forever — even when the run is long finished;
* a dropped connection can be resumed with ``starting_after=<last seq_id>``.

So the reader keeps its own idle timeout, asks the server whether the run is already terminal
when only keep-alives arrive, and resumes from the last ``seq_id`` after a drop. The decisions
live in ``StreamState`` (no I/O); ``RunStream`` / ``AsyncRunStream`` only move bytes.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._exceptions import APIConnectionError
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
    httpx.PoolTimeout,
)


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


def _is_cancel(event: StreamEvent) -> bool:
    return event.event == "cancelled" or event.stop_reason == "cancelled"


@dataclass
class StreamState:
    """Every decision of a stream reader, free of I/O.

    ``accept(event)`` says whether to hand an event to the caller (duplicates replayed after a
    resume are dropped) and records why the stream should end; ``wants_terminal_check`` says when
    a keep-alive ping makes it worth asking whether the run already finished.
    """

    starting_after: int | None = None
    max_events: int | None = None
    max_seconds: float | None = None
    idle_timeout: float = 30.0
    started: float = field(default_factory=time.monotonic)
    last_seq_id: int | None = None
    end_reason: str | None = None
    events_seen: int = 0
    reconnects: int = 0
    error_seen: bool = False
    _events_this_connection: int = 0
    _last_ping_first: bool = False
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

    def read_timeout(self) -> float:
        """Seconds the next read may block: the idle timeout, bounded by ``max_seconds``."""
        limit = ERROR_GRACE_SECONDS if self.error_seen else self.idle_timeout
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
        if self.reconnects and event.kind != "ping":
            # A resumed stream may replay what we already have; pings are always news.
            if event.seq_id is not None and self.last_seq_id is not None:
                if event.seq_id <= self.last_seq_id:
                    return False
            elif event.kind in ("stop_reason", "usage") and event.kind in self._seen_tail:
                return False
        if event.seq_id is not None and event.kind != "ping":
            self.last_seq_id = max(self.last_seq_id or 0, event.seq_id)
        elif event.seq_id is not None and self.last_seq_id is None:
            self.last_seq_id = event.seq_id
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
        """A keep-alive ping (not the replay's opening ping) means the server has nothing new."""
        if event.kind != "ping":
            return False
        return not self._last_ping_first or event.seq_id is None

    def on_eof(self) -> str | None:
        """End reason when the body ends; ``None`` means the connection dropped: resume."""
        if self.end_reason is not None:
            return self.end_reason
        if self.error_seen:
            return "error"
        if "stop_reason" in self._seen_tail:
            return "done"
        return None

    def on_idle(self) -> str:
        if self.error_seen:
            return "error"
        if self.out_of_time():
            return "max_seconds"
        return "idle_timeout"


def _set_read_timeout(response: httpx.Response, seconds: float) -> None:
    # httpcore reads the timeout from the request extensions at every read, so this bounds the
    # next read of an open body (best effort: a custom transport may ignore it).
    timeouts = response.request.extensions.get("timeout")
    if isinstance(timeouts, dict):
        timeouts["read"] = seconds


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
    ) -> None:
        self._connect = connect
        self._is_terminal = is_terminal
        self._body = body
        self._state = state
        self._max_reconnects = max_reconnects
        self._pause = pause
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
        return self._state.reconnects

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
        return self._is_terminal is not None and self._is_terminal()

    def _run(self) -> Iterator[StreamEvent]:
        state = self._state
        try:
            while state.end_reason is None:
                reason = yield from self._one_connection()
                if reason is not None:
                    state.end_reason = reason
                    break
                if state.reconnects >= self._max_reconnects:
                    raise APIConnectionError(
                        f"the stream dropped {state.reconnects + 1} times "
                        f"(last seq_id {state.last_seq_id})",
                        hint="check the network, or resume later with "
                        f"starting_after={state.last_seq_id}",
                    )
                if self._pause is not None:
                    self._pause(state.reconnects)
                state.reconnects += 1
        finally:
            if self._response is not None:
                self._response.close()
                self._response = None

    def _one_connection(self) -> Generator[StreamEvent, None, str | None]:
        """Yield events of one connection; return an end reason, or None to resume."""
        state = self._state
        state.new_connection()
        try:
            response = self._connect(state.request_body(self._body), state.read_timeout())
        except httpx.TimeoutException:
            return self._idle_reason()
        except _STREAM_DROPS:
            return None
        self._response = response
        decoder = SSEDecoder()
        try:
            lines = response.iter_lines()
            while True:
                if state.out_of_time():
                    return "max_seconds"
                _set_read_timeout(response, state.read_timeout())
                try:
                    line = next(lines)
                except StopIteration:
                    break
                sse = decoder.decode(line)
                if sse is None:
                    continue
                event = to_stream_event(sse)
                if not state.accept(event):
                    continue
                yield event
                if state.end_reason is not None:
                    return state.end_reason
                if state.wants_terminal_check(event) and self._terminal():
                    return "terminal"
            tail = decoder.flush()
            if tail is not None:
                event = to_stream_event(tail)
                if state.accept(event):
                    yield event
            return state.on_eof()
        except httpx.TimeoutException:
            return self._idle_reason()
        except _STREAM_DROPS:
            return state.on_eof()
        finally:
            response.close()
            self._response = None

    def _idle_reason(self) -> str:
        reason = self._state.on_idle()
        if reason == "idle_timeout" and self._terminal():
            return "terminal"
        return reason


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
    ) -> None:
        self._connect = connect
        self._is_terminal = is_terminal
        self._body = body
        self._state = state
        self._max_reconnects = max_reconnects
        self._pause = pause
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
        return self._state.reconnects

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
        return self._is_terminal is not None and await self._is_terminal()

    async def _run(self) -> AsyncIterator[StreamEvent]:
        state = self._state
        try:
            while state.end_reason is None:
                outcome: list[str | None] = []
                async for event in self._one_connection(outcome):
                    yield event
                reason = outcome[0] if outcome else None
                if reason is not None:
                    state.end_reason = reason
                    break
                if state.reconnects >= self._max_reconnects:
                    raise APIConnectionError(
                        f"the stream dropped {state.reconnects + 1} times "
                        f"(last seq_id {state.last_seq_id})",
                        hint="check the network, or resume later with "
                        f"starting_after={state.last_seq_id}",
                    )
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
        except (httpx.TimeoutException, TimeoutError):
            outcome.append(await self._idle_reason())
            return
        except _STREAM_DROPS:
            outcome.append(None)
            return
        self._response = response
        decoder = SSEDecoder()
        lines = response.aiter_lines()
        try:
            while True:
                if state.out_of_time():
                    outcome.append("max_seconds")
                    return
                timeout = state.read_timeout()
                _set_read_timeout(response, timeout)
                try:
                    line = await asyncio.wait_for(anext(lines), timeout=timeout)
                except StopAsyncIteration:
                    break
                sse = decoder.decode(line)
                if sse is None:
                    continue
                event = to_stream_event(sse)
                if not state.accept(event):
                    continue
                yield event
                if state.end_reason is not None:
                    outcome.append(state.end_reason)
                    return
                if state.wants_terminal_check(event) and await self._terminal():
                    outcome.append("terminal")
                    return
            tail = decoder.flush()
            if tail is not None:
                event = to_stream_event(tail)
                if state.accept(event):
                    yield event
            outcome.append(state.on_eof())
        except (httpx.TimeoutException, TimeoutError):
            outcome.append(await self._idle_reason())
        except _STREAM_DROPS:
            outcome.append(state.on_eof())
        finally:
            with contextlib.suppress(Exception):
                await lines.aclose()  # type: ignore[attr-defined]
            await response.aclose()
            self._response = None

    async def _idle_reason(self) -> str:
        reason = self._state.on_idle()
        if reason == "idle_timeout" and await self._terminal():
            return "terminal"
        return reason
