"""Kibana: import the saved objects of config/kibana/ and build Discover links for alerts.

The NDJSON files are written for the default prefix (data view id and title
``mediamon-docs``); importing for another prefix rewrites that name, so each
deployment's Kibana points at its own alias. Import uses Kibana's saved objects
API with the Elasticsearch credentials of the settings (Kibana delegates auth
to Elasticsearch) — except the local node's password, which goes to no host but
the local node's; nothing is printed that could hold a secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from mediamon.core.errors import OperationFailed
from mediamon.core.settings import Settings, redact_url, sends_local_password_elsewhere

DATA_VIEW_ID = "mediamon-docs"  # the id Discover links and the dashboard refer to
DEFAULT_ALIAS = "mediamon-docs"
DEFAULT_VERSIONS = "mediamon-versions"  # processing.changes.versions: config/kibana/versions.ndjson
DEFAULT_STORIES = "mediamon-stories"  # processing.stories.storyindex: config/kibana/stories.ndjson
RISON_SAFE = "(),:'!"  # left as is in Discover URLs, as Kibana itself writes them


class KibanaError(OperationFailed):
    """Kibana refused or could not take the saved objects; the message says which and why."""


@dataclass
class ImportReport:
    files: list[str] = field(default_factory=list)
    objects: int = 0
    errors: list[str] = field(default_factory=list)


def saved_object_files(settings: Settings) -> list[Path]:
    directory = settings.config_dir / "kibana"
    return sorted(directory.glob("*.ndjson")) if directory.is_dir() else []


def load_saved_objects(path: Path) -> list[dict[str, Any]]:
    """Parse one NDJSON file; a bad line names the file and line number."""
    objects = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KibanaError(f"{path}:{number}: not JSON: {exc}") from exc
        if not isinstance(obj, dict) or "type" not in obj or "id" not in obj or "attributes" not in obj:
            raise KibanaError(f"{path}:{number}: a saved object needs type, id and attributes")
        objects.append(obj)
    return objects


def for_prefix(text: str, settings: Settings) -> str:
    """Point the objects at this deployment's alias (they are written for ``mediamon-docs``)."""
    if settings.docs_alias == DEFAULT_ALIAS:
        return text
    return text.replace(DEFAULT_ALIAS, settings.docs_alias).replace(DEFAULT_VERSIONS,
                                                                    f"{settings.index_prefix}-versions").replace(
        DEFAULT_STORIES, f"{settings.index_prefix}-stories")


def with_time_range(text: str, since: datetime, until: datetime) -> str:
    """The NDJSON with every dashboard that restores a time range opening on [since, until] instead (whole days).

    The shipped dashboard opens on ``now-7d``: right for live monitoring, empty on
    the 2021 sample or a replayed archive.
    """
    lines = []
    for line in text.splitlines():
        obj = json.loads(line) if line.strip() else None
        if obj and obj.get("type") == "dashboard" and obj["attributes"].get("timeRestore"):
            start = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            end = until.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
            obj["attributes"].update(timeFrom=start.isoformat(), timeTo=end.isoformat())
            line = json.dumps(obj, ensure_ascii=False)
        lines.append(line)
    return "\n".join(lines) + "\n"


def import_saved_objects(settings: Settings, timeout: float = 30.0,
                         time_range: tuple[datetime, datetime] | None = None) -> ImportReport:
    """POST every config/kibana/*.ndjson to ``MEDIAMON_KIBANA_URL`` (overwrite: idempotent).

    With ``time_range`` the dashboards open on it (``with_time_range``), else on their own (``now-7d``).
    """
    if not settings.kibana_url:
        raise KibanaError("MEDIAMON_KIBANA_URL is not set")
    report = ImportReport()
    auth = _auth(settings)
    # httpx takes auth=None as "no auth"; a header carries an API key instead
    url = settings.kibana_url.rstrip("/") + "/api/saved_objects/_import?overwrite=true"
    verify: Any = str(settings.es_ca_certs) if settings.es_ca_certs else settings.es_verify_certs
    with httpx.Client(timeout=timeout, verify=verify) as client:
        for path in saved_object_files(settings):
            load_saved_objects(path)  # fail on a bad file before sending anything of it
            body = for_prefix(path.read_text(encoding="utf-8"), settings)
            if time_range:
                body = with_time_range(body, *time_range)
            try:
                resp = client.post(url, headers={"kbn-xsrf": "mediamon", **auth.get("headers", {})},
                                   auth=auth.get("basic"), files={"file": (path.name, body, "application/ndjson")})
            except httpx.HTTPError as exc:
                raise KibanaError(f"cannot reach Kibana at {redact_url(settings.kibana_url)}: "
                                  f"{type(exc).__name__}") from exc
            if resp.status_code >= 300:
                raise KibanaError(f"Kibana refused {path.name}: HTTP {resp.status_code} {resp.text[:300]}")
            result = resp.json()
            report.files.append(path.name)
            report.objects += int(result.get("successCount", 0))
            for err in result.get("errors", []):
                report.errors.append(f"{path.name}: {err.get('type')}/{err.get('id')}: {err.get('error')}")
    return report


def _auth(settings: Settings) -> dict[str, Any]:
    if settings.es_api_key is not None:
        return {"headers": {"Authorization": f"ApiKey {settings.es_api_key.get_secret_value()}"}}
    if settings.es_username and settings.es_password is not None:
        if sends_local_password_elsewhere(settings, settings.kibana_url or ""):
            raise KibanaError(
                f"MEDIAMON_KIBANA_URL {redact_url(settings.kibana_url or '')} is not on the local node's host: its "
                "password is not sent there; give that Kibana's own MEDIAMON_ES_USERNAME/PASSWORD or API key")
        return {"basic": (settings.es_username, settings.es_password.get_secret_value())}
    return {}


def discover_url(kibana_url: str, query: str, since: datetime, until: datetime,
                 data_view_id: str = DATA_VIEW_ID) -> str:
    """A Discover link showing ``query`` (Lucene) over [since, until]."""
    app_state = (f"(dataSource:(dataViewId:{_rison(data_view_id)},type:dataView),"
                 f"query:(language:lucene,query:{_rison(query)}))")
    global_state = f"(time:(from:{_rison(since.isoformat())},to:{_rison(until.isoformat())}))"
    return (f"{kibana_url.rstrip('/')}/app/discover#/?_g={quote(global_state, safe=RISON_SAFE)}"
            f"&_a={quote(app_state, safe=RISON_SAFE)}")


def _rison(value: str) -> str:
    """A rison string literal: quoted, with ! and ' escaped by !."""
    return "'" + value.replace("!", "!!").replace("'", "!'") + "'"
