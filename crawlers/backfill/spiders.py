"""The backfill's discovery paths, one spider each: sitemaps, list pages, the Wayback Machine, Common Crawl.

Each spider turns discovery pages into article links (with what they tell about
the publication day) and the next pages to read; the shared part here logs every
page read to the progress log (a resumed backfill replays it instead of fetching
again), claims the links through the ``BackfillRun`` and turns fetched articles
(live pages, Wayback ``id_`` captures, Common Crawl WARC records) into archive items.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from scrapy.http import HtmlResponse, Request, Response, TextResponse
from twisted.python.failure import Failure

from crawlers.backfill import archives
from crawlers.backfill.backfill_run import BackfillRun
from crawlers.backfill.window import DateWindow, capture_window, day_of, page_day, url_day
from crawlers.canonical import canonical_url
from crawlers.sitemaps import read_sitemap
from crawlers.spiders.base import HTML_TYPES, SourceSpider, _headers, absolute_url, failure_reason
from mediamon.core.sources import ListPage

Link = dict[str, Any]  # url, day, bound (ISO days or None), feed (metadata), capture (archives.Capture as JSON)
Follow = dict[str, Any]  # url, plus what its spider needs to read it (depth, page number, kind ...)
_PARTITION = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_]?(\d{2})(?:[-_]?(\d{2}))?(?!\d)")


class PageUnreadable(Exception):
    """A discovery page that cannot be read; ``reason`` is its counted page error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def link(url: str, day: date | None = None, bound: date | None = None, feed: dict[str, Any] | None = None,
         capture: archives.Capture | None = None) -> Link:
    return {"url": url, "day": f"{day}" if day else None, "bound": f"{bound}" if bound else None,
            "feed": {k: v for k, v in (feed or {}).items() if v}, "capture": capture.as_json() if capture else None}


