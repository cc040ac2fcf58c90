"""A real Chromium for the report's browser tests (Debian's ``chromium``, driven by Playwright).

No browser is downloaded: Playwright starts ``/usr/bin/chromium`` with flags that keep it off the
network (the machines that run these tests have none) and a fresh profile. ``bash .ci/test``
installs the package and sets ``LETTA_RUNS_REQUIRE_BROWSER=1``, so a missing browser fails there;
elsewhere these tests are skipped with the command that sets them up.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("LETTA_RUNS_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
"""Screenshots of every page the tests open (git-ignored; CI keeps them as test artefacts)."""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") or os.environ.get("LETTA_RUNS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (CI or LETTA_RUNS_REQUIRE_BROWSER=1: the browser is required)")
    pytest.skip(f"{reason}; `bash .ci/test` installs it")


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One persistent Chromium context for the session (a fresh, empty profile)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            viewport={"width": 1200, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
