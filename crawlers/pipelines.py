"""Item pipeline: every archived item goes into the source's open batch (crawlers/archive.py)."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from mediamon.core.archive import ArchiveError

log = logging.getLogger(__name__)


class ArchivePipeline:
    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls()
        pipeline.crawler = crawler
        pipeline.closing = False
        return pipeline

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        run = self.crawler.spider.run
        try:
            run.archive(item)
        except ArchiveError as exc:  # disk full, permissions: counted, the crawl is marked failed and stops
            run.stats.fatal = str(exc)  # the item itself is already counted as an archive_error
            log.error("%s: %s", run.source.id, exc)
            if not self.closing:  # fetching more pages that cannot be archived would only waste the site's time
                self.closing = True
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_error"))
            raise DropItem(str(exc)) from exc
        return {"url": item["url"], "kind": item["kind"]}  # the body is archived; do not keep it in memory
