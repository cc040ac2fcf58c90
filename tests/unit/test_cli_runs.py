"""The ``letta-runs runs …`` commands over recorded real-server responses.

A small fake server (``httpx.MockTransport``) answers from the recorded runs, with the status
codes the real server gave (trace 501, stream 400 for foreground runs, 404 for unknown ids).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from letta_runs.cli import CLIState, cli

LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # 50 steps, completed + max_steps
FAILED_SYNC_RUN = "run-1784de63-64f5-4f8f-be0a-197d17c67164"  # failed, stop_reason null
BG_STREAM_RUN = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"  # background, recorded stream
UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"
NOT_FOUND = {"detail": f"Run with id={UNKNOWN_RUN} not found"}


class FakeLetta:
    """Serves recorded runs like Letta 0.16.8 does, and remembers every request."""

    def __init__(self, fixtures_dir: Path) -> None:
        index = json.loads((fixtures_dir / "index.json").read_text())
        self.dirs = {e["run_id"]: fixtures_dir / e["path"] for e in index}
        self.requests: list[httpx.Request] = []

    def _read(self, run_id: str, name: str) -> Any:
        return json.loads((self.dirs[run_id] / name).read_text())

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        parts = request.url.path.strip("/").split("/")  # v1 runs [id] [sub]
        if parts[:2] != ["v1", "runs"]:
            return httpx.Response(404, json={"detail": "Not Found"})
        if len(parts) == 2:
            runs = sorted(
                (self._read(r, "run.json") for r in self.dirs),
                key=lambda r: r["created_at"],
                reverse=True,
            )
            statuses = request.url.params.get_list("statuses")
            if statuses:
                runs = [r for r in runs if r["status"] in statuses]
            before = request.url.params.get("before")
            if before:
                ids = [r["id"] for r in runs]
                runs = runs[ids.index(before) + 1 :] if before in ids else runs
            limit = int(request.url.params.get("limit", "100"))
            return httpx.Response(200, json=runs[:limit])
        run_id = parts[2]
        if run_id not in self.dirs:
            return httpx.Response(404, json=NOT_FOUND)
        sub = parts[3] if len(parts) > 3 else ""
        if request.method == "DELETE":
            return httpx.Response(500, json={"detail": "An unknown error occurred"})
        if sub == "":
            return httpx.Response(200, json=self._read(run_id, "run.json"))
        if sub in ("steps", "messages"):
            items = self._read(run_id, f"{sub}.json")
            if request.url.params.get("after") or request.url.params.get("before"):
                return httpx.Response(200, json=[])  # the recordings hold every item at once
            return httpx.Response(200, json=items)
        if sub in ("usage", "metrics"):
            return httpx.Response(200, json=self._read(run_id, f"{sub}.json"))
        if sub == "trace":
            err = self._read(run_id, "trace.error.json")
            return httpx.Response(err["status"], json=err["body"])
        if sub == "stream":
            sse = self.dirs[run_id] / "stream.sse"
            if sse.exists():
                return httpx.Response(
                    200, content=sse.read_bytes(), headers={"content-type": "text/event-stream"}
                )
            err = self._read(run_id, "stream.error.json")
            return httpx.Response(err["status"], json=err["body"])
        return httpx.Response(404, json={"detail": "Not Found"})


@pytest.fixture
def fake(fixtures_dir: Path) -> FakeLetta:
    return FakeLetta(fixtures_dir)


def invoke(fake: FakeLetta, *args: str, env: dict[str, str] | None = None) -> Result:
    state = CLIState(transport=httpx.MockTransport(fake.handler), max_retries=0)
    env = {"LETTA_BASE_URL": "http://letta.test", "LETTA_RUNS_READ_ONLY": "", **(env or {})}
    return CliRunner().invoke(cli, list(args), obj=state, env=env)


def test_get_prints_the_run_as_json_when_piped(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "get", LOOP_RUN)
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["id"] == LOOP_RUN
    assert (run["status"], run["stop_reason"]) == ("completed", "max_steps")
    assert result.stderr == ""


def test_get_table_shows_the_fields_a_person_needs(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "get", FAILED_SYNC_RUN, "--format", "table")
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines() if line.strip())
    assert lines["status"] == "failed"
    assert lines["stop_reason"] == "-"  # failed sync runs carry no stop reason
    assert "error" in lines


def test_list_is_one_bounded_page_with_has_more(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "list", "--limit", "3")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["count"] == 3 and len(payload["items"]) == 3
    assert payload["has_more"] is True


def test_list_all_walks_every_page_with_before_cursors(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "list", "--limit", "5", "--all")
    assert result.exit_code == 0, result.output
    ids = [r["id"] for r in json.loads(result.stdout)["items"]]
    assert len(ids) == len(fake.dirs) and len(set(ids)) == len(ids)
    cursors = [r.url.params.get("before") for r in fake.requests]
    assert cursors[0] is None and all(cursors[1:])


def test_list_status_filter_is_sent_as_repeated_keys(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "list", "--status", "failed", "--status", "cancelled")
    assert result.exit_code == 0, result.output
    assert fake.requests[0].url.params.get_list("statuses") == ["failed", "cancelled"]
    statuses = {r["status"] for r in json.loads(result.stdout)["items"]}
    assert statuses == {"failed", "cancelled"}


def test_list_table_has_headers_and_one_line_per_run(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "list", "--limit", "4", "--format", "table")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "STATUS", "STOP"]
    assert sum(line.startswith("run-") for line in lines) == 4
    assert "… more: letta-runs --base-url http://letta.test runs list --limit 4 --before run-" in (
        result.stdout
    )


def test_steps_all_returns_the_fifty_steps_of_the_loop(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "steps", LOOP_RUN, "--all")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["count"] == 50


def test_messages_are_listed_with_their_types(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "messages", LOOP_RUN, "--format", "table")
    assert result.exit_code == 0, result.output
    assert "tool_call_message" in result.stdout and "tool_return_message" in result.stdout


@pytest.mark.parametrize("command", ["usage", "metrics"])
def test_usage_and_metrics(fake: FakeLetta, command: str) -> None:
    result = invoke(fake, "runs", command, LOOP_RUN)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    key = "total_tokens" if command == "usage" else "num_steps"
    assert data[key] > 0


def test_unknown_run_exits_3_with_one_error_line_and_a_hint(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "get", UNKNOWN_RUN)
    assert result.exit_code == 3
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and UNKNOWN_RUN in lines[0]
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in result.stderr


def test_errors_are_json_on_stderr_with_json(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "get", UNKNOWN_RUN, "--json")
    assert result.exit_code == 3
    assert result.stdout == ""
    error = json.loads(result.stderr)
    assert error["error"] == "not_found" and error["exit_code"] == 3


def test_trace_without_clickhouse_exits_5(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "trace", LOOP_RUN)
    assert result.exit_code == 5
    assert "error:" in result.stderr


def test_malformed_run_id_exits_2_before_any_request(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "get", "not-a-run")
    assert result.exit_code == 2
    assert fake.requests == []


def test_delete_without_yes_is_refused_with_exit_2(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "delete", LOOP_RUN)
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert fake.requests == []


def test_delete_is_always_refused_in_read_only_mode(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "delete", LOOP_RUN, "--yes", env={"LETTA_RUNS_READ_ONLY": "1"})
    assert result.exit_code == 2
    assert fake.requests == []


def test_delete_answered_500_by_the_server_exits_7(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "delete", LOOP_RUN, "--yes")
    assert result.exit_code == 7
    # Read, delete once (never again after a 500), read again to learn the outcome, and ask
    # the server what it is to explain the 500.
    sent = [(r.method, r.url.path) for r in fake.requests]
    assert sent == [
        ("GET", f"/v1/runs/{LOOP_RUN}"),
        ("DELETE", f"/v1/runs/{LOOP_RUN}"),
        ("GET", f"/v1/runs/{LOOP_RUN}"),
        ("GET", "/v1/health/"),
    ]
    assert f"run {LOOP_RUN} was not deleted" in result.stderr


def test_output_file_gets_the_full_result_and_stdout_stays_empty(
    fake: FakeLetta, tmp_path: Path
) -> None:
    target = tmp_path / "steps.json"
    result = invoke(fake, "runs", "steps", LOOP_RUN, "--all", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert str(target) in result.stderr
    assert json.loads(target.read_text())["count"] == 50


def test_global_options_are_accepted_after_the_command(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "get", LOOP_RUN, "--timeout", "5", "--max-retries", "0")
    assert result.exit_code == 0, result.output


def test_stream_prints_ndjson_and_a_summary_on_stderr(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "stream", BG_STREAM_RUN)
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["kind"] == "ping"
    assert events[-1]["kind"] == "done"
    seqs = [e["seq_id"] for e in events if e["seq_id"] is not None]
    assert seqs == sorted(seqs)
    assert "reason=done" in result.stderr and f"last_seq_id={max(seqs)}" in result.stderr


def test_stream_max_events_stops_early(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "stream", BG_STREAM_RUN, "--max-events", "3")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    assert "reason=max_events" in result.stderr


def test_stream_of_a_foreground_run_is_a_bad_request(fake: FakeLetta) -> None:
    result = invoke(fake, "runs", "stream", LOOP_RUN)
    assert result.exit_code == 7
    assert "background" in result.stderr


class _Terminal:
    """A stand-in stdout that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_the_human_view_and_a_pipe_gets_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from letta_runs.cli._output import Output

    assert Output(False, None, None, "table").mode == "json"  # pytest's stdout is no terminal
    monkeypatch.setattr("sys.stdout", _Terminal())
    assert Output(False, None, None, "table").mode == "table"
    assert Output(False, None, None, "markdown").mode == "markdown"
    assert Output(True, None, None, "table").mode == "json"
    assert Output(False, None, "out.json", "table").mode == "json"
    assert Output(False, "table", "out.txt", "table").mode == "table"
