"""Reading run streams: SSE framing on recorded bytes, resume, idle timeout, endings."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from client_fixtures import (
    ASYNC_RUN,
    BG_RUN,
    CANCELLED_RUN,
    FIXTURES,
    PROBES,
    RUN,
    STUCK_RUN,
    bundle_for,
)
from letta_runs import APIConnectionError, AsyncRunsClient, RunsClient
from letta_runs._streaming import SSEDecoder, parse_sse

BG_SSE = bundle_for(BG_RUN)["stream"]["sse"]
SSE = {"content-type": "text/event-stream; charset=utf-8"}


def probe_body(name: str) -> str:
    """The SSE body of a raw curl capture (headers and the curl trailer removed)."""
    text = (PROBES / name).read_text()
    body = text.split("\n\n", 1)[1] if text.startswith("HTTP/") else text
    return body.split("\nhttp=")[0]


def test_parse_recorded_background_stream() -> None:
    events = parse_sse((next(FIXTURES.glob(f"*/{BG_RUN}/stream.sse"))).read_text())
    kinds = [e.kind for e in events]
    assert kinds == ["ping"] + ["message"] * 8 + ["stop_reason", "usage", "done"]
    assert [e.seq_id for e in events[:9]] == list(range(1, 10))
    assert events[1].message is not None and events[1].message.message_type == "reasoning_message"
    assert events[9].stop_reason == "end_turn"


def test_parse_error_event_probe() -> None:
    events = parse_sse(probe_body("stream_bg_failed429.txt"))
    assert [e.kind for e in events] == ["ping", "stop_reason", "error"]
    assert events[-1].event == "error" and events[-1].data["error_type"] == "llm_rate_limit"
    assert events[-1].seq_id == 3


def test_parse_cancel_with_spaces() -> None:
    events = parse_sse(probe_body("stream_bg_cancelled.txt"))
    assert [e.stop_reason for e in events if e.kind == "stop_reason"] == ["cancelled"]


def test_decoder_framing_rules() -> None:
    decoder = SSEDecoder()
    lines = [": comment", "event: custom", "data: line one", "data:line two", "id: 7", "", ""]
    out = [e for e in (decoder.decode(line) for line in lines) if e is not None]
    assert len(out) == 1
    assert out[0].event == "custom" and out[0].data == "line one\nline two" and out[0].id == "7"
    events = parse_sse('data: {"message_type":"ping","seq_id":null}')  # no trailing blank
    assert [e.kind for e in events] == ["ping"]
    assert parse_sse("data: not json\n\n")[0].kind == "other"


class DroppingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Send some chunks, then fail like a dropped connection or a silent server."""

    def __init__(self, chunks: list[str], error: Exception | None, delay: float = 0.0) -> None:
        self.chunks, self.error, self.delay = chunks, error, delay

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            yield chunk.encode()
        if self.error:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk.encode()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error:
            raise self.error


def chunks_of(sse: str) -> list[str]:
    return [c + "\n\n" for c in sse.split("\n\n") if c.strip()]


def replay_server(run_status: str = "completed", drop_after: int | None = None):  # type: ignore[no-untyped-def]
    """Serve BG_RUN's recorded stream honouring starting_after; the first connection drops."""
    bodies: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"id": BG_RUN, "status": run_status})
        body = json.loads(request.content)
        bodies.append(body)
        after = body.get("starting_after", 0)
        chunks = chunks_of(BG_SSE)
        # seq positions: chunks 0..8 carry seq 1..9, then stop_reason 10, usage 11, DONE 12
        selected = [c for i, c in enumerate(chunks, start=1) if i > after]
        error = None
        if drop_after is not None and len(bodies) == 1:
            selected = selected[:drop_after]
            error = httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(200, headers=SSE, stream=DroppingStream(selected, error))

    return handler, bodies


def make(handler, **kwargs: object) -> RunsClient:  # type: ignore[no-untyped-def]
    client = RunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(handler), **kwargs
    )  # type: ignore[arg-type]
    client._sleep = lambda s: None
    return client


def test_resume_after_drop_with_starting_after() -> None:
    handler, bodies = replay_server(drop_after=5)
    stream = make(handler).runs.stream(BG_RUN)
    events = list(stream)
    assert bodies == [{}, {"starting_after": 5}]
    seqs = [e.seq_id for e in events if e.kind == "message"]
    assert seqs == list(range(2, 10))  # nothing lost, nothing twice
    assert stream.end_reason == "done" and stream.last_seq_id == 9 and stream.reconnects == 1
    assert stream.events_seen == len(events) == 12


def test_gives_up_after_max_reconnects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"id": BG_RUN, "status": "running"})
        return httpx.Response(
            200, headers=SSE, stream=DroppingStream([], httpx.ReadError("reset", request=request))
        )

    stream = make(handler).runs.stream(BG_RUN, max_reconnects=2)
    with pytest.raises(APIConnectionError, match="dropped 3 times"):
        list(stream)


