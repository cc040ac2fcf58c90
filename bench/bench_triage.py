#!/usr/bin/env python3
"""Benchmark: `triage` over a synthetic fleet, the old per-run path against the bulk path.

A fleet of N runs (default 1,000 and 10,000) of 50 agents over the last 24 hours is cloned from
the recorded real runs embedded in letta-runs (ids renewed, times shifted; about 85 % healthy:
plain answers, reasoning, recovered tool errors, tool chains, background streams; the rest LLM
errors, an invalid LLM response, tool loops that hit max_steps, approvals, cancellations and a
few runs stuck in `running`). It is served over loopback by a small HTTP/1.1 server in its own
process with the real Letta 0.16.8 rules (``letta_runs._demo``: the runs list's cursors and
1,000 cap, the bulk message lists always ascending, per-run endpoints), and ``/v1/steps/``
either broken as in 0.16.8 (400 to every query) or working as documented. Every request can be
delayed (0 and 50 ms) to stand for a server across a network.

Each measurement runs the client in a fresh process and reports wall time, requests per run
(counted by the server), client CPU time (user + system), the client's peak RSS, and whether
the verdict counts equal the fleet's known truth (each clone's verdict is its template's, as
``diagnose`` gives it). Paths:

* ``old``: triage as it was before the bulk lists — the runs list (100 a page, finished runs),
  then every run's full evidence (run, steps, messages ×2, usage, metrics) at concurrency 4;
* ``bulk``: ``triage_runs`` as it is now (bulk lists, per-run steps only where the verdict
  needs them, concurrency 8);
* ``per-run``: ``triage_runs(bulk=False)``, the fallback (runs list, then steps and messages).

    python bench/bench_triage.py                      # the whole matrix (about 30 minutes on 2
                                                      # cores, mostly the old path at 10,000 runs)
    python bench/bench_triage.py --sizes 1000 --delays 0 --paths bulk,old
    python bench/bench_triage.py --sizes 50000 --delays 0 --paths bulk     # scaling / memory
    python bench/bench_triage.py --old-at-scale       # also the old path at 10,000 runs × 50 ms
                                                      # (about 12 minutes on its own)

The old path at 10,000 runs and 50 ms is skipped unless asked: its time is estimated from its
requests (6 per run, 4 at a time). Results go to stdout as a Markdown table (``--json FILE``
writes them as JSON too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
try:
    import letta_runs  # noqa: F401
except ImportError:  # running from a checkout without an install
    sys.path.insert(0, str(REPO / "skill"))

import httpx  # noqa: E402
from letta_runs._demo import DemoServer, load_demo_bundles  # noqa: E402
from letta_runs.diagnosis.engine import diagnose  # noqa: E402

AGENTS = 50
WINDOW = timedelta(hours=24)
TEMPLATES: dict[str, float] = {
    # healthy: 85 %
    "run-39e39189-9b0f-49e1-aa16-49a02c1268f4": 30.0,  # plain answer
    "run-039fd6ce-fb66-4611-95ea-c6f4bffee858": 20.0,  # reasoning, then the answer
    "run-69218f56-d739-427f-a971-333ece5c2cdc": 10.0,  # a tool error, recovered
    "run-1bcd7407-1899-4bd3-9d6a-6058cfee7e69": 15.0,  # a chain of tool calls
    "run-5ab019dd-6498-4ae8-9c53-271145402d1b": 10.0,  # a background stream with steps
    # problems: 15 %
    "run-1784de63-64f5-4f8f-be0a-197d17c67164": 4.0,  # LLM 500, sync
    "run-bd193556-b31a-41c0-b29c-02b0a8e65786": 3.0,  # LLM 500, foreground stream
    "run-46d9c64c-0717-45f6-9069-04ea1301bf22": 2.0,  # LLM 500, async
    "run-1e7b0a04-2c59-4738-9f08-56d62e962449": 2.0,  # an empty LLM response
    "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011": 1.0,  # a tool loop that hit max_steps (50)
    "run-5002da34-71aa-4916-a04c-81e607950517": 1.5,  # waiting for an approval
    "run-8f6678fb-163b-4fc6-8e2d-28a9ab9fc82f": 1.0,  # cancelled
    "run-50b3d930-2d58-48a9-a24b-8b4341b50365": 0.5,  # still running long after it started
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TERMINAL = ["completed", "failed", "cancelled"]


# --------------------------------------------------------------------------- the fleet


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _shift(value: Any, delta: timedelta) -> Any:
    if not isinstance(value, str):
        return value
    return (_parse(value) + delta).isoformat()


def template_verdicts(now: datetime) -> dict[str, str]:
    """Each template's verdict as per-run ``diagnose`` gives it (every endpoint of the run read
    on its own, from the embedded recordings)."""
    from letta_runs import AsyncRunsClient
    from letta_runs.composites import diagnose_run

    async def all_of_them() -> dict[str, str]:
        async with AsyncRunsClient(base_url="demo") as demo:
            return {
                run_id: (await diagnose_run(demo, run_id, now=now, include_trace=False)).verdict
                for run_id in TEMPLATES
            }

    return asyncio.run(all_of_them())


def build_fleet(
    runs: int, *, now: datetime, seed: int = 13
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """``runs`` clones of the templates over the last 24 hours, and their template of each."""
    rng = random.Random(seed)
    templates = {b["run"]["id"]: b for b in load_demo_bundles() if b["run"]["id"] in TEMPLATES}
    names = list(TEMPLATES)
    weights = [TEMPLATES[n] for n in names]
    agents = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(AGENTS)]
    texts = {n: json.dumps(templates[n]) for n in names}
    origin = {n: _parse(templates[n]["run"]["created_at"]) for n in names}
    template_agent = {n: templates[n]["run"]["agent_id"].removeprefix("agent-") for n in names}
    fleet: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    span = (WINDOW - timedelta(minutes=30)).total_seconds()
    for _ in range(runs):
        name = rng.choices(names, weights)[0]
        kinds[name] += 1
        agent = agents[rng.randrange(AGENTS)]
        fresh: dict[str, str] = {template_agent[name]: agent}

        def renew(match: re.Match[str], fresh: dict[str, str] = fresh) -> str:
            old = match.group(0)
            if old not in fresh:
                fresh[old] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            return fresh[old]

        bundle = json.loads(UUID.sub(renew, texts[name]))
        # Runs still running must look stuck (older than 10 minutes) to every client.
        earliest = 15 * 60 if bundle["run"]["status"] == "running" else 60
        created = now - timedelta(seconds=rng.uniform(earliest, span))
        delta = created - origin[name]
        run = bundle["run"]
        for key in ("created_at", "completed_at"):
            run[key] = _shift(run.get(key), delta)
        for message in bundle["messages"]:
            message["date"] = _shift(message.get("date"), delta)
        metrics = (bundle.get("metrics") or {}).get("body")
        if isinstance(metrics, dict) and isinstance(metrics.get("run_start_ns"), int):
            metrics["run_start_ns"] += int(delta.total_seconds() * 1e9)
        fleet.append(bundle)
    return fleet, kinds


# --------------------------------------------------------------------------- the server


class FleetServer:
    """A minimal HTTP/1.1 server (keep-alive) answering from ``DemoServer`` after a delay."""

    def __init__(self, demo: DemoServer, kinds: Counter[str]) -> None:
        self.demo = demo
        self.kinds = kinds
        self.delay = 0.0
        self.requests: Counter[str] = Counter()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                status, payload = await self.answer(method, target, body)
                writer.write(
                    b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                    % (status, len(payload))
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def answer(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        path = urlsplit(target).path
        if path.startswith("/_bench/"):
            return 200, self.control(path, target)
        self.requests[_route(path)] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        request = httpx.Request(method, "http://fleet.test" + target, content=body)
        response = self.demo(request)
        return response.status_code, response.read()

    def control(self, path: str, target: str) -> bytes:
        """``/_bench/delay?seconds=S`` sets the delay; ``/_bench/reset`` answers the request
        counts so far and starts counting again."""
        if path == "/_bench/delay":
            self.delay = float(urlsplit(target).query.split("=", 1)[1])
        answer = json.dumps(
            {"requests": dict(self.requests), "delay": self.delay, "kinds": dict(self.kinds)}
        ).encode()
        if path == "/_bench/reset":
            self.requests.clear()
        return answer


def _route(path: str) -> str:
    if path.startswith("/v1/runs/run-"):
        parts = path.split("/")
        return "runs/{id}" + ("/" + parts[4] if len(parts) > 4 else "")
    if path.startswith("/v1/agents/"):
        return "agents/{id}" + ("/messages" if path.endswith("/messages") else "")
    return path


def serve(args: argparse.Namespace) -> None:
    now = datetime.fromisoformat(args.now)
    fleet, kinds = build_fleet(args.runs, now=now)
    server = FleetServer(DemoServer(fleet, steps_bulk=args.steps == "working"), kinds)
    server.demo.bulk  # noqa: B018  # build the bulk lists before the first request

    async def main() -> None:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=1024)
        port = listener.sockets[0].getsockname()[1]
        print(f"READY {port}", flush=True)
        async with listener:
            await listener.serve_forever()

    asyncio.run(main())


# --------------------------------------------------------------------------- the clients


async def old_path(base_url: str, now: datetime) -> Counter[str]:
    """Triage as it was: the runs list, then each finished run's full evidence, 4 at a time."""
    from letta_runs import AsyncRunsClient
    from letta_runs.evidence import gather_evidence

    verdicts: Counter[str] = Counter()
    cutoff = now - WINDOW
    sem = asyncio.Semaphore(4)
    pending: set[asyncio.Task[None]] = set()
    async with AsyncRunsClient(base_url=base_url, timeout=120) as client:

        async def one(run_id: str) -> None:
            async with sem:
                ev = await gather_evidence(client, run_id, include_trace=False)
            verdicts[diagnose(ev, now=now).verdict] += 1

        page = await client.runs.list(statuses=TERMINAL, limit=100)
        async for run in page:
            if run.created_at is not None and run.created_at < cutoff:
                break
            task = asyncio.create_task(one(run.id))
            pending.add(task)
            task.add_done_callback(pending.discard)
            if len(pending) >= 8:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if pending:
            await asyncio.gather(*pending)
    return verdicts


async def new_path(
    base_url: str, now: datetime, *, bulk: bool
) -> tuple[Counter[str], dict[str, Any]]:
    from letta_runs import AsyncRunsClient
    from letta_runs.composites import triage_runs

    async with AsyncRunsClient(base_url=base_url, timeout=120) as client:
        report = await triage_runs(client, since=WINDOW, now=now, bulk=bulk)
    reads = report.reads.model_dump() if report.reads else {}
    return Counter(report.verdicts), {"reads": reads, "failed_reads": report.failed_reads}


def client(args: argparse.Namespace) -> None:
    now = datetime.fromisoformat(args.now)
    started_wall = time.perf_counter()
    if args.path == "old":
        extra: dict[str, Any] = {}
        verdicts = asyncio.run(old_path(args.base_url, now))
    else:
        verdicts, extra = asyncio.run(new_path(args.base_url, now, bulk=args.path == "bulk"))
    wall = time.perf_counter() - started_wall
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                "rss_mb": _peak_rss_mb(),
                "verdicts": dict(verdicts),
                **extra,
            }
        )
    )


def _peak_rss_mb() -> float:
    """This process's peak resident memory since it started (``VmHWM``; ``ru_maxrss`` would also
    count the parent's pages it was forked with)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- the matrix


def _self(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def measure(base: str, path: str, now: datetime) -> dict[str, Any]:
    httpx.get(base + "/_bench/reset")
    out = subprocess.run(
        _self("--client", path, "--base-url", base, "--now", now.isoformat()),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"client {path} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["requests"] = sum(httpx.get(base + "/_bench/reset").json()["requests"].values())
    return result


def run_matrix(args: argparse.Namespace) -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    truth_by_template = template_verdicts(now)
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        for steps in args.steps:
            server = subprocess.Popen(
                _self("--serve", "--runs", str(size), "--steps", steps, "--now", now.isoformat()),
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert server.stdout is not None
                port = int(server.stdout.readline().split()[1])
                base = f"http://127.0.0.1:{port}"
                kinds = Counter(httpx.get(base + "/_bench/kinds").json()["kinds"])
                truth: Counter[str] = Counter()
                for name, count in kinds.items():
                    truth[truth_by_template[name]] += count
                finished_truth = Counter(
                    {k: v for k, v in truth.items() if k not in ("stuck", "running")}
                )
                for delay in args.delays:
                    httpx.get(f"{base}/_bench/delay?seconds={delay / 1000}")
                    for path in args.paths:
                        if path != "bulk" and steps == "working":
                            continue  # only the bulk path reads /v1/steps/
                        if path == "old" and size >= 10_000 and delay and not args.old_at_scale:
                            rows.append(_estimate_old(size, delay, kinds, truth))
                            continue
                        print(f"… {path}: {size} runs, {delay} ms, steps {steps}", file=sys.stderr)
                        result = measure(base, path, now)
                        expected = finished_truth if path == "old" else truth
                        rows.append(
                            {
                                "path": path,
                                "runs": size,
                                "delay_ms": delay,
                                "steps_list": steps,
                                **result,
                                "requests_per_run": result["requests"] / size,
                                "correct": Counter(result["verdicts"]) == expected,
                                "truth": dict(expected),
                            }
                        )
            finally:
                server.terminate()
                server.wait(timeout=30)
    return rows


def _estimate_old(
    size: int, delay: int, kinds: Counter[str], truth: Counter[str]
) -> dict[str, Any]:
    finished = size - kinds["run-50b3d930-2d58-48a9-a24b-8b4341b50365"]
    requests = 6 * finished + finished // 100 + 1
    return {
        "path": "old",
        "runs": size,
        "delay_ms": delay,
        "steps_list": "broken",
        "estimated": True,
        "wall": requests * delay / 1000 / 4,
        "requests": requests,
        "requests_per_run": requests / size,
        "cpu": None,
        "rss_mb": None,
        "correct": None,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| path | runs | delay | /v1/steps/ | wall s | requests/run | client CPU s | peak RSS MB "
        "| verdicts = truth |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        est = "~" if r.get("estimated") else ""
        cpu = f"{r['cpu']:.1f}" if r.get("cpu") is not None else "–"
        rss = f"{r['rss_mb']:.0f}" if r.get("rss_mb") is not None else "–"
        ok = {True: "yes", False: "**no**", None: "–"}[r.get("correct")]
        lines.append(
            f"| {r['path']} | {r['runs']:,} | {r['delay_ms']} ms | {r['steps_list']} | "
            f"{est}{r['wall']:.1f} | {est}{r['requests_per_run']:.3f} | {cpu} | {rss} | {ok} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--delays", default="0,50", help="ms added to every request")
    parser.add_argument("--paths", default="old,bulk,per-run")
    parser.add_argument(
        "--steps", default="broken,working", help="/v1/steps/ as in 0.16.8 or working"
    )
    parser.add_argument("--old-at-scale", action="store_true")
    parser.add_argument("--json", dest="json_file")
    # internal: one side of a measurement
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", dest="path", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        args.steps = args.steps.split(",")[0]
        serve(args)
        return
    if args.path:
        client(args)
        return
    args.sizes = [int(x) for x in args.sizes.split(",")]
    args.delays = [int(x) for x in args.delays.split(",")]
    args.paths = args.paths.split(",")
    args.steps = args.steps.split(",")
    rows = run_matrix(args)
    print(table(rows))
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(rows, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
