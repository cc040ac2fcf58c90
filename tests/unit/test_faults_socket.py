"""Faults only a real connection shows, played by a loopback socket server.

The HTTP stack raises its own exceptions here (a server that disconnects without an answer, a
body shorter than its ``Content-Length``, a read that times out), so these rows check that the
client maps them as the fault table says — in particular that a DELETE whose connection was
reset after it was sent is not sent again, and that a follow-up read decides the outcome.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
from click.testing import CliRunner, Result
from faults import RawRequest, SocketServer, http_response, reset, sse_events
from letta_runs._demo import load_demo_bundles
from letta_runs.cli import CLIState, cli

KEY = "sk-let-socket-fault-key-77a0"
BUNDLES = {b["run"]["id"]: b for b in load_demo_bundles()}
RUN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"
BG_RUN = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"
RUN_JSON = json.dumps(BUNDLES[RUN]["run"])
BG_EVENTS = sse_events(BUNDLES[BG_RUN]["stream"]["sse"])


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    import letta_runs._client as client_module

    monkeypatch.setattr(client_module, "retry_delay", lambda *a, **k: 0.0)
    monkeypatch.setattr(client_module, "backoff_delay", lambda *a, **k: 0.0)


def run_cli(url: str, *args: str) -> Result:
    env = {
        "LETTA_API_KEY": KEY,
        "LETTA_RUNS_READ_ONLY": "",
        "LETTA_CUSTOM_HEADERS": "",
        "LETTA_PROJECT": "",
    }
    return CliRunner().invoke(cli, ["--base-url", url, *args], obj=CLIState(), env=env)


def methods(requests: list[RawRequest]) -> list[str]:
    return [f"{r.method} {r.path}" for r in requests]


class DeletingLetta:
    """A run that exists until a DELETE arrives; ``reset_delete`` drops the connection after it
    (``acts``: the server deleted the run before the reset)."""

    def __init__(self, *, acts: bool) -> None:
        self.acts = acts
        self.deleted = False

    def __call__(self, index: int, request: RawRequest, conn: socket.socket) -> None:
        if request.method == "DELETE":
            self.deleted = self.deleted or self.acts
            reset(conn)
            return
        if request.path == "/v1/health/":
            conn.sendall(http_response(200, '{"version": "0.16.8", "status": "ok"}'))
        elif self.deleted:
            conn.sendall(http_response(404, '{"detail": "Run not found"}'))
        else:
            conn.sendall(http_response(200, RUN_JSON))


@pytest.mark.parametrize("acts", [True, False], ids=["server-deleted", "server-did-not"])
def test_delete_reset_after_send_is_not_sent_again(acts: bool) -> None:
    letta = DeletingLetta(acts=acts)
    server = SocketServer(letta)
    with server as url:
        result = run_cli(url, "runs", "delete", RUN, "--yes")
    sent = methods(server.requests)
    assert sent.count(f"DELETE /v1/runs/{RUN}") == 1, sent
    assert sent[0] == f"GET /v1/runs/{RUN}" and sent[2] == f"GET /v1/runs/{RUN}"
    assert KEY not in result.stdout + result.stderr
    if acts:
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["confirmed_by"] == "retrieve"
    else:
        assert result.exit_code == 6, result.stderr
        assert "was not deleted" in result.stderr and "still there" in result.stderr


def test_a_body_shorter_than_its_length_is_retried() -> None:
    def script(index: int, request: RawRequest, conn: socket.socket) -> None:
        if index == 0:
            conn.sendall(http_response(200, RUN_JSON[:50], length=len(RUN_JSON)))
            conn.close()
        else:
            conn.sendall(http_response(200, RUN_JSON))

    server = SocketServer(script)
    with server as url:
        result = run_cli(url, "runs", "get", RUN)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == RUN
    assert len(server.requests) == 2


def test_a_server_that_never_answers_times_out_after_the_retries() -> None:
    def script(index: int, request: RawRequest, conn: socket.socket) -> None:
        time.sleep(2.0)  # longer than --timeout

    server = SocketServer(script)
    with server as url:
        started = time.monotonic()
        result = run_cli(url, "--timeout", "0.3", "runs", "get", RUN)
    assert result.exit_code == 6, result.stderr
    assert "timed out" in result.stderr and "after 3 attempts" in result.stderr
    assert len(server.requests) == 3
    assert time.monotonic() - started < 5


def test_a_stream_answered_with_a_web_page_fails_at_once() -> None:
    def script(index: int, request: RawRequest, conn: socket.socket) -> None:
        conn.sendall(http_response(200, "<html>login</html>", content_type="text/html"))

    server = SocketServer(script)
    with server as url:
        result = run_cli(url, "runs", "stream", BG_RUN)
    assert result.exit_code == 7, result.stderr
    assert "not an event stream" in result.stderr
    assert len(server.requests) == 1


def test_a_stream_gone_silent_is_reconnected_from_the_last_seq_id() -> None:
    bodies: list[dict[str, Any]] = []

    def script(index: int, request: RawRequest, conn: socket.socket) -> None:
        if request.method == "GET":
            run = dict(BUNDLES[BG_RUN]["run"], status="running", stop_reason=None)
            conn.sendall(http_response(200, json.dumps(run)))
            return
        body = json.loads(request.body or b"{}")
        bodies.append(body)
        after = body.get("starting_after", 0)
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
            "transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        )
        conn.sendall(head.encode())
        events = BG_EVENTS[after:] if len(bodies) > 1 else BG_EVENTS[:4]
        for event in events:
            data = event.encode()
            conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        if len(bodies) == 1:
            time.sleep(3.0)  # silent, connection open: only the client's idle timeout helps
        conn.sendall(b"0\r\n\r\n")

    server = SocketServer(script)
    with server as url:
        result = run_cli(url, "runs", "stream", BG_RUN, "--idle-timeout", "0.4")
    assert result.exit_code == 0, result.stderr
    assert "reason=done" in result.stderr and "events=12" in result.stderr
    assert bodies == [{}, {"starting_after": 4}]