def test_error_event_ends_stream() -> None:
    body = probe_body("stream_bg_failed429.txt")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=body, headers=SSE)

    stream = make(handler).runs.stream(BG_RUN)
    assert [e.kind for e in stream][-1] == "error"
    assert stream.end_reason == "error" and stream.last_seq_id == 3


def test_error_then_done_is_still_error() -> None:
    body = probe_body("stream_bg_failed429.txt").rstrip("\n") + "\n\ndata: [DONE]\n\n"
    stream = make(lambda r: httpx.Response(200, text=body, headers=SSE)).runs.stream(BG_RUN)
    assert [e.kind for e in stream][-2:] == ["error", "done"]
    assert stream.end_reason == "error"


def test_cancelled_stops() -> None:
    sse = bundle_for(CANCELLED_RUN)["stream"]["sse"]
    stream = make(lambda r: httpx.Response(200, text=sse, headers=SSE)).runs.stream(CANCELLED_RUN)
    assert [e.kind for e in stream] == ["ping", "stop_reason"]  # stops without waiting for DONE
    assert stream.end_reason == "cancelled"


def test_idle_timeout_when_run_still_running() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"id": STUCK_RUN, "status": "running"})
        return httpx.Response(
            200, headers=SSE, stream=DroppingStream([], httpx.ReadTimeout("idle", request=request))
        )

    stream = make(handler).runs.stream(STUCK_RUN, idle_timeout=0.05)
    assert list(stream) == []
    assert stream.end_reason == "idle_timeout"


def test_keepalive_pings_on_terminal_run_end_as_terminal() -> None:
    sse = bundle_for(ASYNC_RUN)["stream"]["sse"]
    gets: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            gets.append(1)
            return httpx.Response(200, json={"id": ASYNC_RUN, "status": "failed"})
        return httpx.Response(200, headers=SSE, stream=DroppingStream(chunks_of(sse), None))

    stream = make(handler).runs.stream(ASYNC_RUN)
    kinds = [e.kind for e in stream]  # a ping never ends a stream by itself: it is drained
    assert kinds and set(kinds) == {"ping"}
    assert stream.end_reason == "terminal" and gets == [1]
    stream = make(handler).runs.stream(ASYNC_RUN, stop_when_terminal=False, max_reconnects=0)
    with pytest.raises(APIConnectionError):
        list(stream)


def test_max_events_bound() -> None:
    stream = make(lambda r: httpx.Response(200, text=BG_SSE, headers=SSE)).runs.stream(
        BG_RUN, max_events=3
    )
    assert len(list(stream)) == 3 and stream.end_reason == "max_events"
    assert stream.last_seq_id == 3


def test_status_errors_raise_before_events() -> None:
    body = {
        "detail": "INVALID_ARGUMENT: Run was not created in background mode, so it cannot be retrieved."
    }
    client = make(lambda r: httpx.Response(400, json=body))
    with pytest.raises(Exception, match="background"):
        list(client.runs.stream(RUN))


async def test_async_stream_parity_and_resume() -> None:
    handler, bodies = replay_server(drop_after=4)
    client = AsyncRunsClient(base_url="http://letta.test", transport=httpx.MockTransport(handler))

    async def no_sleep(seconds: float) -> None:
        return None

    client._asleep = no_sleep
    stream = client.runs.stream(BG_RUN)
    events = [e async for e in stream]
    assert bodies == [{}, {"starting_after": 4}]
    sync_handler, _ = replay_server(drop_after=4)
    sync_events = list(make(sync_handler).runs.stream(BG_RUN))
    assert [e.raw for e in events] == [e.raw for e in sync_events]
    assert stream.end_reason == "done" and stream.last_seq_id == 9


async def test_async_idle_timeout_by_wall_clock() -> None:
    # The transport never times out by itself: the client's own idle timer must fire.
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"id": STUCK_RUN, "status": "running"})
        ping = 'data: {"message_type":"ping","seq_id":1}\n\n'
        return httpx.Response(200, headers=SSE, stream=DroppingStream([ping], None, delay=5.0))

    client = AsyncRunsClient(base_url="http://letta.test", transport=httpx.MockTransport(handler))
    stream = client.runs.stream(STUCK_RUN, idle_timeout=0.05)
    events = [e async for e in stream]
    assert [e.kind for e in events] == ["ping"]
    assert stream.end_reason == "idle_timeout"


async def test_async_max_seconds() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, stream=DroppingStream([], None, delay=5.0))

    client = AsyncRunsClient(base_url="http://letta.test", transport=httpx.MockTransport(handler))
    stream = client.runs.stream(BG_RUN, max_seconds=0.05, stop_when_terminal=False)
    assert [e async for e in stream] == []
    assert stream.end_reason == "max_seconds"
