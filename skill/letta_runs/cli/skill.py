"""``letta-runs skill install``: put the Agent Skill where agents look for it."""

from __future__ import annotations

from pathlib import Path

import click

from ..skill_install import default_skills_dir, install_skill
from ._app import global_options
from ._output import Output, output_options


@click.group("skill")
def skill() -> None:
    """Manage the letta-runs Agent Skill (SKILL.md + tools/ scripts).

    \b
    Example:
      letta-runs skill install
    """


@skill.command("install")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Skills folder (default {default_skills_dir()}); the skill goes to DEST/letta-runs.",
)
@click.option("--force", is_flag=True, help="Replace an existing DEST/letta-runs folder.")
@output_options()
@global_options
def install(out: Output, dest: Path | None, force: bool) -> None:
    """Copy the self-contained skill into DEST/letta-runs (default ~/.claude/skills).

    \b
    Example:
      letta-runs skill install --dest ./.claude/skills --force
    """
    installed = install_skill(dest, force=force)
    out.emit(
        {"path": str(installed.path), "files": installed.files},
        lambda: (
            f"installed the letta-runs skill in {installed.path} ({len(installed.files)} files)"
        ),
    )
