"""Bulk indexing throughput: mediamon's indexer vs bare `elasticsearch.helpers.bulk`, same node, same run.

Goal (issue 2): ratio >= 0.9, and indexer memory flat in the number of documents
(peak traced allocation at N vs N/5 documents stays about the same).
"""

from __future__ import annotations

import time
import tracemalloc
import uuid
from collections.abc import Iterator

from elasticsearch import helpers

from mediamon.core.document import doc_id
from mediamon.core.esclient import make_client
from mediamon.core.settings import load_settings
from processing.store.bulk import DeadLetter, index_documents
from processing.store.indexsetup import setup
from tests.support.documents import make_document
from tests.support.es import drop_prefix

N_DOCS = 50_000


def _sources(n: int, offset: int = 0) -> Iterator[dict]:
    # realistic size: ~6 paragraphs of text plus lemmas, ~4-5 KB per document
    for i in range(offset, offset + n):
        yield make_document(i, lemmas="").to_source() | {"lemmas": "лавров заявить минск мигрант " * 60}


def _fresh(settings, es):
    prefixed = settings.model_copy(update={"index_prefix": f"bench{uuid.uuid4().hex[:8]}"})
    setup(es, prefixed, with_roles=False)
    return prefixed


def run(report: dict, n_docs: int = N_DOCS) -> None:
    settings = load_settings()
    es = make_client(settings, timeout=120)
    base, ours = _fresh(settings, es), _fresh(settings, es)
    try:
        started = time.perf_counter()
        ok, _ = helpers.bulk(es, ({"_index": base.docs_alias, "_id": doc_id(s["canonical_url"]), "_source": s}
                                  for s in _sources(n_docs)), chunk_size=500)
        bare_rate = ok / (time.perf_counter() - started)

        dead = DeadLetter(ours.deadletter_dir)
        started = time.perf_counter()
        counts = index_documents(es, ours.docs_alias, _sources(n_docs), dead)
        ours_rate = counts.sent / (time.perf_counter() - started)
        assert counts.failed == 0 and counts.created == n_docs

        # memory in a separate pass (tracing slows Python down): re-indexing is all "unchanged"
        tracemalloc.start()
        index_documents(es, ours.docs_alias, _sources(n_docs // 5), dead)
        _, peak_small = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        index_documents(es, ours.docs_alias, _sources(n_docs), dead)
        _, peak_large = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        drop_prefix(es, base.index_prefix)
        drop_prefix(es, ours.index_prefix)
    report["index"] = {
        "what": f"bulk indexing {n_docs} documents (~5 KB each): mediamon indexer vs bare helpers.bulk",
        "baseline_docs_per_s": round(bare_rate, 1),
        "mediamon_docs_per_s": round(ours_rate, 1),
        "ratio": round(ours_rate / bare_rate, 3),
        "goal": "ratio >= 0.9",
        "peak_traced_mb_at_n/5": round(peak_small / 2**20, 1),
        "peak_traced_mb_at_n": round(peak_large / 2**20, 1),
        "memory_growth": round(peak_large / max(peak_small, 1), 2),
        "memory_goal": "growth ~1.0 (flat) for 5x the documents",
    }


if __name__ == "__main__":
    import json

    out: dict = {}
    run(out, n_docs=5_000)
    print(json.dumps(out, indent=2))
