"""The fault table: each row breaks Letta one way and states what the CLI does about it.

Every row runs the real CLI against ``FakeLetta`` (the recorded runs) behind a
``FaultTransport``, and checks the documented behaviour: the exit code, what the error says (a
hint for every status), that the key never shows, and how many requests were sent — retries as
documented, a DELETE never sent twice once it may have reached the server, a stream that is not
an event stream refused at once. Waits between retries are recorded, not slept.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from faults import (
    PING,
    Fail,
    FakeLetta,
    FaultTransport,
    Pause,
    Rule,
    Silence,
    after_send,
    before_send,
    body,
    cut_body,
    endless,
    hang,
    sse,
    status,
)
from letta_runs.cli import CLIState, cli

KEY = "sk-let-fault-table-key-5d1e"
RUN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"  # sync_plain
BG_RUN = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"  # finished background run, 12 stream events
UNKNOWN = "run-00000000-0000-4000-8000-000000000000"
RUN_PATH = rf"/v1/runs/{RUN}"
STREAM_PATH = rf"/v1/runs/{BG_RUN}/stream"
BG_PATH = rf"/v1/runs/{BG_RUN}"
RETRY_AFTER = {"retry-after": "1"}


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits the client would sleep (without jitter) and sleep none of them."""
    import letta_runs._client as client_module

    asked: list[float] = []
    real_retry, real_backoff = client_module.retry_delay, client_module.backoff_delay

    def retry_delay(index: int, headers: Any = None, **_: Any) -> float:
        asked.append(real_retry(index, headers, rand=lambda: 0.0))
        return 0.0

    def backoff_delay(index: int, **_: Any) -> float:
        asked.append(real_backoff(index, rand=lambda: 0.0))
        return 0.0

    monkeypatch.setattr(client_module, "retry_delay", retry_delay)
    monkeypatch.setattr(client_module, "backoff_delay", backoff_delay)
    return asked


def run_cli(transport: FaultTransport, *args: str) -> Result:
    env = {
        "LETTA_BASE_URL": "http://letta.test",
        "LETTA_API_KEY": KEY,
        "LETTA_RUNS_READ_ONLY": "",
        "LETTA_CUSTOM_HEADERS": "",
        "LETTA_PROJECT": "",
    }
    return CliRunner().invoke(cli, list(args), obj=CLIState(transport=transport), env=env)


@dataclass
class Row:
    """One fault and the documented behaviour."""

    id: str
    args: list[str]
    rules: list[Rule]
    exit: int
    says: list[str] = field(default_factory=list)
    sent: dict[tuple[str, str], int] = field(default_factory=dict)
    """(method, path regex) → how many such requests went out."""
    upstream: dict[str, Any] = field(default_factory=dict)
    not_says: list[str] = field(default_factory=list)
    check: Callable[[Result, FaultTransport, list[float]], None] | None = None


