"""XML sitemaps: indexes, url sets, Google News sitemaps and gzip, SitemapSpider-style (bodies read by
``crawlers.sitemaps``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Request, Response

from crawlers.sitemaps import read_sitemap
from crawlers.spiders.base import SourceSpider, absolute_url


class SitemapSpider(SourceSpider):
    method = "sitemap"

    async def start(self) -> Iterator[Request]:
        for url in self.source.discovery.sitemaps:
            for request in self.sitemap_request(url, depth=0):
                yield request

    def sitemap_request(self, url: str, depth: int) -> Iterator[Request]:
        # Sitemaps may legitimately be far larger than an article (up to 50 MB by the protocol).
        return self.page_request(url, self.parse_sitemap, sitemap_depth=depth,
                                 download_maxsize=self.settings.getint("MEDIAMON_SITEMAP_MAX_SIZE"))

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if not self.page_ok(response):
            return
        sitemap = read_sitemap(response.body, self.settings.getint("MEDIAMON_SITEMAP_MAX_SIZE"))
        if sitemap.error:
            self.run.stats.page_errors[sitemap.error] += 1
            return
        if sitemap.kind == "sitemapindex":
            depth = response.meta.get("sitemap_depth", 0) + 1
            if depth > self.settings.getint("MEDIAMON_SITEMAP_MAX_DEPTH"):  # indexes of indexes of ...: a loop
                self.run.stats.page_errors["sitemap_too_deep"] += 1
                return
            for entry in sitemap.entries:
                url = absolute_url(response.url, entry.loc)
                if self.source.allows(url):
                    yield from self.sitemap_request(url, depth)
            return

        links: list[tuple[str, dict[str, Any]]] = [
            (entry.loc, {"title": entry.title, "published_raw": entry.published or entry.lastmod})
            for entry in sitemap.entries]
        # a sitemap of articles is read whole: a young one it stopped listing may have been removed
        self.listing_read(response.meta["page_url"], "sitemap", links)
        yield from self.article_requests(links, response.meta["page_url"])
