"""The parser harness: each ``run_*`` calls the real entry point a crawl or a batch calls on hostile bytes.

Each swallows only that entry point's documented error, so anything else is a
bug. scripts/fuzz_parsers.py drives them with libFuzzer (importing this module
inside its instrumentation block); tests/reliability drives them with hypothesis.
"""

from __future__ import annotations

import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Headers, Request
from scrapy.responsetypes import responsetypes
from scrapy.utils.test import get_crawler

from crawlers.canonical import canonical_url
from crawlers.crawl_state import SourceRun
from crawlers.run import source_settings
from crawlers.spiders import FeedSpider, ListingSpider, SitemapSpider, TelegramSpider
from mediamon.core.configfile import ConfigFileError, load_config
from mediamon.core.settings import Settings
from mediamon.core.sources import Source, SourcesError, load_sources
from processing.alerts.rules import RulesError, load_alert_rules
from processing.dates import DateRejected, check_plausible, find_date_in_text, local_zone, parse_date
from processing.enrich import AlarmismFile, NarrativesFile, SpeakersFile
from processing.extract import ExtractionFailed, PageContext, extract
from processing.rules import ExtractionRules, load_processing_rules
from tests.support.paths import CONFIG

URL = "https://news.example.org/politics/2021/11/08/story.html"
CONTENT_TYPES = (None, "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1251",
                 "text/html; charset=koi8-r", "text/html; charset=no-such-charset", "application/xhtml+xml",
                 "application/xml", "text/plain; charset=utf-16")
PAGE_URLS = (URL, "https://www.belta.by/politics/view/1.html", "http://news.example.org/", "https://t.me/MFARussia/1")
CONFIG_NAMES = ("sources.yaml", "narratives.yaml", "speakers.yaml", "alarmism.yaml", "extraction.yaml", "alerts.yaml")


def fuzz_source() -> Any:
    """A source on news.example.org discovered by every method: feed, sitemap, listing page, Telegram channel."""
    return Source.model_validate({
        "id": "fuzz", "name": "Fuzz", "owner": "nobody", "kind": "state_media", "languages": ["ru"],
        "domains": ["news.example.org", "t.me"], "schedule": "1h",
        "discovery": {"feeds": [{"url": "https://news.example.org/rss", "page_url": "https://news.example.org/rss/{n}",
                                 "max_pages": 3}],
                      "sitemaps": ["https://news.example.org/sitemap.xml"],
                      "lists": [{"url": "https://news.example.org/news/", "item_selector": "div.item",
                                 "title_selector": "a::text", "date_selector": "time::attr(datetime)",
                                 "next_selector": "a.next::attr(href)", "max_pages": 3}],
                      "telegram": {"channel": "MFARussia", "max_pages": 3}},
        "politeness": {"download_delay": 0}})


@cache
def discovery_spider(kind: str) -> Any:
    """A real discovery spider of ``fuzz_source()`` (Scrapy crawler and settings, fresh crawl state)."""
    source = fuzz_source()
    spider_cls = {"feed": FeedSpider, "sitemap": SitemapSpider, "list": ListingSpider, "telegram": TelegramSpider}[kind]
    root = Path(tempfile.mkdtemp(prefix="mediamon-fuzz-"))
    run = SourceRun(source, root / "crawl-state", root / "archive", batch_size=500)
    crawler = get_crawler(spider_cls, source_settings(source, Settings(url_rewrite="")))
    return spider_cls.from_crawler(crawler, source=source, run=run)


def discovery_response(url: str, body: bytes, content_type: str, **meta: Any) -> Any:
    """The response Scrapy would build for ``body`` (HtmlResponse for HTML: what spiders' CSS needs)."""
    request = Request(url, meta={"page_url": url, **meta})
    headers = Headers({"Content-Type": content_type})
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    return cls(url, status=200, body=body, headers=headers, request=request)


def run_feed(body: bytes, content_type: str = "application/rss+xml") -> list[Any]:
    """FeedSpider.parse_feed on ``body``: never raises; what it cannot read it counts."""
    spider = discovery_spider("feed")
    spider.run.claimed.clear()
    feed = spider.source.discovery.feeds[0]
    return list(spider.parse_feed(discovery_response(feed.url, body, content_type, feed=feed.model_dump(), page=1)))


