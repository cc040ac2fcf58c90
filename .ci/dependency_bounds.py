#!/usr/bin/env python3
"""Install the wheel with the lowest and the newest allowed dependencies, run it, fail on a warning.

pyproject.toml promises ranges (``pydantic>=2.7,<3`` …); the development environment only ever
holds the newest. This check builds the wheel once and installs it into fresh virtualenvs:

* ``base-lowest``   ``letta-runs`` alone, every direct dependency at its lowest allowed version
* ``<extra>-lowest`` ``letta-runs[<extra>]`` the same, for each face's extra (langchain, mcp,
  rest); an extra may need more of a shared dependency (mcp needs pydantic>=2.12), so the
  resolver picks the lowest versions that fit together
* ``all-newest``    ``letta-runs[all]`` at the newest allowed versions

In each it runs a smoke set with every warning turned into an error (``PYTHONWARNINGS=error``
for every process): the CLI's commands on the embedded demo data, the installed skill's
``tools/`` scripts, and each installed face through its public entry point (the LangChain
toolkit, ``letta-runs mcp`` over stdio, ``letta-runs serve`` over HTTP on 127.0.0.1). The base
install is also checked to hold no face: no LangChain package, and ``letta-runs mcp`` answering
with the install hint and exit 2.

It lives in ``.ci/`` rather than ``bench/`` because it is a pass/fail check, not a measurement,
and ``.ci/test`` runs it. It uses ``uv`` (``--resolution lowest-direct`` is what "the lowest
allowed versions" means; pip has no equivalent), installed from PyPI into the work folder when
it is not on PATH.

    python .ci/dependency_bounds.py                  # every environment
    python .ci/dependency_bounds.py --only base-lowest --keep /tmp/bounds
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"  # demo: a 50-step tool loop
PLAIN_RUN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"  # demo: a healthy run
WARNINGS_AS_ERRORS = {"PYTHONWARNINGS": "error"}

# name, extras, resolution, faces to smoke
ENVIRONMENTS: list[tuple[str, str, str, list[str]]] = [
    ("base-lowest", "", "lowest-direct", ["cli", "base-only"]),
    ("langchain-lowest", "[langchain]", "lowest-direct", ["cli", "langchain"]),
    ("mcp-lowest", "[mcp]", "lowest-direct", ["cli", "mcp"]),
    ("rest-lowest", "[rest]", "lowest-direct", ["cli", "rest"]),
    ("all-newest", "[all]", "highest", ["cli", "langchain", "mcp", "rest"]),
]


# --------------------------------------------------------------------------- driver


def run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, text=True, **kw)  # type: ignore[call-overload, no-any-return]


def find_uv(work: Path) -> str:
    found = shutil.which("uv")
    if found:
        return found
    tools = work / "uv-tool"
    run([sys.executable, "-m", "venv", str(tools)])
    run([str(tools / "bin" / "python"), "-m", "pip", "install", "--quiet", "uv"])
    return str(tools / "bin" / "uv")


def requirements(extras: str) -> list[str]:
    """The project's own requirement lines for the base and ``extras`` (``[mcp]``, ``[all]``)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    wanted = extras.strip("[]").split(",") if extras else []
    if "all" in wanted:
        wanted = [e for e in project["optional-dependencies"] if e != "all"]
    for extra in wanted:
        lines += project["optional-dependencies"][extra]
    return lines


def requirement_name(line: str) -> str:
    for stop in "<>=![ ;":
        line = line.split(stop, 1)[0]
    return line.lower().replace("_", "-")


def installed_versions(uv: str, python: Path) -> dict[str, str]:
    out = run([uv, "pip", "freeze", "--python", str(python)], capture_output=True).stdout
    pins = (line.split("==", 1) if "==" in line else (line.split(" @ ")[0], "local")
            for line in out.splitlines() if line.strip())  # fmt: skip
    return {name.lower().replace("_", "-"): version for name, version in pins}


