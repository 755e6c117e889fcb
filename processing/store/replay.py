"""Replay dead-lettered documents into Elasticsearch.

Each dead-letter file is renamed before it is read, so a replay that dies half
way leaves its input in a ``.replaying`` file that the next replay picks up;
what Elasticsearch rejects again is written to a fresh dead-letter file.
"""

from __future__ import annotations

from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from processing.store.bulk import DeadLetter, IndexCounts, index_documents, read_deadletter


def replay_deadletters(es: Elasticsearch, settings: Settings) -> IndexCounts:
    deadletter = DeadLetter(settings.deadletter_dir)
    for path in deadletter.files():
        path.rename(path.with_suffix(".replaying"))
    replaying = sorted(settings.deadletter_dir.glob("index-*.replaying"))
    if not replaying:
        return IndexCounts()
    documents = (entry["document"] for entry in read_deadletter(replaying) if entry.get("document"))
    counts = index_documents(es, settings.docs_alias, documents, deadletter)
    for path in replaying:
        path.unlink()
    return counts