def run_sitemap(body: bytes) -> list[Any]:
    """SitemapSpider.parse_sitemap on ``body`` (gzip or XML): never raises; what it cannot read it counts."""
    spider = discovery_spider("sitemap")
    spider.run.claimed.clear()
    return list(spider.parse_sitemap(discovery_response(spider.source.discovery.sitemaps[0], body, "application/xml")))


def run_listing(body: bytes, content_type: str = "text/html; charset=utf-8") -> list[Any]:
    """ListingSpider.parse_list on ``body``: never raises; an empty list page is counted."""
    spider = discovery_spider("list")
    spider.run.claimed.clear()
    listing = spider.source.discovery.lists[0]
    return list(spider.parse_list(discovery_response(listing.url, body, content_type, listing=listing.model_dump(),
                                                     page=1)))


def run_telegram(body: bytes, content_type: str = "text/html; charset=utf-8") -> list[Any]:
    """TelegramSpider.parse_channel on ``body``: never raises; a post it cannot read is skipped and counted."""
    spider = discovery_spider("telegram")
    spider.run.claimed.clear()
    spider.run.state.seen.clear()
    return list(spider.parse_channel(discovery_response(spider.channel_url, body, content_type, page=1)))


def run_extract(body: bytes, content_type: str | None, url: str = URL, kind: str = "article",
                selectors: dict[str, str | None] | None = None) -> Any:
    """processing.extract.extract; ``ExtractionFailed`` (a quarantine reason) is its documented refusal."""

    ctx = PageContext(url=url, domain=urlsplit(url).hostname or "", kind=kind, selectors=selectors or {})
    try:
        return extract(body, content_type, ctx, challenge_markers=["ddos-guard", "checking your browser"],
                       min_chars=40)
    except ExtractionFailed as exc:
        return exc


def run_date(text: str, domain: str = "tass.ru") -> Any:
    """processing.dates parsers, then check_plausible (``DateRejected`` is its documented refusal)."""
    zone = local_zone(domain)
    find_date_in_text(text, zone)
    parsed = parse_date(text, zone)
    if parsed is None:
        return None
    try:
        return check_plausible(parsed.value)
    except DateRejected as exc:
        return exc


def run_canonical(url: str) -> Any:
    """crawlers.canonical.canonical_url; ``ValueError`` (not a URL) is its documented refusal."""
    try:
        return canonical_url(url)
    except ValueError as exc:
        return exc


def config_loaders() -> dict[str, Any]:
    """Every config loader, each paired with the one error type it documents."""
    return {
        "sources.yaml": (lambda p: load_sources(p), SourcesError),
        "narratives.yaml": (lambda p: load_config(p, NarrativesFile), ConfigFileError),
        "speakers.yaml": (lambda p: load_config(p, SpeakersFile), ConfigFileError),
        "alarmism.yaml": (lambda p: load_config(p, AlarmismFile), ConfigFileError),
        "extraction.yaml": (lambda p: load_config(p, ExtractionRules), ConfigFileError),
        "alerts.yaml": (lambda p: load_alert_rules(p), RulesError),
    }


@cache
def _config_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="mediamon-fuzz-config-"))


def run_config(name: str, data: bytes) -> Any:
    """Load ``data`` as config file ``name``; the loader's own error type is the only refusal allowed."""
    load, error = config_loaders()[name]
    path = _config_dir() / name
    path.write_bytes(data)
    try:
        return load(path)
    except error as exc:
        return exc


def run_processing_rules(name: str, data: bytes) -> Any:
    """processing.rules.load_processing_rules over the repository's config/ with ``name`` replaced by ``data``."""

    directory = _config_dir() / "processing"
    if not directory.is_dir():
        shutil.copytree(CONFIG, directory)
    original = directory / f"{name}.orig"
    if not original.exists():
        shutil.copy(directory / name, original)
    (directory / name).write_bytes(data)
    try:
        return load_processing_rules(directory)
    except ConfigFileError as exc:
        return exc
    finally:
        shutil.copy(original, directory / name)
