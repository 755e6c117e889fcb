"""``mediamon stack start|stop|status``: the whole topology, in dependency order.

Start: Elasticsearch (3 nodes, green) → PostgreSQL → Redis → the mirror of the
sample sites → the caller's cluster setup (template, alias, roles and users:
``mediamon.ops.setup``, passed in because this layer cannot import ops) →
Airflow (migrate, then the servers and the Celery workers). Each step is
skipped when its component is already running, so start is also "repair".
Stop goes the other way and then checks that no process of the stack is left.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from mediamon.core.errors import OperationFailed
from mediamon.core.settings import Settings, load_settings
from mediamon.devtools.stack import airflow_services, broker, escluster, postgres, procs
from mediamon.devtools.stack.layout import CELERY_WORKERS, ES_NODES, StackLayout

MIRROR_TIMEOUT_S = 30


@dataclass(frozen=True)
class StackInfo:
    """How to reach and log in to a running stack (what ``stack start`` prints)."""

    airflow_url: str
    airflow_user: str
    airflow_password_file: str
    es_urls: list[str]
    es_user: str
    es_credentials_file: str
    es_ca_certs: str
    mirror_url: str
    client_environment: dict[str, str]


def components() -> list[str]:
    """Every long-running process of the stack, in start order."""
    return [*(f"es-{n}" for n in ES_NODES), "postgres", "redis", "mirror",
            *(f"airflow-{c}" for c in (*airflow_services.SERVER_COMPONENTS, *CELERY_WORKERS))]


def client_settings(settings: Settings) -> Settings:
    """Settings of a mediamon client of the stack's cluster (admin credentials, CA, writer/analyst passwords)."""
    layout = StackLayout.of(settings)
    return load_settings(local_es_dir=layout.es_dir, data_dir=layout.data_dir, config_dir=settings.config_dir,
                         index_prefix=settings.index_prefix, stack_dir=layout.root)


def _start_mirror(layout: StackLayout, port: int) -> str:
    """The sample sites, served like ``make airflow`` does; returns their MEDIAMON_URL_REWRITE."""
    log_file = layout.logs_dir / "mirror.log"
    if procs.running(layout.run_dir, "mirror") is None:
        log_file.unlink(missing_ok=True)
        procs.spawn(layout.run_dir, "mirror", [sys.executable, "-m", "mediamon.devtools.mirror", "--port", str(port)],
                    {"PATH": os.environ.get("PATH", os.defpath)}, log_file, cwd=airflow_services.REPO)
    deadline = time.monotonic() + MIRROR_TIMEOUT_S
    while time.monotonic() < deadline:
        for line in log_file.read_text().splitlines() if log_file.is_file() else []:
            if line.startswith("MEDIAMON_URL_REWRITE="):
                return line.partition("=")[2]
        if procs.running(layout.run_dir, "mirror") is None:
            break
        time.sleep(0.2)
    raise OperationFailed(f"the mirror of the sample sites did not start; see {log_file}")


def start(settings: Settings, setup_cluster: Callable[[Settings], Any],
          on_step: Callable[[str], None] = lambda _line: None) -> StackInfo:
    """Start (or complete) the stack; ``setup_cluster`` prepares indices and users on the cluster."""
    layout = StackLayout.of(settings)
    layout.root.mkdir(parents=True, exist_ok=True)
    ports, secrets = layout.ports(), layout.secrets()
    escluster.start(settings, layout, ports, secrets, settings.stack_es_heap, on_step)
    on_step(f"PostgreSQL on port {ports['postgres']}")
    postgres.start(layout, ports["postgres"], secrets["POSTGRES_PASSWORD"])
    on_step(f"Redis on port {ports['redis']}")
    broker.start(layout, ports["redis"], secrets["REDIS_PASSWORD"])
    on_step(f"sample sites on port {ports['mirror']}")
    url_rewrite = _start_mirror(layout, ports["mirror"])
    on_step("mediamon setup on the cluster (template with one replica, alias, roles, writer and analyst)")
    client = client_settings(settings)
    setup_cluster(client)
    on_step("Airflow: db migrate, api-server, scheduler, dag-processor, triggerer, 2 Celery workers")
    ca = escluster.ca_path(settings, layout)
    env = airflow_services.environment(settings, layout, ports, secrets, escluster.url(ports), ca, url_rewrite)
    airflow_services.start(layout, env, ports, secrets["AIRFLOW_ADMIN_PASSWORD"])
    return info(settings)


