"""The exit codes are one contract: the codes the error classes and the CLI exit with are the ones
references/exit-codes.md, README.md, SKILL.md and ``letta-runs --help`` document, and every
error class is public."""

from __future__ import annotations

import re
from pathlib import Path

import letta_runs
import pytest
from click.testing import CliRunner
from letta_runs import _exceptions
from letta_runs._exceptions import LettaRunsError
from letta_runs._extras import MissingExtraError
from letta_runs.cli import cli
from letta_runs.cli._app import EXIT_CODES_EPILOG, EXIT_INTERRUPTED

REPO = Path(__file__).resolve().parents[2]


def error_classes() -> list[type[LettaRunsError]]:
    found: list[type[LettaRunsError]] = []
    todo = [LettaRunsError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def codes_the_cli_uses() -> set[int]:
    # 0 on success, 1 for an unexpected exception (LettaRunsError's own code), every error
    # class's code, and Ctrl-C.
    return {0, EXIT_INTERRUPTED} | {cls.exit_code for cls in error_classes()}


def table_rows(markdown: str, heading: str | None = None) -> list[list[str]]:
    """The rows of the first Markdown table (after ``heading``, if given), as cell texts."""
    if heading is not None:
        markdown = markdown.split(heading, 1)[1]
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:  # skip the header and its |---| line
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def test_the_error_classes_are_all_we_know_of() -> None:
    # A new error class elsewhere in the package must be added to this test's imports.
    assert {cls.__module__ for cls in error_classes()} == {
        "letta_runs._exceptions",
        "letta_runs._extras",
    }
    assert MissingExtraError in error_classes()


def test_every_error_class_is_exported_from_the_package() -> None:
    for name in _exceptions.__all__:
        value = getattr(_exceptions, name)
        if isinstance(value, type) and issubclass(value, LettaRunsError):
            assert getattr(letta_runs, name) is value, name
            assert name in letta_runs.__all__, name
    assert letta_runs.PartialResultError.exit_code == 8


def test_references_exit_codes_table_lists_exactly_the_codes_used() -> None:
    rows = table_rows((REPO / "references" / "exit-codes.md").read_text())
    documented = [int(row[0]) for row in rows]
    assert len(documented) == len(set(documented)), documented
    assert set(documented) == codes_the_cli_uses()
    assert all(row[1] for row in rows), "every code says what it means"


def test_readme_exit_code_table_lists_exactly_the_codes_used() -> None:
    rows = table_rows((REPO / "README.md").read_text(), "### Exit codes")
    assert {int(row[0]) for row in rows} == codes_the_cli_uses()


def test_readme_failure_table_gives_each_error_kind_its_class_exit_code() -> None:
    rows = table_rows((REPO / "README.md").read_text(), "### Errors, retries and exit codes")
    by_kind = {cls.kind: cls.exit_code for cls in error_classes() if cls is not LettaRunsError}
    seen: set[str] = set()
    for row in rows:
        kinds = re.findall(r"`([a-z_]+)`", row[1])
        assert kinds, row
        for kind in kinds:
            assert kind in by_kind, f"README names an unknown error kind {kind!r}"
            assert int(row[2]) == by_kind[kind], (kind, row[2], by_kind[kind])
        seen.update(kinds)
    assert seen == set(by_kind), f"kinds missing from README: {set(by_kind) - seen}"


def test_skill_md_lists_every_code() -> None:
    skill_md = (REPO / "SKILL.md").read_text()
    line = skill_md.split("(references/exit-codes.md): exit codes (", 1)[1].split(")", 1)[0]
    listed = {int(code) for code in re.findall(r"(?:^|,)\s*(\d+) ", line)}
    assert listed == codes_the_cli_uses()


@pytest.mark.parametrize("code", sorted(codes_the_cli_uses()))
def test_root_help_lists_every_code(code: int) -> None:
    assert re.search(rf"^\s*{code}  \S", EXIT_CODES_EPILOG, re.MULTILINE)
    assert re.search(rf"^\s*{code}  \S", CliRunner().invoke(cli, ["--help"]).stdout, re.MULTILINE)
