"""Revisits: fetch due articles again, conditionally, once the source's new articles are fetched.

The spider waits until every other spider of its source has closed, so new
articles never queue behind revisits; politeness is per host across the whole
process (``crawlers.politeness``), so revisits spend the same budget, never a
second one. Each request carries the validators of the last archived answer
(If-None-Match / If-Modified-Since) and does not follow redirects: a 304, the
same bytes, a new version, a 404/410 or a redirect is each archived as it
came (``SourceRun.archive_revisit``) — the evidence processing needs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawlers.politeness import reactor_sleep
from crawlers.revisit import GONE_STATUSES, REDIRECT_STATUSES
from crawlers.spiders.base import SourceSpider, failure_reason

ANSWERS_KEPT = sorted({304, *GONE_STATUSES, *REDIRECT_STATUSES})
WAIT_POLL_S = 0.2


class RevisitSpider(SourceSpider):
    method = "revisit"

    async def start(self) -> AsyncIterator[Request]:
        while self.run.discovering and not self.run.stopping:  # the source's other spiders still fetch
            await reactor_sleep(WAIT_POLL_S)
        due = self.run.revisits_due()  # after discovery: it marks articles that vanished from a feed
        # a rendering source's pages are read as its new articles are: in the browser, whole (a browser answers
        # a conditional request's 304 with an empty page)
        render = self.source.render == "browser" or self.source.screenshot
        for entry in due:
            if self.run.stopping:
                break
            self.run.revisit_sent()
            yield Request(entry.url, callback=self.parse_revisit, errback=self.revisit_failed, dont_filter=True,
                          headers={} if render else entry.conditional_headers(), priority=-2,
                          meta={"canonical": entry.canonical, "revisit": entry, "dont_redirect": True,
                                "handle_httpstatus_list": ANSWERS_KEPT, "render": render, "screenshot": render})

    def parse_revisit(self, response: Response) -> Any:
        entry = response.meta["revisit"]
        item = self.item(response, kind="article", url=entry.url, body=response.body, canonical=entry.canonical,
                         feed={}, encoding=getattr(response, "encoding", None))
        item["revisit"] = entry
        item["discovered_canonical"] = None
        yield item

    def revisit_failed(self, failure: Failure) -> None:
        """Not archived: the entry stays due and is asked again next run."""
        reason = failure_reason(failure)
        self.run.revisit_failed(reason)
        self.logger.info("%s: revisit of %s failed: %s", self.source.id, failure.request.url, reason)