def get_rows() -> list[Row]:
    rows: list[Row] = []
    get = ["runs", "get", RUN]
    # Retried statuses: three attempts (1 + --max-retries 2), then the error with a hint.
    retried = {408: 7, 409: 7, 429: 7, 500: 7, 502: 7, 503: 7, 504: 7}
    words = {
        408: "timed out waiting",
        409: "conflict",
        429: "rate limited",
        500: "failed on GET",
        502: "proxy",
        503: "proxy",
        504: "proxy",
    }
    for code, exit_code in retried.items():
        for with_after in (False, True):
            headers = RETRY_AFTER if with_after else None
            rows.append(
                Row(
                    f"get-{code}{'-retry-after' if with_after else ''}",
                    get,
                    [Rule("GET", RUN_PATH, [status(code, headers=headers)] * 3)],
                    exit_code,
                    says=[words[code], "after 3 attempts", "hint:"],
                    sent={("GET", RUN_PATH): 3},
                    check=_waits([1.0, 1.0] if with_after else [0.5, 1.0]),
                )
            )
    # Final statuses: one attempt, the exit code of their kind, a hint for each.
    final = {
        400: (7, "rejected"),
        401: (4, "rejected the credentials"),
        403: (4, "denied access"),
        404: (3, "not found"),
        405: (7, "does not allow"),
        410: (3, "is gone"),
        413: (7, "too large"),
        418: (7, "failed with HTTP 418"),
        422: (7, "rejected the parameters"),
        501: (5, "does not implement"),
    }
    for code, (exit_code, word) in final.items():
        rows.append(
            Row(
                f"get-{code}",
                get,
                [Rule("GET", RUN_PATH, [status(code)])],
                exit_code,
                says=[word, "hint:"],
                sent={("GET", RUN_PATH): 1},
                # A 410 outside a stream is not an expired stream; a 501 is not "retry later".
                not_says=["expired", "retry later"],
            )
        )
    rows += [
        Row(
            "get-301-redirect",
            get,
            [Rule("GET", RUN_PATH, [status(301, headers={"location": "https://letta.test/"})])],
            7,
            says=["redirected", "https://letta.test/", "does not follow redirects"],
            sent={("GET", RUN_PATH): 1},
        ),
        Row(
            "get-503-twice-then-recover",
            get,
            [Rule("GET", RUN_PATH, [status(503), status(503)])],
            0,
            sent={("GET", RUN_PATH): 3},
        ),
        Row(
            "get-429-retry-after-2-then-recover",
            get,
            [Rule("GET", RUN_PATH, [status(429, headers={"retry-after": "2"})])],
            0,
            sent={("GET", RUN_PATH): 2},
            check=_waits([2.0]),
        ),
        Row(
            "get-503-x-should-retry-false",
            get,
            [Rule("GET", RUN_PATH, [status(503, headers={"x-should-retry": "false"})])],
            7,
            says=["503"],
            sent={("GET", RUN_PATH): 1},
        ),
        Row(
            "get-connection-refused",
            get,
            [Rule("GET", RUN_PATH, [before_send()] * 3)],
            6,
            says=["could not reach", "after 3 attempts"],
            sent={("GET", RUN_PATH): 3},
        ),
        Row(
            "get-connection-refused-then-recover",
            get,
            [Rule("GET", RUN_PATH, [before_send()] * 2)],
            0,
            sent={("GET", RUN_PATH): 3},
        ),
        Row(
            "get-reset-after-send-then-recover",
            get,
            [Rule("GET", RUN_PATH, [after_send()])],
            0,
            sent={("GET", RUN_PATH): 2},
        ),
        Row(
            "get-hangs",
            get,
            [Rule("GET", RUN_PATH, [hang()] * 3)],
            6,
            says=["timed out", "after 3 attempts"],
            sent={("GET", RUN_PATH): 3},
        ),
        Row(
            "get-body-cut-mid-way-then-recover",
            get,
            [Rule("GET", RUN_PATH, [cut_body(40)])],
            0,
            sent={("GET", RUN_PATH): 2},
        ),
        Row(
            "get-body-cut-every-time",
            get,
            [Rule("GET", RUN_PATH, [cut_body(40)] * 3)],
            6,
            says=["connection", "failed during GET"],
            sent={("GET", RUN_PATH): 3},
        ),
        Row(
            "get-truncated-json",
            get,
            [Rule("GET", RUN_PATH, [body('{"id": "run-39e39189-9b0f-49e1-aa16-49a0')])],
            7,
            says=["not JSON"],
            sent={("GET", RUN_PATH): 1},
        ),
        Row(
            "get-html-page",
            get,
            [Rule("GET", RUN_PATH, [body("<html>sign in</html>", content_type="text/html")])],
            7,
            says=["not JSON", "text/html"],
            sent={("GET", RUN_PATH): 1},
        ),
        Row(
            "get-wrong-shape-list-for-run",
            get,
            [Rule("GET", RUN_PATH, [body("[1, 2, 3]")])],
            7,
            says=["does not validate"],
            sent={("GET", RUN_PATH): 1},
        ),
        Row(
            "get-wrong-field-types",
            get,
            [Rule("GET", RUN_PATH, [body('{"id": 5, "status": ["x"], "created_at": true}')])],
            7,
            says=["does not validate"],
        ),
        Row(
            "messages-object-instead-of-list",
            ["runs", "messages", RUN],
            [Rule("GET", rf"{RUN_PATH}/messages", [body('{"items": []}')])],
            7,
            says=["where a JSON array of objects was expected"],
        ),
        Row(
            "steps-list-of-numbers",
            ["runs", "steps", RUN],
            [Rule("GET", rf"{RUN_PATH}/steps", [body("[1, 2]")])],
            7,
            says=["JSON array of objects"],
        ),
        Row(
            "huge-html-502",
            get,
            [Rule("GET", RUN_PATH, [status(502, text="<html>" + "x" * 200_000)] * 3)],
            7,
            says=["proxy"],
            check=_bounded_output(20_000),
        ),
        Row(
            "trace-501",
            ["runs", "trace", RUN],
            [],
            5,
            says=["not available on this server", "use steps and messages"],
            sent={("GET", rf"{RUN_PATH}/trace"): 1},
            not_says=["retry later"],
        ),
        Row(
            "key-echoed-in-error",
            get,
            [Rule("GET", RUN_PATH, [status(401, json_body={"detail": {"got": f"Bearer {KEY}"}})])],
            4,
            says=["rejected the credentials"],
        ),
    ]
    rows += _delete_rows() + _stream_rows() + _watch_rows()
    return rows


