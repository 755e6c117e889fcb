"""Revisits against the mirror's changing pages: a decaying schedule, conditional requests, the answers archived
as they came (304 / same bytes as WARC revisit records, a new version, 404, redirect), counts that add up."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawlers.revisit import QUEUE_FILE
from mediamon.core.archive import ArchivedRecord, iter_batches, iter_records, read_manifest
from mediamon.devtools.mirror import changing
from mediamon.devtools.mirror.server import MirrorServer
from tests.support.changing import FIRST_CRAWL, FIRST_REVISIT, SECOND_REVISIT, changing_sources, crawl_at

pytestmark = pytest.mark.slow


def _entries(data_dir: Path) -> list:
    return [e for b in iter_batches(data_dir / "archive") for e in read_manifest(b)]


def test_revisit_cycle_records_each_answer_as_it_came(tmp_path: Path) -> None:
    sources = changing_sources(tmp_path)
    with MirrorServer(clock=FIRST_CRAWL) as mirror:
        code, report, err = crawl_at(mirror, tmp_path, sources, FIRST_CRAWL)
        assert code == 0, err
        stats = report["sources"]["tass-ru"]
        assert stats["archived"] == len(changing.SCENARIOS) and stats["revisits"].get("due", 0) == 0
        queue = json.loads((tmp_path / "crawl-state" / "tass-ru" / QUEUE_FILE).read_text())
        assert sorted(e["url"] for e in queue) == sorted(s.url for s in changing.SCENARIOS)

        # +1h05: every page is due once; nothing is fetched before its time
        code, report, err = crawl_at(mirror, tmp_path, sources, FIRST_REVISIT)
        assert code == 0, err
        stats = report["sources"]["tass-ru"]
        assert stats["adds_up"], stats
        assert stats["archived"] == 0  # no new article: the feed lists only what was seen
        assert stats["revisits"] == {"due": 11, "sent": 11, "changed": 5, "not_modified": 4, "gone": 1,
                                     "redirected": 1}
        revisit_requests = [r for r in mirror.requests if r.path.startswith(f"/{changing.SECTION}/")]
        assert all(r.if_none_match for r in revisit_requests[-11:])  # conditional, with the archived ETag
        records = {e.url: e for e in _entries(tmp_path) if e.revisit}
        by_name = {s.name: records[s.url] for s in changing.SCENARIOS}
        assert by_name["unchanged"].warc_type == "revisit" and by_name["unchanged"].status == 304
        assert by_name["deleted"].status == 404 and by_name["deleted"].warc_type == "response"
        assert by_name["redirected"].status == 301
        # dropped from the feed, the news sitemap or the list page while young (older items still listed there):
        # the evidence rides on its revisit
        for name, page, via in (("unlisted", changing.FEED_URL, "feed"), ("unmapped", changing.SITEMAP_URL, "sitemap"),
                                ("delisted", changing.LIST_URL, "list")):
            assert (by_name[name].vanished_from, by_name[name].vanished_via, by_name[name].status) == (page, via, 304)
        # (the 404, 301 and soft-404 pages left the feed too: their answer is the better evidence, see processing)
        assert all(by_name[s.name].vanished_from is None for s in changing.SCENARIOS if "deleted" not in s.expect)
        assert by_name["headline"].revisit_of and by_name["headline"].revisit_of != by_name["headline"].sha256
        # every record, revisit records included, reads back from the WARC intact
        for batch in iter_batches(tmp_path / "archive"):
            assert all(isinstance(r, ArchivedRecord) for r in iter_records(batch)), batch

        # +6h05: the +6h step of every page, gone ones too (a restored page would be seen); nothing new: the same
        # 404 and redirect again, and the soft-404 page, which sends no validators, the same bytes
        code, report, err = crawl_at(mirror, tmp_path, sources, SECOND_REVISIT)
        assert code == 0, err
        assert report["sources"]["tass-ru"]["revisits"] == {"due": 11, "sent": 11, "not_modified": 8, "gone": 1,
                                                            "redirected": 1, "same_bytes": 1}
        repeated = {e.url: e for e in _entries(tmp_path) if e.revisit and e.batch not in {r.batch for r in
                                                                                          records.values()}}
        assert repeated[changing.SCENARIO_URLS["deleted"]].warc_type == "revisit"  # the same 404: not stored again


def test_per_run_cap_defers_and_counts(tmp_path: Path) -> None:
    sources = changing_sources(tmp_path)
    with MirrorServer(clock=FIRST_CRAWL) as mirror:
        assert crawl_at(mirror, tmp_path, sources, FIRST_CRAWL)[0] == 0
        patched = sources.read_text().replace("id: tass-ru", "id: tass-ru\n  revisits: {max_per_run: 3}")
        sources.write_text(patched)
        code, report, err = crawl_at(mirror, tmp_path, sources, FIRST_REVISIT)
        assert code == 0, err
        revisits = report["sources"]["tass-ru"]["revisits"]
        assert revisits["due"] == 11 and revisits["sent"] == 3 and revisits["deferred"] == 8
        assert report["sources"]["tass-ru"]["adds_up"]
        # the deferred ones are still due: the next run sends the next three
        code, report, _ = crawl_at(mirror, tmp_path, sources, FIRST_REVISIT)
        assert report["sources"]["tass-ru"]["revisits"]["due"] == 8


def test_articles_archived_before_revisits_are_queued_once(tmp_path: Path) -> None:
    """Revisits turned on for a source that has an archive: its articles still inside the schedule join the
    queue once (counted ``seeded``), asked at the steps counted from when they were archived; older ones not."""
    sources = changing_sources(tmp_path)
    enabled = sources.read_text()
    now = datetime.now(UTC)
    with MirrorServer(clock=FIRST_CRAWL) as mirror:
        for name, revisit_clock in (("late", now + timedelta(days=15)), ("soon", now + timedelta(hours=1, minutes=5))):
            data_dir = tmp_path / name
            sources.write_text(enabled.replace("id: tass-ru", "id: tass-ru\n  revisits: {enabled: false}"))
            code, report, err = crawl_at(mirror, data_dir, sources, FIRST_CRAWL)
            assert code == 0 and report["sources"]["tass-ru"]["archived"] == len(changing.SCENARIOS), err
            assert json.loads((data_dir / "crawl-state" / "tass-ru" / QUEUE_FILE).read_text()) == []
            sources.write_text(enabled)
            # the archive's times are the real clock's: the schedule's clock is set beside it
            code, report, err = crawl_at(mirror, data_dir, sources, FIRST_REVISIT,
                                         MEDIAMON_REVISIT_NOW=revisit_clock.isoformat())
            assert code == 0 and report["sources"]["tass-ru"]["adds_up"], err
            stats = report["sources"]["tass-ru"]
            if name == "late":  # past the last step (+14 d): nothing left to ask
                assert stats["revisits"].get("due", 0) == 0 and "seeded" not in stats["revisit_queue"]
                continue
            assert stats["revisit_queue"]["seeded"] == len(changing.SCENARIOS)
            # no validators were kept before the queue existed: whole answers, the unchanged ones the same bytes
            assert stats["revisits"] == {"due": 11, "sent": 11, "changed": 5, "same_bytes": 4, "gone": 1,
                                         "redirected": 1}
            code, report, err = crawl_at(mirror, data_dir, sources, FIRST_REVISIT,
                                         MEDIAMON_REVISIT_NOW=revisit_clock.isoformat())
            assert code == 0, err  # seeded once: nothing added, nothing due again at the same time
            assert "seeded" not in report["sources"]["tass-ru"]["revisit_queue"]
            assert report["sources"]["tass-ru"]["revisits"].get("due", 0) == 0
