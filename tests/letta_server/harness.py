"""``LettaServerHarness``: a real Letta 0.16.8 server with a scripted model, for tests.

    with LettaServerHarness() as server:
        httpx.get(server.base_url + "/v1/runs/")
        server.sql("select count(*) from runs")

Starts, on free loopback ports, the scripted LLM, Redis, PostgreSQL and ``letta server``; waits for
``/v1/health/``; ``stop()`` ends every process it started, by PID and process group.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .layout import PG_DATABASE, Layout
from .provision import is_provisioned, provision
from .services import (
    HarnessError,
    ManagedProcess,
    free_ports,
    letta_env,
    psql,
    save_redis,
    start_letta,
    start_postgres,
    start_redis,
    start_scripted_llm,
)


@dataclass(frozen=True)
class ServerInfo:
    """How to reach a running harness; also what ``up`` prints for other terminals."""

    base_url: str
    llm_url: str
    pg_uri: str
    pg_port: int
    redis_port: int

    def env(self) -> dict[str, str]:
        return {
            "LETTA_BASE_URL": self.base_url,
            "LETTA_RUNS_HARNESS_URL": self.base_url,
            "LETTA_RUNS_HARNESS_LLM_URL": self.llm_url,
            "LETTA_RUNS_HARNESS_PG_URI": self.pg_uri,
        }


class LettaServerHarness:
    def __init__(
        self,
        layout: Layout | None = None,
        *,
        auto_provision: bool = True,
        health_timeout: float = 180,
    ) -> None:
        self.layout = layout or Layout.default()
        self.auto_provision = auto_provision
        self.health_timeout = health_timeout
        self.processes: list[ManagedProcess] = []
        self.info: ServerInfo | None = None
        self.started_in_s: float | None = None

    # -- lifecycle

    def start(self) -> ServerInfo:
        if self.info is not None:
            return self.info
        started = time.monotonic()
        if not is_provisioned(self.layout):
            if not self.auto_provision:
                raise HarnessError(
                    "the Letta test server is not provisioned: run `python -m tests.letta_server provision`"
                )
            provision(self.layout)
        llm_port, redis_port, pg_port, letta_port = free_ports(4)
        logs = self.layout.logs
        try:
            self.processes.append(
                start_scripted_llm(
                    llm_port, logs / "scripted_llm.log", logs / "scripted_llm.requests.jsonl"
                )
            )
            self.processes.append(
                start_redis(redis_port, logs / "redis.log", self.layout.harness_dir / "redis")
            )
            self.processes.append(start_postgres(self.layout, pg_port, logs / "postgres.log"))
            llm_url = f"http://127.0.0.1:{llm_port}/v1"
            pg_uri = f"postgresql://postgres@127.0.0.1:{pg_port}/{PG_DATABASE}"
            env = letta_env(self.layout, pg_uri=pg_uri, redis_port=redis_port, llm_url=llm_url)
            self.processes.append(
                start_letta(
                    self.layout, letta_port, env, logs / "letta.log", timeout=self.health_timeout
                )
            )
        except BaseException:
            self.stop()
            raise
        self.info = ServerInfo(
            f"http://127.0.0.1:{letta_port}", llm_url, pg_uri, pg_port, redis_port
        )
        self.started_in_s = round(time.monotonic() - started, 1)
        self._write_state()
        return self.info

    def stop(self) -> None:
        """Stop Letta first (so a run kept open by the model stays ``running`` in the database), then the rest."""
        errors = []
        redis_port = self.info.redis_port if self.info else None
        for process in reversed(self.processes):
            if process.name == "redis" and redis_port and process.alive():
                try:
                    save_redis(redis_port)
                except (OSError, HarnessError) as exc:
                    errors.append(f"saving Redis: {exc}")
            try:
                process.stop()
            except Exception as exc:
                errors.append(f"{process.name} (pid {process.pid}): {exc}")
        self.processes.clear()
        self.info = None
        self._state_path.unlink(missing_ok=True)
        if errors:
            raise HarnessError("some harness processes did not stop: " + "; ".join(errors))

    def __enter__(self) -> LettaServerHarness:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- access

    def _require(self) -> ServerInfo:
        if self.info is None:
            raise HarnessError("the harness is not started")
        return self.info

    @property
    def base_url(self) -> str:
        return self._require().base_url

    @property
    def llm_url(self) -> str:
        return self._require().llm_url

    @property
    def pg_uri(self) -> str:
        return self._require().pg_uri

    @property
    def pids(self) -> dict[str, int]:
        return {p.name: p.pid for p in self.processes}

    def sql(self, query: str) -> list[tuple[str, ...]]:
        """Run SQL against Letta's database; rows are tuples of strings."""
        return psql(self.layout, self._require().pg_port, query)

    def llm_requests(self) -> list[dict[str, object]]:
        """Every chat request the scripted model received, oldest first (across restarts)."""
        path = self.layout.logs / "scripted_llm.requests.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    @property
    def _state_path(self) -> Path:
        return self.layout.harness_dir / "running.json"

    def _write_state(self) -> None:
        info = self._require()
        self._state_path.write_text(
            json.dumps({**info.__dict__, "pids": self.pids, "owner_pid": os.getpid()}, indent=1)
        )


class ExternalServer:
    """A harness started elsewhere (``python -m tests.letta_server up``), known from its exported env."""

    def __init__(
        self,
        base_url: str,
        *,
        llm_url: str | None = None,
        pg_uri: str | None = None,
        layout: Layout | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.llm_url = llm_url
        self.pg_uri = pg_uri
        self.layout = layout or Layout.default()

    @classmethod
    def from_env(cls) -> ExternalServer | None:
        url = os.environ.get("LETTA_RUNS_HARNESS_URL")
        if not url:
            return None
        return cls(
            url,
            llm_url=os.environ.get("LETTA_RUNS_HARNESS_LLM_URL"),
            pg_uri=os.environ.get("LETTA_RUNS_HARNESS_PG_URI"),
        )

    def sql(self, query: str) -> list[tuple[str, ...]]:
        if not self.pg_uri:
            raise HarnessError(
                "LETTA_RUNS_HARNESS_PG_URI is not set, so SQL checks cannot run against this server"
            )
        return sql_for(self.pg_uri, query, self.layout)

    def stop(self) -> None:
        """Not ours to stop."""


def sql_for(pg_uri: str, query: str, layout: Layout | None = None) -> list[tuple[str, ...]]:
    """Run SQL against an already running harness known only by its PostgreSQL URI."""
    port = int(pg_uri.rsplit(":", 1)[1].split("/", 1)[0])
    return psql(layout or Layout.default(), port, query)