def _delete_rows() -> list[Row]:
    delete = ["runs", "delete", RUN, "--yes"]
    once = {("DELETE", RUN_PATH): 1}
    return [
        Row(
            "delete-500-letta-0.16.8",
            delete,
            [],
            7,
            says=["was not deleted", "still there", "Letta 0.16.8, whose DELETE"],
            sent={**once, ("GET", "/v1/health/"): 1},
        ),
        Row(
            "delete-500-newer-server",
            delete,
            [],
            7,
            says=["was not deleted", "Letta 0.17.0"],
            not_says=["0.16.8"],
            sent=once,
            upstream={"version": "0.17.0"},
        ),
        Row(
            "delete-works",
            delete,
            [],
            0,
            sent=once,
            upstream={"deletes": True},
        ),
        Row(
            "delete-reset-after-send-run-deleted",
            delete,
            [Rule("DELETE", RUN_PATH, [after_send(httpx.RemoteProtocolError)])],
            0,
            sent=once,
            upstream={"deletes": True},
            check=_json_out(lambda data: data["confirmed_by"] == "retrieve"),
        ),
        Row(
            "delete-timeout-after-send-run-deleted",
            delete,
            [Rule("DELETE", RUN_PATH, [hang()])],
            0,
            sent=once,
            upstream={"deletes": True},
        ),
        Row(
            "delete-reset-after-send-run-survived",
            delete,
            [Rule("DELETE", RUN_PATH, [after_send(httpx.ReadError)])],
            6,
            says=["was not deleted", "still there"],
            sent=once,
        ),
        Row(
            "delete-reset-then-check-fails-too",
            delete,
            [
                Rule("DELETE", RUN_PATH, [after_send(httpx.ReadError)]),
                Rule("GET", RUN_PATH, [status(200, json_body={"id": RUN}), *[before_send()] * 3]),
            ],
            6,
            says=["is unknown", "runs get"],
            sent=once,
            upstream={"deletes": True},
        ),
        Row(
            "delete-refused-connection-then-sent-again",
            delete,
            [Rule("DELETE", RUN_PATH, [before_send()])],
            0,
            sent={("DELETE", RUN_PATH): 2},
            upstream={"deletes": True},
        ),
        Row(
            "delete-429-retry-after-then-sent-again",
            delete,
            [Rule("DELETE", RUN_PATH, [status(429, headers=RETRY_AFTER)])],
            0,
            sent={("DELETE", RUN_PATH): 2},
            upstream={"deletes": True},
        ),
        Row(
            "delete-502-after-the-server-deleted",
            delete,
            [Rule("DELETE", RUN_PATH, [status(502, acted=True)])],
            0,
            sent=once,
            upstream={"deletes": True},
        ),
        Row(
            "delete-503-without-retry-after",
            delete,
            [Rule("DELETE", RUN_PATH, [status(503)])],
            7,
            says=["was not deleted"],
            sent=once,
            upstream={"deletes": True},
        ),
        Row(
            "delete-unknown-run",
            ["runs", "delete", UNKNOWN, "--yes"],
            [],
            3,
            says=["not found"],
            sent={("DELETE", ".*"): 0},
        ),
    ]


