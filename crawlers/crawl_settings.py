"""Scrapy settings for mediamon crawls: the defaults in one place, then each source's politeness.

Behaviour is switched by settings (STYLE.md): middlewares are enabled here,
their knobs are ``MEDIAMON_*`` settings, and tests or operators override any of
it without touching code.
"""

from __future__ import annotations

import os
from typing import Any

from crawlers.sources import Source

USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 "
              "mediamon/0.1 (+https://github.com/mediamon/mediamon)")
MW = "crawlers.middlewares"

DEFAULTS: dict[str, Any] = {
    "BOT_NAME": "mediamon",
    "USER_AGENT": USER_AGENT,
    "ROBOTSTXT_OBEY": True,
    "ROBOTSTXT_USER_AGENT": "mediamon",
    "DOWNLOAD_TIMEOUT": 30,
    "DOWNLOAD_MAXSIZE": 5 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 2 * 1024 * 1024,
    "MEDIAMON_SITEMAP_MAX_SIZE": 50 * 1024 * 1024,  # decompressed gzip sitemaps
    "RETRY_TIMES": 3,
    "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
    "MEDIAMON_RETRY_BACKOFF": 2.0,
    "MEDIAMON_RETRY_MAX_WAIT": 60.0,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_MAX_DELAY": 60.0,
    "COOKIES_ENABLED": True,
    "REDIRECT_MAX_TIMES": 5,
    "MEDIAMON_BATCH_SIZE": 500,
    # An article callback yields one item: Scrapy's default of 100 output workers per callback is pure overhead.
    "CONCURRENT_ITEMS": 4,
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": False,
    "DEFAULT_REQUEST_HEADERS": {
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "ru,en;q=0.8,be;q=0.6",
    },
    "DOWNLOAD_HANDLERS": {"http": "crawlers.politeness.PoliteDownloadHandler",
                          "https": "crawlers.politeness.PoliteDownloadHandler"},
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
        f"{MW}.domains.AllowedDomainsMiddleware": 50,
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        f"{MW}.retry.BackoffRetryMiddleware": 550,
        f"{MW}.challenge.ChallengeMiddleware": 640,
        f"{MW}.encoding.EncodingMiddleware": 650,
        f"{MW}.guard.SSRFGuardMiddleware": 960,
    },
    "ITEM_PIPELINES": {"crawlers.pipelines.ArchivePipeline": 300},
}


def crawl_settings(source: Source, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings for one source's crawlers: defaults < source politeness < environment < ``overrides``."""
    settings = dict(DEFAULTS)
    polite = source.politeness
    settings.update({
        "DOWNLOAD_DELAY": polite.download_delay,
        "AUTOTHROTTLE_START_DELAY": max(polite.download_delay, 0.1),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(polite.concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": polite.concurrency,
        "ROBOTSTXT_OBEY": polite.obey_robots,
    })
    if os.environ.get("MEDIAMON_USER_AGENT"):
        settings["USER_AGENT"] = os.environ["MEDIAMON_USER_AGENT"]
    settings["MEDIAMON_URL_REWRITE"] = os.environ.get("MEDIAMON_URL_REWRITE", "")
    settings.update(overrides or {})
    return settings
