"""XML sitemaps: indexes, url sets, Google News sitemaps and gzip, SitemapSpider-style.

Parsed with lxml without entity resolution or network access; gzip bodies
are decompressed with Scrapy's ``gunzip`` under a size cap (a zip bomb is
counted, not expanded).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Any

from lxml import etree
from scrapy.http import Request, Response
from scrapy.utils.gz import gunzip

from crawlers.spiders.base import SourceSpider, absolute_url
from mediamon.core.archive import is_gzip

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, remove_comments=True)


def _text(element: Any, path: str) -> str | None:
    value = element.findtext(path)
    return value.strip() if value else None


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
        body = response.body
        if is_gzip(body):
            try:
                body = gunzip(body, max_size=self.settings.getint("MEDIAMON_SITEMAP_MAX_SIZE"))
            except ValueError:  # Scrapy's decompression cap was hit
                self.run.stats.page_errors["sitemap_oversize"] += 1
                return
            except (OSError, EOFError, zlib.error, struct.error):  # truncated or corrupt gzip
                self.run.stats.page_errors["sitemap_bad_gzip"] += 1
                return
        try:
            root = etree.fromstring(body, parser=PARSER) if body.strip() else None
        except etree.XMLSyntaxError:  # even recover=True gives up on some bytes ("Document is empty")
            root = None
        if root is None:
            self.run.stats.page_errors["sitemap_unparsable"] += 1
            return
        try:
            kind = etree.QName(root).localname
        except ValueError:  # recover mode keeps tag names QName refuses ("<a:>"): not a sitemap
            kind = ""
        if kind == "sitemapindex":
            depth = response.meta.get("sitemap_depth", 0) + 1
            if depth > self.settings.getint("MEDIAMON_SITEMAP_MAX_DEPTH"):  # indexes of indexes of ...: a loop
                self.run.stats.page_errors["sitemap_too_deep"] += 1
                return
            for loc in root.iterfind("{*}sitemap/{*}loc"):
                url = absolute_url(response.url, loc.text or "")
                if loc.text and self.source.allows(url):
                    yield from self.sitemap_request(url, depth)
            return
        if kind != "urlset":
            self.run.stats.page_errors["sitemap_unknown_type"] += 1
            return

        def links() -> Iterator[tuple[str, dict[str, Any]]]:
            for url in root.iterfind("{*}url"):
                loc = _text(url, "{*}loc")
                if loc:
                    yield loc, {"title": _text(url, "{*}news/{*}title"),
                                "published_raw": _text(url, "{*}news/{*}publication_date") or _text(url,
                                                                                                     "{*}lastmod")}

        yield from self.article_requests(links(), response.meta["page_url"])
