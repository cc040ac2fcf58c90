"""``letta-runs skill install``: a self-contained skill that passes the reference validator and
whose scripts run offline with a plain ``python3``, on a PATH without ``uv``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from click.testing import CliRunner
from letta_runs.cli import cli

REPO = Path(__file__).resolve().parents[2]
LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"


def install(dest: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["skill", "install", "--dest", str(dest), *extra])
    return result.exit_code, result.stdout, result.stderr


def test_install_copies_skill_md_references_tools_prompts_and_the_package(tmp_path: Path) -> None:
    code, out, err = install(tmp_path)
    assert code == 0, err
    skill = tmp_path / "letta-runs"
    assert json.loads(out)["path"] == str(skill)
    assert (skill / "SKILL.md").read_text() == (REPO / "SKILL.md").read_text()
    references = sorted(p.name for p in (REPO / "references").glob("*.md"))
    assert references and sorted(p.name for p in (skill / "references").iterdir()) == references
    shipped = sorted(p.name for p in (REPO / "tools").glob("*.py"))
    assert "_bootstrap.py" in shipped
    assert sorted(p.name for p in (skill / "tools").glob("*.py")) == shipped
    scripts = [name for name in shipped if not name.startswith("_")]
    assert all(os.access(skill / "tools" / name, os.X_OK) for name in scripts)
    assert (skill / "lib" / "letta_runs" / "cli" / "__init__.py").is_file()
    # The interpreter that installed it has the dependencies: the scripts fall back to it.
    assert (skill / "lib" / "interpreter").read_text().strip() == os.path.abspath(sys.executable)
    assert not list(skill.rglob("__pycache__"))
    if (REPO / "prompts").is_dir():
        assert sorted(p.name for p in (skill / "prompts").iterdir()) == sorted(
            p.name for p in (REPO / "prompts").iterdir()
        )


def test_installed_skill_passes_the_reference_validator(tmp_path: Path) -> None:
    assert install(tmp_path)[0] == 0
    validator = Path(sys.executable).parent / "agentskills"
    proc = subprocess.run(
        [str(validator), "validate", str(tmp_path / "letta-runs")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_install_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert install(tmp_path)[0] == 0
    (tmp_path / "letta-runs" / "stale.txt").write_text("old")
    code, _, err = install(tmp_path)
    assert code == 2 and "--force" in err
    assert install(tmp_path, "--force")[0] == 0
    assert not (tmp_path / "letta-runs" / "stale.txt").exists()


def test_installed_tools_work_without_letta_runs_installed(tmp_path: Path) -> None:
    """Site-packages without the editable install: the script must fall back to ../lib."""
    assert install(tmp_path)[0] == 0
    purelib = sysconfig.get_paths()["purelib"]
    proc = subprocess.run(
        [
            sys.executable,
            "-S",
            str(tmp_path / "letta-runs" / "tools" / "retrieve_run.py"),
            LOOP_RUN,
        ],
        env={"PYTHONPATH": purelib, "LETTA_BASE_URL": "demo", "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == LOOP_RUN


# --------------------------------------------------------------------------- plain python3


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``python3`` with nothing but the standard library (no httpx, pydantic, click…)."""
    home = tmp_path_factory.mktemp("bare")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(home)
    python3 = home / "bin" / "python3"
    probe = subprocess.run([str(python3), "-c", "import pydantic"], capture_output=True, env={})
    assert probe.returncode != 0, "the bare interpreter must lack the dependencies"
    return python3


def run_installed_script(
    skill: Path, python3: Path, *args: str, path: list[Path]
) -> subprocess.CompletedProcess[str]:
    """``python3 tools/ARGS[0] ARGS[1:]`` from the skill folder, as an agent runs it."""
    search = os.pathsep.join(
        str(p) for p in [python3.parent, *path, Path("/usr/bin"), Path("/bin")]
    )
    assert shutil.which("uv", path=search) is None, "this PATH must not offer uv"
    return subprocess.run(
        ["python3", f"tools/{args[0]}", *args[1:]],
        env={"PATH": search, "LETTA_BASE_URL": "demo", "HOME": str(skill.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=skill,
    )


def installed_skill(tmp_path: Path, *, recorded: str | None = "kept") -> Path:
    """A freshly installed skill; ``recorded=None`` removes ``lib/interpreter``, another
    value replaces its content."""
    assert install(tmp_path)[0] == 0
    skill = tmp_path / "letta-runs"
    if recorded is None:
        (skill / "lib" / "interpreter").unlink()
    elif recorded != "kept":
        (skill / "lib" / "interpreter").write_text(recorded + "\n")
    return skill


def test_python3_without_the_dependencies_reruns_the_script_with_the_installer_s_python(
    tmp_path: Path, bare_python: Path
) -> None:
    skill = installed_skill(tmp_path)
    proc = run_installed_script(skill, bare_python, "diagnose_run.py", LOOP_RUN, path=[])
    assert proc.returncode == 0, proc.stderr
    diag = json.loads(proc.stdout)
    assert diag["run_id"] == LOOP_RUN and diag["verdict"] == "failed"


def test_without_a_recorded_interpreter_the_letta_runs_command_on_path_is_used(
    tmp_path: Path, bare_python: Path
) -> None:
    skill = installed_skill(tmp_path, recorded=None)
    console_scripts = Path(sysconfig.get_paths()["scripts"])
    assert (console_scripts / "letta-runs").is_file()
    proc = run_installed_script(
        skill, bare_python, "retrieve_run.py", LOOP_RUN, path=[console_scripts]
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == LOOP_RUN


def test_with_no_interpreter_to_be_found_it_says_error_and_hint_and_exits_2(
    tmp_path: Path, bare_python: Path
) -> None:
    skill = installed_skill(tmp_path, recorded=None)
    proc = run_installed_script(skill, bare_python, "diagnose_run.py", LOOP_RUN, path=[])
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 2 and "Traceback" not in proc.stderr
    assert lines[0].startswith("error: ") and "pydantic" in lines[0]
    assert lines[1].startswith("hint: ") and "uv run tools/diagnose_run.py" in lines[1]


def test_a_recorded_interpreter_that_is_gone_falls_through_to_the_error(
    tmp_path: Path, bare_python: Path
) -> None:
    skill = installed_skill(tmp_path, recorded=str(tmp_path / "no-such-python"))
    proc = run_installed_script(skill, bare_python, "list_runs.py", path=[])
    assert proc.returncode == 2 and proc.stderr.startswith("error: "), proc.stderr
