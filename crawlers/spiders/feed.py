"""RSS 2.0 and Atom feeds (feedparser), paged feeds included; entries carry their metadata forward."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import feedparser
from scrapy.http import Request, Response

from crawlers.spiders.base import SourceSpider

SUMMARY_CHARS = 2000


def _text(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None


def _records(entry: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """feedparser fills a key from any element of that name: ``<links>x</links>`` makes ``links`` a string
    (found by the fuzzer), so a list of records is only trusted item by item."""
    value = entry.get(key)
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _parsed_time(entry: Mapping[str, Any]) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)  # a struct_time from feedparser's date parsing, or the text of a stray element
        if isinstance(value, time.struct_time):
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", value)
    return None


def entry_metadata(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "title": _text(entry, "title"),
        "published": _parsed_time(entry),
        "published_raw": _text(entry, "published") or _text(entry, "updated"),
        "summary": (_text(entry, "summary") or "")[:SUMMARY_CHARS],
        "authors": [name for a in _records(entry, "authors") if (name := _text(a, "name"))],
        "tags": [term for t in _records(entry, "tags") if (term := _text(t, "term"))],
        "has_full_text": bool(entry.get("content") or entry.get("yandex_full-text")),
    }


def entry_link(entry: Mapping[str, Any]) -> str | None:
    for link in _records(entry, "links"):
        if link.get("rel", "alternate") == "alternate" and (href := _text(link, "href")):
            return href
    return _text(entry, "link")


class FeedSpider(SourceSpider):
    method = "feed"

    async def start(self) -> Iterator[Request]:
        for feed in self.source.discovery.feeds:
            for request in self.page_request(feed.url, self.parse_feed, feed=feed.model_dump(), page=1):
                yield request

    def parse_feed(self, response: Response) -> Iterator[Request]:
        if not self.page_ok(response):
            return
        try:
            parsed = feedparser.parse(response.body, response_headers={
                "content-type": (response.headers.get("Content-Type") or b"application/xml").decode("latin-1")})
        except Exception as exc:  # hostile bytes reach feedparser's own bugs (found by the fuzzer):
            # a UnicodeError decoding a non-UTF-8 encoding name, a KeyError in its loose parser's </category>
            self.logger.warning("unreadable feed %s: feedparser failed: %s: %s", response.url, type(exc).__name__, exc)
            parsed = None
        if parsed is None or (parsed.bozo and not parsed.entries):
            self.run.stats.page_errors["feed_unparsable"] += 1
            return
        if parsed.bozo:
            self.run.stats.page_warnings["feed_malformed"] += 1
        links = [(link, entry_metadata(e)) for e in parsed.entries if (link := entry_link(e))]
        if len(links) < len(parsed.entries):  # nothing to fetch for an entry without a link; counted, not dropped
            self.run.stats.page_warnings["feed_entry_without_link"] += len(parsed.entries) - len(links)
        page_url = response.meta["page_url"]
        if response.meta["page"] == 1:
            self.listing_read(page_url, "feed", links)
        requests = self.article_requests(links, page_url)
        yield from requests
        feed, page = response.meta["feed"], response.meta["page"]
        if requests and feed.get("page_url") and page < feed["max_pages"]:
            yield from self.page_request(feed["page_url"].replace("{n}", str(page + 1)), self.parse_feed, feed=feed,
                                         page=page + 1)