class BackfillSpider(SourceSpider):
    path: ClassVar[str] = ""
    run: BackfillRun

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.method = f"backfill-{cls.path}"  # the spider's name: <source>:backfill-<path>

    def __init__(self, source: Any, run: BackfillRun, **kwargs: Any) -> None:
        super().__init__(source, run, **kwargs)
        self.stats = run.paths[self.path]
        self.window = run.window

    # --- discovery pages ---------------------------------------------------------------

    def seeds(self) -> list[Follow]:
        raise NotImplementedError

    def read_page(self, response: Response, follow: Follow) -> tuple[list[Link], list[Follow], int]:
        """The article links of a page, the pages it leads to, and how many of those the range rules out."""
        raise NotImplementedError

    async def start(self) -> Iterator[Request]:
        for follow in self.seeds():
            for request in self.visit(follow):
                yield request

    def visit(self, follow: Follow) -> Iterator[Request]:
        assert self.run.progress is not None
        logged = self.run.progress.page(self.path, follow["url"])
        if logged is not None:
            self.stats.pages_resumed += 1
            yield from self.after_page(follow["url"], logged["links"], logged["follow"], logged.get("skipped", 0))
            return
        if not self.run.claim_page(follow["url"]):
            return
        yield Request(follow["url"], callback=self.page_read, errback=self.page_failed, dont_filter=True, priority=-1,
                      meta={"page_url": follow["url"], "follow": follow, **self.page_meta(follow)})

    def page_meta(self, follow: Follow) -> dict[str, Any]:
        return {}

    def page_read(self, response: Response) -> Iterator[Request]:
        self.stats.pages_fetched += 1
        follow = response.meta["follow"]
        try:
            links, nexts, skipped = self.read_page(response, follow)
        except PageUnreadable as exc:
            self.stats.page_errors[exc.reason] += 1
            self.logger.warning("%s: %s page %s unreadable: %s", self.source.id, self.path, follow["url"], exc.reason)
            return
        assert self.run.progress is not None
        self.run.progress.record_page(self.path, follow["url"], links, nexts, skipped)
        yield from self.after_page(follow["url"], links, nexts, skipped)

    def after_page(self, page_url: str, links: list[Link], nexts: list[Follow], skipped: int) -> Iterator[Request]:
        self.stats.pages_out_of_range += skipped
        for found in links:
            request = self.link_request(found, page_url)
            if request is not None:
                yield request
        for follow in nexts:
            yield from self.visit(follow)

    def page_failed(self, failure: Failure) -> None:
        reason = failure_reason(failure)
        follow = failure.request.meta["follow"]
        if reason == "http_404" and follow.get("page", 1) > 1:  # paged past the last list page: its end, for good
            assert self.run.progress is not None
            self.run.progress.record_page(self.path, follow["url"], [], [], 0)
            return
        self.stats.page_errors[reason] += 1
        self.logger.warning("%s: %s page %s failed: %s", self.source.id, self.path, failure.request.url, reason)

    # --- articles ----------------------------------------------------------------------

    def link_request(self, found: Link, page_url: str) -> Request | None:
        url = absolute_url(page_url, found["url"])
        day, bound = (date.fromisoformat(found[k]) if found.get(k) else None for k in ("day", "bound"))
        key = self.run.claim_link(self.path, url, day, bound)
        if key is None:
            return None
        meta = {"canonical": key, "page_url": page_url, "feed": found.get("feed") or {}, "dated": day is not None}
        capture = archives.Capture.from_json(found["capture"]) if found.get("capture") else None
        if capture is None:  # live: rendered and screenshotted as the source's crawl would
            render = self.source.render == "browser" or self.source.screenshot
            return Request(url, callback=self.parse_article, errback=self.article_failed, dont_filter=True,
                           meta={**meta, "render": render, "screenshot": render})
        headers = {"Range": f"bytes={capture.byte_range[0]}-{capture.byte_range[1]}"} if capture.byte_range else {}
        return Request(capture.archive_url, callback=self.parse_article, errback=self.article_failed,
                       dont_filter=True, headers=headers, meta={**meta, "capture": capture})

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        capture: archives.Capture | None = response.meta.get("capture")
        status, headers, body = response.status, _headers(response), response.body
        page: Response = response
        if capture is not None and capture.byte_range is not None:  # a Common Crawl WARC record
            try:
                record = archives.read_warc_member(response.body)
            except archives.ArchiveFormatError:
                self.stats.failed["warc_unreadable"] += 1
                return
            status, headers, body = record.status, record.headers, record.body
            page = HtmlResponse(capture.original, status=status, headers=headers, body=body, request=response.request)
            if status != 200:
                self.stats.failed[f"archived_http_{status}"] += 1
                return
        if not body:
            self.stats.failed["empty_body"] += 1
            return
        ctype = next((v for k, v in headers if k.lower() == "content-type"), "").split(";")[0].strip().lower()
        if not isinstance(page, HtmlResponse) or (ctype and ctype not in HTML_TYPES):
            self.stats.failed["not_html"] += 1
            return
        # a capture recorded under the other scheme is the article's (claim_link): one document with the live one
        url = (self.source.article_url(capture.original) or capture.original) if capture else response.url
        canonical = canonical_url(url)
        undated = False
        if not response.meta["dated"]:
            day = page_day(body, page.encoding)
            if day is not None and not self.window.contains(day):
                self.run.ruled_out(self.path, response.meta["canonical"], day)
                return
            undated = day is None
        item = self.item(response, kind="article", url=url, body=body, canonical=canonical,
                         feed=response.meta.get("feed"), encoding=page.encoding, headers=headers)
        item.update(status=status, backfill_path=self.path, undated=undated)
        if capture is not None:
            item.update(provenance=capture.provenance, archive_url=capture.archive_url,
                        captured_at=capture.captured_at,
                        archive_range=f"bytes={capture.byte_range[0]}-{capture.byte_range[1]}"
                        if capture.byte_range else None)
        yield item

    def article_failed(self, failure: Failure) -> None:
        reason = failure_reason(failure)
        self.stats.failed[reason] += 1
        self.logger.info("%s: %s not archived: %s", self.source.id, failure.request.url, reason)


# --- sitemaps --------------------------------------------------------------------------


