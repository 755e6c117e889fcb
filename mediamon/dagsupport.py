"""What the Airflow DAGs need from their environment, so the DAG files only declare.

The dag-processor parses every file in dags/ every few seconds: DAG files must
stay cheap and hold no pipeline logic. This module gives them, lazily:
the sources to generate crawl DAGs from, the assets that wire the DAGs
together, the retry/timeout policy (tunable by environment so tests retry in
seconds, production in minutes), and the ``Settings`` a task runs with —
Elasticsearch credentials from the Airflow connection ``mediamon_es`` when it
exists, else from the ``MEDIAMON_*`` environment. Never credentials in DAG code.
It must not import Airflow, Scrapy or the processing stages at module level.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from mediamon.settings import Settings, load_settings

ES_CONN_ID = os.environ.get("MEDIAMON_ES_CONN_ID", "mediamon_es")
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"
DOCS_ASSET_URI = "mediamon://index/docs"
_INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def sources_file() -> Path:
    """The sources file the crawl DAGs are generated from.

    ``MEDIAMON_SOURCES_FILE`` wins, then ``MEDIAMON_CONFIG_DIR``; a worker's working
    directory is arbitrary, so the repository's config/ is the last resort rather
    than a relative ``config``.
    """
    if os.environ.get("MEDIAMON_SOURCES_FILE"):
        return Path(os.environ["MEDIAMON_SOURCES_FILE"])
    config_dir = os.environ.get("MEDIAMON_CONFIG_DIR")
    return (Path(config_dir) if config_dir else REPO_CONFIG) / "sources.yaml"


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
    match = _INTERVAL.match(value.strip())
    if match:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return value.strip()


def crawl_schedules() -> list[CrawlSchedule]:
    """One entry per configured source; a bad sources file raises (an import error the UI shows)."""
    from crawlers.sources import load_sources

    return [CrawlSchedule(s.id, parse_schedule(str(s.schedule)), raw_batches_uri(s.id))
            for s in load_sources(sources_file())]


def _seconds(name: str, default: float) -> timedelta:
    return timedelta(seconds=float(os.environ.get(name, default)))


def crawl_task_args() -> dict[str, Any]:
    """Retries with exponential backoff for crawls: sites fail transiently, politely retry later."""
    return {
        "retries": int(os.environ.get("MEDIAMON_CRAWL_RETRIES", 3)),
        "retry_delay": _seconds("MEDIAMON_CRAWL_RETRY_DELAY_S", 300),
        "retry_exponential_backoff": True,
        "max_retry_delay": _seconds("MEDIAMON_CRAWL_MAX_RETRY_DELAY_S", 3600),
        "execution_timeout": _seconds("MEDIAMON_CRAWL_TIMEOUT_S", 1800),
    }


def crawl_scrapy_settings() -> dict[str, Any]:
    """Scrapy setting overrides for every crawl task, from ``MEDIAMON_CRAWL_SETTINGS`` (a JSON object).

    For operators (e.g. ``{"RETRY_TIMES": 5}``) and tests; per-source politeness stays in sources.yaml.
    """
    raw = os.environ.get("MEDIAMON_CRAWL_SETTINGS", "").strip()
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"MEDIAMON_CRAWL_SETTINGS must be a JSON object, got {raw!r}")
    return value


def stage_task_args() -> dict[str, Any]:
    """Processing and alerts: Elasticsearch hiccups are retried; a real bug fails after a few tries."""
    return {
        "retries": int(os.environ.get("MEDIAMON_STAGE_RETRIES", 2)),
        "retry_delay": _seconds("MEDIAMON_STAGE_RETRY_DELAY_S", 60),
        "retry_exponential_backoff": True,
        "execution_timeout": _seconds("MEDIAMON_STAGE_TIMEOUT_S", 3600),
    }


def task_settings() -> Settings:
    """Settings for a running task: the ``mediamon_es`` connection overrides the environment's cluster."""
    overrides = _connection_overrides(ES_CONN_ID)
    if "config_dir" not in overrides and not os.environ.get("MEDIAMON_CONFIG_DIR"):
        overrides["config_dir"] = REPO_CONFIG  # a worker's working directory is arbitrary
    return load_settings(**overrides)


def _connection_overrides(conn_id: str) -> dict[str, Any]:
    """Settings fields from an Airflow connection (Elasticsearch provider conventions), or none."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

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
