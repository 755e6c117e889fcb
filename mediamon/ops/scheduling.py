"""What the Airflow DAGs need from their environment, so the DAG files only declare.

The dag-processor parses every file in dags/ every few seconds: DAG files must
stay cheap and hold no pipeline logic. This module gives them the sources to
generate crawl DAGs from, the assets that wire the DAGs together, the
retry/timeout policy (``MEDIAMON_CRAWL_*`` / ``MEDIAMON_STAGE_*`` settings, so
tests retry in seconds and production in minutes), and the ``Settings`` a task
runs with — Elasticsearch credentials from the Airflow connection
(``MEDIAMON_ES_CONN_ID``, default ``mediamon_es``) when it exists, else from the
``MEDIAMON_*`` environment. Never credentials in DAG code. It must not import
Airflow, Scrapy or the processing stages at module level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from mediamon.core.durations import is_duration, parse_duration
from mediamon.core.settings import Settings, load_settings
from mediamon.core.sources import load_sources
from mediamon.ops.logs import quiet_request_loggers

REPO_CONFIG = Path(__file__).resolve().parent.parent.parent / "config"
DOCS_ASSET_URI = "mediamon://index/docs"


def dag_settings() -> Settings:
    """Settings as the dag-processor and the workers see them.

    A worker's working directory is arbitrary, so when ``MEDIAMON_CONFIG_DIR`` is
    not set the repository's config/ is used rather than a relative ``config``.
    """
    settings = Settings()
    if "config_dir" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"config_dir": REPO_CONFIG})


def sources_file() -> Path:
    """The sources file the crawl DAGs are generated from and every task crawls and processes with."""
    return dag_settings().sources_path


@dataclass(frozen=True)
class CrawlSchedule:
    source_id: str
    schedule: str | timedelta
    asset_uri: str


def raw_batches_uri(source_id: str) -> str:
    """The asset a crawl DAG updates once per new raw batch of that source."""
    return f"mediamon://archive/{source_id}"


def parse_schedule(value: str) -> str | timedelta:
    """A sources.yaml ``schedule`` as Airflow wants it: cron/preset strings as is, ``30m``/``2h`` as intervals."""
    return parse_duration(value) if is_duration(value) else value.strip()


def crawl_schedules() -> list[CrawlSchedule]:
    """One entry per configured source; a bad sources file raises (an import error the UI shows)."""
    return [CrawlSchedule(s.id, parse_schedule(str(s.schedule)), raw_batches_uri(s.id))
            for s in load_sources(sources_file())]


def crawl_task_args() -> dict[str, Any]:
    """Retries with exponential backoff for crawls: sites fail transiently, politely retry later."""
    settings = dag_settings()
    return {
        "retries": settings.crawl_retries,
        "retry_delay": timedelta(seconds=settings.crawl_retry_delay_s),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=settings.crawl_max_retry_delay_s),
        "execution_timeout": timedelta(seconds=settings.crawl_timeout_s),
    }


def stage_task_args() -> dict[str, Any]:
    """Processing and alerts: Elasticsearch hiccups are retried; a real bug fails after a few tries."""
    settings = dag_settings()
    return {
        "retries": settings.stage_retries,
        "retry_delay": timedelta(seconds=settings.stage_retry_delay_s),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(seconds=settings.stage_timeout_s),
    }


def task_settings() -> Settings:
    """Settings for a running task: the Elasticsearch connection overrides the environment's cluster.

    Every task calls it first, so it also keeps the clients' request lines out of
    the task log: a step's default log is its one counts line.
    """
    quiet_request_loggers()
    base = dag_settings()
    overrides = _connection_overrides(base.es_conn_id)
    return load_settings(config_dir=base.config_dir, **overrides)


def _connection_overrides(conn_id: str) -> dict[str, Any]:
    """Settings fields from an Airflow connection (Elasticsearch provider conventions), or none."""
    # lazy: the dag-processor parses DAG files without paying for the Airflow SDK's client
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException  # lazy: as above

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return {}
    extra = conn.extra_dejson
    scheme = extra.get("scheme") or conn.schema or "http"
    fields: dict[str, Any] = {"es_url": f"{scheme}://{conn.host}:{conn.port or 9200}"}
    if extra.get("api_key"):
        fields["es_api_key"] = extra["api_key"]
    elif conn.login:
        fields.update(es_username=conn.login, es_password=conn.password or "")
    if extra.get("ca_certs"):
        fields["es_ca_certs"] = extra["ca_certs"]
    if "verify_certs" in extra:
        fields["es_verify_certs"] = bool(extra["verify_certs"])
    return fields
