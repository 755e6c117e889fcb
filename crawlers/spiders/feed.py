"""RSS 2.0 and Atom feeds (feedparser), paged feeds included; entries carry their metadata forward."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import feedparser
from scrapy.http import Request, Response

from crawlers.spiders.base import SourceSpider

SUMMARY_CHARS = 2000


def entry_metadata(entry: Any) -> dict[str, Any]:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return {
        "title": entry.get("title"),
        "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed) if parsed else None,
        "published_raw": entry.get("published") or entry.get("updated"),
        "summary": (entry.get("summary") or "")[:SUMMARY_CHARS],
        "authors": [a.get("name") for a in entry.get("authors", []) if a.get("name")],
        "tags": [t.get("term") for t in entry.get("tags", []) if t.get("term")],
        "has_full_text": bool(entry.get("content") or entry.get("yandex_full-text")),
    }


def entry_link(entry: Any) -> str | None:
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    return entry.get("link") or None


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
        page_url = response.meta["page_url"]
        if response.meta["page"] == 1:
            self.listing_read(page_url, "feed", links)
        requests = self.article_requests(links, page_url)
        yield from requests
        feed, page = response.meta["feed"], response.meta["page"]
        if requests and feed.get("page_url") and page < feed["max_pages"]:
            yield from self.page_request(feed["page_url"].replace("{n}", str(page + 1)), self.parse_feed, feed=feed,
                                         page=page + 1)
