"""The install a Python user gets: a lean base, the faces as extras that say when they are
missing, metadata that matches the code, and no warnings from the declared dependency ranges.

``.ci/dependency_bounds.py`` installs the lowest and the newest allowed versions into fresh
environments and runs the commands with warnings as errors; these tests keep the cheap parts
of that promise on every unit run.
"""

from __future__ import annotations

import importlib
import re
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from letta_runs._extras import EXTRAS, MissingExtraError
from letta_runs.cli import cli
from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def test_the_base_install_holds_no_face_dependency() -> None:
    base = {re.split(r"[<>=!~ \[]", d, maxsplit=1)[0] for d in PROJECT["dependencies"]}
    assert base == {"httpx", "pydantic", "jinja2", "click"}
    extras = PROJECT["optional-dependencies"]
    assert set(extras) >= {"langchain", "mcp", "rest", "all"}
    assert any(d.startswith("langchain-core") for d in extras["langchain"])
    assert extras["all"] == ["letta-runs[langchain,mcp,rest]"]


def test_every_extra_the_code_names_is_declared() -> None:
    assert set(EXTRAS) <= set(PROJECT["optional-dependencies"])


@pytest.mark.parametrize("script", sorted((REPO / "tools").glob("[!_]*.py")), ids=lambda p: p.name)
def test_tools_scripts_declare_the_base_dependencies(script: Path) -> None:
    """``uv run tools/X.py`` resolves exactly what the base install has."""
    block = script.read_text().split("# /// script\n", 1)[1].split("# ///", 1)[0]
    metadata = tomllib.loads("\n".join(line.removeprefix("# ") for line in block.splitlines()))
    assert metadata["dependencies"] == PROJECT["dependencies"]
    assert metadata["requires-python"] == PROJECT["requires-python"]


def test_license_file_is_the_apache_2_0_text_and_declared() -> None:
    text = (REPO / "LICENSE").read_text()
    assert PROJECT["license"] == "Apache-2.0" and PROJECT["license-files"] == ["LICENSE"]
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text) > 10_000


def test_classifiers_name_the_supported_pythons_and_no_license_classifier() -> None:
    classifiers = PROJECT["classifiers"]
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "Typing :: Typed" in classifiers
    # PEP 639: with an SPDX `license`, a License :: classifier is an error for the build.
    assert not [c for c in classifiers if c.startswith("License ::")]
    assert PROJECT["urls"]


@pytest.mark.parametrize(
    ("argv", "module", "extra"),
    [(["mcp"], "mcp", "mcp"), (["serve"], "fastapi", "rest"), (["serve"], "uvicorn", "rest")],
)
def test_a_face_without_its_extra_prints_the_install_hint_and_exits_2(
    argv: list[str], module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if the extra were not installed
    result = CliRunner().invoke(cli, ["--demo", *argv])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and f"'{extra}' extra" in lines[0]
    assert lines[1] == f"hint: pip install 'letta-runs[{extra}]' (or 'letta-runs[all]')"
    assert "Traceback" not in result.output


def test_the_langchain_toolkit_without_its_extra_is_an_import_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m.split(".")[0] == "langchain_core"] or [
        "langchain_core"
    ]:
        monkeypatch.setitem(sys.modules, name, None)  # as if the extra were not installed
    monkeypatch.delitem(sys.modules, "letta_runs.langchain", raising=False)
    with pytest.raises(ImportError) as caught:
        importlib.import_module("letta_runs.langchain")
    assert isinstance(caught.value, MissingExtraError)
    assert "pip install 'letta-runs[langchain]'" in str(caught.value)
    assert caught.value.exit_code == 2


def _letta_runs_models() -> list[type[BaseModel]]:
    for face in ("models", "evidence", "diagnosis", "operations", "composites", "rendering",
                 "langchain", "mcp_server", "rest"):  # fmt: skip
        importlib.import_module(f"letta_runs.{face}")
    found: list[type[BaseModel]] = []
    todo = list(BaseModel.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("letta_runs"):
            found.append(cls)
    return found


def test_no_model_field_trips_pydantic_s_protected_namespace_warning() -> None:
    """pydantic 2.7-2.9 (inside the declared range) warn at import time for every field that
    starts with ``model_`` (Letta's ``model_handle``, ``model_endpoint``) unless the model turns
    the namespace guard off."""
    models = _letta_runs_models()
    assert len(models) > 20
    tripping = [
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for cls in models
        for name in cls.model_fields
        if any(
            name.startswith(prefix)
            for prefix in cls.model_config.get("protected_namespaces", ("model_",))
        )
    ]
    assert tripping == []


def test_the_wheel_ships_the_skill_files() -> None:
    force = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["SKILL.md"] == "letta_runs/skill/SKILL.md"
    assert force["references"] == "letta_runs/skill/references"
    assert force["tools"] == "letta_runs/skill/tools"
    assert force["prompts"] == "letta_runs/prompts"


def test_the_scripts_and_skill_install_check_exactly_the_base_dependencies() -> None:
    """``tools/_bootstrap.py`` decides whether ``python3`` can run letta-runs, and ``skill
    install`` whether to record its interpreter, by the base install's dependencies."""
    import importlib.util

    from letta_runs.skill_install import REQUIRED_MODULES

    spec = importlib.util.spec_from_file_location("_bootstrap", REPO / "tools" / "_bootstrap.py")
    assert spec is not None and spec.loader is not None
    bootstrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bootstrap)
    base = {re.split(r"[<>=!~ \[]", d, maxsplit=1)[0] for d in PROJECT["dependencies"]}
    assert set(bootstrap.REQUIRED) == set(REQUIRED_MODULES) == base