def _stream_rows() -> list[Row]:
    stream = ["runs", "stream", BG_RUN, "--json"]
    return [
        Row(
            "stream-clean",
            stream,
            [],
            0,
            says=["reason=done", "events=12"],
            sent={("POST", STREAM_PATH): 1},
        ),
        Row(
            # The ping makes the reader ask whether the run finished (it has): it resumes from
            # the last seq_id to drain the rest, and every event arrives.
            "stream-keepalive-ping-after-first-event",
            stream,
            [Rule("POST", STREAM_PATH, [sse(lambda ev: [ev[0], PING, *ev[1:]])])],
            0,
            says=["reason=done", "events=13", "last_seq_id=9"],
            sent={("POST", STREAM_PATH): 2, ("GET", BG_PATH): 1},
            check=_resumed_after(1),
        ),
        Row(
            "stream-keepalive-ping-after-every-event",
            stream,
            [Rule("POST", STREAM_PATH, [sse(lambda ev: [x for e in ev for x in (e, PING)])] * 2)],
            0,
            says=["reason=done", "events=23"],  # 12 events + the 11 pings before [DONE]
            sent={("POST", STREAM_PATH): 2, ("GET", BG_PATH): 1},
        ),
        Row(
            "stream-html-200",
            stream,
            [Rule("POST", STREAM_PATH, [body("<html>proxy</html>", content_type="text/html")])],
            7,
            says=["not an event stream", "text/html"],
            sent={("POST", STREAM_PATH): 1},
        ),
        Row(
            "stream-json-200",
            stream,
            [Rule("POST", STREAM_PATH, [body('{"status": "ok"}')])],
            7,
            says=["not an event stream", "application/json"],
            sent={("POST", STREAM_PATH): 1},
        ),
        Row(
            "stream-cut-mid-event-resumes",
            stream,
            [
                Rule(
                    "POST",
                    STREAM_PATH,
                    [sse(lambda ev: [*ev[:5], ev[5][:40], Fail(httpx.RemoteProtocolError)])],
                )
            ],
            0,
            says=["reason=done", "events=12", "last_seq_id=9"],
            sent={("POST", STREAM_PATH): 2},
            check=_resumed_after(5),
        ),
        Row(
            "stream-garbled-lines-ignored",
            stream,
            [
                Rule(
                    "POST",
                    STREAM_PATH,
                    [sse(lambda ev: [x for e in ev for x in ("junk\n:c\nretry: x\n\x01\n\n", e)])],
                )
            ],
            0,
            says=["reason=done", "events=12"],
        ),
        Row(
            "stream-endless-pings-on-a-finished-run",
            stream,
            [Rule("POST", STREAM_PATH, [endless(PING)] * 2)],
            0,
            says=["reason=terminal"],
            sent={("POST", STREAM_PATH): 2, ("GET", BG_PATH): 1},
        ),
        Row(
            "stream-silent-mid-way-reconnects",
            [*stream, "--idle-timeout", "0.3"],
            [Rule("POST", STREAM_PATH, [sse(lambda ev: [*ev[:4], Silence()])])],
            0,
            says=["reason=done", "events=12"],
            sent={("POST", STREAM_PATH): 2},
            check=_resumed_after(4),
        ),
        Row(
            "stream-silent-while-running-reconnects",
            [*stream, "--idle-timeout", "0.3"],
            [Rule("POST", STREAM_PATH, [sse(lambda ev: [*ev[:4], Silence()])])],
            0,
            says=["reason=done", "events=12"],
            sent={("POST", STREAM_PATH): 2},
            upstream={"statuses": {BG_RUN: "running"}},
        ),
        Row(
            "stream-silent-forever-gives-up",
            [*stream, "--idle-timeout", "0.2"],
            [Rule("POST", STREAM_PATH, [sse(lambda ev: [Silence()])] * 5)],
            0,
            says=["reason=idle_timeout", "events=0"],
            sent={("POST", STREAM_PATH): 3},  # the first connection and two reconnects
            upstream={"statuses": {BG_RUN: "running"}},
        ),
        Row(
            "stream-503-twice-then-recover",
            stream,
            [Rule("POST", STREAM_PATH, [status(503), status(503)])],
            0,
            says=["reason=done"],
            sent={("POST", STREAM_PATH): 3},
        ),
        Row(
            "stream-410-expired",
            stream,
            [Rule("POST", STREAM_PATH, [status(410)])],
            3,
            says=["expired"],
        ),
        Row(
            "stream-drops-every-time",
            stream,
            [Rule("POST", STREAM_PATH, [sse(lambda ev: [ev[0], Fail()])] * 10)],
            6,
            says=["dropped 6 times"],
            sent={("POST", STREAM_PATH): 6},
        ),
        Row(
            "stream-slow-events-still-arrive",
            stream,
            [
                Rule(
                    "POST", STREAM_PATH, [sse(lambda ev: [x for e in ev for x in (Pause(0.01), e)])]
                )
            ],
            0,
            says=["reason=done", "events=12"],
        ),
    ]


