"""``letta-runs skill install``: a self-contained skill that passes the reference validator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from click.testing import CliRunner
from letta_runs.cli import cli

REPO = Path(__file__).resolve().parents[2]
LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"


def install(dest: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["skill", "install", "--dest", str(dest), *extra])
    return result.exit_code, result.stdout, result.stderr


def test_install_copies_skill_md_tools_prompts_and_the_package(tmp_path: Path) -> None:
    code, out, err = install(tmp_path)
    assert code == 0, err
    skill = tmp_path / "letta-runs"
    assert json.loads(out)["path"] == str(skill)
    assert (skill / "SKILL.md").read_text() == (REPO / "SKILL.md").read_text()
    shipped = sorted(p.name for p in (REPO / "tools").glob("*.py"))
    assert sorted(p.name for p in (skill / "tools").glob("*.py")) == shipped
    assert all(os.access(skill / "tools" / name, os.X_OK) for name in shipped)
    assert (skill / "lib" / "letta_runs" / "cli" / "__init__.py").is_file()
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
