"""Every command exists, documents itself with an example, and the root help lists exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import click
import pytest
from click.testing import CliRunner
from letta_runs.cli import cli, main

EXPECTED = {
    ("runs", "list"),
    ("runs", "active"),
    ("runs", "get"),
    ("runs", "delete"),
    ("runs", "messages"),
    ("runs", "steps"),
    ("runs", "usage"),
    ("runs", "metrics"),
    ("runs", "trace"),
    ("runs", "stream"),
    ("diagnose",),
    ("timeline",),
    ("triage",),
    ("stuck",),
    ("compare",),
    ("watch",),
    ("export",),
    ("skill", "install"),
}


def leaf_commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> dict[tuple[str, ...], click.Command]:
    found: dict[tuple[str, ...], click.Command] = {}
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found.update(leaf_commands(command, path))
        else:
            found[path] = command
    return found


def test_every_required_command_exists() -> None:
    missing = EXPECTED - set(leaf_commands(cli))
    assert not missing, f"missing commands: {sorted(missing)}"


@pytest.mark.parametrize("path", sorted(leaf_commands(cli)), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    examples = result.stdout.split("Example", 1)[1]
    assert any(
        line.strip().startswith("letta-runs ") and " ".join(path) in line
        for line in examples.splitlines()
    ), "the example must show the command itself"


def test_root_help_lists_the_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for line in (
        "0  ok",
        "2  usage error",
        "3  not found",
        "4  authentication",
        "5  not supported",
        "6  network error",
        "7  other API error",
    ):
        assert line in result.stdout


def test_unknown_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["runs", "list", "--no-such-option"])
    assert result.exit_code == 2


def test_main_returns_the_exit_code() -> None:
    assert main(["--version"]) == 0
    assert main(["runs", "delete", "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"]) == 2


def test_connection_refused_exits_6() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--base-url",
            "http://127.0.0.1:9",
            "--max-retries",
            "0",
            "runs",
            "get",
            "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011",
        ],
    )
    assert result.exit_code == 6
    assert result.stderr.startswith("error: ")


SECRET = "sk-secret-0123456789abcdef"


class _Rejecting(BaseHTTPRequestHandler):
    """Echoes the Authorization header back in a 401 body, as a careless server might."""

    def do_GET(self) -> None:
        body = json.dumps({"detail": f"bad key {self.headers.get('Authorization')}"}).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rejecting_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Rejecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("root", "leaf"), [([], []), (["--debug"], []), ([], ["--json"]), (["--debug"], ["--json"])]
)
def test_the_api_key_never_reaches_the_output(
    rejecting_server: str, root: list[str], leaf: list[str]
) -> None:
    extra = root + leaf
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "letta_runs.cli",
            *root,
            "runs",
            "get",
            "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011",
            "--max-retries",
            "0",
            *leaf,
        ],
        env={"LETTA_API_KEY": SECRET, "LETTA_BASE_URL": rejecting_server, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.strip(), "the error must be reported"
    assert SECRET not in proc.stdout + proc.stderr
    if "--debug" in extra:
        assert "GET" in proc.stderr  # the request log is there, without the key
