"""The backfill's readers: the archives' CDX formats (the documented examples and the mirror's answers), Common
Crawl WARC ranges, date partitions, dates, and list pages paged back — on real pages where there are some."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.settings import Settings as ScrapySettings

from crawlers import settings as project_settings
from crawlers.backfill import archives
from crawlers.backfill.backfill_run import BackfillRun
from crawlers.backfill.spiders import SitemapBackfill, list_page_links, range_passed, sitemap_partition
from crawlers.backfill.window import DateWindow, capture_window, day_of, page_day, url_day
from crawlers.moments import parse_moment
from mediamon.core.sources import load_sources
from mediamon.devtools.mirror.server import MirrorServer
from tests.support.paths import CONFIG

MOSCOW = ZoneInfo("Europe/Moscow")
NOVEMBER = DateWindow(date(2021, 11, 1), date(2021, 11, 30), MOSCOW)
# The Wayback CDX server's own documented answers (wayback-cdx-server README, "Resumption Key")
ROWS = (("org,archive)/", "19970126045828", "http://www.archive.org:80/", "text/html", "200",
         "Q4YULN754FHV2U6Q5JUT6Q2P57WEWNNY", "1415"),
        ("org,archive)/", "19971011050034", "http://www.archive.org:80/", "text/html", "200",
         "XAHDNHZ5P3GSSSNJ3DMEOJF7BMCCPZR3", "1402"))
KEY = "org%2Carchive%29%2F+19980109140106%21"
DOC_JSON = ('[["urlkey","timestamp","original","mimetype","statuscode","digest","length"],\n'
            + "".join(f" {json.dumps(list(r))},\n" for r in ROWS) + f' [],\n ["{KEY}"]]').encode()
DOC_TEXT = ("".join(" ".join(r) + "\n" for r in ROWS) + f"\n{KEY}\n").encode()


@pytest.fixture(scope="module")
def archive_mirror() -> MirrorServer:
    return MirrorServer()  # not started: its answers are read directly


@pytest.mark.parametrize("body", [DOC_JSON, DOC_TEXT], ids=["json", "text"])
def test_wayback_cdx_answers_give_captures_and_the_resume_key(body: bytes) -> None:
    captures, resume = archives.read_wayback_cdx(body)
    assert resume == "org%2Carchive%29%2F+19980109140106%21"
    assert [c.captured_at for c in captures] == [datetime(1997, 1, 26, 4, 58, 28, tzinfo=UTC),
                                                 datetime(1997, 10, 11, 5, 0, 34, tzinfo=UTC)]
    assert captures[0].archive_url == "https://web.archive.org/web/19970126045828id_/http://www.archive.org:80/"


def test_an_empty_cdx_answer_is_no_capture_and_garbage_is_an_error() -> None:
    assert archives.read_wayback_cdx(b"[]") == ([], None)
    assert archives.read_wayback_cdx(b"") == ([], None)
    with pytest.raises(archives.ArchiveFormatError):
        archives.read_wayback_cdx(b"<html>502 Bad Gateway</html>")


def test_resume_keys_page_through_the_mirror_cdx_without_loss_or_repeat(archive_mirror: MirrorServer) -> None:
    first, last = capture_window(NOVEMBER, 14)
    answers = archive_mirror.archives

    def ask(url: str) -> bytes:
        path = url.removeprefix("https://web.archive.org")
        resource = answers.answer("web.archive.org", path, None)
        assert resource is not None and resource.status == 200
        return resource.body

    whole, key = archives.read_wayback_cdx(ask(archives.wayback_query("ria.ru", first, last, 1000)))
    assert key is None and len(whole) > 3
    paged, key, pages = [], None, 0
    while True:
        captures, key = archives.read_wayback_cdx(ask(archives.wayback_query("ria.ru", first, last, 3, key)))
        paged += captures
        pages += 1
        if key is None:
            break
    assert pages > 1 and paged == whole
    text_answer = ask(archives.wayback_query("ria.ru", first, last, 1000).replace("output=json", "output=text"))
    assert archives.read_wayback_cdx(text_answer)[0] == whole


def test_common_crawl_crawls_are_chosen_by_their_dates() -> None:
    collinfo = json.dumps([
        {"id": "CC-MAIN-2021-49", "cdx-api": "https://index.commoncrawl.org/CC-MAIN-2021-49-index"},  # no from/to
        {"id": "CC-MAIN-2021-43", "cdx-api": "https://index.commoncrawl.org/CC-MAIN-2021-43-index",
         "from": "2021-10-15T00:00:00", "to": "2021-10-28T23:59:59"},
        {"id": "CC-MAIN-2012", "cdx-api": "https://index.commoncrawl.org/CC-MAIN-2012-index"}]).encode()
    assert archives.crawls_covering(collinfo, *capture_window(NOVEMBER, 14)) == [
        "https://index.commoncrawl.org/CC-MAIN-2021-49-index"]
    assert archives.crawls_covering(collinfo, date(2021, 10, 20), date(2021, 10, 21)) == [
        "https://index.commoncrawl.org/CC-MAIN-2021-43-index"]


def test_a_common_crawl_record_is_read_from_its_byte_range(archive_mirror: MirrorServer) -> None:
    answers = archive_mirror.archives
    first, last = capture_window(NOVEMBER, 14)
    api = "https://index.commoncrawl.org/CC-MAIN-2021-49-index"

    def ask(url: str, byte_range: str | None = None):
        parts = url.split("/", 3)
        return answers.answer(parts[2], "/" + parts[3], byte_range)

    pages = archives.read_num_pages(ask(archives.commoncrawl_query(api, "tass.ru", first, last, None)).body)
    captures = [c for n in range(pages)
                for c in archives.read_commoncrawl_index(ask(archives.commoncrawl_query(api, "tass.ru", first, last,
                                                                                        n)).body)]
    assert pages > 1 and len(captures) >= 4 and all(c.provenance == "commoncrawl" for c in captures)
    for capture in captures:
        start, end = capture.byte_range
        answer = ask(capture.archive_url, f"bytes={start}-{end}")
        assert answer.status == 206 and len(answer.body) == end - start + 1
        record = archives.read_warc_member(answer.body)
        served = [c for c in answers.captures if c.original == capture.original and c.crawl == "CC-MAIN-2021-49"]
        assert record.status == 200 and record.body == served[0].body and record.target_uri == capture.original
        assert ("X-Crawler-Content-Encoding", "gzip") in record.headers  # as Common Crawl rewrites it
    with pytest.raises(archives.ArchiveFormatError):
        archives.read_warc_member(gzip.compress(b"not a warc record"))


@pytest.mark.parametrize(("url", "days"), [
    ("https://ria.ru/sitemap_article.xml?date_start=20211108&date_end=20211108", (date(2021, 11, 8),) * 2),
    ("https://www.rt.com/sitemap_2021-11.xml", (date(2021, 11, 1), date(2021, 11, 30))),
    ("https://example.com/sitemaps/sitemap-2021-12-31.xml", (date(2021, 12, 31),) * 2),
    ("https://tass.ru/sitemap_news1.xml", None),
    ("https://example.com/sitemap_2021-13.xml", None),
])
def test_sitemap_date_partitions_are_read_from_their_urls(url: str, days: tuple[date, date] | None) -> None:
    assert sitemap_partition(url) == days


def test_dates_as_discovery_pages_and_archives_print_them() -> None:
    assert day_of(NOVEMBER, "2021-11-08T23:30:00+00:00") == date(2021, 11, 9)  # 02:30 in Moscow
    assert day_of(NOVEMBER, "2021-11-08") == date(2021, 11, 8)
    assert day_of(NOVEMBER, "08.11.2021") == date(2021, 11, 8)  # mid.ru lists
    assert day_of(NOVEMBER, "20211108T1530") == date(2021, 11, 8)  # RIA's article:published_time
    assert day_of(NOVEMBER, "19:51") is None and parse_moment("31.02.2021") is None  # BelTA lists: a time only
    assert url_day("https://ria.ru/20211108/migranty-1757.html") == date(2021, 11, 8)
    assert url_day("https://tass.com/world/13001108") is None  # an id is no date


@pytest.mark.parametrize(("name", "day"), [("kremlin/news-77428.html", date(2025, 7, 11)),
                                           ("kremlin-en/news-17119.html", date(2012, 12, 12)),
                                           ("kremlin-en/news-63770.html", date(2020, 7, 30)),
                                           ("rt/4a44ab3e4c41d56ce9b79eb07acb06aed1bc52aba68a950f06e7de7ef848400a.html.gz",
                                            date(2019, 11, 20))])
def test_real_pages_state_their_publication_day(real_fixtures: Path, name: str, day: date) -> None:
    body = (real_fixtures / name).read_bytes()
    assert page_day(gzip.decompress(body) if name.endswith(".gz") else body, "utf-8") == day


def test_a_real_list_page_is_dated_and_ends_the_paging_once_it_reaches_before_the_range(real_fixtures: Path) -> None:
    """en.kremlin.ru's list page 10 (2020-06-09..18), read with the kremlin list configuration."""
    listing = next(s for s in load_sources(CONFIG / "sources.yaml") if s.id == "kremlin-ru").discovery.lists[0]
    page = HtmlResponse("http://en.kremlin.ru/events/president/news/page/10",
                        body=(real_fixtures / "kremlin-en" / "president-news-page-10.html").read_bytes(),
                        encoding="utf-8")
    links = list_page_links(page, listing, DateWindow(date(2020, 6, 1), date(2020, 6, 30), MOSCOW))
    assert len(links) == 20 and {link["day"] for link in links} >= {"2020-06-18", "2020-06-09"}
    assert not range_passed(links, DateWindow(date(2020, 6, 1), date(2020, 6, 30), MOSCOW))  # keep paging back
    assert range_passed(links, DateWindow(date(2020, 6, 15), date(2020, 6, 30), MOSCOW))  # reached past the range
    assert range_passed([], NOVEMBER)  # an empty page ends the list


