"""The time alert windows and the freshness check are judged at: now, or the data's own time.

Live, it is the wall clock. On replayed or sample data (the demo's 2021
articles, `make airflow` on the sample sites) every source looks silent for
years and every window ending now is empty, so ``MEDIAMON_AS_OF=newest-document``
judges publication times as of the newest document published up to now. Pipeline
times (``indexed_at``, ``fetched_at``) stay on the wall clock: the pipeline did
run now. Production keeps ``now``, so a real silence is never hidden.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.esclient import for_search
from mediamon.core.settings import Settings

DATA_TIME_FIELD = "published_at"  # the one field on the data's clock


def newest_published(es: Elasticsearch, alias: str, now: datetime) -> datetime | None:
    """The newest publication time at or before ``now`` (a future-dated page does not move the clock)."""
    if not es.indices.exists_alias(name=alias):
        return None
    resp = for_search(es).search(index=alias, size=0, query={"range": {DATA_TIME_FIELD: {"lte": now.isoformat()}}},
                                 aggs={"newest": {"max": {"field": DATA_TIME_FIELD}}})
    value = resp["aggregations"]["newest"].get("value_as_string")
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def time_span(es: Elasticsearch, alias: str, field: str, query: dict[str, Any] | None = None
              ) -> tuple[datetime, datetime] | None:
    """The first and last ``field`` time of the documents matching ``query`` (None when there are none)."""
    resp = for_search(es).search(index=alias, size=0, query=query or {"match_all": {}},
                                 aggs={"first": {"min": {"field": field}}, "last": {"max": {"field": field}}})
    first, last = (resp["aggregations"][k].get("value_as_string") for k in ("first", "last"))
    if not first or not last:
        return None
    return datetime.fromisoformat(first.replace("Z", "+00:00")), datetime.fromisoformat(last.replace("Z", "+00:00"))


def data_time(es: Elasticsearch, settings: Settings, now: datetime) -> datetime | None:
    """The data's clock when the settings ask for it (``MEDIAMON_AS_OF=newest-document``), else None (wall clock)."""
    if settings.as_of != "newest-document":
        return None
    return newest_published(es, settings.docs_alias, now)
