"""`python -m crawlers.backfill` against the mirror: sitemaps, list pages, the Wayback Machine and Common Crawl.

The mirror's archives (mediamon/devtools/mirror/webarchives.py) hold every
article it serves, some twice, plus articles the live sites no longer have and
a page a live site hides behind a JavaScript challenge; its ``expected_backfill``
is the oracle. Faults are on (resets, 429/503 once, a challenge page, a 404).
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mediamon.devtools.mirror.server import MirrorServer
from tests.support.crawl import archived_entries, kill_after_batches, run_crawl

SINCE, UNTIL = date(2021, 11, 1), date(2021, 11, 30)
SOURCES = ["ria-ru", "tass-en", "mid-ru", "kremlin-ru", "belta-ru", "rt-en", "rt-ru"]
ARCHIVES_FAST = {"MEDIAMON_ARCHIVE_DOWNLOAD_DELAY": 0}


def backfill(mirror: MirrorServer, data_dir: Path, sources: list[str], since: date = SINCE, until: date = UNTIL,
             paths: tuple[str, ...] = (), settings: dict[str, Any] | None = None) -> dict[str, Any]:
    args = ["--since", f"{since}", "--until", f"{until}"]
    args += [a for s in sources for a in ("--source", s)] + [a for p in paths for a in ("--path", p)]
    rc, report, stderr = run_crawl(mirror, data_dir, *args, settings={**ARCHIVES_FAST, **(settings or {})},
                                   module="crawlers.backfill")
    assert rc == 0, stderr[-3000:]
    return report


def requests_since(mirror: MirrorServer, mark: int) -> list[Any]:
    return [r for r in mirror.requests[mark:] if r.path != "/robots.txt"]


@pytest.fixture(scope="module")
def november(mirror: MirrorServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], int]:
    data_dir = tmp_path_factory.mktemp("backfill")
    mark = len(mirror.requests)
    return data_dir, backfill(mirror, data_dir, SOURCES), mark


def test_finds_exactly_the_articles_of_the_range_once_each(mirror: MirrorServer, november) -> None:
    data_dir, report, _ = november
    archived = Counter(e["url"] for e in archived_entries(data_dir))
    assert set(archived) == mirror.archives.expected_backfill(SOURCES, SINCE, UNTIL)
    assert set(archived.values()) == {1}
    assert report["adds_up"] and report["archived"] == len(archived)
    paths = {(s, p): counts for s, r in report["sources"].items() for p, counts in r["paths"].items()}
    for counts in paths.values():  # found = out of range + held + other path + fetched + failed, per path
        assert counts["found"] == (counts["out_of_range"] + counts["already_held"] + counts["claimed_elsewhere"]
                                   + counts["fetched"] + sum(counts["failed"].values()))
    # every path contributed: live sitemaps and lists first, then what only the archives still hold
    assert paths[("ria-ru", "sitemap")]["fetched"] and paths[("kremlin-ru", "list")]["fetched"]
    assert paths[("rt-ru", "wayback")]["fetched"] and paths[("rt-ru", "commoncrawl")]["fetched"]


def test_each_record_says_where_its_bytes_came_from(november) -> None:
    data_dir, _, _ = november
    entries = archived_entries(data_dir)
    by_provenance = Counter(e["provenance"] for e in entries)
    assert set(by_provenance) == {"live", "wayback", "commoncrawl"}
    for e in entries:
        if e["provenance"] == "wayback":  # raw mode: the capture's own bytes, no Wayback banner
            stamp = e["captured_at"][:19].replace("-", "").replace(":", "").replace("T", "")
            recorded = {e["url"], "http://" + e["url"].removeprefix("https://")}  # as the Wayback Machine has it
            assert e["archive_url"] in {f"https://web.archive.org/web/{stamp}id_/{url}" for url in recorded}
        elif e["provenance"] == "commoncrawl":
            assert e["archive_url"].startswith("https://data.commoncrawl.org/crawl-data/CC-MAIN-2021-49/")
            assert e["archive_range"].startswith("bytes=") and e["captured_at"] >= "2021-11-26"
        else:
            assert "archive_url" not in e and "captured_at" not in e
        assert e["url"] == e["canonical_url"]  # the original URL, never the archive's: one document id


def test_an_http_capture_of_an_https_article_is_that_article(mirror: MirrorServer, november) -> None:
    """The Wayback Machine recorded some https articles as http://: matched by the source's https patterns
    after swapping the scheme, archived under the live URL (one document id), fetched from the capture."""
    data_dir, report, _ = november
    http_only = {c.article_url for c in mirror.archives.captures
                 if c.article_url and c.source in SOURCES and SINCE <= c.article_day <= UNTIL}
    entries = {e["url"]: e for e in archived_entries(data_dir)}
    assert http_only and http_only <= set(entries)
    from_http = [e for e in entries.values() if "id_/http://" in e.get("archive_url", "")]
    assert from_http and all(e["url"].startswith("https://") and e["url"] == e["canonical_url"] for e in from_http)
    assert report["sources"]["rt-ru"]["paths"]["wayback"]["skipped_links"] == 1  # its front page, no article


def test_a_page_the_live_site_hides_behind_a_challenge_comes_from_the_archive(mirror: MirrorServer,
                                                                              november) -> None:
    data_dir, report, _ = november
    challenged = [a.url for a in mirror.expected if a.source == "mid-ru" and a.outcome == "blocked:js_challenge"]
    assert report["sources"]["mid-ru"]["paths"]["list"]["failed"] == {"js_challenge": 1}
    [entry] = [e for e in archived_entries(data_dir) if e["url"] in challenged]
    assert entry["provenance"] == "wayback"


def test_articles_outside_the_range_are_ruled_out_by_url_or_page_date(mirror: MirrorServer, november) -> None:
    _, report, mark = november
    fetched = {r.path for r in mirror.requests[mark:] if r.host == "web.archive.org" and "id_/" in r.path}
    # RIA puts the day in its URLs: its October and December captures are never fetched
    assert not any("/ria.ru/20211030/" in p or "/ria.ru/20211203/" in p for p in fetched)
    # TASS does not: the captures are fetched, and their pages' dates rule them out
    assert any("tass.com/" in p and "/980003" in p for p in fetched)
    assert any("tass.com/" in p and "/980004" in p for p in fetched)
    assert report["sources"]["tass-en"]["paths"]["wayback"]["out_of_range"] == 2
    # Common Crawl: only the crawl that ran in the capture window is asked
    index_queries = {r.path.split("?")[0] for r in requests_since(mirror, mark) if r.host == "index.commoncrawl.org"}
    assert index_queries == {"/collinfo.json", "/CC-MAIN-2021-49-index"}


def test_a_second_backfill_of_the_range_fetches_nothing(mirror: MirrorServer, november) -> None:
    data_dir, first, _ = november
    mark = len(mirror.requests)
    again = backfill(mirror, data_dir, SOURCES)
    assert requests_since(mirror, mark) == []  # neither discovery pages (progress log) nor articles
    assert again["archived"] == 0 and again["adds_up"]
    for source, report in again["sources"].items():
        for path, counts in report["paths"].items():
            before = first["sources"][source]["paths"][path]
            assert counts["pages_fetched"] == 0
            assert counts["pages_resumed"] >= before["pages_fetched"] - sum(before["page_errors"].values())
            assert counts["fetched"] == 0
            assert counts["already_held"] + counts["claimed_elsewhere"] >= before["fetched"]


def test_date_partitioned_sitemaps_outside_the_range_are_not_read(mirror: MirrorServer, tmp_path: Path) -> None:
    mark = len(mirror.requests)
    report = backfill(mirror, tmp_path, ["ria-ru"], date(2021, 11, 8), date(2021, 11, 9), paths=("sitemap",))
    days = [r.path for r in requests_since(mirror, mark) if r.path.startswith("/sitemap_article.xml")]
    assert sorted(days) == [f"/sitemap_article.xml?date_start=2021110{d}&date_end=2021110{d}" for d in (8, 9)]
    counts = report["sources"]["ria-ru"]["paths"]["sitemap"]
    index_days = sum(1 for r in mirror.requests[mark:] if r.path.startswith("/sitemap_article.xml"))
    assert counts["pages_out_of_range"] > 0 and index_days == 2
    expected = {u for u in mirror.archives.expected_backfill(["ria-ru"], date(2021, 11, 8), date(2021, 11, 9))
                if "/98000" not in u}  # archive-only articles: not in the live sitemaps
    assert {e["url"] for e in archived_entries(tmp_path)} == expected


def test_archive_hosts_get_the_archive_politeness(mirror: MirrorServer, tmp_path: Path) -> None:
    mark = len(mirror.requests)
    backfill(mirror, tmp_path, ["rt-ru"], paths=("wayback",), settings={"MEDIAMON_ARCHIVE_DOWNLOAD_DELAY": 0.3})
    wayback = [r for r in mirror.requests[mark:] if r.host == "web.archive.org"]
    assert wayback[0].path == "/robots.txt"  # robots.txt is obeyed on the archives' hosts too
    gaps = [b.received - a.at for a, b in itertools.pairwise(wayback)]
    assert len(gaps) >= 4 and min(gaps) >= 0.25


@pytest.mark.slow
def test_a_killed_backfill_resumes_without_losing_or_repeating(mirror: MirrorServer, tmp_path: Path) -> None:
    args = ["--since", f"{SINCE}", "--until", f"{UNTIL}"] + [a for s in SOURCES for a in ("--source", s)]
    slow = {**ARCHIVES_FAST, "MEDIAMON_BATCH_SIZE": 2, "DOWNLOAD_DELAY": 0.2, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
            "MEDIAMON_ARCHIVE_DOWNLOAD_DELAY": 0.2}
    kill_after_batches(mirror, tmp_path, 6, *args, settings=slow, module="crawlers.backfill")
    before = archived_entries(tmp_path)
    expected = mirror.archives.expected_backfill(SOURCES, SINCE, UNTIL)
    assert 0 < len(before) < len(expected)

    report = backfill(mirror, tmp_path, SOURCES)
    after = Counter(e["url"] for e in archived_entries(tmp_path))
    assert set(after) == expected and set(after.values()) == {1}
    assert report["archived"] == len(expected) - len(before) and report["adds_up"]
    assert sum(c["pages_resumed"] for r in report["sources"].values() for c in r["paths"].values()) > 0
