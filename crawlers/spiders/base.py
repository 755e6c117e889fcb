"""What every discovery spider shares: conditional page requests, article requests, and outcome counting.

A subclass only turns a discovery page into article links (plus metadata)
and the next page. Fetched articles become archive items here; failures
become counted reasons here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionLost, ConnectionRefusedError, DNSLookupError, TCPTimedOutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawlers.canonical import canonical_url
from crawlers.crawl_state import SourceRun
from crawlers.middlewares import Dropped
from crawlers.moments import parse_moment
from mediamon.core.sources import Source

HTML_TYPES = ("text/html", "application/xhtml+xml")


def failure_reason(failure: Failure) -> str:
    exc = failure.value
    if isinstance(exc, Dropped):
        return exc.reason
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        if "DOWNLOAD_MAXSIZE" in str(exc):  # HttpCompressionMiddleware: a Content-Encoding bomb, capped
            return "oversize"
        return "robots_disallowed" if "robots.txt" in str(exc) else "ignored"
    if isinstance(exc, DownloadCancelledError):
        return "oversize"
    if isinstance(exc, DownloadTimeoutError | TimeoutError | TCPTimedOutError):
        return "timeout"
    if isinstance(exc, DNSLookupError | CannotResolveHostError):
        return "dns"
    if isinstance(exc, ConnectionRefusedError | ConnectionLost | ResponseNeverReceived | ResponseFailed
                  | ConnectionError | DownloadFailedError | DownloadConnectionRefusedError | ResponseDataLossError):
        return "connection"
    return type(exc).__name__.lower()


class SourceSpider(scrapy.Spider):
    method: ClassVar[str] = "base"

    def __init__(self, source: Source, run: SourceRun, **kwargs: Any) -> None:
        super().__init__(name=f"{source.id}:{self.method}", **kwargs)
        self.source = source
        self.run = run

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._closed, signal=scrapy.signals.spider_closed)
        spider.run.spider_opened()
        return spider

    def _closed(self, spider: scrapy.Spider, reason: str) -> None:
        self.run.spider_closed(reason)

    # --- discovery pages --------------------------------------------------------------

    def page_request(self, url: str, callback: Any, **meta: Any) -> Iterator[Request]:
        """The request for discovery page ``url``, unless this crawl read it already or spent its page budget."""
        if not self.run.claim_page(url):
            return
        # Lower priority: the articles a page found are fetched before the next page is, so the
        # scheduler holds one page's worth of requests, not a whole site's (memory flat in site size).
        # a browser answers a conditional request's 304 with an empty page: rendered pages are read whole
        yield Request(url, callback=callback, errback=self.page_failed, dont_filter=True, priority=-1,
                      headers={} if meta.get("render") else self.run.conditional_headers(url),
                      meta={"handle_httpstatus_list": [304], "page_url": url, **meta})

    def page_ok(self, response: Response) -> bool:
        """Count the page; False when it is unchanged since the last crawl (304)."""
        url = response.meta["page_url"]
        if response.status == 304:
            self.run.stats.pages_not_modified += 1
            self.run.new_validators[url] = self.run.validators.get(url, {})
            return False
        self.run.stats.pages_fetched += 1
        self.run.remember_validators(url, _header(response, "ETag"), _header(response, "Last-Modified"))
        return True

    def html_page_ok(self, response: Response) -> bool:
        """page_ok for pages read with CSS (lists, Telegram): a binary answer is counted, never parsed."""
        if not self.page_ok(response):
            return False
        if not isinstance(response, TextResponse):
            self.run.stats.page_errors["not_html"] += 1
            return False
        return True

    def page_failed(self, failure: Failure) -> None:
        reason = failure_reason(failure)
        if reason == "http_404" and failure.request.meta.get("page", 1) > 1:
            self.run.stats.page_warnings["pagination_end"] += 1  # paged past the last page
            return
        self.run.stats.page_errors[reason] += 1
        self.logger.warning("%s: discovery page %s failed: %s", self.source.id, failure.request.url, reason)

    # --- articles ---------------------------------------------------------------------

    def article_request(self, url: str, page_url: str, feed: dict[str, Any] | None = None) -> Request | None:
        """A request for a newly found article, or None (not an article, seen, or claimed)."""
        url = absolute_url(page_url, url)
        key = self.run.claim(url)
        if key is None:
            return None
        render = self.source.render == "browser" or self.source.screenshot
        return Request(url, callback=self.parse_article, errback=self.article_failed, dont_filter=True,
                       meta={"canonical": key, "page_url": page_url, "render": render, "screenshot": render,
                             "feed": {k: v for k, v in (feed or {}).items() if v not in (None, "", [])},
                             "listed_published": listed_time(feed or {})})

    def listing_read(self, page_url: str, via: str, links: list[tuple[str, dict[str, Any]]]) -> None:
        """Page ``page_url`` (``via``: feed, sitemap, list) was read whole: the revisit queue notices the young
        articles it no longer lists."""
        self.run.listing_read(page_url, via, [(absolute_url(page_url, url), listed_time(meta)) for url, meta in links])

    def article_requests(self, links: Iterable[tuple[str, dict[str, Any]]], page_url: str) -> list[Request]:
        """Requests for the new articles among ``links``; an empty list means the page held nothing new."""
        requests = (self.article_request(url, page_url, feed) for url, feed in links)
        return [r for r in requests if r is not None]

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        page_url = response.meta.get("page_url")
        if not response.body:
            self.run.outcome("empty_body", page_url)
            return
        ctype = (_header(response, "Content-Type") or "").split(";")[0].strip().lower()
        if not isinstance(response, HtmlResponse) or (ctype and ctype not in HTML_TYPES):
            self.run.outcome("not_html", page_url)
            return
        item = self.item(response, kind="article", url=response.url, body=response.body,
                         canonical=canonical_url(response.url), feed=response.meta.get("feed"),
                         encoding=response.encoding)
        item["listed_on"] = page_url  # revisits notice when it drops out of that page while young
        item["listed_published"] = response.meta.get("listed_published")
        yield item

    def article_failed(self, failure: Failure) -> None:
        reason = failure_reason(failure)
        self.run.outcome(reason, failure.request.meta.get("page_url"))
        self.logger.info("%s: %s not archived: %s", self.source.id, failure.request.url, reason)

    def item(self, response: Response, *, kind: str, url: str, body: bytes, canonical: str,
             feed: dict[str, Any] | None, encoding: str | None, headers: list[tuple[str, str]] | None = None
             ) -> dict[str, Any]:
        discovered = response.meta.get("canonical")
        return {
            "url": url, "canonical_url": canonical, "kind": kind, "body": body, "feed": feed or {},
            "fetched_url": response.meta.get("fetched_url", response.url), "status": response.status,
            "http_headers": headers if headers is not None else _headers(response),
            "request_headers": _headers(response.request) if response.request else [],
            "encoding": encoding, "encoding_declared": response.meta.get("encoding_declared"),
            "discovered_canonical": discovered if discovered != canonical else None,
            "rendered": bool(response.meta.get("rendered")), "screenshot": response.meta.get("screenshot_png"),
        }


def absolute_url(page_url: str, href: str) -> str:
    """``href`` resolved against the page: feeds and sitemaps carry relative and ``//host/path`` links too."""
    try:
        return urljoin(page_url, href.strip())
    except ValueError:  # "http://[::1": left as is, claim() and allows() refuse it
        return href


def listed_time(meta: dict[str, Any]) -> str | None:
    """When a discovery page says an article was published, as comparable text (ISO, UTC, to the second).

    Only the order of one page's items matters (is a dropped article newer than what is still listed?), so
    a time without a zone is taken as UTC and a bare date as its midnight: the page's items share the
    convention. None when the page gives no date (a time of day alone is none).
    """
    moment = parse_moment(meta.get("published") or meta.get("published_raw"))
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _header(message: Response | Request, name: str) -> str | None:
    value = message.headers.get(name)
    return value.decode("latin-1") if value else None


def _headers(message: Response | Request) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, values in message.headers.items() for v in values]
