"""Rendered pages: the system Chromium, driven by scrapy-playwright, for the sources that need a browser.

A request with ``meta["render"]`` (a source or list with ``render: browser``, a
source with ``screenshot: true``, or a plain answer that was a JavaScript
challenge on a ``render: on_challenge`` source) is loaded in the browser; every
other request is the plain polite download. The browser starts at the first
rendered request: a crawl that renders nothing never starts it, and a source
without ``render:`` never even gets this handler (``crawlers.run``).

Rendered pages keep the politeness of plain ones: the same per-host delay and
in-flight count, at most ``MEDIAMON_RENDER_CONCURRENCY`` (1) rendered at once.
A page is closed as soon as its HTML (and screenshot) is read; each host's
browser context (its cookies: a passed challenge) is closed and replaced after
``MEDIAMON_RENDER_CONTEXT_PAGES`` pages, so a long crawl's memory stays flat.
The archived body is the rendered HTML, the archived headers are the HTTP
answer's to the navigation, the status that of the document finally shown (a
passed 403 challenge is the article's 200), and the item says it was rendered.
A host whose challenges the browser failed ``MEDIAMON_RENDER_GIVE_UP_AFTER`` times
in a row (a challenge that wants a human) gets no more challenge retries from
this crawler: each would hold the browser ``MEDIAMON_RENDER_SETTLE_S`` to
archive nothing, one page at a time; they are counted blocked at once.
Every request the page makes by itself goes through crawlers/subresources.py
first (the SSRF guard's rule; no audio or video), counted in the source's stats.

This module fetches; it does not decide what is a challenge (middlewares/challenge.py) nor archive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import TimeoutError as PlaywrightTimeout
from scrapy.http import Request, Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod

from crawlers.middlewares import Dropped
from crawlers.middlewares.challenge import CHALLENGE_MARKERS, MAX_CHALLENGE_BYTES
from crawlers.politeness import PoliteDownloadHandler
from crawlers.rewrite import rewrite
from crawlers.subresources import abort_reason

log = logging.getLogger(__name__)
INSTALL_HINT = "install it with `apt-get install chromium` (Debian), or point MEDIAMON_BROWSER_PATH at a Chromium"
# True once the page is no longer a challenge: the challenge's script set its cookie and reloaded the page.
SETTLED = ("() => { if (document.readyState !== 'complete') return false;"
           " const html = document.documentElement.outerHTML;"
           f" if (html.length > {MAX_CHALLENGE_BYTES}) return true;"
           " const lowered = html.toLowerCase();"
           f" return !{json.dumps([m.decode() for m in CHALLENGE_MARKERS])}.some(m => lowered.includes(m)); }}")


FINAL_STATUS = "() => (performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0"


def browser_missing(path: str | Path) -> str | None:
    """Why the browser at ``path`` cannot be started (with how to install it), or None when it is there."""
    executable = Path(path)
    if executable.is_file():
        return None
    return (f"Chromium not found at {executable}: rendered pages (render:, screenshot: in sources.yaml) need it; "
            f"{INSTALL_HINT} (Playwright's own browser download is not used)")


async def settle(page: Page, timeout_ms: float) -> tuple[int, bool]:
    """Wait until the page stops being a challenge; one that stays a challenge is read as is and counted blocked.

    Returns the HTTP status of the document finally shown (0 when unknown) — a challenge answered 403 or 503
    (Cloudflare) and passed shows the article's 200, which is the status the page is archived with — and
    whether the page settled (False: still a challenge after ``timeout_ms``).
    """
    settled = True
    try:
        await page.wait_for_function(SETTLED, timeout=timeout_ms)
    except PlaywrightTimeout:
        settled = False
    with contextlib.suppress(PlaywrightError):  # still navigating after the timeout: the first answer's status
        return int(await page.evaluate(FINAL_STATUS) or 0), settled
    return 0, settled


class RenderingDownloadHandler(PoliteDownloadHandler):
    """The polite plain handler, plus a scrapy-playwright handler started lazily for ``meta["render"]`` requests."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.crawler = crawler
        self.browser_path = settings.get("MEDIAMON_BROWSER_PATH")
        self.render_concurrency = max(1, min(settings.getint("MEDIAMON_RENDER_CONCURRENCY"), self.concurrency))
        self.context_pages = max(1, settings.getint("MEDIAMON_RENDER_CONTEXT_PAGES"))
        self.settle_ms = settings.getfloat("MEDIAMON_RENDER_SETTLE_S") * 1000
        self.give_up_after = max(1, settings.getint("MEDIAMON_RENDER_GIVE_UP_AFTER"))
        self._unsettled: Counter[str] = Counter()  # host -> rendered pages in a row that stayed challenges
        self._browser: ScrapyPlaywrightDownloadHandler | None = None
        self._starting = asyncio.Lock()
        self._contexts: dict[str, tuple[int, int]] = {}  # host -> (context generation, pages rendered in it)
        self._hosts: dict[str, str | None] = {}  # host -> the forbidden address it stands for (subresources.py)

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("render"):
            return await super().download_request(request)
        return await self.in_turn(request, self._render, self.render_concurrency)

    async def _render(self, request: Request) -> Response:
        missing = browser_missing(self.browser_path)
        if missing:
            raise Dropped("browser_missing", missing)
        host = urlsplit(request.url).hostname or ""
        if request.meta.get("challenge_retry") and self._unsettled[host] >= self.give_up_after:
            # checked here, in the host's turn: the outcome of its previous rendered page is known
            raise Dropped("js_challenge", f"{request.url}: the browser failed {self._unsettled[host]} challenges "
                                          f"of {host} in a row and is not tried again there in this crawl")
        browser = await self._started_browser()
        target = rewrite(request.url, self.rules)
        if target is not None:
            request.meta["fetched_url"] = target
        methods = [PageMethod(settle, self.settle_ms)]
        if request.meta.get("screenshot"):
            methods.append(PageMethod("screenshot", full_page=True, type="png"))
        generation, pages = self._contexts.get(host, (0, 0))
        page_request = request.replace(url=target or request.url, meta={
            **request.meta, "playwright": True, "playwright_context": f"{host}#{generation}",
            "playwright_page_methods": methods})
        try:
            response = await browser.download_request(page_request)
        finally:
            await self._page_done(host, generation, pages + 1)
        request.meta["rendered"] = True
        if len(methods) > 1:
            request.meta["screenshot_png"] = methods[1].result
        status, settled = methods[0].result
        self._count_settled(host, settled)
        return response.replace(url=request.url, request=request, status=status or response.status)

    def _count_settled(self, host: str, settled: bool) -> None:
        """Count the host's challenges the browser failed in a row; a page that settled resets the count."""
        self._unsettled[host] = 0 if settled else self._unsettled[host] + 1
        if self._unsettled[host] == self.give_up_after:
            log.warning("%s: the browser failed %d challenges in a row; the host's next challenges in this crawl "
                        "are counted blocked without it", host, self._unsettled[host])

    async def _started_browser(self) -> ScrapyPlaywrightDownloadHandler:
        async with self._starting:
            if self._browser is None:
                browser = ScrapyPlaywrightDownloadHandler(self.crawler)
                # Its PLAYWRIGHT_ABORT_REQUEST hook, given a predicate that knows this crawl's rules and counts
                # (the setting holds a function loaded by name, which could know neither).
                browser.abort_request = self._abort
                # Its usual trigger, engine_started, fired before the first rendered request: start it now.
                await browser._launch()
                self._browser = browser
        return self._browser

    async def _abort(self, request: PlaywrightRequest) -> bool:
        """Whether the browser must not send one of a page's requests; each is counted, an aborted one by reason."""
        spider = self.crawler.spider
        reason = await abort_reason(request.url, request.resource_type, self.rules,
                                    spider.source.politeness.allow_private_addresses, self._hosts)
        spider.run.stats.browser_requests += 1
        if reason is not None:
            spider.run.stats.browser_aborted[reason] += 1
            log.info("%s: the browser's request for %s (%s) aborted: %s", spider.source.id, request.url,
                     request.resource_type, reason)
        return reason is not None

    async def _page_done(self, host: str, generation: int, pages: int) -> None:
        """Count a page of the host's context; past the limit, close the context (the next page opens a new one)."""
        if pages >= self.context_pages and self._browser is not None:
            wrapper = self._browser.context_wrappers.get(f"{host}#{generation}")
            if wrapper is not None:
                await wrapper.context.close()
            generation, pages = generation + 1, 0
        self._contexts[host] = (generation, pages)

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        await super().close()