def test_a_sitemap_with_lastmod_only_is_dated_by_it(tmp_path: Path) -> None:
    """TASS's numbered ``sitemap/sitemap_newsN.xml`` give ``lastmod`` and no publication date."""
    source = next(s for s in load_sources(CONFIG / "sources.yaml") if s.id == "tass-ru")
    run = BackfillRun(source, tmp_path / "state", tmp_path / "archive", 10, NOVEMBER, ["sitemap"])
    assert run.open()
    spider = SitemapBackfill(source=source, run=run)
    spider.settings = ScrapySettings({k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()})
    body = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>https://tass.ru/politika/{n}</loc><lastmod>{day}T12:00:00+03:00</lastmod></url>"
                      for n, day in ((1, "2021-12-02"), (2, "2021-11-15"), (3, "2021-10-31")))
            + "</urlset>").encode()
    links, follow, skipped = spider.read_page(XmlResponse("https://tass.ru/sitemap/sitemap_news7.xml", body=body),
                                              {"url": "https://tass.ru/sitemap/sitemap_news7.xml", "depth": 1})
    assert [(found["url"][-1], found["day"], found["bound"]) for found in links] == [
        ("1", "2021-12-02", None), ("2", "2021-11-15", None), ("3", "2021-10-31", None)]
    requests = [spider.link_request(found, "https://tass.ru/sitemap/sitemap_news7.xml") for found in links]
    assert [r.url if r else None for r in requests] == [None, "https://tass.ru/politika/2", None]
    assert run.paths["sitemap"].out_of_range == 2 and (follow, skipped) == ([], 0)
    run.finish()
