"""Item pipeline: every archived item goes into the source's open batch (crawlers/archive.py)."""

from __future__ import annotations

from typing import Any


class ArchivePipeline:
    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls()
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        self.crawler.spider.run.archive(item)
        return {"url": item["url"], "kind": item["kind"]}  # the body is archived; do not keep it in memory