def check_environment(
    uv: str, wheel: Path, work: Path, name: str, extras: str, resolution: str, faces: list[str]
) -> tuple[bool, str]:
    venv = work / name
    run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    python = venv / "bin" / "python"
    # The project's requirement lines are passed as direct requirements beside the wheel, so
    # `lowest-direct` applies to them (their own dependencies resolve to the newest that fit).
    reqs = requirements(extras)
    run([uv, "pip", "install", "--quiet", "--python", str(python), "--resolution", resolution,
         f"{wheel}{extras}", *reqs])  # fmt: skip
    versions = installed_versions(uv, python)
    direct = {requirement_name(r): versions.get(requirement_name(r), "?") for r in reqs}
    summary = ", ".join(f"{k} {v}" for k, v in direct.items())
    summary += f" ({len(versions)} packages, letta-runs included)"
    proc = subprocess.run(
        [str(python), "-W", "error", str(Path(__file__).resolve()), "--smoke", ",".join(faces)],
        env={**os.environ, **WARNINGS_AS_ERRORS},
        cwd=work,
        text=True,
        capture_output=True,
    )
    ok = proc.returncode == 0
    print(f"== {name}: {'ok' if ok else 'FAILED'} — {summary}")
    print(proc.stdout, end="")
    if not ok:
        print(proc.stderr, end="")
    return ok, summary


def drive(args: argparse.Namespace) -> int:
    selected = [e for e in ENVIRONMENTS if not args.only or e[0] in args.only]
    with contextlib.ExitStack() as stack:
        if args.keep:
            work = Path(args.keep).resolve()
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bounds-")))
        uv = find_uv(work)
        run([uv, "build", "--quiet", "--wheel", "--out-dir", str(work / "dist"), str(REPO)])
        wheel = next((work / "dist").glob("letta_runs-*.whl"))
        failed = [
            name
            for name, extras, resolution, faces in selected
            if not check_environment(uv, wheel, work, name, extras, resolution, faces)[0]
        ]
    if failed:
        print(f"== FAILED: {', '.join(failed)}")
        return 1
    print(f"== every environment passed with warnings as errors ({len(selected)})")
    return 0


# --------------------------------------------------------------------------- smoke (inside an env)


BIN = Path(sys.executable).parent
CLI = str(BIN / "letta-runs")


def cli(*argv: str, expect: int = 0, cwd: Path | None = None) -> str:
    """Run ``letta-runs ARGV`` (warnings are errors); return stdout; fail on another exit code."""
    proc = subprocess.run(
        [CLI, *argv], capture_output=True, text=True, timeout=300, cwd=cwd,
        env={**os.environ, **WARNINGS_AS_ERRORS, "LETTA_BASE_URL": "demo"},
    )  # fmt: skip
    if proc.returncode != expect:
        raise SystemExit(
            f"letta-runs {' '.join(argv)}: exit {proc.returncode}, expected {expect}\n{proc.stderr}"
        )
    if "Warning" in proc.stderr:
        raise SystemExit(f"letta-runs {' '.join(argv)} warned:\n{proc.stderr}")
    return proc.stdout


