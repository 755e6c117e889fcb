"""Discovery parsing on real Scrapy objects (crawler, spider, responses) without a network: limits and metadata."""

from __future__ import annotations

import gzip
from pathlib import Path

from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler

from crawlers.crawl_state import SourceRun
from crawlers.spiders import FeedSpider, SitemapSpider
from crawlers.spiders.base import SourceSpider
from mediamon.core.sources import load_sources
from tests.support.paths import REPO

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://ria.ru/20211108/granitsa-1758145.html</loc><news:news>
<news:publication_date>2021-11-08T15:30:00+03:00</news:publication_date><news:title>Песков о границе</news:title>
</news:news></url>
<url><loc>https://ria.ru/20211108/granitsa-1758145.html?utm_source=yxnews</loc></url>
<url><loc>https://ria.ru/tag_belorussija/</loc></url>
</urlset>""".encode()


def spider_for(spider_cls: type[SourceSpider], tmp_path: Path, source_id: str, **settings: object) -> SourceSpider:
    source = next(s for s in load_sources(REPO / "config" / "sources.yaml") if s.id == source_id)
    run = SourceRun(source, tmp_path / "state", tmp_path / "archive", batch_size=10)
    crawler = get_crawler(spider_cls, {"MEDIAMON_SITEMAP_MAX_SIZE": 50 * 1024 * 1024, **settings})
    return spider_cls.from_crawler(crawler, source=source, run=run)


def response(url: str, body: bytes) -> Response:
    return Response(url, body=body, request=Request(url, meta={"page_url": url, "page": 1, "feed": {
        "url": url, "page_url": None, "max_pages": 1}}))


def test_news_sitemap_links_carry_title_and_date_and_collapse_variants(tmp_path: Path) -> None:
    spider = spider_for(SitemapSpider, tmp_path, "ria-ru")
    requests = list(spider.parse_sitemap(response("https://ria.ru/sitemap_article.xml", NEWS_SITEMAP)))
    assert [r.url for r in requests] == ["https://ria.ru/20211108/granitsa-1758145.html"]
    assert requests[0].meta["feed"] == {"title": "Песков о границе", "published_raw": "2021-11-08T15:30:00+03:00"}
    stats = spider.run.stats
    assert (stats.found, stats.duplicate_links, stats.skipped_links) == (1, 1, 1)


def test_gzip_sitemap_over_the_decompression_cap_is_counted_not_expanded(tmp_path: Path) -> None:
    spider = spider_for(SitemapSpider, tmp_path, "ria-ru", MEDIAMON_SITEMAP_MAX_SIZE=100_000)
    bomb = gzip.compress(NEWS_SITEMAP.replace(b"</urlset>", b" " * 5_000_000 + b"</urlset>"))
    assert list(spider.parse_sitemap(response("https://ria.ru/sitemap.xml.gz", bomb))) == []
    assert spider.run.stats.page_errors == {"sitemap_oversize": 1} and spider.run.stats.found == 0
    small = gzip.compress(NEWS_SITEMAP)
    assert len(list(spider.parse_sitemap(response("https://ria.ru/sitemap2.xml.gz", small)))) == 1


def test_unparsable_feed_is_a_page_error_and_a_recoverable_one_a_warning(tmp_path: Path) -> None:
    spider = spider_for(FeedSpider, tmp_path, "rt-ru")
    assert list(spider.parse_feed(response("https://russian.rt.com/rss", b"<html><body>502 Bad Gateway"))) == []
    broken = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>RT & co</title><item>'
              b"<title>A</title><link>https://russian.rt.com/world/news/1-a</link></item>")
    requests = list(spider.parse_feed(response("https://russian.rt.com/rss", broken)))
    assert [r.url for r in requests] == ["https://russian.rt.com/world/news/1-a"]
    assert spider.run.stats.page_errors == {"feed_unparsable": 1}
    assert spider.run.stats.page_warnings == {"feed_malformed": 1}


def test_a_feed_that_crashes_feedparser_is_counted_unparsable(tmp_path: Path) -> None:
    """Found by the fuzzer: feedparser's loose parser raises KeyError('tags') on a stray </category>."""
    spider = spider_for(FeedSpider, tmp_path, "tass-ru")
    crasher = b"<item<category>\xb3</item</category<"
    assert list(spider.parse_feed(response("https://tass.ru/rss/v2.xml", crasher))) == []
    assert spider.run.stats.page_errors == {"feed_unparsable": 1}


def test_feed_entry_fields_of_the_wrong_type_are_ignored_not_crashed_on(tmp_path: Path) -> None:
    """Found by the fuzzer in CI: feedparser fills ``links``, ``authors`` or ``published_parsed`` from any element of
    that name, so an entry's ``links`` can be a string; the entry keeps its other fields, a linkless one is counted."""
    spider = spider_for(FeedSpider, tmp_path, "tass-ru")
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            b"<item><title>A</title><link>https://tass.ru/politika/1</link><links>abc</links><authors>q</authors>"
            b"<pubDate>Mon, 08 Nov 2021 16:51:00 GMT</pubDate><published_parsed>x</published_parsed></item>"
            # a <link> after a string ``links`` leaves feedparser's ``link`` a dict without href: no link
            b"<item><title>B</title><links>def</links><link>https://tass.ru/politika/2</link></item></channel></rss>")
    requests = list(spider.parse_feed(response("https://tass.ru/rss/v2.xml", body)))
    assert [r.url for r in requests] == ["https://tass.ru/politika/1"]
    # the string ``authors`` gives no author, the stray element overwrote the parsed date: the raw date remains
    assert requests[0].meta["feed"] == {"title": "A", "published_raw": "Mon, 08 Nov 2021 16:51:00 GMT",
                                        "has_full_text": False}
    assert spider.run.stats.page_warnings == {"feed_entry_without_link": 1}


def test_the_real_kremlin_atom_feed_gives_every_entry_with_its_metadata(tmp_path: Path, real_fixtures: Path) -> None:
    """The typed reading of entries keeps what a real feed carries: 20 entries, each linked, dated, titled."""
    spider = spider_for(FeedSpider, tmp_path, "kremlin-en")
    body = (real_fixtures / "kremlin-en" / "president-news-feed.atom.xml").read_bytes()
    requests = list(spider.parse_feed(response("http://en.kremlin.ru/events/president/news/feed", body)))
    assert len(requests) == 20 and all(r.url.startswith("http://en.kremlin.ru/events/president/news/")
                                       for r in requests)
    first = requests[0].meta["feed"]
    assert requests[0].url.endswith("/63953")
    # the real title carries no-break spaces
    assert " ".join(first["title"].split()) == "Launching motor traffic on completed sections of Taurida motorway"
    assert first["published"] == "2020-08-27T11:20:00Z" and first["published_raw"] == "2020-08-27T15:20:00+04:00"
    assert first["summary"].startswith('<div class="c-summary"') and first["has_full_text"] is True
    assert all(r.meta["feed"].get("published") and r.meta["feed"].get("title") for r in requests)
    assert spider.run.stats.page_warnings == {} and spider.run.stats.page_errors == {}
