"""Real Scrapy against the faulty mirror: exact counts, nothing lost, nothing twice, nothing forbidden fetched."""

from __future__ import annotations

import hashlib
import html
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from mediamon.core.archive import ManifestRecord, read_record
from mediamon.devtools.mirror.server import MirrorServer
from tests.support.crawl import archived_entries, run_crawl


@pytest.fixture(scope="module")
def first_crawl(mirror: MirrorServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("crawl")
    start = len(mirror.requests)
    rc, report, stderr = run_crawl(mirror, data_dir)
    assert report, stderr[-3000:]
    return {"rc": rc, "report": report, "data_dir": data_dir, "entries": archived_entries(data_dir),
            "requests": mirror.requests[start:]}


@pytest.fixture(scope="module")
def second_crawl(mirror: MirrorServer, first_crawl: dict[str, Any]) -> dict[str, Any]:
    start = len(mirror.requests)
    rc, report, stderr = run_crawl(mirror, first_crawl["data_dir"])
    assert report, stderr[-3000:]
    return {"rc": rc, "report": report, "requests": mirror.requests[start:],
            "entries": archived_entries(first_crawl["data_dir"])}


def test_first_crawl_archives_every_article_exactly_once(mirror: MirrorServer, first_crawl: dict[str, Any]) -> None:
    assert first_crawl["rc"] == 0
    archived = Counter(e["url"] for e in first_crawl["entries"])
    expected = {a.url for a in mirror.expected if a.outcome == "archived"}
    assert set(archived) == expected
    assert set(archived.values()) == {1}
    assert {e["source"] for e in first_crawl["entries"]} == {a.source for a in mirror.expected}


def test_first_crawl_counts_every_outcome_with_its_reason(mirror: MirrorServer, first_crawl: dict[str, Any]) -> None:
    report = first_crawl["report"]
    assert report["adds_up"] and report["failed_sources"] == []
    for source, stats in report["sources"].items():
        expected = Counter(a.outcome for a in mirror.expected if a.source == source)
        got = Counter({"archived": stats["archived"]}) + Counter(
            {f"blocked:{k}": v for k, v in stats["blocked"].items()}) + Counter(
            {f"error:{k}": v for k, v in stats["errors"].items()})
        assert +got == +expected, source
        assert stats["found"] == sum(expected.values()) and stats["already_seen"] == 0
        assert stats["page_errors"] == {}, source
    assert report["sources"]["sputnik-en"]["page_warnings"]["feed_malformed"] == 1
    # AMP, print and utm variants were recognised as the same articles, not fetched again
    # every link the mirror lists is an article; its AMP, print and utm variants count as that article
    assert all(stats["skipped_links"] == 0 for stats in report["sources"].values())


def test_archive_reads_back_with_warcio_and_matches_manifest(first_crawl: dict[str, Any]) -> None:
    entries = first_crawl["entries"]
    for entry in entries:
        batch = Path(entry["batch_dir"])
        with open(batch / entry["warc_file"], "rb") as fh:
            fh.seek(entry["offset"])
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
            body = record.content_stream().read()
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
        assert "127.0.0.1" not in entry["url"] and "127.0.0.1" not in entry["canonical_url"]
        assert entry["fetched_url"].startswith("http://127.0.0.1:")
    assert not any((first_crawl["data_dir"] / "archive" / ".incoming").iterdir())


def test_real_kremlin_pages_are_archived_byte_identical(mirror: MirrorServer, first_crawl: dict[str, Any],
                                                        real_fixtures: Path) -> None:
    by_url = {e["url"]: e for e in first_crawl["entries"]}
    for name, article_id in (("news-77428.html", 77428), ("news-77329.html", 77329)):
        entry = by_url[f"http://kremlin.ru/events/president/news/{article_id}"]
        record = read_record(Path(entry["batch_dir"]), ManifestRecord.model_validate(entry))
        assert record.body == (real_fixtures / "kremlin" / name).read_bytes()


def test_feed_metadata_is_carried_into_the_manifest(mirror: MirrorServer, first_crawl: dict[str, Any]) -> None:
    rt = [e for e in first_crawl["entries"] if e["source"] == "rt-ru"]
    titles = {i.title for i in mirror.corpus["rt-ru"]}
    assert rt and all(e["feed"]["title"] in titles and e["feed"]["published"] for e in rt)
    assert all(e["feed"]["has_full_text"] for e in rt)


def test_telegram_posts_are_items_with_permalink_date_and_text(mirror: MirrorServer,
                                                               first_crawl: dict[str, Any]) -> None:
    posts = [e for e in first_crawl["entries"] if e["source"] == "telegram-mfarussia"]
    assert len(posts) == len(mirror.corpus["telegram-mfarussia"])
    for post in posts:
        assert post["kind"] == "telegram_post"
        assert post["url"] == f"https://t.me/MFARussia/{post['feed']['post_id']}"
        assert post["feed"]["published"] and post["feed"]["text"]
        body = read_record(Path(post["batch_dir"]), ManifestRecord.model_validate(post)).body.decode("utf-8")
        assert f'data-post="MFARussia/{post["feed"]["post_id"]}"' in body


def test_encodings_are_detected_and_recorded(mirror: MirrorServer, first_crawl: dict[str, Any]) -> None:
    by_url = {e["url"]: e for e in first_crawl["entries"]}
    checked = 0
    for article in mirror.expected:
        if article.outcome == "archived" and article.encoding in ("windows-1251", "koi8-r"):
            entry = by_url[article.url]
            assert entry["encoding"].replace("_", "-").lower() in {article.encoding, "cp1251"} | (
                {"koi8-r"} if article.encoding == "koi8-r" else set()), article.url
            assert entry["encoding_declared"] is article.encoding_declared, article.url
            record = read_record(Path(entry["batch_dir"]), ManifestRecord.model_validate(entry))
            text = html.unescape(record.body.decode(article.encoding))
            assert any(i.title in text for i in mirror.corpus[article.source])
            checked += 1
    assert checked >= 3  # header-declared, meta-only, undeclared cp1251 and a koi8-r page


def test_robots_disallowed_urls_are_never_requested(mirror: MirrorServer, first_crawl: dict[str, Any]) -> None:
    forbidden = [a for a in mirror.expected if a.outcome == "error:robots_disallowed"]
    assert forbidden
    paths = {(r.host, r.path) for r in first_crawl["requests"]}
    for article in forbidden:
        host, _, path = article.url.split("://", 1)[1].partition("/")
        assert (host, "/" + path) not in paths
    assert ("kremlin.ru", "/robots.txt") in paths


def test_retries_honour_429_and_resets_and_every_request_has_a_browser_user_agent(
        mirror: MirrorServer, first_crawl: dict[str, Any]) -> None:
    requests = first_crawl["requests"]
    statuses = Counter(r.status for r in requests)
    faults = Counter(r.fault for r in mirror.catalog.resources.values() if r.fault)
    assert statuses[429] == faults["429_once"] == 1 and statuses[503] == faults["503_once"] >= 1
    assert statuses[0] == faults["reset_once"] == 1  # 0: the connection was reset
    # every transiently failing article was retried and then served
    for host, path in {(r.host, r.path) for r in requests if r.status in (0, 429, 503)}:
        assert [r.status for r in requests if (r.host, r.path) == (host, path)][-1] == 200
    limited = next(r for r in requests if r.status == 429)
    retry = next(r for r in requests if (r.host, r.path) == (limited.host, limited.path) and r.status == 200)
    assert retry.at - limited.at >= mirror.retry_after  # Retry-After was honoured
    assert statuses[403] == 0
    assert all("Mozilla/" in r.user_agent for r in requests)
    offsite = [r for r in requests if r.host == "evil.example.net"]
    assert offsite == []


def test_second_crawl_archives_nothing_and_sends_conditional_requests(mirror: MirrorServer,
                                                                      second_crawl: dict[str, Any],
                                                                      first_crawl: dict[str, Any]) -> None:
    report = second_crawl["report"]
    assert second_crawl["rc"] == 0 and report["archived"] == 0 and report["new_batches"] == []
    assert len(second_crawl["entries"]) == len(first_crawl["entries"])
    conditional = [r for r in second_crawl["requests"] if r.if_none_match]
    assert conditional and {r.status for r in conditional} == {304}
    assert sum(s["pages_not_modified"] for s in report["sources"].values()) >= 14
    article_paths = {a.url.split("://", 1)[1] for a in mirror.expected if a.outcome == "archived"}
    refetched = [r for r in second_crawl["requests"] if r.host + r.path in article_paths]
    assert refetched == []


def test_source_refusing_a_library_user_agent_fails_entirely(mirror: MirrorServer, tmp_path: Path) -> None:
    rc, report, _ = run_crawl(mirror, tmp_path, "--source", "kremlin-en", MEDIAMON_USER_AGENT="python-requests/2.32")
    assert rc == 1 and report["failed_sources"] == ["kremlin-en"]
    assert report["sources"]["kremlin-en"]["page_errors"] == {"http_403": 1}
