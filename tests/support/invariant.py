"""The fault tests' invariant, and realistic raw batches to break things on.

THE INVARIANT: every archived record (manifest entry) is a document in
Elasticsearch (duplicates flagged, never indexed twice) or a quarantined record
with a reason, and the counts reconcile.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, helpers

from mediamon.core.archive import (
    ManifestError,
    ManifestRecord,
    iter_batches,
    iter_records,
    read_manifest,
    salvage_manifest,
)
from mediamon.core.document import doc_id
from mediamon.core.settings import Settings
from mediamon.devtools.mirror.corpus import load_corpus
from processing.quarantine import iter_quarantined
from processing.store.bulk import DeadLetter, read_deadletter
from tests.support.batches import page, write_batch


@dataclass
class Reconciled:
    records: int
    documents: int
    quarantined: int
    duplicates_flagged: int
    dead_letters: int


def all_documents(es: Elasticsearch, settings: Settings) -> dict[str, dict[str, Any]]:
    es.indices.refresh(index=settings.docs_alias)
    hits = helpers.scan(es, index=settings.docs_alias, query={"query": {"match_all": {}}},
                        _source=["url", "canonical_url", "raw_ref", "is_duplicate", "dup_group"])
    return {h["_id"]: h["_source"] for h in hits}


def archived_entries(batch: Path) -> list[ManifestRecord]:
    """The records a batch holds: its manifest's, plus WARC responses the manifest lacks; for a batch whose
    manifest is unreadable, every record its valid lines or its WARC still name (quarantined whole)."""
    try:
        listed = read_manifest(batch)
    except ManifestError:
        return salvage_manifest(batch)[0]
    return [item.manifest for item in iter_records(batch, listed)]


def check_invariant(es: Elasticsearch, settings: Settings) -> Reconciled:
    """Assert the invariant over the whole archive of ``settings``; returns the reconciled counts."""
    entries = [e.as_json() for batch in iter_batches(settings.data_dir / "archive") for e in archived_entries(batch)]
    docs = all_documents(es, settings)
    quarantined = {(q["raw_ref"]["batch"], q["raw_ref"]["offset"]): q for q in iter_quarantined(settings.data_dir)}
    assert all(q["reason"] and q["detail"] for q in quarantined.values())
    by_url = {d["url"]: i for i, d in docs.items()}
    matched: set[str] = set()
    unaccounted = []
    n_quarantined = 0
    for entry in entries:
        key = (entry["batch"], entry["offset"])
        found = doc_id(entry["canonical_url"]) if doc_id(entry["canonical_url"]) in docs else by_url.get(entry["url"])
        if found is not None and key not in quarantined:
            matched.add(found)
        elif key in quarantined and found is None:
            n_quarantined += 1
        else:
            unaccounted.append((entry["url"], "document and quarantined" if found else "neither"))
    assert not unaccounted, f"records lost or counted twice: {unaccounted[:5]} ({len(unaccounted)})"
    assert set(docs) == matched, f"documents from nowhere: {sorted(set(docs) - matched)[:5]}"
    assert n_quarantined == len(quarantined), "quarantine entries that match no archived record"
    urls = Counter(d["canonical_url"] for d in docs.values())
    assert max(urls.values(), default=1) == 1, "a canonical URL indexed twice"
    flagged = [d for d in docs.values() if d["is_duplicate"]]
    assert all(d["dup_group"] in docs and d["dup_group"] != doc_id(d["canonical_url"]) for d in flagged)
    dead = sum(1 for _ in read_deadletter(DeadLetter(settings.deadletter_dir).files()))
    return Reconciled(len(entries), len(docs), n_quarantined, len(flagged), dead)


def paragraphs() -> list[str]:
    """Every Russian paragraph of the mirror's sample corpus."""
    return [p for items in load_corpus().values() for item in items if item.lang == "ru" for p in item.body]


def story_batches(settings: Settings, n_batches: int, per_batch: int, seed: int = 7, source: str = "tass-ru",
                  broken_every: int = 10, first: int = 900000) -> list[Path]:
    """Committed raw batches of distinct articles; every ``broken_every``-th record is an empty page."""
    rng = random.Random(seed)
    pool = paragraphs()
    out = []
    for b in range(n_batches):
        pages = []
        for i in range(per_batch):
            n = b * per_batch + i
            url = f"https://tass.ru/politika/{first + n}"
            if broken_every and n % broken_every == broken_every - 1:
                pages.append({"url": url, "body": b"<html><body><nav>menu</nav></body></html>"})
                continue
            text = [f"Сообщение {n}: {p}" for p in rng.sample(pool, 5)]
            pages.append({"url": url, "body": page(f"Новость {n}", text, f"2021-11-{1 + n % 28:02d}T10:00:00+03:00"),
                          "fetched_at": datetime(2021, 11, 20, tzinfo=UTC)})
        out.append(write_batch(settings, source, pages))
    return out
