"""Find letta-runs and an interpreter that can run it, for the ``tools/*.py`` scripts.

Standard library only: this runs before anything is known about the interpreter. A script run
as ``python3 tools/diagnose_run.py RUN`` (or ``uv run …``) has its own folder first on
``sys.path``, so ``from _bootstrap import run_tool`` finds this file. Then, in order:

1. the ``letta_runs`` package — the installed distribution, else the checkout's ``skill/`` or
   the installed skill's ``lib/`` copy beside ``tools/`` — run by this interpreter if it has
   letta-runs' dependencies (``REQUIRED``);
2. otherwise the same script run again by the interpreter that installed the skill
   (``lib/interpreter``, written by ``letta-runs skill install``), the checkout's ``.venv``, or
   the one behind a ``letta-runs`` command on ``PATH`` (once: ``LETTA_RUNS_TOOLS_REEXEC`` stops
   a loop);
3. otherwise one ``error:`` line and one ``hint:`` line on stderr and exit code 2 (fix the
   install), never a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

REQUIRED = ("click", "httpx", "jinja2", "pydantic")
"""The import names of the base install's dependencies (pyproject.toml; a unit test checks)."""
EXIT_MISSING_DEPENDENCY = 2
REEXEC_MARK = "LETTA_RUNS_TOOLS_REEXEC"
INTERPRETER_FILE = "interpreter"
"""In the installed skill's ``lib/``: the absolute path of the interpreter that installed it."""

FOLDER = Path(__file__).resolve().parents[1]
"""The checkout, or the installed skill folder (``SKILL.md``, ``tools/``, ``lib/``)."""


def _locate_package() -> None:
    """Put a ``letta_runs`` on ``sys.path`` when this interpreter has none installed."""
    spec = importlib.util.find_spec("letta_runs")
    if spec is not None and spec.origin is not None:
        return  # a real package, not a namespace half-found in some folder
    sys.path[:0] = [str(FOLDER / d) for d in ("skill", "lib") if (FOLDER / d).is_dir()]
    sys.modules.pop("letta_runs", None)
    importlib.invalidate_caches()


def _missing_dependencies() -> list[str]:
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def _interpreter_of_command(name: str) -> str | None:
    """The interpreter in the ``#!`` line of the ``name`` console script on ``PATH``."""
    command = shutil.which(name)
    if command is None:
        return None
    try:
        with open(command, "rb") as script:
            first = script.readline(4096).decode(errors="replace").strip()
    except OSError:
        return None
    words = first[2:].split() if first.startswith("#!") else []
    return words[0] if words and os.path.isabs(words[0]) else None


def _other_interpreters() -> list[str]:
    """Interpreters that may have the dependencies, best first, this one excluded."""
    found = []
    recorded = FOLDER / "lib" / INTERPRETER_FILE
    if recorded.is_file():
        found.append(recorded.read_text(encoding="utf-8").strip())
    found.append(str(FOLDER / ".venv" / "bin" / "python"))
    found.append(_interpreter_of_command("letta-runs") or "")
    # Paths are compared as they are: a virtualenv's python is a link to the base interpreter,
    # and resolving it would lose the environment that has the dependencies.
    here = os.path.abspath(sys.executable)
    usable: list[str] = []
    for path in found:
        usable_path = path and os.access(path, os.X_OK) and os.path.abspath(path) != here
        if usable_path and path not in usable:
            usable.append(path)
    return usable


def _fail(missing: list[str]) -> int:
    script = Path(sys.argv[0]).name
    print(
        f"error: {sys.executable} cannot run letta-runs: {', '.join(missing)} not installed "
        "for it, and no other interpreter with them was found (none recorded by `letta-runs "
        "skill install`, no .venv, no `letta-runs` command on PATH)",
        file=sys.stderr,
    )
    print(
        f"hint: run `uv run tools/{script} …` (uv installs what the script declares), or "
        "`pip install letta-runs`, then `letta-runs skill install --force` so the scripts "
        "use that interpreter",
        file=sys.stderr,
    )
    return EXIT_MISSING_DEPENDENCY


def run_tool(*command: str) -> int:
    """Run ``letta-runs COMMAND --json ARGV`` for the calling script; return its exit code."""
    argv = sys.argv[1:]
    _locate_package()
    missing = _missing_dependencies()
    if missing:
        if not os.environ.get(REEXEC_MARK):
            os.environ[REEXEC_MARK] = "1"
            for interpreter in _other_interpreters():
                try:
                    os.execv(interpreter, [interpreter, os.path.abspath(sys.argv[0]), *argv])
                except OSError:
                    continue  # gone or not executable after all: try the next
        return _fail(missing)
    from letta_runs.cli import run_tool as cli_run_tool

    return cli_run_tool(*command, argv=argv)
