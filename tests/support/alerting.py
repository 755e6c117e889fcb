"""Alert and report test helpers: constructed documents on a controlled timeline, rules from dicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.document import Document
from mediamon.core.settings import Settings
from processing.alerts.alert_state import StateStore
from processing.alerts.rules import AlertsConfig
from processing.store.bulk import DeadLetter, IndexerConfig, index_documents

T0 = datetime(2021, 11, 8, 12, 0, tzinfo=UTC)


def doc(slug: str, *, source: str = "tass-ru", published: datetime = T0, indexed: datetime | None = None,
        **fields: Any) -> Document:
    """A document as processing would index it; ``indexed`` defaults to publication + 1 minute."""
    url = f"https://{source}.example/{slug}"
    defaults: dict[str, Any] = {"title": slug.replace("-", " ").capitalize(), "text": f"Text of {slug}.",
                                "lang": "ru", "domain": f"{source}.example"}
    return Document(url=url, canonical_url=url, source=source, published_at=published,
                    indexed_at=indexed or published + timedelta(minutes=1), **{**defaults, **fields})


def index(es: Elasticsearch, settings: Settings, docs: list[Document]) -> None:
    counts = index_documents(es, settings.docs_alias, docs, DeadLetter(settings.deadletter_dir),
                             IndexerConfig(stamp_indexed_at=False))
    assert counts.failed == 0, counts.failures
    es.indices.refresh(index=settings.docs_alias)  # searchable now: a CLI started right after must see them


def config(*rules: dict[str, Any], **top: Any) -> AlertsConfig:
    """Rules delivered to a file channel under the data dir; retries fast."""
    body: dict[str, Any] = {"defaults": {"realert": "1h", "lag": "5m", "initial_lookback": "24h",
                                         "retry": {"attempts": 1, "backoff": "0s"}},
                            "channels": {"file": {"type": "file", "path": "alerts.jsonl"}},
                            "rules": list(rules)}
    for name, value in top.items():
        body[name] = {**body.get(name, {}), **value} if isinstance(value, dict) else value
    return AlertsConfig.model_validate(body)


def fired(es: Elasticsearch, settings: Settings, rule: str | None = None) -> list[dict[str, Any]]:
    return StateStore(es, settings.alerts_index).alerts(rule=rule)