def sitemap_partition(url: str) -> tuple[date, date] | None:
    """The days a date-partitioned sitemap covers, from its URL: RIA's ``?date_start=20211108&date_end=20211108``,
    or a day or month in its file name (``sitemap-2021-11.xml``, ``sitemap_20211108.xml``)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "date_start" in query and "date_end" in query:
        try:
            first, last = (date(int(v[:4]), int(v[4:6]), int(v[6:8])) for v in (query["date_start"][0],
                                                                                  query["date_end"][0]))
            return first, last
        except ValueError:
            return None
    found = _PARTITION.search(parts.path.rsplit("/", 1)[-1])
    if not found:
        return None
    year, month = int(found[1]), int(found[2])
    try:
        if found[3]:
            day = date(year, month, int(found[3]))
            return day, day
        first = date(year, month, 1)
    except ValueError:
        return None
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


class SitemapBackfill(BackfillSpider):
    path = "sitemap"

    def seeds(self) -> list[Follow]:
        return [{"url": url, "depth": 0} for url in self.source.discovery.sitemaps]

    def page_meta(self, follow: Follow) -> dict[str, Any]:
        return {"download_maxsize": self.settings.getint("MEDIAMON_SITEMAP_MAX_SIZE")}

    def read_page(self, response: Response, follow: Follow) -> tuple[list[Link], list[Follow], int]:
        sitemap = read_sitemap(response.body, self.settings.getint("MEDIAMON_SITEMAP_MAX_SIZE"))
        if sitemap.error:
            raise PageUnreadable(sitemap.error)
        if sitemap.kind == "sitemapindex":
            depth = follow["depth"] + 1
            if depth > self.settings.getint("MEDIAMON_SITEMAP_MAX_DEPTH"):
                raise PageUnreadable("sitemap_too_deep")
            children, skipped = [], 0
            for entry in sitemap.entries:
                url = absolute_url(response.url, entry.loc)
                if not self.source.allows(url):
                    continue
                partition = sitemap_partition(url)
                modified = day_of(self.window, entry.lastmod)
                # a child sitemap last changed before the range lists nothing of it
                if (partition and not self.window.overlaps(*partition)) or (modified and modified < self.window.since):
                    skipped += 1
                else:
                    children.append({"url": url, "depth": depth})
            return [], children, skipped
        links = []
        for entry in sitemap.entries:
            # Without a publication date, lastmod stands for it: taken as a mere upper bound, a range years back
            # would fetch every article changed since to date it (TASS's numbered sitemap_newsN.xml list
            # ~70 x thousands with lastmod only); an article edited after the range is left to the archive paths.
            day = day_of(self.window, entry.published) or day_of(self.window, entry.lastmod) or url_day(entry.loc)
            links.append(link(entry.loc, day, feed={"title": entry.title,
                                                    "published_raw": entry.published or entry.lastmod}))
        return links, [], 0


# --- list pages ------------------------------------------------------------------------


def list_page_links(response: TextResponse, listing: ListPage, window: DateWindow) -> list[Link]:
    """The article links of a list page, dated by the listing's ``date_selector`` (or the URL) when it can."""
    links = []
    for item in response.css(listing.item_selector):
        href = item.css(listing.link_selector).get()
        if not href:
            continue
        raw = item.css(listing.date_selector).get() if listing.date_selector else None
        title = " ".join(item.css(listing.title_selector).getall()).strip() if listing.title_selector else None
        url = absolute_url(response.url, href)
        links.append(link(url, day_of(window, raw) or url_day(url), feed={"title": title, "published_raw": raw}))
    return links


def range_passed(links: list[Link], window: DateWindow) -> bool:
    """Whether a list page (newest first) reaches before the range: the pages after it hold nothing of it.
    An empty page ends the list too; a page without dates does not end it."""
    days = [date.fromisoformat(found["day"]) for found in links if found["day"]]
    return not links or (bool(days) and min(days) < window.since)


