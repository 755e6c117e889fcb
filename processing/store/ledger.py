"""Which raw batches are processed: one Elasticsearch document per batch in ``<prefix>-batches``.

Why Elasticsearch and not a local file: the runner may run on any worker host
(Airflow on Celery/Kubernetes), and the index is where the documents live; a
batch is marked done only after Elasticsearch acknowledged its documents, in
the same store, so "done" can never run ahead of the data. The index also holds
one non-batch document, ``processing.dedup.GroupLock``'s lock: read batches by
id (as here), never by listing the index.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.esclient import REPLICATION
from mediamon.core.settings import Settings

MAPPING = {"dynamic": False, "properties": {
    "batch": {"type": "keyword"}, "done_at": {"type": "date"}, "source": {"type": "keyword"},
    "records": {"type": "integer"}}}


def batches_index(settings: Settings) -> str:
    return f"{settings.index_prefix}-batches"


def ensure_index(es: Elasticsearch, settings: Settings) -> None:
    name = batches_index(settings)
    if not es.indices.exists(index=name):
        es.options(ignore_status=400).indices.create(
            index=name, mappings=MAPPING, settings={"number_of_shards": 1, **REPLICATION})


def done_batches(es: Elasticsearch, settings: Settings, batch_ids: list[str]) -> set[str]:
    """The subset of ``batch_ids`` already marked done (mget is real-time: no refresh needed)."""
    if not batch_ids:
        return set()
    resp = es.mget(index=batches_index(settings), ids=batch_ids, source=False)
    return {d["_id"] for d in resp["docs"] if d.get("found")}


def mark_done(es: Elasticsearch, settings: Settings, batch_id: str, counts: dict[str, Any]) -> None:
    es.index(index=batches_index(settings), id=batch_id,
             document={"batch": batch_id, "done_at": datetime.now(UTC).isoformat(), **counts})
