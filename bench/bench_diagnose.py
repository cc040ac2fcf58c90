#!/usr/bin/env python3
"""Benchmark: `diagnose` against gathering the same evidence with the official letta-client SDK.

Both sides talk HTTP to the same upstream through one loopback proxy that adds a fixed latency
(default 50 ms) to every request, in the same process run, so the ratio is what counts:

* **letta-runs**: ``diagnose_run`` (async, every endpoint concurrently, paging as needed), then the
  Markdown post-mortem.
* **letta-client**: the calls a developer makes by hand with the SDK, one after the other, with
  its default retries: retrieve, steps (auto-paging), messages (auto-paging), usage, metrics
  (not in the SDK: a raw ``client.get``) and trace.

The upstream is the embedded demo data served over HTTP with the real server's semantics, or a
real Letta server with ``--upstream URL`` (for example the test harness's). Also reported: the
size of the Markdown post-mortem against the raw evidence JSON.

    python bench/bench_diagnose.py                      # 50-step loop run from the demo data
    python bench/bench_diagnose.py --upstream http://127.0.0.1:8283 --run-id run-…
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

try:
    import letta_runs  # noqa: F401
except ImportError:  # running from a checkout without an install
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "skill"))

from letta_runs import AsyncRunsClient
from letta_runs._demo import DemoServer, load_demo_bundles
from letta_runs.composites import diagnose_run
from letta_runs.evidence import gather_evidence
from letta_runs.rendering import render_diagnosis

DEFAULT_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # 50 steps of one repeated tool call


class LatencyProxy:
    """A loopback HTTP proxy that sleeps ``latency`` seconds before answering each request."""

    def __init__(self, latency: float, upstream: str | None) -> None:
        self.latency = latency
        self.upstream = upstream
        self.log: list[tuple[float, float, str]] = []
        self._lock = threading.Lock()
        self._demo = DemoServer(load_demo_bundles()) if upstream is None else None
        self._http = httpx.Client(base_url=upstream, timeout=60) if upstream else None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                start = time.monotonic()
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                time.sleep(proxy.latency)
                status, headers, content = proxy.forward(self.command, self.path, body)
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                with proxy._lock:
                    proxy.log.append((start, time.monotonic(), f"{self.command} {self.path}"))

            do_GET = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forward(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self._demo is not None:
            request = httpx.Request(method, "http://demo" + path, content=body)
            response = self._demo(request)
            response.read()
            return response.status_code, dict(response.headers), response.content
        assert self._http is not None
        response = self._http.request(
            method, path, content=body, headers={"content-type": "application/json"}
        )
        return response.status_code, dict(response.headers), response.content

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._http is not None:
            self._http.close()

    def take(self) -> list[tuple[float, float, str]]:
        with self._lock:
            out, self.log = self.log, []
        return out


def round_trips(log: list[tuple[float, float, str]]) -> int:
    """Sequential waves of requests: overlapping requests count as one round trip."""
    waves = 0
    wave_end = -1.0
    for start, end, _ in sorted(log):
        if start >= wave_end:
            waves += 1
            wave_end = end
        else:
            wave_end = max(wave_end, end)
    return waves


def sdk_gather(base_url: str, run_id: str) -> dict[str, Any]:
    """What a developer writes with letta-client to collect the same evidence."""
    from letta_client import APIStatusError, Letta

    client = Letta(base_url=base_url, api_key="bench-key")
    evidence: dict[str, Any] = {}
    evidence["run"] = client.runs.retrieve(run_id)
    evidence["steps"] = list(client.runs.steps.list(run_id))
    evidence["messages"] = list(client.runs.messages.list(run_id))
    evidence["usage"] = client.runs.usage.retrieve(run_id)
    evidence["metrics"] = client.get(f"/v1/runs/{run_id}/metrics", cast_to=object)
    try:
        evidence["trace"] = client.runs.trace.retrieve(run_id)
    except APIStatusError as exc:
        evidence["trace"] = {"status": exc.status_code}
    client.close()
    return evidence


async def ours(base_url: str, run_id: str) -> str:
    async with AsyncRunsClient(base_url=base_url, api_key="bench-key") as client:
        diag = await diagnose_run(client, run_id)
    return render_diagnosis(diag)


async def raw_evidence_size(base_url: str, run_id: str) -> tuple[int, int]:
    async with AsyncRunsClient(base_url=base_url, api_key="bench-key") as client:
        ev = await gather_evidence(client, run_id)
    bundle = ev.to_bundle()
    raw = {k: bundle.get(k) for k in ("run", "steps", "messages", "usage", "metrics", "trace")}
    return len(json.dumps(raw)), len(ev.steps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-id", default=DEFAULT_RUN)
    parser.add_argument("--upstream", default=None, help="a real Letta server (default: demo)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; best is kept")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()

    with LatencyProxy(args.latency_ms / 1000, args.upstream) as proxy:
        sdk_times, our_times = [], []
        sdk_requests = our_requests = sdk_trips = our_trips = 0
        markdown = ""
        for _ in range(args.repeat):
            proxy.take()
            t0 = time.perf_counter()
            sdk_gather(proxy.url, args.run_id)
            sdk_times.append(time.perf_counter() - t0)
            log = proxy.take()
            sdk_requests, sdk_trips = len(log), round_trips(log)

            t0 = time.perf_counter()
            markdown = asyncio.run(ours(proxy.url, args.run_id))
            our_times.append(time.perf_counter() - t0)
            log = proxy.take()
            our_requests, our_trips = len(log), round_trips(log)
        raw_size, steps = asyncio.run(raw_evidence_size(proxy.url, args.run_id))

    result = {
        "run_id": args.run_id,
        "steps": steps,
        "upstream": args.upstream or "demo",
        "latency_ms": args.latency_ms,
        "sdk_seconds": round(min(sdk_times), 3),
        "sdk_requests": sdk_requests,
        "sdk_round_trips": sdk_trips,
        "diagnose_seconds": round(min(our_times), 3),
        "diagnose_requests": our_requests,
        "diagnose_round_trips": our_trips,
        "time_ratio": round(min(our_times) / min(sdk_times), 3),
        "postmortem_chars": len(markdown),
        "raw_evidence_chars": raw_size,
        "size_ratio": round(len(markdown) / raw_size, 4),
    }
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(
            f"run {result['run_id']} ({steps} steps) via {result['upstream']}, "
            f"+{args.latency_ms:.0f} ms per request, best of {args.repeat}"
        )
        print(
            f"  letta-client SDK : {result['sdk_seconds']:.3f} s, {sdk_requests} requests, "
            f"{sdk_trips} round trips"
        )
        print(
            f"  letta-runs diagnose: {result['diagnose_seconds']:.3f} s, {our_requests} requests, "
            f"{our_trips} round trips (includes the analysis and the Markdown)"
        )
        print(f"  time ratio       : {result['time_ratio']:.3f}x  (target <= 0.1x)")
        print(
            f"  post-mortem size : {len(markdown)} chars vs {raw_size} chars of raw evidence "
            f"= {100 * result['size_ratio']:.2f} %  (target <= 5 %)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
