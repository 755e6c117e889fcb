"""Airflow 3 as in production: api-server, scheduler, dag-processor, triggerer and Celery workers.

Metadata in the stack's PostgreSQL, tasks queued in its Redis and run by two
Celery workers, each its own process group. Tasks reach Elasticsearch through
the ``mediamon_es`` Airflow connection (the least-privileged writer, verifying
the cluster's CA), exactly as docker-compose.yml wires them; the crawl DAGs are
sent to the mirror of the sample sites (``MEDIAMON_URL_REWRITE``).

``EXECUTOR_SETTINGS`` is what docker-compose.yml must set too
(tests/stack/test_compose_parity.py compares them).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from mediamon.core.errors import OperationFailed
from mediamon.core.settings import Settings
from mediamon.devtools.stack import broker, postgres, procs
from mediamon.devtools.stack.layout import CELERY_WORKERS, StackLayout

REPO = Path(__file__).resolve().parents[3]
ADMIN_USER = "admin"
SERVER_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# The executor and its tuning, here and in docker-compose.yml.
EXECUTOR_SETTINGS: dict[str, str] = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    # one task reserved per free slot: a long processing task never holds back a queued one on a busy worker
    "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
    # a task whose worker died is failed (and retried elsewhere) after 60 s without a heartbeat, not 5 min
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
}
WORKER_CONCURRENCY = 3
# The sources are the local mirror: no politeness delay, as in `mediamon demo` (the real sites keep theirs).
MIRROR_CRAWL_SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
READY_TIMEOUT_S = 240
WORKER_NAME_VARIABLE = "STACK_CELERY_WORKER"


class AirflowError(OperationFailed):
    """An Airflow component did not come up; the message names its log."""


def environment(settings: Settings, layout: StackLayout, ports: dict[str, int], secrets: dict[str, str],
                es_url: str, ca_certs: Path, url_rewrite: str) -> dict[str, str]:
    """The environment of every Airflow process of the stack (and of `airflow` commands run against it)."""
    db = postgres.sqlalchemy_url(ports["postgres"], secrets["POSTGRES_PASSWORD"])
    api = f"http://127.0.0.1:{ports['airflow']}"
    host, port = es_url.removeprefix("https://").split(":")
    connection = {"conn_type": "elasticsearch", "host": host, "port": int(port), "schema": "https",
                  "login": f"{settings.index_prefix}_writer", "password": secrets["ES_WRITER_PASSWORD"],
                  "extra": {"ca_certs": str(ca_certs)}}
    base = {key: os.environ[key] for key in ("LANG", "LC_ALL", "TZ") if key in os.environ}
    return {
        **base,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', os.defpath)}",
        "AIRFLOW_HOME": str(layout.airflow_home),
        **EXECUTOR_SETTINGS,
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__FERNET_KEY": secrets["AIRFLOW_FERNET_KEY"],
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
        "AIRFLOW__CELERY__BROKER_URL": broker.broker_url(ports["redis"], secrets["REDIS_PASSWORD"]),
        "AIRFLOW__CELERY__RESULT_BACKEND": postgres.sqlalchemy_url(ports["postgres"], secrets["POSTGRES_PASSWORD"],
                                                                   driver="db+postgresql+psycopg2"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(ports["airflow"]),
        "AIRFLOW__API__WORKERS": "1",
        # a task's calls to the API server wait longer than the 5 s default: on one busy machine the single
        # API worker answers slowly, and a task whose start call times out fails before it ran
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets["AIRFLOW_JWT_SECRET"],
        "AIRFLOW__API__SECRET_KEY": secrets["AIRFLOW_JWT_SECRET"],
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(layout)),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["airflow-triggerer-logs"]),
        "AIRFLOW_CONN_MEDIAMON_ES": json.dumps(connection),
        "MEDIAMON_DATA_DIR": str(layout.data_dir),
        "MEDIAMON_CONFIG_DIR": str(settings.config_dir),
        "MEDIAMON_SOURCES_FILE": str(settings.sources_path),
        "MEDIAMON_CRAWL_SETTINGS": json.dumps(MIRROR_CRAWL_SETTINGS),
        "MEDIAMON_INDEX_PREFIX": settings.index_prefix,
        "MEDIAMON_URL_REWRITE": url_rewrite,
        # retries in seconds, not the production minutes: a fault in the stack is recovered while you watch
        "MEDIAMON_CRAWL_RETRY_DELAY_S": "30",
        "MEDIAMON_STAGE_RETRY_DELAY_S": "10",
    }


def passwords_file(layout: StackLayout) -> Path:
    return layout.airflow_home / "passwords.json"


def api_url(ports: dict[str, int]) -> str:
    return f"http://127.0.0.1:{ports['airflow']}"


def migrate(layout: StackLayout, env: dict[str, str], admin_password: str) -> None:
    """The metadata schema (idempotent) and the admin's password for the simple auth manager."""
    layout.airflow_home.mkdir(parents=True, exist_ok=True)
    fd = os.open(passwords_file(layout), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({ADMIN_USER: admin_password}, fh)
    proc = subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env,
                          capture_output=True, text=True, cwd=layout.airflow_home)
    if proc.returncode != 0:
        raise AirflowError(f"airflow db migrate failed:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}")