def _watch_rows() -> list[Row]:
    watch = ["watch", BG_RUN, "--json", "--idle-timeout", "1s"]
    running = {"statuses": {BG_RUN: "running"}}
    return [
        Row(
            "watch-stream-not-an-event-stream",
            watch,
            [Rule("POST", STREAM_PATH, [body("<html>proxy</html>", content_type="text/html")])],
            0,
            says=["warning: the stream of run", "failed after 0 event(s)", "not an event stream"],
            upstream=running,
            check=_json_out(lambda d: any("did not follow the run" in x for x in d["limitations"])),
        ),
        Row(
            "watch-stream-drops-every-time",
            watch,
            [Rule("POST", STREAM_PATH, [sse(lambda ev: [ev[0], Fail()])] * 10)],
            0,
            says=["warning: the stream of run", "dropped 6 times"],
            upstream=running,
            check=_json_out(lambda d: any("did not follow the run" in x for x in d["limitations"])),
        ),
        Row(
            "watch-stream-silent-gives-up",
            ["watch", BG_RUN, "--json", "--idle-timeout", "0.2s"],
            [Rule("POST", STREAM_PATH, [sse(lambda ev: [Silence()])] * 5)],
            0,
            says=["warning: stopped following", "nothing came for the idle timeout"],
            upstream=running,
        ),
        Row(
            "watch-followed-to-the-end",
            watch,
            [],
            0,
            not_says=["warning"],
            upstream=running,
            check=_json_out(
                lambda d: not any("did not follow" in x for x in d.get("limitations", []))
            ),
        ),
    ]


# --------------------------------------------------------------------------- row checks


