"""The recorded data the unit tests use is complete, and unchanged from where it was copied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
UPSTREAM = Path(__file__).resolve().parents[2].parent / "shared"


def test_every_indexed_fixture_run_has_its_evidence() -> None:
    index = json.loads((DATA / "fixtures" / "index.json").read_text())
    assert len(index) == 19
    for entry in index:
        folder = DATA / "fixtures" / entry["path"]
        for name in ("run.json", "steps.json", "messages.json", "usage.json", "metrics.json"):
            assert (folder / name).is_file(), folder / name


def test_copies_are_byte_identical_to_the_recordings_when_those_are_beside_the_checkout() -> None:
    if not (UPSTREAM / "fixtures").is_dir():
        pytest.skip("the original recordings are not beside this checkout")
    pairs = [(DATA / "fixtures", UPSTREAM / "fixtures")]
    pairs += [(DATA / "openapi" / p.name, UPSTREAM / p.name) for p in (DATA / "openapi").glob("*")]
    pairs += [
        (DATA / "probes" / p.name, UPSTREAM / "letta-api" / "probes" / p.name)
        for p in (DATA / "probes").glob("*")
    ]
    for ours, theirs in pairs:
        if ours.is_dir():
            for path in ours.rglob("*"):
                if path.is_file():
                    other = theirs / path.relative_to(ours)
                    assert path.read_bytes() == other.read_bytes(), path
        else:
            assert ours.read_bytes() == theirs.read_bytes(), ours
