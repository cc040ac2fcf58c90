"""Command line: ``python -m tests.letta_server {provision,up,seed,record}``.

python -m tests.letta_server provision            # install Letta, PostgreSQL, schema (once)
python -m tests.letta_server up [--seed]          # start everything; Ctrl-C stops it all
python -m tests.letta_server seed                 # seed the server that `up` is running
python -m tests.letta_server record RUN_ID --output run.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from .harness import LettaServerHarness, sql_for
from .layout import Layout
from .provision import provision
from .record import record_bundle, write_bundle
from .seed import outcome_table, seed_runs
from .services import HarnessError


def _running_state() -> dict[str, object]:
    path = Layout.default().harness_dir / "running.json"
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _base_url(args: argparse.Namespace) -> str:
    url = (
        args.base_url
        or os.environ.get("LETTA_RUNS_HARNESS_URL")
        or _running_state().get("base_url")
    )
    if not url:
        raise HarnessError(
            "no server: start one with `python -m tests.letta_server up` or pass --base-url"
        )
    return str(url)


def cmd_provision(args: argparse.Namespace) -> int:
    started = time.monotonic()
    layout = provision()
    print(
        json.dumps(
            {
                "harness_dir": str(layout.harness_dir),
                "pg_dir": str(layout.pg_dir),
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    # `up` is often run in the background, where SIGINT is ignored: treat SIGTERM/SIGHUP as Ctrl-C.
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    harness = LettaServerHarness()
    try:
        info = harness.start()
        print(
            f"Letta {info.base_url} is up (started in {harness.started_in_s} s); processes {harness.pids}",
            file=sys.stderr,
        )
        for key, value in info.env().items():
            print(f"export {key}={value}")
        sys.stdout.flush()
        if args.seed:
            seeded = seed_runs(
                info.base_url,
                sql=harness.sql,
                llm_url=info.llm_url,
                log=lambda m: print(m, file=sys.stderr, flush=True),
            )
            print(outcome_table(seeded), file=sys.stderr, flush=True)
        print("Ctrl-C to stop.", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        harness.stop()
        print("stopped", file=sys.stderr)
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    state = _running_state()
    pg_uri = args.pg_uri or os.environ.get("LETTA_RUNS_HARNESS_PG_URI") or state.get("pg_uri")
    llm_url = os.environ.get("LETTA_RUNS_HARNESS_LLM_URL") or state.get("llm_url")
    if not pg_uri:
        raise HarnessError("seeding needs the database: pass --pg-uri or run `up` first")
    seeded = seed_runs(
        _base_url(args),
        sql=lambda q: sql_for(str(pg_uri), q),
        llm_url=str(llm_url) if llm_url else None,
        force=args.force,
        log=lambda m: print(m, file=sys.stderr, flush=True),
    )
    if args.table:
        print(outcome_table(seeded))
    else:
        print(seeded.to_json())
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from .layout import Layout
    from .record import scrub_paths

    bundle = record_bundle(_base_url(args), args.run_id)
    # Server tracebacks name the harness folder; keep local paths out of recorded fixtures.
    layout = Layout.default()
    bundle = scrub_paths(
        bundle,
        {str(layout.venv): "/srv/letta/venv", str(layout.home): "/srv/letta/home"},
    )
    if args.output:
        write_bundle(bundle, args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(json.dumps(bundle, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.letta_server",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "provision", help="install Letta 0.16.8, PostgreSQL+pgvector and the schema (idempotent)"
    )
    up = commands.add_parser("up", help="start the server and keep it running until Ctrl-C")
    up.add_argument("--seed", action="store_true", help="seed scenario runs once it is up")
    seed = commands.add_parser("seed", help="seed a running server (reuses a stored seed)")
    seed.add_argument("--base-url")
    seed.add_argument("--pg-uri")
    seed.add_argument("--force", action="store_true", help="seed again even if a seed is stored")
    seed.add_argument(
        "--table", action="store_true", help="print the outcome table instead of JSON"
    )
    record = commands.add_parser(
        "record", help="write one run's evidence as a letta-runs.bundle/1 JSON file"
    )
    record.add_argument("run_id")
    record.add_argument("--output", "-o")
    record.add_argument("--base-url")
    args = parser.parse_args(argv)
    handlers = {"provision": cmd_provision, "up": cmd_up, "seed": cmd_seed, "record": cmd_record}
    try:
        return handlers[args.command](args)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