def _waits(expected: list[float]) -> Callable[[Result, FaultTransport, list[float]], None]:
    def check(result: Result, transport: FaultTransport, waits: list[float]) -> None:
        assert waits == expected

    return check


def _bounded_output(limit: int) -> Callable[[Result, FaultTransport, list[float]], None]:
    def check(result: Result, transport: FaultTransport, waits: list[float]) -> None:
        assert len(result.stderr) < limit

    return check


def _json_out(
    predicate: Callable[[Any], bool],
) -> Callable[[Result, FaultTransport, list[float]], None]:
    def check(result: Result, transport: FaultTransport, waits: list[float]) -> None:
        assert predicate(json.loads(result.stdout)), result.stdout[:2000]

    return check


def _resumed_after(seq: int) -> Callable[[Result, FaultTransport, list[float]], None]:
    def check(result: Result, transport: FaultTransport, waits: list[float]) -> None:
        bodies = [json.loads(s.body or b"{}") for s in transport.sent if s.method == "POST"]
        assert bodies[0] == {} and bodies[1]["starting_after"] == seq
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        seqs = [e["seq_id"] for e in lines if e["seq_id"] is not None]
        assert seqs == sorted(set(seqs)), "an event was handed over twice"
        assert all(e["kind"] != "other" for e in lines), "a cut event was handed over"

    return check


def _hint(stderr: str) -> str | None:
    """The error's hint: a ``hint:`` line, or the ``hint`` of the JSON error (``--json``)."""
    for line in stderr.splitlines():
        if line.startswith("hint: "):
            return line[6:]
        if line.startswith("{"):
            hint = json.loads(line).get("hint")
            if hint:
                return str(hint)
    return None


ROWS = get_rows()


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_fault_row(row: Row, waits: list[float]) -> None:
    transport = FaultTransport(FakeLetta(**row.upstream), row.rules)
    started = time.monotonic()
    result = run_cli(transport, *row.args)
    shown = result.stdout + result.stderr
    assert result.exit_code == row.exit, shown[-3000:]
    for text in row.says:
        assert text in result.stderr, (text, result.stderr[-3000:])
    for text in row.not_says:
        assert text not in result.stderr, (text, result.stderr[-3000:])
    assert KEY not in shown
    assert "Traceback" not in shown
    if row.exit not in (0, 1):
        assert _hint(result.stderr), "every error says what to do next"
    for (method, path), count in row.sent.items():
        assert transport.count(method, path) == count, (method, path, transport.sent)
    assert transport.count("DELETE") <= 2
    if row.check is not None:
        row.check(result, transport, waits)
    assert time.monotonic() - started < 10


def test_non_event_stream_is_refused_at_once_not_after_retries(waits: list[float]) -> None:
    transport = FaultTransport(
        FakeLetta(),
        [Rule("POST", STREAM_PATH, [body("<html>x</html>", content_type="text/html")] * 10)],
    )
    result = run_cli(transport, "runs", "stream", BG_RUN)
    assert result.exit_code == 7
    assert transport.count("POST") == 1 and waits == []


def test_an_endless_line_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("letta_runs._streaming.MAX_LINE_CHARS", 10_000)
    transport = FaultTransport(FakeLetta(), [Rule("POST", STREAM_PATH, [endless("x" * 500)])])
    result = run_cli(transport, "runs", "stream", BG_RUN)
    assert result.exit_code == 7
    assert "line longer than 10000 characters" in result.stderr


def test_an_endless_event_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("letta_runs._streaming.MAX_LINE_CHARS", 10_000)
    transport = FaultTransport(
        FakeLetta(), [Rule("POST", STREAM_PATH, [endless("data: " + "y" * 500 + "\n")])]
    )
    result = run_cli(transport, "runs", "stream", BG_RUN)
    assert result.exit_code == 7
    assert "event larger than 10000 characters" in result.stderr


def test_every_row_id_is_unique() -> None:
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9.-]+", i) for i in ids)