def info(settings: Settings) -> StackInfo:
    layout = StackLayout.of(settings)
    ports = layout.ports()
    return StackInfo(
        airflow_url=airflow_services.api_url(ports), airflow_user=airflow_services.ADMIN_USER,
        airflow_password_file=str(airflow_services.passwords_file(layout)),
        es_urls=[escluster.url(ports, n) for n in ES_NODES], es_user=escluster.ADMIN_USER,
        es_credentials_file=str(layout.es_dir / "credentials.env"),
        es_ca_certs=str(escluster.ca_path(settings, layout)),
        mirror_url=f"http://127.0.0.1:{ports['mirror']}",
        client_environment={"MEDIAMON_LOCAL_ES_DIR": str(layout.es_dir), "MEDIAMON_DATA_DIR": str(layout.data_dir)},
    )


def airflow_environment(settings: Settings) -> dict[str, str]:
    """The environment `airflow` commands need to act on the running stack (tests, operators)."""
    layout = StackLayout.of(settings)
    ports, secrets = layout.ports(), layout.secrets()
    rewrite = ""
    mirror_log = layout.logs_dir / "mirror.log"
    for line in mirror_log.read_text().splitlines() if mirror_log.is_file() else []:
        if line.startswith("MEDIAMON_URL_REWRITE="):
            rewrite = line.partition("=")[2]
    return airflow_services.environment(settings, layout, ports, secrets, escluster.url(ports),
                                        escluster.ca_path(settings, layout), rewrite)


def stop(settings: Settings) -> list[str]:
    """Stop every component, Airflow first; returns what was running. Raises if any process is left."""
    layout = StackLayout.of(settings)
    stopped = [f"airflow-{c}" for c in airflow_services.stop(layout)]
    stopped += [name for name in ("mirror", "redis") if procs.stop(layout.run_dir, name)]
    stopped += ["postgres"] if postgres.stop(layout) else []
    stopped += [f"es-{n}" for n in escluster.stop(layout)]
    left = leftover_processes(layout)
    if left:
        raise OperationFailed(f"processes of the stack still running after stop: {left}")
    return stopped


def leftover_processes(layout: StackLayout) -> list[int]:
    """Any live process of a group the stack started (pid files are kept until the group is gone)."""
    return [pid for name in components() for pgid in [procs.read_pid(layout.run_dir, name)] if pgid
            for pid in procs.group_members(pgid)]


def status(settings: Settings) -> dict[str, Any]:
    """Each component's pid (or None), the cluster's health and the API server's health."""
    layout = StackLayout.of(settings)
    out: dict[str, Any] = {"stack_dir": str(layout.root),
                           "components": {name: procs.running(layout.run_dir, name) for name in components()}}
    out["running"] = all(out["components"].values())
    if not (layout.root / "ports.json").is_file():
        return out
    ports, secrets = layout.ports(), layout.secrets()
    try:
        health = escluster.health(settings, layout, ports, secrets)
        out["elasticsearch"] = {"status": health["status"], "nodes": health["number_of_nodes"],
                                "unassigned_shards": health["unassigned_shards"]}
    except (httpx.HTTPError, OSError) as exc:
        out["elasticsearch"] = {"status": f"unreachable ({type(exc).__name__})"}
    try:
        api = httpx.get(f"{airflow_services.api_url(ports)}/api/v2/monitor/health", timeout=5).json()
        out["airflow"] = {part: api.get(part, {}).get("status") for part in
                          ("metadatabase", "scheduler", "triggerer", "dag_processor")}
    except (httpx.HTTPError, ValueError) as exc:
        out["airflow"] = {"status": f"unreachable ({type(exc).__name__})"}
    return out
