"""Airflow's metadata database: Debian's PostgreSQL in a data directory of the stack's own.

The cluster is created with ``initdb`` (as the ``postgres`` user when we are
root: PostgreSQL refuses root too), listens on 127.0.0.1 and a socket in its
own directory, and gets one ``airflow`` role and database with a generated
password. Nothing of the system's PostgreSQL service is used or touched.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from mediamon.core.errors import OperationFailed
from mediamon.devtools.stack import procs
from mediamon.devtools.stack.layout import StackLayout

PG_ROOT = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"
DATABASE = USER = "airflow"
READY_TIMEOUT_S = 60


class PostgresError(OperationFailed):
    """The metadata database could not be set up or started; the message says what to install or read."""


def bin_dir() -> Path:
    """The newest installed server's bin/ (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted((p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not found:
        raise PostgresError(f"no PostgreSQL server under {PG_ROOT}; install it (apt-get install postgresql)")
    return found[-1]


def _as_owner() -> dict[str, Any]:
    """subprocess keyword arguments: the ``postgres`` user when root."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(SERVICE_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _superuser() -> str:
    return SERVICE_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def _data(layout: StackLayout) -> Path:
    return layout.postgres_dir / "data"


def sqlalchemy_url(port: int, password: str, driver: str = "postgresql+psycopg2") -> str:
    return f"{driver}://{USER}:{password}@127.0.0.1:{port}/{DATABASE}"


def _run(layout: StackLayout, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, cwd=layout.postgres_dir,
                          env={"PATH": os.defpath, "LANG": "C.UTF-8"}, **_as_owner())
    if proc.returncode != 0:
        raise PostgresError(f"{Path(argv[0]).name} failed: {proc.stderr.strip()[-1500:]}")
    return proc


def start(layout: StackLayout, port: int, password: str) -> None:
    """initdb on first start, then the server, then the airflow role and database (idempotent)."""
    pg = bin_dir()
    layout.postgres_dir.mkdir(parents=True, exist_ok=True)
    owner = _as_owner()
    if owner:
        shutil.chown(layout.postgres_dir, owner["user"], owner["group"])
    layout.postgres_dir.chmod(0o700)
    if not (_data(layout) / "PG_VERSION").exists():
        _run(layout, str(pg / "initdb"), "-D", str(_data(layout)), "-U", _superuser(), "-E", "UTF8",
             "--auth-local=peer", "--auth-host=scram-sha-256")
    if procs.running(layout.run_dir, "postgres") is None:
        procs.spawn(layout.run_dir, "postgres",
                    [str(pg / "postgres"), "-D", str(_data(layout)), "-p", str(port),
                     "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={layout.postgres_dir}",
                     "-c", "max_connections=200"],
                    {"PATH": os.defpath, "LANG": "C.UTF-8"}, layout.logs_dir / "postgres.log", **owner)
    _wait_ready(layout, pg, port)
    psql = [str(pg / "psql"), "-h", str(layout.postgres_dir), "-p", str(port), "-U", _superuser(), "-d", "postgres",
            "-v", "ON_ERROR_STOP=1", "-q", "-t"]
    role = password.replace("'", "''")
    _run(layout, *psql, stdin=(
        f"SELECT count(*) AS has_role FROM pg_roles WHERE rolname = '{USER}' \\gset\n"
        f"\\if :has_role\nALTER ROLE {USER} LOGIN PASSWORD '{role}';\n"
        f"\\else\nCREATE ROLE {USER} LOGIN PASSWORD '{role}';\n\\endif\n"
        f"SELECT count(*) AS has_db FROM pg_database WHERE datname = '{DATABASE}' \\gset\n"
        f"\\if :has_db\n\\else\nCREATE DATABASE {DATABASE} OWNER {USER};\n\\endif\n"))


def _wait_ready(layout: StackLayout, pg: Path, port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if procs.running(layout.run_dir, "postgres") is None:
            break
        ready = subprocess.run([str(pg / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)])
        if ready.returncode == 0:
            return
        time.sleep(0.5)
    raise PostgresError(f"PostgreSQL did not accept connections on port {port}; see {layout.logs_dir}/postgres.log")


def stop(layout: StackLayout) -> bool:
    return procs.stop(layout.run_dir, "postgres", timeout=30)
