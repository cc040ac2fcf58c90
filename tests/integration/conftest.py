"""Fixtures for tests against a real Letta 0.16.8 server (marker ``letta_server``).

* ``letta_server`` (session): a started server with ``base_url``, ``llm_url``, ``pg_uri`` and
  ``sql(query) -> list[tuple[str, ...]]``. Set ``LETTA_RUNS_HARNESS_URL`` (and
  ``LETTA_RUNS_HARNESS_PG_URI``, ``LETTA_RUNS_HARNESS_LLM_URL``, as printed by
  ``python -m tests.letta_server up``) to use a server that is already running.
* ``seeded`` (session): ``SeededRuns`` — scenario label -> run, agents, tools, pagination runs.

When the server cannot start, its tests fail with the reason if ``CI`` or
``LETTA_RUNS_REQUIRE_SERVER=1`` is set, and are skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.letta_server import (  # noqa: E402
    ExternalServer,
    HarnessError,
    LettaServerHarness,
    SeededRuns,
    seed_runs,
)

SERVER_FIXTURES = {"letta_server", "seeded"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "letta_server: needs a real Letta server (started by the harness in tests/letta_server)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.letta_server)


def server_required() -> bool:
    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false", "no") or os.environ.get("LETTA_RUNS_REQUIRE_SERVER") == "1"


def _unavailable(reason: str) -> None:
    if server_required():
        pytest.fail(
            f"the Letta test server is required here (CI or LETTA_RUNS_REQUIRE_SERVER=1) but: {reason}",
            pytrace=False,
        )
    pytest.skip(f"no Letta test server: {reason}")


@pytest.fixture(scope="session")
def letta_server() -> Iterator[LettaServerHarness | ExternalServer]:
    external = ExternalServer.from_env()
    if external is not None:
        yield external
        return
    harness = LettaServerHarness()
    try:
        harness.start()
    except (HarnessError, OSError) as exc:
        _unavailable(str(exc))
    pids = dict(harness.pids)
    try:
        yield harness
    finally:
        harness.stop()
        _assert_gone(pids)


def _assert_gone(pids: dict[str, int]) -> None:
    """No process the harness started (nor its process group) outlives the session."""
    alive = []
    for name, pid in pids.items():
        for signal_to in (os.kill, os.killpg):
            try:
                signal_to(pid, 0)
            except ProcessLookupError:
                continue
            except PermissionError:
                pass
            alive.append(f"{name} (pid/group {pid})")
            break
    if alive:
        raise AssertionError("harness processes survived the session: " + ", ".join(alive))


@pytest.fixture(scope="session")
def seeded(letta_server: LettaServerHarness | ExternalServer) -> SeededRuns:
    try:
        return seed_runs(
            letta_server.base_url,
            sql=letta_server.sql,
            llm_url=letta_server.llm_url,
            log=lambda message: print(f"[seed] {message}", file=sys.stderr),
        )
    except (HarnessError, OSError) as exc:
        _unavailable(f"seeding failed: {exc}")
        raise