def component_argv(component: str, concurrency: int = WORKER_CONCURRENCY) -> list[str]:
    airflow = str(Path(sys.executable).parent / "airflow")
    if component in CELERY_WORKERS:
        return [airflow, "celery", "worker", "--concurrency", str(concurrency), "--celery-hostname",
                f"{component}@%h"]
    return [airflow, component]


def worker_hostname() -> str:
    """Airflow's ``hostname_callable`` in the stack: ``worker-1@host``, so a task instance names its worker.

    In production each worker is its own host; here two share one, and the UI would otherwise
    show the same hostname for both.
    """
    worker = os.environ.get(WORKER_NAME_VARIABLE)
    return f"{worker}@{socket.getfqdn()}" if worker else socket.getfqdn()


def start_component(layout: StackLayout, component: str, env: dict[str, str], ports: dict[str, int],
                    concurrency: int = WORKER_CONCURRENCY) -> int:
    """Start one component (a worker with ``concurrency`` task slots) in its own process group."""
    own = dict(env)
    if component in CELERY_WORKERS:  # each worker serves its task logs on its own port, and names itself
        own["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(ports[f"airflow-{component}-logs"])
        own[WORKER_NAME_VARIABLE] = component
        own["AIRFLOW__CORE__HOSTNAME_CALLABLE"] = f"{__name__}.worker_hostname"
    return procs.spawn(layout.run_dir, f"airflow-{component}", component_argv(component, concurrency), own,
                       layout.logs_dir / f"airflow-{component}.log", cwd=layout.airflow_home)


def start(layout: StackLayout, env: dict[str, str], ports: dict[str, int], admin_password: str) -> None:
    migrate(layout, env, admin_password)
    for component in (*SERVER_COMPONENTS, *CELERY_WORKERS):
        if procs.running(layout.run_dir, f"airflow-{component}") is None:
            start_component(layout, component, env, ports)
    wait_api(layout, ports)


def wait_api(layout: StackLayout, ports: dict[str, int], timeout: float = READY_TIMEOUT_S) -> dict:
    """Wait until the API server reports a healthy metadatabase and scheduler."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if procs.running(layout.run_dir, "airflow-api-server") is None:
            break
        try:
            health = httpx.get(f"{api_url(ports)}/api/v2/monitor/health", timeout=5).json()
            if health.get("scheduler", {}).get("status") == "healthy":
                return health
            last = json.dumps(health)[:300]
        except (httpx.HTTPError, ValueError) as exc:
            last = type(exc).__name__
        time.sleep(2)
    raise AirflowError(f"Airflow's API server is not healthy ({last}); see {layout.logs_dir}/airflow-*.log")


def stop(layout: StackLayout) -> list[str]:
    """Workers and servers together; a worker's tasks in flight get 20 s, then are failed and retried later."""
    names = [f"airflow-{c}" for c in (*CELERY_WORKERS, *SERVER_COMPONENTS)]
    return [name.removeprefix("airflow-") for name in procs.stop_all(layout.run_dir, names, timeout=20)]
