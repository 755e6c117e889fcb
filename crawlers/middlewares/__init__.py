"""Downloader middlewares: the network rules (guards, retries, challenge and encoding checks), not parsing.

A middleware that refuses a request or response raises :class:`Dropped` with
a reason; spiders' errbacks turn the reason into a counted outcome.
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

from mediamon.core.errors import MediamonError


class Dropped(IgnoreRequest, MediamonError):
    """A request or response refused on purpose; ``reason`` is what the crawl stats count."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
