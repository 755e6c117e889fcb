"""Keep a source's crawl on its own domains: redirects elsewhere are dropped and counted."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.http import Request

from crawlers.middlewares import Dropped


class AllowedDomainsMiddleware:
    """Runs first (before robots.txt), so a redirect off-site costs no request at all."""

    @classmethod
    def from_crawler(cls, crawler):
        mw = cls()
        mw.crawler = crawler
        return mw

    def process_request(self, request: Request) -> None:
        source = getattr(self.crawler.spider, "source", None)
        if source is None:
            return
        # a backfill's archive spiders also fetch from the web archives' hosts (``extra_hosts``)
        if not source.allows(request.url) and urlsplit(request.url).hostname not in getattr(
                self.crawler.spider, "extra_hosts", ()):
            reason = "offsite_redirect" if request.meta.get("redirect_urls") else "offsite"
            raise Dropped(reason, request.url)
