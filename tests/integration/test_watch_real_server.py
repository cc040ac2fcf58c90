"""`watch` follows a background run while it is still running, then diagnoses it."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from letta_runs import AsyncRunsClient
from letta_runs.composites import watch_run
from letta_runs.models import StreamEvent

from tests.letta_server import SeededRuns

pytestmark = pytest.mark.letta_server


def _run_ids(http: httpx.Client, agent_id: str) -> set[str]:
    response = http.get("/v1/runs/", params={"agent_id": agent_id, "limit": 1000})
    response.raise_for_status()
    return {run["id"] for run in response.json()}


def test_watch_follows_a_live_background_run_and_ends_with_its_diagnosis(
    seeded: SeededRuns,
) -> None:
    agent = seeded.agents["lab-bg"]
    body = {
        "messages": [{"role": "user", "content": "watch me [scenario:slow secs=5]"}],
        "background": True,
    }
    with httpx.Client(base_url=seeded.base_url, timeout=120) as http:
        before = _run_ids(http, agent)

        def start() -> None:
            with http.stream("POST", f"/v1/agents/{agent}/messages/stream", json=body) as r:
                for _ in r.iter_bytes():
                    pass

        starter = threading.Thread(target=start, daemon=True)
        starter.start()
        deadline = time.monotonic() + 30
        new: set[str] = set()
        while not new and time.monotonic() < deadline:
            new = _run_ids(http, agent) - before
            time.sleep(0.1)
        assert len(new) == 1, "the background run did not appear"
        run_id = new.pop()
        assert http.get(f"/v1/runs/{run_id}").json()["status"] in ("created", "running")

        seen: list[StreamEvent] = []

        async def watch() -> Any:
            async with AsyncRunsClient(base_url=seeded.base_url) as client:
                return await watch_run(client, run_id, on_event=seen.append, idle_timeout=30)

        diag = asyncio.run(watch())
        starter.join(timeout=60)
    kinds = [e.kind for e in seen]
    assert "message" in kinds and kinds[-1] in ("done", "stop_reason", "usage")
    assert any(
        e.message is not None and e.message.message_type == "assistant_message" for e in seen
    )
    assert diag.run_id == run_id
    assert diag.verdict == "ok", diag.headline
    assert diag.final_answer is not None
