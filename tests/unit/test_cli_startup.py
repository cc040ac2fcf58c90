"""Start-up guard: every command imports only what it uses.

An agent runs ``letta-runs`` dozens of times per investigation, so start-up time is part of
every answer (``bench/bench_startup.py`` measures it; README has the numbers). These tests pin
the cause rather than the time: which modules a command has loaded when it exits, in a fresh
interpreter. If one fails, a module-level import slipped onto the CLI's path (a command module,
``letta_runs/__init__``, ``output``, ``_exceptions`` …): import the heavy module inside the
command that needs it, or under ``TYPE_CHECKING`` for annotations.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "skill" / "letta_runs"
LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"

# A fresh interpreter runs the CLI in-process, then reports what it imported (an entry set to
# None marks a module as absent: it was not imported).
PROBE = """
import json, sys
from letta_runs.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    modules = sorted(name for name, module in sys.modules.items() if module is not None)
    json.dump({"code": code, "modules": modules}, f)
"""

# Never loaded by the CLI's own commands: the analysis, the templates and the optional faces.
NOT_FOR_A_RUNS_API_CALL = (
    "jinja2",
    "letta_runs.diagnosis",
    "letta_runs.composites",
    "letta_runs.rendering",
    "langchain_core",
    "mcp",
    "fastapi",
    "starlette",
    "uvicorn",
)

# Help and the version need none of that, nor the models (pydantic), the transport (httpx), the
# event loop, the evidence gathering or the operation catalog.
NOT_FOR_HELP = (
    *NOT_FOR_A_RUNS_API_CALL,
    "pydantic",
    "httpx",
    "asyncio",
    "letta_runs.models",
    "letta_runs._client",
    "letta_runs.operations",
    "letta_runs.evidence",
)


def imported_by(*argv: str, tmp_path: Path) -> set[str]:
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETTA_")}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["code"] == 0, proc.stderr
    return set(result["modules"])


def loaded(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    """The forbidden packages present in ``modules`` (a package or any of its submodules)."""
    return sorted(
        name for name in forbidden if any(m == name or m.startswith(f"{name}.") for m in modules)
    )


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["runs", "--help"], ["diagnose", "--help"], ["triage", "--help"]],
    ids=" ".join,
)
def test_help_and_version_load_no_model_transport_engine_or_face(
    argv: list[str], tmp_path: Path
) -> None:
    modules = imported_by(*argv, tmp_path=tmp_path)
    assert "click" in modules  # the probe really ran the CLI
    assert loaded(modules, NOT_FOR_HELP) == []


def test_runs_get_loads_the_client_but_not_the_diagnosis_or_templates(tmp_path: Path) -> None:
    modules = imported_by("--demo", "runs", "get", LOOP_RUN, "--json", tmp_path=tmp_path)
    assert {"httpx", "pydantic", "letta_runs.models"} <= modules  # the probe really fetched
    assert loaded(modules, NOT_FOR_A_RUNS_API_CALL) == []


def test_runs_get_does_not_load_httpx_s_own_command_line(tmp_path: Path) -> None:
    """httpx imports its console script (rich, pygments) when they are installed; the CLI never
    uses it, so it marks it absent before httpx is first imported."""
    import importlib.util

    modules = imported_by("--demo", "runs", "get", LOOP_RUN, "--json", tmp_path=tmp_path)
    assert "httpx" in modules
    assert loaded(modules, ("httpx._main", "pygments")) == []
    if importlib.util.find_spec("rich") is not None:  # else nothing to keep out
        assert loaded(modules, ("rich",)) == []


def test_the_library_import_leaves_httpx_whole() -> None:
    """Only the command line skips httpx's console script: ``import letta_runs`` and the
    clients leave ``httpx.main`` as httpx defines it."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, letta_runs; from letta_runs import RunsClient; import httpx; "
            "print(sys.modules.get('httpx._main', 'absent') is None)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_python_dash_m_letta_runs_is_the_cli() -> None:
    from letta_runs._version import __version__

    proc = subprocess.run(
        [sys.executable, "-m", "letta_runs", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"letta-runs, version {__version__}"


def test_the_installed_distribution_carries_the_version_module_s_version() -> None:
    from importlib.metadata import version

    import letta_runs
    from letta_runs._version import __version__

    assert letta_runs.__version__ == __version__ == version("letta-runs")


def _upward_imports(path: Path) -> list[str]:
    """Names a module imports from the package face (``letta_runs/__init__``) itself.

    ``from .. import composites`` names a submodule and is fine; ``from . import __version__``
    in ``letta_runs/_client.py`` would run the package's ``__init__`` for a constant.
    """
    relative = path.relative_to(PACKAGE.parent).with_suffix("").parts
    depth = len(relative) - 1  # how many levels below `letta_runs` the module's package is
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        is_face = (node.level == 0 and node.module == "letta_runs") or (
            node.level == depth and node.module is None
        )
        if is_face:
            for alias in node.names:
                sub = PACKAGE / alias.name
                if not (sub.with_suffix(".py").is_file() or (sub / "__init__.py").is_file()):
                    found.append(f"{path.relative_to(PACKAGE)}: {alias.name}")
    return found


def test_no_module_of_the_package_imports_from_the_package_face() -> None:
    modules = [p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py"]
    assert len(modules) > 20
    upward = [hit for path in modules for hit in _upward_imports(path)]
    assert upward == [], "import these from their own module (e.g. ._version), not the package"
