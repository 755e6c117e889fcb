"""Runtime settings: where Elasticsearch is, how to authenticate, where data and config live.

Settings come from the environment (``MEDIAMON_*``), then a ``.env`` file in the
working directory, then the credentials file that ``mediamon es start`` writes for
the local node. The same code therefore talks to the local dev node and to the
docker-compose cluster; only the environment differs. Secrets are held as
``SecretStr`` so they never end up in a repr, a log line or command output.
"""

from __future__ import annotations

from pathlib import Path

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
    index_prefix: str = Field(default="mediamon", pattern=r"^[a-z][a-z0-9_-]*$")
    data_dir: Path = Path(".mediamon")
    local_es_dir: Path | None = Field(default=None, description="home of the local node; data_dir/es when unset")
    config_dir: Path = Path("config")
    kibana_url: str | None = None
    # Passwords for the least-privilege users; `mediamon setup` creates the users when set.
    es_writer_password: SecretStr | None = None
    es_analyst_password: SecretStr | None = None

    @model_validator(mode="after")
    def _absolute_dirs(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        self.config_dir = self.config_dir.expanduser().resolve()
        self.local_es_dir = (self.local_es_dir or self.data_dir / "es").expanduser().resolve()
        return self

    @property
    def local_credentials_path(self) -> Path:
        assert self.local_es_dir is not None
        return self.local_es_dir / LOCAL_CREDENTIALS_FILE

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
    path = settings.local_credentials_path
    if not path.is_file():
        return settings
    local = {k: v for k, v in dotenv_values(path).items() if v is not None}
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


def _coerce(values: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for field, value in values.items():
        annotation = str(Settings.model_fields[field].annotation)
        out[field] = SecretStr(str(value)) if "SecretStr" in annotation else value
    return out