def smoke_cli(tmp: Path) -> None:
    cli("--help")
    assert cli("--version").startswith("letta-runs, version ")
    proc = subprocess.run([sys.executable, "-m", "letta_runs", "--version"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert proc.stdout.startswith("letta-runs, version ")
    assert json.loads(cli("runs", "list", "--status", "failed", "--limit", "2"))["count"] == 2
    assert json.loads(cli("runs", "get", LOOP_RUN))["id"] == LOOP_RUN
    for sub in ("steps", "messages", "usage", "metrics"):
        cli("runs", sub, LOOP_RUN)
    diag = json.loads(cli("diagnose", LOOP_RUN, "--detail", "full"))
    assert diag["verdict"] == "failed", diag["verdict"]
    cli("diagnose", LOOP_RUN, "--format", "markdown")
    cli("timeline", LOOP_RUN)
    cli("triage", "--since", "3650d")
    cli("stuck")
    cli("compare", PLAIN_RUN, LOOP_RUN)
    bundle = tmp / "loop.json"
    cli("export", LOOP_RUN, "--output", str(bundle))
    assert json.loads(cli("diagnose", LOOP_RUN, "--bundle", str(bundle)))["verdict"] == "failed"
    cli("prompt", "analyze", LOOP_RUN)
    cli("report", LOOP_RUN, "--output", str(tmp / "loop.html"))
    # The skill installed from the wheel, its script run by a python3 with no dependencies at
    # all, on a PATH without uv: it must run itself again with this environment's interpreter.
    cli("skill", "install", "--dest", str(tmp / "skills"))
    skill = tmp / "skills" / "letta-runs"
    assert (skill / "references" / "diagnosis-json.md").is_file()
    import venv

    venv.EnvBuilder(with_pip=False).create(tmp / "bare")
    proc = subprocess.run(
        ["python3", "tools/diagnose_run.py", LOOP_RUN], capture_output=True, text=True,
        env={"PATH": f"{tmp / 'bare' / 'bin'}:/usr/bin:/bin", "LETTA_BASE_URL": "demo",
             **WARNINGS_AS_ERRORS}, cwd=skill, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0 and json.loads(proc.stdout)["verdict"] == "failed", proc.stderr
    print("   cli: 20 commands; the installed skill's diagnose_run.py run by a bare python3")


def smoke_base_only(tmp: Path) -> None:
    import importlib.util

    faces = [m for m in ("langchain_core", "langsmith", "mcp", "fastapi", "uvicorn")
             if importlib.util.find_spec(m)]  # fmt: skip
    assert not faces, f"the base install holds {faces}"
    proc = subprocess.run([CLI, "--demo", "mcp"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "hint: pip install 'letta-runs[mcp]'" in proc.stderr, proc.stderr
    try:
        import letta_runs.langchain  # noqa: F401
    except ImportError as exc:
        assert "letta-runs[langchain]" in str(exc), exc
    else:
        raise AssertionError("letta_runs.langchain imported without langchain-core")
    print("   base: no face installed; mcp says which extra (exit 2), so does the toolkit")


def smoke_langchain(tmp: Path) -> None:
    from letta_runs import RunsClient
    from letta_runs.langchain import LettaRunsToolkit

    tools = {t.name: t for t in LettaRunsToolkit(RunsClient(base_url="demo")).get_tools()}
    call = {"name": "diagnose_run", "id": "call-1", "type": "tool_call",
            "args": {"run_id": LOOP_RUN, "detail": "summary"}}  # fmt: skip
    message = tools["diagnose_run"].invoke(call)
    assert message.artifact.verdict == "failed"
    print(f"   langchain: {len(tools)} tools; diagnose_run answered")


def smoke_mcp(tmp: Path) -> None:
    import asyncio

    from mcp import Client, StdioServerParameters

    async def go() -> tuple[int, object]:
        params = StdioServerParameters(
            command=CLI, args=["--demo", "mcp"], env={**os.environ, **WARNINGS_AS_ERRORS}
        )
        async with Client(params) as client:
            names = [tool.name for tool in (await client.list_tools()).tools]
            result = await client.call_tool("diagnose-run", {"run_id": LOOP_RUN})
        return len(names), result

    count, result = asyncio.run(go())
    assert not getattr(result, "is_error", True), result
    print(f"   mcp: letta-runs mcp over stdio, {count} tools; diagnose-run answered")


@contextlib.contextmanager
def rest_server() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [CLI, "--demo", "serve", "--port", str(port)],
        env={**os.environ, **WARNINGS_AS_ERRORS}, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"letta-runs serve exited {proc.returncode}: {proc.stderr.read()}")
            try:
                urllib.request.urlopen(f"{base}/v1/runs/?limit=1", timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
        if "Warning" in stderr:
            raise SystemExit(f"letta-runs serve warned:\n{stderr}")


def smoke_rest(tmp: Path) -> None:
    with rest_server() as base:
        with urllib.request.urlopen(f"{base}/v1/runs/{LOOP_RUN}/diagnosis", timeout=60) as r:
            assert json.load(r)["verdict"] == "failed"
        with urllib.request.urlopen(f"{base}/v1/runs/?statuses=failed&limit=2", timeout=60) as r:
            assert len(json.load(r)) == 2
    print("   rest: letta-runs serve on 127.0.0.1 answered /v1/runs/ and /diagnosis")


SMOKES = {
    "cli": smoke_cli,
    "base-only": smoke_base_only,
    "langchain": smoke_langchain,
    "mcp": smoke_mcp,
    "rest": smoke_rest,
}


def smoke(faces: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="smoke-") as tmp:
        for face in faces:
            SMOKES[face](Path(tmp))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="run only this environment (repeatable)")
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temp folder)")
    parser.add_argument("--smoke", help=argparse.SUPPRESS)  # inside an environment
    args = parser.parse_args()
    if args.smoke:
        return smoke(args.smoke.split(","))
    return drive(args)


if __name__ == "__main__":
    raise SystemExit(main())
