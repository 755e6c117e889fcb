"""Mirror crawl -> process -> the real Elasticsearch holds what the sample corpus's `expect` blocks say.

The crawl is the real crawler (`python -m crawlers`, a subprocess as Airflow
runs it) against the real MirrorServer on 127.0.0.1; processing is
``process_pending`` with its process pool; the index is the local ES node.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import UTC
from pathlib import Path

import pytest
import yaml

from mediamon.core.archive import iter_batches, read_manifest
from mediamon.devtools.mirror.corpus import CorpusItem, load_corpus
from mediamon.devtools.mirror.server import MirrorServer
from processing.enrich import ALARMIST_THRESHOLD
from processing.runner import process_pending
from tests.support.crawl import FAST
from tests.support.paths import CONFIG, REPO


def crawl(mirror: MirrorServer, settings, tmp_path: Path) -> dict:
    """One crawl of every source into settings.data_dir, without politeness delays (local server)."""
    sources = yaml.safe_load((CONFIG / "sources.yaml").read_text(encoding="utf-8"))
    for source in sources["sources"]:
        source.setdefault("politeness", {})["download_delay"] = 0
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "MEDIAMON_URL_REWRITE": mirror.url_rewrite(), "MEDIAMON_DATA_DIR": str(settings.data_dir)}
    settle = f"MEDIAMON_RENDER_SETTLE_S={FAST['MEDIAMON_RENDER_SETTLE_S']}"  # the fault mirror's challenge never passes
    done = subprocess.run([sys.executable, "-m", "crawlers", "--sources", str(sources_file), "--json", "--set", settle],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def all_documents(es, settings) -> list[dict]:
    es.indices.refresh(index=settings.docs_alias)
    hits = es.search(index=settings.docs_alias, size=1000, source_excludes=["lemmas", "minhash", "text"])
    # in id order: hits that tie on score come in index order, which a background segment merge may change
    return sorted(({"_id": h["_id"], **h["_source"]} for h in hits["hits"]["hits"]), key=lambda d: d["_id"])


def document_of(item: CorpusItem, docs: list[dict]) -> dict:
    found = [d for d in docs if d["source"] == item.source
             and re.search(rf"(?<!\d){item.article_id}(?!\d)", d["url"])]
    assert len(found) == 1, (item.id, [d["url"] for d in found])
    return found[0]


def expected_roots(corpus: dict[str, CorpusItem]) -> dict[str, str]:
    """Item id -> the earliest item of its reprint group (expect.near_duplicate_of, transitively)."""
    members: dict[str, list[str]] = defaultdict(list)

    def root(key: str) -> str:
        while corpus[key].expect.get("near_duplicate_of"):
            key = corpus[key].expect["near_duplicate_of"]
        return key

    for key in corpus:
        members[root(key)].append(key)
    return {k: min(group, key=lambda m: (corpus[m].published, m)) for group in members.values() for k in group}


@pytest.fixture
def settings(es_settings):
    return es_settings.model_copy(update={"config_dir": CONFIG})


def test_mirror_crawl_to_index_matches_the_corpus(settings, es_admin, tmp_path):
    with MirrorServer(faults=False) as mirror:
        crawl_report = crawl(mirror, settings, tmp_path)
    archived = sum(len(read_manifest(b)) for b in iter_batches(settings.data_dir / "archive"))
    assert archived == crawl_report["archived"] > 0
    report = process_pending(settings, es_admin, workers=2, progress=False)
    assert report.adds_up() and report.records_in == archived and not report.quarantined
    docs = all_documents(es_admin, settings)
    assert len(docs) == report.created == archived

    corpus = {i.id: i for items in load_corpus().values() for i in items}
    roots = expected_roots(corpus)
    by_item = {key: document_of(item, docs) for key, item in corpus.items()}
    tp = fp = fn = alarm_right = 0
    for key, item in corpus.items():
        doc, expect = by_item[key], item.expect
        assert doc["lang"] == item.lang, key
        assert sorted(doc.get("speakers", [])) == sorted(expect["speakers"]), key
        assert doc["dup_group"] == by_item[roots[key]]["_id"], key
        assert doc["is_duplicate"] == (roots[key] != key), key
        if expect.get("translation_of"):
            other = by_item[expect["translation_of"]]
            assert doc["translation_group"] and doc["translation_group"] == other["translation_group"], key
        assert doc["published_at"] == item.published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), key
        if item.source != "telegram-mfarussia":  # posts have no headline: the first line stands in
            assert doc["title"] == item.title, key
        found, wanted = set(doc.get("narratives", [])), set(expect["narratives"])
        tp, fp, fn = tp + len(found & wanted), fp + len(found - wanted), fn + len(wanted - found)
        alarm_right += (doc["alarmism"] >= ALARMIST_THRESHOLD) == expect["alarmist"]
    # Narrative labels are an analyst's judgement; the lemma rules must agree on the large majority.
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    assert alarm_right / len(corpus) >= 0.9

    again = process_pending(settings, es_admin, workers=2, progress=False)
    assert (again.records_in, again.batches_done) == (0, 0)
    assert all_documents(es_admin, settings) == docs


def test_faulty_mirror_counts_reconcile(settings, es_admin, tmp_path):
    """Retries, redirects, other encodings, duplicate links: every archived record is accounted for."""
    with MirrorServer(faults=True) as mirror:
        crawl(mirror, settings, tmp_path)
        expected = {e.url: e for e in mirror.expected}
    records = [m for b in iter_batches(settings.data_dir / "archive") for m in read_manifest(b)]
    report = process_pending(settings, es_admin, workers=2, progress=False)
    assert report.adds_up() and report.records_in == len(records)
    docs = {d["url"]: d for d in all_documents(es_admin, settings)}
    for url, article in expected.items():
        if article.outcome == "archived" and article.encoding and article.encoding != "utf-8":
            doc = docs[url]
            assert doc["lang"] == "ru" and "\ufffd" not in (doc["title"] + doc.get("lead", "")), url
