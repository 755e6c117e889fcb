"""Runtime settings: every ``MEDIAMON_*`` variable is read here and nowhere else.

Settings come from the environment (``MEDIAMON_*``), then a ``.env`` file in the
working directory, then the credentials file that ``mediamon es start`` writes for
the local node. The same code therefore talks to the local dev node and to the
docker-compose cluster; only the environment differs. Secrets are held as
``SecretStr`` so they never end up in a repr, a log line or command output.
The README's settings table lists every field; a test keeps the two in step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from dotenv import dotenv_values
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_CREDENTIALS_FILE = "credentials.env"


class Settings(BaseSettings):
    """Everything mediamon needs to know about its environment."""

    model_config = SettingsConfigDict(
        env_prefix="MEDIAMON_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    es_url: str | None = Field(default=None, description="Elasticsearch URL; the local node's when unset")
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    es_ca_certs: Path | None = Field(default=None, description="CA bundle for a TLS cluster")
    es_verify_certs: bool = True
    es_timeout: float = 30.0
    es_max_retries: int = 5
    # No "-": roles grant "<prefix>-*", which would also cover every index of a prefix "<prefix>-eu".
    index_prefix: str = Field(default="mediamon", pattern=r"^[a-z][a-z0-9_]*$")
    data_dir: Path = Path(".mediamon")
    local_es_dir: Path | None = Field(default=None, description="home of the local node; data_dir/es when unset")
    config_dir: Path = Path("config")
    kibana_url: str | None = None
    # Passwords for the least-privilege users; `mediamon setup` creates the users when set.
    es_writer_password: SecretStr | None = None
    es_analyst_password: SecretStr | None = None
    sources_file: Path | None = Field(default=None, description="sources file; <config_dir>/sources.yaml when unset")
    # Crawling.
    url_rewrite: str = Field(default="", description="PREFIX=REPLACEMENT rules: send the crawler to a mirror")
    user_agent: str | None = None
    crawl_settings: dict[str, Any] = Field(default_factory=dict, description="Scrapy setting overrides (JSON)")
    # Whose clock alerts and the freshness check judge time by: the wall clock, or the newest document's
    # publication time for replayed or sample data (the demo, `make airflow` on the sample sites).
    as_of: Literal["now", "newest-document"] = "now"
    browser_path: Path = Field(default=Path("/usr/bin/chromium"),
                               description="the Chromium rendered pages use (Debian: apt-get install chromium)")
    # Processing: group documents into stories (processing.stories) as they are indexed.
    stories: bool = Field(default=True, description="assign each processed document to a story")
    # Airflow task policy (seconds) and the connection that overrides the cluster settings.
    es_conn_id: str = "mediamon_es"
    crawl_retries: int = Field(default=3, ge=0)
    crawl_retry_delay_s: float = Field(default=300, ge=0)
    crawl_max_retry_delay_s: float = Field(default=3600, ge=0)
    crawl_timeout_s: float = Field(default=1800, gt=0)
    stage_retries: int = Field(default=2, ge=0)
    stage_retry_delay_s: float = Field(default=60, ge=0)
    stage_timeout_s: float = Field(default=3600, gt=0)
    # The local development node (mediamon.devtools.localnode).
    es_version: str = "9.5.4"
    es_heap: str = Field(default="1g", pattern=r"^\d+[mg]$")
    jvm_root: Path = Path("/usr/lib/jvm")
    java_home: Path | None = None
    # `mediamon stack`: the production topology on one machine (mediamon.devtools.stack).
    stack_dir: Path | None = Field(default=None, description="the stack's data, logs and pid files; "
                                   "data_dir/stack when unset")
    stack_es_heap: str = Field(default="512m", pattern=r"^\d+[mg]$")

    @model_validator(mode="after")
    def _absolute_dirs(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        self.config_dir = self.config_dir.expanduser().resolve()
        self.local_es_dir = (self.local_es_dir or self.data_dir / "es").expanduser().resolve()
        self.stack_dir = (self.stack_dir or self.data_dir / "stack").expanduser().resolve()
        return self

    @property
    def local_credentials_path(self) -> Path:
        assert self.local_es_dir is not None
        return self.local_es_dir / LOCAL_CREDENTIALS_FILE

    @property
    def sources_path(self) -> Path:
        """The sources file every step reads: crawl, processing, DAG generation and health checks."""
        return (self.sources_file or self.config_dir / "sources.yaml").expanduser().resolve()

    def crawler_environment(self) -> dict[str, str]:
        """These settings as the variables a crawler child process reads (no secrets: crawling needs none)."""
        env = {"MEDIAMON_DATA_DIR": str(self.data_dir), "MEDIAMON_CONFIG_DIR": str(self.config_dir),
               "MEDIAMON_SOURCES_FILE": str(self.sources_path), "MEDIAMON_URL_REWRITE": self.url_rewrite,
               "MEDIAMON_CRAWL_SETTINGS": json.dumps(self.crawl_settings),
               "MEDIAMON_BROWSER_PATH": str(self.browser_path)}
        if self.user_agent:
            env["MEDIAMON_USER_AGENT"] = self.user_agent
        return env

    @property
    def docs_alias(self) -> str:
        """The alias analysts search and the pipeline writes through."""
        return f"{self.index_prefix}-docs"

    @property
    def alerts_index(self) -> str:
        return f"{self.index_prefix}-alerts"

    @property
    def deadletter_dir(self) -> Path:
        return self.data_dir / "deadletter"


def load_settings(**overrides: object) -> Settings:
    """Settings from env/.env, completed by the local node's credentials file.

    The local file only fills what the environment left unset, and only when the
    environment does not point at some other cluster: the local password must
    never be sent to a remote URL.
    """
    settings = Settings(**overrides)  # type: ignore[arg-type]
    local = local_credentials(settings)
    if not local:
        return settings
    local_url = local.get("MEDIAMON_ES_URL")
    if settings.es_url and settings.es_url.rstrip("/") != (local_url or "").rstrip("/"):
        return settings
    fill: dict[str, object] = {}
    for key, value in local.items():
        field = key.removeprefix("MEDIAMON_").lower()
        if field in Settings.model_fields and getattr(settings, field) is None:
            fill[field] = value
    if settings.es_api_key is not None:
        # An API key in the environment wins; do not mix it with the local basic auth.
        fill.pop("es_username", None)
        fill.pop("es_password", None)
    return settings.model_copy(update=_coerce(fill))


def local_credentials(settings: Settings) -> dict[str, str]:
    """The local node's credentials file as ``MEDIAMON_*`` values; empty when there is none."""
    path = settings.local_credentials_path
    return {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}


def sends_local_password_elsewhere(settings: Settings, url: str) -> bool:
    """Whether ``settings``' password is the local node's and ``url`` is on another host than that node.

    The rule of ``load_settings`` for every other service (Kibana): the local
    password goes to the local node's host and nowhere else.
    """
    local = local_credentials(settings)
    password = settings.es_password.get_secret_value() if settings.es_password is not None else None
    if not password or password != local.get("MEDIAMON_ES_PASSWORD"):
        return False
    return urlsplit(url).hostname != urlsplit(local.get("MEDIAMON_ES_URL", "")).hostname


def redact_url(url: str) -> str:
    """``url`` fit for a message: any ``user:password@`` replaced by ``***@``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


def _coerce(values: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for field, value in values.items():
        annotation = str(Settings.model_fields[field].annotation)
        out[field] = SecretStr(str(value)) if "SecretStr" in annotation else value
    return out
