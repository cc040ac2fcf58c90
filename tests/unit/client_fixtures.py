"""Test helpers for the client tests: recorded fixtures and a request-recording transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from letta_runs._demo import DEMO_LABELS, DemoServer, build_bundle

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = (REPO_ROOT / "tests" / "data" / "fixtures").resolve()
PROBES = (REPO_ROOT / "tests" / "data" / "probes").resolve()
DEMO_DIR = REPO_ROOT / "skill" / "letta_runs" / "demo"

RUN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"  # sync_plain
LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # 50 steps, 101 messages
CHAIN_RUN = "run-1bcd7407-1899-4bd3-9d6a-6058cfee7e69"  # messages sharing ids
BG_RUN = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"  # finished background stream
CANCELLED_RUN = "run-8f6678fb-163b-4fc6-8e2d-28a9ab9fc82f"
STUCK_RUN = "run-50b3d930-2d58-48a9-a24b-8b4341b50365"
ASYNC_RUN = "run-46d9c64c-0717-45f6-9069-04ea1301bf22"
UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000"


def demo_bundles() -> list[dict[str, Any]]:
    """The embedded bundles (always present, shipped in the package)."""
    return [json.loads((DEMO_DIR / f"{label}.json").read_text()) for label in DEMO_LABELS]


def bundle_for(run_id: str) -> dict[str, Any]:
    for bundle in demo_bundles():
        if bundle["run"]["id"] == run_id:
            return bundle
    raise KeyError(run_id)


class Recorder:
    """Wrap a handler, remembering every request it saw."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    @property
    def queries(self) -> list[str]:
        return [r.url.query.decode() for r in self.requests]


def fake_server(bundles: list[dict[str, Any]] | None = None) -> Recorder:
    """A recording fake Letta server with the real cursor semantics, over recorded runs."""
    return Recorder(DemoServer(bundles if bundles is not None else demo_bundles()))


def bundle_from_fixture(label: str) -> dict[str, Any]:
    index = json.loads((FIXTURES / "index.json").read_text())
    entry = next(e for e in index if e["label"] == label)
    return build_bundle(FIXTURES / entry["path"], source="test")
