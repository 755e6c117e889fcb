"""Per-host politeness across every crawler of the process: one download delay per real host.

Why not Scrapy's DOWNLOAD_DELAY alone: it is enforced per downloader slot, and
each crawler has its own downloader. A source with a feed and a list runs two
crawlers against one host, and two sources may share a host (mid-ru and mid-en
on mid.ru); each keeps its own delay, so together they hit the host back to
back. Scrapy also randomises its delay down to half of it. This download
handler checks, at the moment a request is really sent, when the host last got
one from any crawler of the process and how many are in flight to it
(``CONCURRENT_REQUESTS_PER_DOMAIN``), and waits out the rest of the delay. The
check is repeated after every wait, and the delay runs again from each answer:
a busy event loop wakes timers and sends requests late, and a late request must
not arrive right before the next one. At concurrency 1 the host therefore sees
at least the delay between requests; above 1 the delay separates the sends (as
Scrapy's does), and two requests in flight may reach it closer than that.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task

from crawlers.rewrite import RewritingDownloadHandler

# Per real host: time.monotonic() of its last request or answer, and requests in flight.
# One reactor thread per process touches them.
_last_start: dict[str, float] = {}
_in_flight: Counter[str] = Counter()


async def wait_turn(host: str, delay: float, concurrency: int) -> None:
    """Return once ``host`` has a free slot and had no request for ``delay`` seconds; marks this one sent."""
    while True:
        now = time.monotonic()
        due = _last_start.get(host, now - delay) + delay
        if now >= due and _in_flight[host] < concurrency:
            _last_start[host] = now
            _in_flight[host] += 1
            return
        await reactor_sleep(max(due - now, 0.01))


async def reactor_sleep(seconds: float) -> None:
    """A reactor timer: works under whichever Twisted reactor the host process installed."""
    from twisted.internet import reactor  # lazy: importing it installs a reactor; the crawl picks one first

    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


class PoliteDownloadHandler(RewritingDownloadHandler):
    """The rewriting HTTP/1.1 handler, sending each request only when its host's turn has come."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self.delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.concurrency = crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")

    async def download_request(self, request: Request) -> Response:
        if self.delay <= 0:
            return await super().download_request(request)
        return await self.in_turn(request, super().download_request, self.concurrency)

    async def in_turn(self, request: Request, send: Callable[[Request], Awaitable[Response]],
                      concurrency: int) -> Response:
        """``send(request)`` once its host's turn has come, at most ``concurrency`` in flight to the host."""
        host = urlsplit(request.url).hostname or ""
        await wait_turn(host, self.delay, concurrency)
        try:
            return await send(request)
        finally:  # the delay also runs from the answer: a request sent late must not crowd the next one
            _in_flight[host] -= 1
            _last_start[host] = max(_last_start[host], time.monotonic())