class ListBackfill(BackfillSpider):
    """List pages, newest first, paged backwards until a page reaches past the range's first day."""

    path = "list"

    def seeds(self) -> list[Follow]:
        return [{"url": listing.url, "listing": n, "page": 1} for n, listing in enumerate(self.source.discovery.lists)]

    def page_meta(self, follow: Follow) -> dict[str, Any]:
        listing = self.source.discovery.lists[follow["listing"]]
        return {"render": listing.render == "browser" or self.source.render == "browser"}

    def read_page(self, response: Response, follow: Follow) -> tuple[list[Link], list[Follow], int]:
        if not isinstance(response, TextResponse):
            raise PageUnreadable("not_html")
        listing = self.source.discovery.lists[follow["listing"]]
        links = list_page_links(response, listing, self.window)
        page = follow["page"]
        if range_passed(links, self.window) or page >= self.settings.getint("MEDIAMON_BACKFILL_MAX_LIST_PAGES"):
            return links, [], 0
        next_url = None
        if listing.next_selector:
            href = response.css(listing.next_selector).get()
            next_url = absolute_url(response.url, href) if href else None
        elif listing.page_url:
            next_url = listing.page_url.replace("{n}", str(page + 1))
        nexts = [{"url": next_url, "listing": follow["listing"], "page": page + 1}] \
            if next_url and self.source.allows(next_url) else []
        return links, nexts, 0


# --- web archives ----------------------------------------------------------------------


class ArchiveBackfill(BackfillSpider):
    """What both archives share: their hosts are allowed besides the source's own, captures are bounded by time."""

    extra_hosts = archives.ARCHIVE_HOSTS

    def capture_days(self) -> tuple[date, date]:
        return capture_window(self.window, self.settings.getint("MEDIAMON_BACKFILL_CAPTURE_LAG_DAYS"))

    def capture_link(self, capture: archives.Capture) -> Link:
        # a page is captured after it is published: the capture's day (in the source's zone) bounds it
        return link(capture.original, url_day(capture.original), self.window.day_of(capture.captured_at),
                    capture=capture)


class WaybackBackfill(ArchiveBackfill):
    path = "wayback"

    def query(self, domain: str, resume_key: str | None = None) -> Follow:
        first, last = self.capture_days()
        return {"url": archives.wayback_query(domain, first, last, self.settings.getint("MEDIAMON_BACKFILL_CDX_LIMIT"),
                                              resume_key), "domain": domain}

    def seeds(self) -> list[Follow]:
        return [self.query(domain) for domain in self.source.domains]

    def read_page(self, response: Response, follow: Follow) -> tuple[list[Link], list[Follow], int]:
        try:
            captures, resume_key = archives.read_wayback_cdx(response.body)
        except archives.ArchiveFormatError as exc:
            raise PageUnreadable("cdx_unreadable") from exc
        nexts = [self.query(follow["domain"], resume_key)] if resume_key else []
        return [self.capture_link(c) for c in captures], nexts, 0


class CommonCrawlBackfill(ArchiveBackfill):
    path = "commoncrawl"

    def seeds(self) -> list[Follow]:
        return [{"url": f"{archives.CC_INDEX}/collinfo.json", "kind": "collinfo"}]

    def read_page(self, response: Response, follow: Follow) -> tuple[list[Link], list[Follow], int]:
        first, last = self.capture_days()
        try:
            if follow["kind"] == "collinfo":
                return [], [{"url": archives.commoncrawl_query(api, domain, first, last, None), "kind": "pages",
                             "api": api, "domain": domain}
                            for api in archives.crawls_covering(response.body, first, last)
                            for domain in self.source.domains], 0
            if follow["kind"] == "pages":
                pages = archives.read_num_pages(response.body)
                return [], [{"url": archives.commoncrawl_query(follow["api"], follow["domain"], first, last, n),
                             "kind": "index"} for n in range(pages)], 0
            return [self.capture_link(c) for c in archives.read_commoncrawl_index(response.body)], [], 0
        except archives.ArchiveFormatError as exc:
            raise PageUnreadable("cc_index_unreadable") from exc


SPIDERS: dict[str, type[BackfillSpider]] = {
    "sitemap": SitemapBackfill, "list": ListBackfill, "wayback": WaybackBackfill, "commoncrawl": CommonCrawlBackfill}
