"""Keep a source's crawl on its own domains: redirects elsewhere are dropped and counted."""

from __future__ import annotations

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
        if not source.allows(request.url):
            reason = "offsite_redirect" if request.meta.get("redirect_urls") else "offsite"
            raise Dropped(reason, request.url)
