"""Install the letta-runs Agent Skill into a skills folder (``~/.claude/skills`` by default).

The installed skill is self-contained: ``SKILL.md``, the ``tools/`` scripts, the ``prompts/``
templates and, under ``lib/``, a copy of this package, so ``uv run tools/diagnose_run.py …``
works from the skill folder without ``letta-runs`` being installed anywhere.

The files come from the wheel (``letta_runs/skill/``, shipped as package data) or, in a source
checkout, from the repository root.

>>> install_skill(Path("/tmp/skills"))                       # doctest: +SKIP
InstalledSkill(path=PosixPath('/tmp/skills/letta-runs'), files=[...])
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ._exceptions import InvalidArgumentError, LettaRunsError

__all__ = ["SKILL_NAME", "InstalledSkill", "default_skills_dir", "install_skill", "skill_sources"]

SKILL_NAME = "letta-runs"
"""The skill's name; the Agent Skills spec requires the folder to carry the same name."""

_PACKAGE_DIR = Path(__file__).resolve().parent
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".ruff_cache")


@dataclass(frozen=True)
class SkillSources:
    """Where the skill's parts live in this installation."""

    skill_md: Path
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
    if (shipped / "SKILL.md").is_file():
        prompts = _PACKAGE_DIR / "prompts"
        return SkillSources(
            skill_md=shipped / "SKILL.md",
            tools=shipped / "tools",
            prompts=prompts if prompts.is_dir() else None,
            package=_PACKAGE_DIR,
        )
    root = _PACKAGE_DIR.parents[1]  # skill/letta_runs -> repository root
    if (root / "SKILL.md").is_file() and (root / "tools").is_dir():
        prompts = root / "prompts"
        return SkillSources(
            skill_md=root / "SKILL.md",
            tools=root / "tools",
            prompts=prompts if prompts.is_dir() else None,
            package=_PACKAGE_DIR,
        )
    raise LettaRunsError(
        "the skill files (SKILL.md, tools/) are not part of this installation",
        hint="reinstall letta-runs from a wheel built with the skill files, or run from a checkout",
    )


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
    for script in (target / "tools").glob("*.py"):
        script.chmod(0o755)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    return InstalledSkill(path=target, files=files)
