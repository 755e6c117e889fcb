"""Replay dead-lettered documents into Elasticsearch.

Each dead-letter file is renamed before it is read, so a replay that dies half
way leaves its input in a ``.replaying`` file that the next replay picks up;
what Elasticsearch rejects again is written to a fresh dead-letter file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.document import doc_id
from mediamon.core.settings import Settings
from processing.store.bulk import DeadLetter, IndexCounts, index_documents, read_deadletter
from processing.stories import storyindex

CHUNK = 500


def replay_deadletters(es: Elasticsearch, settings: Settings) -> IndexCounts:
    deadletter = DeadLetter(settings.deadletter_dir)
    for path in deadletter.files():
        path.rename(path.with_suffix(".replaying"))
    replaying = sorted(settings.deadletter_dir.glob("index-*.replaying"))
    if not replaying:
        return IndexCounts()
    documents = (entry["document"] for entry in read_deadletter(replaying) if entry.get("document"))
    counts = index_documents(es, settings.docs_alias, _in_current_stories(es, settings, documents), deadletter)
    for path in replaying:
        path.unlink()
    return counts


def _in_current_stories(es: Elasticsearch, settings: Settings,
                        documents: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The documents, each with the story it is in now.

    A dead letter holds the story id its document had when indexing failed; later batches may have renamed
    or merged that story (re-labelling the indexed copy), and replaying the old id would undo it. The
    stories index says where each report is now.
    """
    stories = es.indices.exists(index=storyindex.stories_index(settings))
    iterator = iter(documents)
    while chunk := list(islice(iterator, CHUNK)):
        if stories:
            ids = [doc_id(url) if isinstance(url := d.get("canonical_url"), str) else None for d in chunk]
            now = storyindex.stories_of(es, settings, sorted({i for i in ids if i}))
            for document, id_ in zip(chunk, ids, strict=True):
                if id_ in now:
                    document["story_id"] = now[id_].story_id
        yield from chunk
