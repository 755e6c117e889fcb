"""Bulk indexing against the real node: idempotent, counted, nothing lost."""

from __future__ import annotations

import json

import pytest

from mediamon.core.esclient import make_client
from processing.store.bulk import DeadLetter, IndexerConfig, IndexingUnavailable, index_documents
from tests.support.documents import make_document


def _count(es, settings):
    es.indices.refresh(index=settings.docs_alias)
    return es.count(index=settings.docs_alias)["count"]


def _versions(es, settings):
    es.indices.refresh(index=settings.docs_alias)
    hits = es.search(index=settings.docs_alias, size=100, version=True, query={"match_all": {}})["hits"]["hits"]
    return {h["_id"]: h["_version"] for h in hits}


def test_id_is_sha256_of_canonical_url(es_admin, es_settings):
    doc = make_document(1)
    index_documents(es_admin, es_settings.docs_alias, [doc], DeadLetter(es_settings.deadletter_dir))
    es_admin.indices.refresh(index=es_settings.docs_alias)
    assert es_admin.exists(index=es_settings.docs_alias, id=doc.id)
    assert len(doc.id) == 64


def test_reindexing_same_documents_keeps_count_and_versions(es_admin, es_settings):
    docs = [make_document(n) for n in range(30)]
    dl = DeadLetter(es_settings.deadletter_dir)
    first = index_documents(es_admin, es_settings.docs_alias, docs, dl)
    assert (first.sent, first.created, first.updated, first.unchanged, first.failed) == (30, 30, 0, 0, 0)
    versions = _versions(es_admin, es_settings)

    changed = docs[:]
    changed[3] = changed[3].model_copy(update={"title": "A changed headline"})
    # a re-fetch with identical content (new fetched_at) is not a change
    changed[4] = changed[4].model_copy(update={"fetched_at": changed[4].fetched_at.replace(year=2022)})
    second = index_documents(es_admin, es_settings.docs_alias, changed, dl)
    assert (second.sent, second.created, second.updated, second.unchanged, second.failed) == (30, 0, 1, 29, 0)
    assert second.adds_up()
    assert _count(es_admin, es_settings) == 30
    after = _versions(es_admin, es_settings)
    bumped = {i for i in after if after[i] != versions[i]}
    assert bumped == {changed[3].id}


def test_a_document_found_live_and_in_an_archive_is_one_document_with_both_provenances(es_admin, es_settings):
    dl = DeadLetter(es_settings.deadletter_dir)
    live = make_document(40).model_copy(update={"provenance": ["live"]})
    index_documents(es_admin, es_settings.docs_alias, [live], dl)
    es_admin.indices.refresh(index=es_settings.docs_alias)  # the indexer looks stored documents up by search
    captured = live.model_copy(update={"provenance": ["wayback"], "fetched_at": live.fetched_at.replace(year=2022)})
    merged = index_documents(es_admin, es_settings.docs_alias, [captured], dl)
    assert (merged.created, merged.updated, merged.unchanged) == (0, 1, 0)  # same text, one more provenance
    es_admin.indices.refresh(index=es_settings.docs_alias)
    again = index_documents(es_admin, es_settings.docs_alias, [live, captured], dl)
    assert again.unchanged == 2  # nothing new: neither overwritten nor repeated
    es_admin.indices.refresh(index=es_settings.docs_alias)
    hits = es_admin.search(index=es_settings.docs_alias, query={"ids": {"values": [live.id]}})["hits"]["hits"]
    assert len(hits) == 1 and hits[0]["_source"]["provenance"] == ["live", "wayback"]


def test_malformed_document_is_dead_lettered_and_rest_indexed(es_admin, es_settings):
    docs = [make_document(n).to_source() for n in range(5)]
    docs[2]["published_at"] = "the eighth of November"  # not a date: mapper_parsing_exception
    docs.append({"title": "no canonical url"})
    dl = DeadLetter(es_settings.deadletter_dir)
    counts = index_documents(es_admin, es_settings.docs_alias, docs, dl)
    assert (counts.sent, counts.created, counts.failed) == (6, 4, 2)
    assert counts.adds_up()
    assert _count(es_admin, es_settings) == 4
    entries = [json.loads(line) for path in dl.files() for line in path.read_text().splitlines()]
    reasons = sorted(e["kind"] for e in entries)
    assert reasons == ["document_parsing_exception", "invalid"] or reasons == ["invalid", "mapper_parsing_exception"]
    bad = next(e for e in entries if e["kind"] != "invalid")
    assert bad["document"]["published_at"] == "the eighth of November"
    assert "published_at" in bad["reason"]


def test_unreachable_elasticsearch_fails_clearly_and_loses_nothing(es_settings, tmp_path):
    down = es_settings.model_copy(update={"es_url": "http://127.0.0.1:9"})  # nothing listens on port 9
    client = make_client(down, max_retries=0, timeout=2)
    docs = [make_document(n) for n in range(7)]
    dl = DeadLetter(tmp_path / "dl")
    config = IndexerConfig(chunk_size=3, max_retries=2, initial_backoff=0.01)
    with pytest.raises(IndexingUnavailable, match="after 2 retries"):
        index_documents(client, down.docs_alias, docs, dl, config)
    resendable = [json.loads(line)["document"] for p in dl.files() for line in p.read_text().splitlines()]
    assert sorted(d["canonical_url"] for d in resendable) == sorted(d.canonical_url for d in docs)


def test_dead_letters_can_be_replayed(es_admin, es_settings):
    from processing.store.replay import replay_deadletters

    dl = DeadLetter(es_settings.deadletter_dir)
    dl.write([{"kind": "unavailable", "reason": "test", "document": make_document(n).to_source()} for n in range(3)])
    counts = replay_deadletters(es_admin, es_settings)
    assert (counts.sent, counts.created, counts.failed) == (3, 3, 0)
    assert dl.files() == []
    assert _count(es_admin, es_settings) == 3
