"""Crawl -> revisit -> process -> versions index, on the mirror's changing pages and the real node.

Exactly the substantive changes and the deletions become versions (the cosmetic
and the untouched page do not); every version reads back from the archive; a
revisit crawled again after a crash, and a batch processed again, repeat nothing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from crawlers.revisit import QUEUE_FILE
from mediamon.cli.main import main
from mediamon.core.archive import read_manifest, read_record
from mediamon.core.document import doc_id
from mediamon.core.settings import Settings
from mediamon.devtools.mirror import changing
from mediamon.devtools.mirror.server import MirrorServer
from processing.alerts.engine import run_alerts
from processing.changes.versions import versions_index
from processing.reports.digest import write_report
from processing.runner import process_pending, reprocess
from tests.support.alerting import config, fired
from tests.support.changing import (
    FIRST_CRAWL,
    FIRST_REVISIT,
    SECOND_REVISIT,
    THIRD_REVISIT,
    changing_sources,
    crawl_at,
)

pytestmark = pytest.mark.slow
SCENARIO = {s.name: s for s in changing.SCENARIOS}
GONE = [s.name for s in changing.SCENARIOS if s.expect.startswith("deleted:")]
RULES = config({"id": "edits", "type": "edited", "sources": ["tass-ru"]},
               {"id": "figures", "type": "edited", "classes": ["number_changed"], "min_score": 0.5},
               {"id": "removals", "type": "deleted"})


def alerts(settings: Settings, es: Elasticsearch) -> Any:
    report = run_alerts(settings, es=es, config=RULES)
    assert report.adds_up() and not report.errors, report
    return report


def versions_of(es: Elasticsearch, settings: Settings) -> dict[str, list[dict[str, Any]]]:
    es.indices.refresh(index=versions_index(settings))
    hits = es.search(index=versions_index(settings), size=100, sort=[{"version": "asc"}])["hits"]["hits"]
    by_name = {doc_id(s.url): s.name for s in changing.SCENARIOS}
    out: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        out.setdefault(by_name[hit["_source"]["doc_id"]], []).append({**hit["_source"], "_id": hit["_id"]})
    return out


def crawl_and_process(mirror: MirrorServer, settings: Settings, es: Elasticsearch, sources: Path, at) -> Any:
    code, report, err = crawl_at(mirror, settings.data_dir, sources, at)
    assert code == 0 and report["adds_up"], err
    processed = process_pending(settings, es=es, workers=1, progress=False)
    assert processed.adds_up(), processed.as_dict()
    return processed


def test_substantive_changes_and_deletions_become_versions(es_settings: Settings, es_admin: Elasticsearch,
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = changing_sources(tmp_path)
    settings = es_settings.model_copy(update={"sources_file": sources})
    with MirrorServer(clock=FIRST_CRAWL) as mirror:
        first = crawl_and_process(mirror, settings, es_admin, sources, FIRST_CRAWL)
        assert first.created == len(changing.SCENARIOS) and versions_of(es_admin, settings) == {}
        assert alerts(settings, es_admin).candidates == 0  # a first fetch is no change

        state = settings.data_dir / "crawl-state" / "tass-ru"
        queue_before = (state / QUEUE_FILE).read_bytes()
        second = crawl_and_process(mirror, settings, es_admin, sources, FIRST_REVISIT)
        assert second.revisit_answers == 7 and second.deletions == 6  # 304 x4, 404, 301, soft-404
        assert second.versions_new == 3 and second.versions_cosmetic == 1
        versions = versions_of(es_admin, settings)
        assert sorted(versions) == sorted(["headline", "number", "paragraph", *GONE])
        for name in ("headline", "number", "paragraph"):
            v1, v2 = versions[name]
            assert (v1["version"], v2["version"]) == (1, 2) and v2["changed_from"] == 1
            assert SCENARIO[name].expect in v2["change_classes"], v2
            assert 0 < v2["change_score"] <= 1 and v2["diff"]
        assert "quote_removed" in versions["paragraph"][1]["change_classes"]
        assert versions["headline"][1]["change_classes"] == ["headline_changed"]
        for name in GONE:
            v1, gone = versions[name]
            assert gone["deleted"] and gone["last_good_version"] == 1
            assert f"deleted:{gone['deletion']['how']}" == SCENARIO[name].expect
        assert versions["redirected"][1]["deletion"]["location"] == changing.SECTION_URL
        docs = {hit["_source"]["url"]: hit["_source"] for hit in es_admin.search(
            index=settings.docs_alias, size=50)["hits"]["hits"]}
        headline = docs[SCENARIO["headline"].url]
        assert headline["versions"] == 2 and headline["last_changed_at"]
        assert headline["title"].startswith("Лукашенко допустил")  # the document shows the latest version
        assert docs[SCENARIO["cosmetic"].url]["versions"] == 1 and "last_changed_at" not in docs[
            SCENARIO["cosmetic"].url]
        # the documents of the gone pages say so (an analyst filtering documents sees it); the others do not
        gone_docs = {name: docs[SCENARIO[name].url] for name in GONE}
        assert {n: f"deleted:{d['deletion_how']}" for n, d in gone_docs.items()} == {
            n: SCENARIO[n].expect for n in GONE}
        assert all(d["deleted_at"] == versions[n][1]["fetched_at"] and d["versions"] == 2
                   for n, d in gone_docs.items())
        assert not any("deleted_at" in d or "deletion_how" in d for url, d in docs.items()
                       if url not in {SCENARIO[n].url for n in GONE})

        # every version reads back from the archive, byte for byte what was fetched then
        for name, kept in versions.items():
            for version in kept:
                record = version["record"]
                batch = next(settings.data_dir.glob(f"archive/*/*/*/{record['batch']}"))
                entry = next(e for e in read_manifest(batch) if e.offset == record["offset"])
                read = read_record(batch, entry)
                assert entry.canonical_url == SCENARIO[name].url
                if version.get("deleted"):
                    assert entry.status == record["status"]
                else:
                    assert hashlib.sha256(read.body).hexdigest() == record["sha256"] == entry.sha256

        # exactly the substantive changes and the deletions alert; the cosmetic and the untouched page do not
        report = alerts(settings, es_admin)
        assert report.fired == 10 and report.delivered == 10
        by_rule = {rule: sorted(a["documents"][0]["url"] for a in fired(es_admin, settings, rule))
                   for rule in ("edits", "figures", "removals")}
        assert by_rule == {"edits": sorted(SCENARIO[n].url for n in ("headline", "number", "paragraph")),
                           "figures": [SCENARIO["number"].url],
                           "removals": sorted(SCENARIO[n].url for n in GONE)}
        messages = [json.loads(line) for line in (settings.data_dir / "alerts.jsonl").read_text().splitlines()]
        headline_message = next(m["text"] for m in messages if "headline changed" in m["subject"])
        assert "- title: Лукашенко пригрозил" in headline_message and "+ title: Лукашенко допустил" in \
            headline_message
        figures = next(m["text"] for m in messages if m["subject"].startswith("[mediamon] figures"))
        assert "Около 2000 мигрантов" in figures and "Около 4000 мигрантов" in figures
        texts = "\n".join(m["text"] for m in messages)
        assert "- page answers 404 Not Found" in texts
        assert f"- page redirects to a section page ({changing.SECTION_URL})" in texts

        # the digest's "changed or removed" section lists them, and not the cosmetic change
        html = write_report(settings, es_admin, datetime.now(UTC) - timedelta(days=1), tmp_path / "report").path \
            .read_text()
        section = html[html.index('id="changes"'):html.index("<h2>Alerts</h2>")]
        assert section.count("<tr>") == 1 + 9 and "(cosmetic)" not in section and "(unchanged)" not in section
        assert "removed</b>: redirect to section" in section and "number changed" in section

        # a crash after the revisit batch was committed, before the queue moved: the revisits are sent again
        (state / QUEUE_FILE).write_bytes(queue_before)
        again = crawl_and_process(mirror, settings, es_admin, sources, FIRST_REVISIT)
        # 404, 301 and soft-404 seen again (feed, sitemap and list answered 304 this time: no listing to miss the
        # vanished ones in)
        assert again.versions_new == 0 and again.deletions == 3
        assert versions_of(es_admin, settings) == versions

        # processing every batch again (a crash before the ledger mark, or mediamon reprocess) repeats nothing
        redone = reprocess(settings, es=es_admin, workers=1, progress=False)
        assert redone.adds_up() and redone.versions_new == 0
        assert versions_of(es_admin, settings) == versions
        docs_after = {hit["_source"]["url"]: hit["_source"] for hit in es_admin.search(
            index=settings.docs_alias, size=50)["hits"]["hits"]}
        assert docs_after[SCENARIO["headline"].url]["title"] == headline["title"]  # still the latest version

        third = crawl_and_process(mirror, settings, es_admin, sources, SECOND_REVISIT)
        assert third.versions_new == 0 and third.deletions == 0  # the same 404, 301, soft-404 bytes: revisit records
        assert versions_of(es_admin, settings) == versions
        assert alerts(settings, es_admin).fired == 0

        # +24h05: the deleted page is back as it was: a new version (restored), the document no longer gone
        fourth = crawl_and_process(mirror, settings, es_admin, sources, THIRD_REVISIT)
        assert fourth.versions_new == 1 and fourth.deletions == 0
        restored = versions_of(es_admin, settings)["deleted"]
        assert [v["version"] for v in restored] == [1, 2, 3] and restored[2]["change_classes"] == ["restored"]
        assert not restored[2]["deleted"] and restored[2]["changed_from"] == 1
        assert restored[2]["text_hash"] == restored[0]["text_hash"]  # the same statement, put back
        back = es_admin.search(index=settings.docs_alias, query={"term": {"url": SCENARIO["deleted"].url}})[
            "hits"]["hits"][0]["_source"]
        assert back["versions"] == 3 and "deleted_at" not in back and "deletion_how" not in back
        # alerts: a restore is a new version, not a deletion: any `edited` rule without classes (or listing
        # `restored`) fires, whatever its min_score allows (an unchanged text scores 0); `deleted` rules do not
        report = alerts(settings, es_admin)
        assert report.fired == 1 and restored[2]["change_score"] == 0.0
        assert sorted(a["documents"][0]["url"] for a in fired(es_admin, settings, "edits")) == sorted(
            SCENARIO[n].url for n in ("headline", "number", "paragraph", "deleted"))

    # `mediamon history URL|ID`: the versions and their diffs, for people and as JSON lines
    for name, value in (("INDEX_PREFIX", settings.index_prefix), ("DATA_DIR", str(settings.data_dir)),
                        ("LOCAL_ES_DIR", str(settings.local_es_dir)), ("SOURCES_FILE", str(sources))):
        monkeypatch.setenv(f"MEDIAMON_{name}", value)
    lines = [json.loads(x) for x in invoke("history", SCENARIO["number"].url, "--json").output.splitlines()]
    assert [v["version"] for v in lines] == [1, 2] and "number_changed" in lines[1]["change_classes"]
    assert any(d.startswith("+ ") and "4000" in d for d in lines[1]["diff"]) and "text" not in lines[1]
    shown = invoke("history", doc_id(SCENARIO["redirected"].url))
    assert shown.exit_code == 0 and "version 2" in shown.output and "deleted (redirect_to_section)" in shown.output
    unchanged = invoke("history", SCENARIO["cosmetic"].url)
    assert "1 version" in unchanged.output
    missing = invoke("history", "https://tass.ru/politika/1")
    assert missing.exit_code == 1 and "no article" in missing.output


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))

