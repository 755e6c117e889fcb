"""Where the stack keeps everything: one directory, its ports and its generated secrets.

One root (``MEDIAMON_STACK_DIR``, default ``<data dir>/stack``) holds every
component's data, logs and pid files, so ``stack stop`` + removing it is a full
reset. Ports are chosen free at the first start and kept (clients, the CA'd
Elasticsearch URL and Airflow's connections stay valid across restarts).
Secrets are generated once into a 0600 file and never printed except the
Airflow login, which ``stack start`` shows as the way in.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from mediamon.core.settings import Settings
from mediamon.devtools.localnode import _free_port, _read_release

ES_NODES = ("node-1", "node-2", "node-3")
CELERY_WORKERS = ("worker-1", "worker-2")
# Every port the stack listens on, all on 127.0.0.1; the Airflow UI prefers 8080.
PORT_NAMES = (*(f"es-{n}-{kind}" for n in ES_NODES for kind in ("http", "transport")),
              "postgres", "redis", "airflow", "mirror", "airflow-triggerer-logs",
              *(f"airflow-{w}-logs" for w in CELERY_WORKERS))
PREFERRED_PORTS = {"airflow": 8080}
SECRET_NAMES = ("ES_ADMIN_PASSWORD", "ES_WRITER_PASSWORD", "ES_ANALYST_PASSWORD", "POSTGRES_PASSWORD",
                "REDIS_PASSWORD", "AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_JWT_SECRET")


@dataclass(frozen=True)
class StackLayout:
    root: Path

    @classmethod
    def of(cls, settings: Settings) -> StackLayout:
        assert settings.stack_dir is not None  # filled by the Settings validator
        return cls(settings.stack_dir)

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def es_dir(self) -> Path:
        """The cluster's distribution, node data and credentials (a ``MEDIAMON_LOCAL_ES_DIR`` for clients)."""
        return self.root / "es"

    @property
    def postgres_dir(self) -> Path:
        return self.root / "postgres"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def data_dir(self) -> Path:
        """The pipeline's ``MEDIAMON_DATA_DIR`` in the stack: archive, crawl state, dead letters."""
        return self.root / "data"

    def ports(self) -> dict[str, int]:
        """The stack's ports: chosen free once, then kept in ports.json."""
        path = self.root / "ports.json"
        known: dict[str, int] = json.loads(path.read_text()) if path.is_file() else {}
        if all(name in known for name in PORT_NAMES):
            return known
        ports = dict(known)
        for name in PORT_NAMES:
            if name not in ports:
                taken = set(ports.values())
                port = _free_port(PREFERRED_PORTS.get(name))
                while port in taken:
                    port = _free_port()
                ports[name] = port
        self.root.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(ports, indent=1))
        return ports

    def secrets(self) -> dict[str, str]:
        """Generated passwords and keys, created once, 0600."""
        path = self.root / "secrets.env"
        values = _read_release(path) if path.is_file() else {}
        missing = [name for name in (*SECRET_NAMES, "AIRFLOW_FERNET_KEY") if name not in values]
        if missing:
            for name in SECRET_NAMES:
                values.setdefault(name, secrets.token_urlsafe(24))
            values.setdefault("AIRFLOW_FERNET_KEY", Fernet.generate_key().decode())
            self.root.mkdir(parents=True, exist_ok=True)
            write_private(path, "".join(f"{k}={v}\n" for k, v in sorted(values.items())).encode())
        return values


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file only its owner can read (keys, passwords), replacing it atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)
