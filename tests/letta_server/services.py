"""The four processes behind a test Letta server, each started in its own process group.

Every process is stopped by the PID the harness got when it started it (SIGTERM to its process
group, then SIGKILL), never by name.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .layout import PG_DATABASE, PG_USER, Layout, is_root


class HarnessError(RuntimeError):
    """The test server could not be provisioned or started; the message says why and what to try."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 15.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float | None = None) -> None:
        """Stop the whole process group this process leads, politely first."""
        timeout = self.stop_timeout if timeout is None else timeout
        if self.popen.poll() is not None:
            _reap_group(self.pid)
            return
        _signal_group(self.pid, self.stop_signal)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        _reap_group(self.pid)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _reap_group(pgid: int) -> None:
    """Kill what is left of a group whose leader has exited (e.g. tool sandboxes)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        _signal_group(pgid, signal.SIGKILL)
        time.sleep(0.1)


def spawn(
    name: str,
    argv: Sequence[str | os.PathLike[str]],
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    stop_signal: int = signal.SIGTERM,
) -> ManagedProcess:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(
            f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}: {' '.join(map(str, argv))}\n".encode()
        )
        log.flush()
        kwargs: dict[str, object] = {}
        if user is not None:
            record = pwd.getpwnam(user)
            kwargs.update(user=record.pw_uid, group=record.pw_gid, extra_groups=[])
        popen = subprocess.Popen(
            [str(a) for a in argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
            **kwargs,  # type: ignore[arg-type]
        )
    return ManagedProcess(name, popen, log_path, stop_signal)


def wait_until(
    check,
    *,
    timeout: float,
    what: str,
    process: ManagedProcess | None = None,
    interval: float = 0.25,
) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise HarnessError(
                f"{process.name} exited with code {process.popen.returncode} while waiting for {what}; "
                f"log tail ({process.log_path}):\n{tail(process.log_path)}"
            )
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(interval)
    log = f"; log tail ({process.log_path}):\n{tail(process.log_path)}" if process else ""
    raise HarnessError(f"timed out after {timeout:.0f} s waiting for {what}{log}")


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------- the four services


def pg_run_user() -> str | None:
    """PostgreSQL refuses root; as root it runs as a dedicated unprivileged user."""
    return PG_USER if is_root() else None


def start_postgres(layout: Layout, port: int, log_path: Path) -> ManagedProcess:
    argv = [
        layout.pg_bin / "postgres",
        "-D",
        layout.pg_data,
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-c",
        "unix_socket_directories=",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=300",
    ]
    # SIGINT = PostgreSQL's "fast shutdown": aborts sessions, then exits cleanly.
    process = spawn(
        "postgres", argv, log_path, user=pg_run_user(), stop_signal=signal.SIGINT, cwd=layout.pg_dir
    )
    wait_until(
        lambda: psql(layout, port, "select 1", database="postgres") == [("1",)],
        timeout=60,
        what=f"PostgreSQL on port {port}",
        process=process,
    )
    return process


def psql(
    layout: Layout, port: int, sql: str, *, database: str = PG_DATABASE
) -> list[tuple[str, ...]]:
    """Run SQL with the bundled psql; rows come back as tuples of strings (NULL as '')."""
    result = subprocess.run(
        [
            str(layout.pg_bin / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            database,
            "-At",
            "-F",
            "\x1f",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise HarnessError(
            f"psql failed ({result.returncode}) for {sql!r}: {result.stderr.strip()}"
        )
    return [tuple(line.split("\x1f")) for line in result.stdout.splitlines() if line != ""]


def start_redis(port: int, log_path: Path, workdir: Path) -> ManagedProcess:
    server = _which("redis-server")
    if server is None:
        raise HarnessError(
            "redis-server not found: install it (Debian: apt-get install -y redis-server) "
            "or run tests/letta_server/ci_setup.sh"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [
        server,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        # No background saving; the harness saves once on stop (see save_redis) so that
        # background runs' streams survive a restart like the database does.
        "--save",
        "",
        "--dbfilename",
        "dump.rdb",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        str(workdir),
        "--protected-mode",
        "yes",
    ]
    process = spawn("redis", argv, log_path)
    wait_until(lambda: port_open(port), timeout=20, what=f"Redis on port {port}", process=process)
    return process


def save_redis(port: int) -> None:
    """Snapshot Redis to its --dir before stopping it (RESP over a plain socket: no redis-cli needed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"*1\r\n$4\r\nSAVE\r\n")
        reply = sock.recv(128)
    if not reply.startswith(b"+OK"):
        raise HarnessError(f"Redis SAVE answered {reply!r}")


def start_scripted_llm(port: int, log_path: Path, request_log: Path) -> ManagedProcess:
    argv = [
        sys.executable,
        str(Path(__file__).with_name("scripted_llm.py")),
        "--port",
        str(port),
        "--log",
        str(request_log),
    ]
    process = spawn("scripted-llm", argv, log_path)
    wait_until(
        lambda: httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200,
        timeout=20,
        what=f"scripted LLM on port {port}",
        process=process,
    )
    return process


def letta_env(layout: Layout, *, pg_uri: str, redis_port: int, llm_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LETTA_", "OPENAI_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        {
            "HOME": str(layout.home),
            "LETTA_PG_URI": pg_uri,
            "LETTA_REDIS_HOST": "127.0.0.1",
            "LETTA_REDIS_PORT": str(redis_port),
            "OPENAI_API_KEY": "sk-scripted-not-a-real-key",
            "OPENAI_BASE_URL": llm_url,
            "PATH": f"{layout.venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "VIRTUAL_ENV": str(layout.venv),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    return env


def start_letta(
    layout: Layout, port: int, env: dict[str, str], log_path: Path, *, timeout: float = 180
) -> ManagedProcess:
    layout.home.mkdir(parents=True, exist_ok=True)
    argv = [layout.letta_bin, "server", "--host", "127.0.0.1", "--port", str(port)]
    process = spawn("letta", argv, log_path, env=env, cwd=layout.home)
    process.stop_timeout = 10.0

    def healthy() -> bool:
        response = httpx.get(f"http://127.0.0.1:{port}/v1/health/", timeout=3)
        return response.status_code == 200 and response.json().get("status") == "ok"

    wait_until(
        healthy, timeout=timeout, what=f"Letta health on port {port}", process=process, interval=0.5
    )
    return process


def _which(name: str) -> str | None:
    for folder in (os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/usr/local/bin").split(":"):
        candidate = Path(folder) / name
        if folder and candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None
