"""Shared test helpers: where the recorded real-server runs live, and how to load one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = (REPO_ROOT / "tests" / "data" / "fixtures").resolve()


def fixture_index() -> list[dict[str, Any]]:
    return json.loads((SHARED_FIXTURES / "index.json").read_text())


def fixture_run_dir(label: str) -> Path:
    """The folder of the recorded run whose index ``label`` (or run id) is given."""
    for entry in fixture_index():
        if label in (entry["label"], entry["run_id"]):
            return SHARED_FIXTURES / entry["path"]
    raise KeyError(f"no recorded run labelled {label!r}")


def read_fixture(label: str, name: str) -> Any:
    return json.loads((fixture_run_dir(label) / name).read_text())


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not SHARED_FIXTURES.is_dir():
        pytest.fail(f"recorded fixtures not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES
