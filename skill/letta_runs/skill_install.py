"""Install the letta-runs Agent Skill into a skills folder (``~/.claude/skills`` by default).

The installed skill is self-contained: ``SKILL.md``, its ``references/``, the ``tools/``
scripts, the ``prompts/`` templates and, under ``lib/``, a copy of this package. ``lib/interpreter``
records the Python that installed it (it has letta-runs' dependencies), so ``python3
tools/diagnose_run.py …`` works offline from the skill folder with any ``python3``: a script
whose interpreter lacks the dependencies runs itself again with that one (``tools/_bootstrap.py``),
and ``uv run tools/…`` works without letta-runs installed anywhere.

The files come from the wheel (``letta_runs/skill/``, shipped as package data) or, in a source
checkout, from the repository root.

>>> install_skill(Path("/tmp/skills"))                       # doctest: +SKIP
InstalledSkill(path=PosixPath('/tmp/skills/letta-runs'), files=[...])
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ._exceptions import InvalidArgumentError, LettaRunsError

__all__ = ["SKILL_NAME", "InstalledSkill", "default_skills_dir", "install_skill", "skill_sources"]

SKILL_NAME = "letta-runs"
"""The skill's name; the Agent Skills spec requires the folder to carry the same name."""

INTERPRETER_FILE = Path("lib") / "interpreter"
"""Where the installed skill records the interpreter that installed it (read by the scripts)."""
REQUIRED_MODULES = ("click", "httpx", "jinja2", "pydantic")
"""The base install's dependencies, by import name (``tools/_bootstrap.py`` checks the same)."""

_PACKAGE_DIR = Path(__file__).resolve().parent
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".ruff_cache")


@dataclass(frozen=True)
class SkillSources:
    """Where the skill's parts live in this installation."""

    skill_md: Path
    references: Path | None
    tools: Path
    prompts: Path | None
    package: Path


@dataclass
class InstalledSkill:
    path: Path
    files: list[str] = field(default_factory=list)


def default_skills_dir() -> Path:
    return Path.home() / ".claude" / "skills"


def skill_sources() -> SkillSources:
    """Locate SKILL.md, tools/ and prompts/ in the wheel or in a source checkout."""
    shipped = _PACKAGE_DIR / "skill"
    root = _PACKAGE_DIR.parents[1]  # skill/letta_runs -> repository root
    for folder, prompts in ((shipped, _PACKAGE_DIR / "prompts"), (root, root / "prompts")):
        if (folder / "SKILL.md").is_file() and (folder / "tools").is_dir():
            return SkillSources(
                skill_md=folder / "SKILL.md",
                references=_dir_or_none(folder / "references"),
                tools=folder / "tools",
                prompts=_dir_or_none(prompts),
                package=_PACKAGE_DIR,
            )
    raise LettaRunsError(
        "the skill files (SKILL.md, tools/) are not part of this installation",
        hint="reinstall letta-runs from a wheel built with the skill files, or run from a checkout",
    )


def _dir_or_none(path: Path) -> Path | None:
    return path if path.is_dir() else None


def _usable_interpreter() -> str | None:
    """This interpreter, as invoked (a virtualenv's link kept), if it has the dependencies."""
    if all(importlib.util.find_spec(name) is not None for name in REQUIRED_MODULES):
        return os.path.abspath(sys.executable) if sys.executable else None
    return None


def install_skill(dest: Path | None = None, *, force: bool = False) -> InstalledSkill:
    """Copy the skill into ``dest/letta-runs`` (``dest`` defaults to ``~/.claude/skills``).

    Refuses to overwrite an existing folder unless ``force``.
    """
    sources = skill_sources()
    target = (dest or default_skills_dir()).expanduser() / SKILL_NAME
    if target.exists():
        if not force:
            raise InvalidArgumentError(
                f"{target} already exists",
                hint="pass --force to replace it, or choose another --dest",
            )
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy2(sources.skill_md, target / "SKILL.md")
    if sources.references is not None:
        shutil.copytree(sources.references, target / "references", ignore=_IGNORE)
    shutil.copytree(sources.tools, target / "tools", ignore=_IGNORE)
    if sources.prompts is not None:
        shutil.copytree(sources.prompts, target / "prompts", ignore=_IGNORE)
    # The vendored package keeps the skill working where letta-runs is not installed.
    package = target / "lib" / "letta_runs"
    shutil.copytree(
        sources.package, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "skill")
    )
    if sources.prompts is not None and not (package / "prompts").exists():
        shutil.copytree(sources.prompts, package / "prompts", ignore=_IGNORE)
    interpreter = _usable_interpreter()
    if interpreter is not None:
        (target / INTERPRETER_FILE).write_text(interpreter + "\n", encoding="utf-8")
    for script in (target / "tools").glob("[!_]*.py"):
        script.chmod(0o755)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    return InstalledSkill(path=target, files=files)
