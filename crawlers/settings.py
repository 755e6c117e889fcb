"""The Scrapy project's settings module (``scrapy.cfg``: ``default = crawlers.settings``).

Behaviour is switched by settings (STYLE.md): middlewares are enabled here, their
knobs are ``MEDIAMON_*`` Scrapy settings, and tests or operators override any of
it (``--set`` / ``MEDIAMON_CRAWL_SETTINGS``) without touching code. ``scrapy shell
URL`` and ``scrapy fetch URL`` run from the repository root with these settings —
the project's user agent, middlewares and the ``MEDIAMON_URL_REWRITE`` rules —
which is how an operator tries selectors for sources.yaml. A crawl then lays each
source's politeness over them (``crawlers.run.source_settings``).
"""

from __future__ import annotations

from mediamon.core.settings import Settings

_env = Settings()
_MW = "crawlers.middlewares"

BOT_NAME = "mediamon"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"
USER_AGENT = _env.user_agent or (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 "
    "mediamon/0.1 (+https://github.com/mediamon/mediamon)")
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "mediamon"
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 5 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
MEDIAMON_SITEMAP_MAX_SIZE = 50 * 1024 * 1024  # decompressed gzip sitemaps
# Discovery pages (feeds, sitemaps, list and Telegram pages) one source may fetch in one crawl, and how many
# sitemap indexes deep it follows: a site whose pages list each other must not keep a crawl busy forever.
MEDIAMON_MAX_DISCOVERY_PAGES = 500
MEDIAMON_SITEMAP_MAX_DEPTH = 3
# Backfill (crawlers/backfill): list pages it pages back at most; days after the range an archive capture may
# still hold an article of the range; captures per CDX answer; the politeness towards the archives' own hosts.
MEDIAMON_BACKFILL_MAX_LIST_PAGES = 500
MEDIAMON_BACKFILL_CAPTURE_LAG_DAYS = 14
MEDIAMON_BACKFILL_CDX_LIMIT = 5000
MEDIAMON_ARCHIVE_DOWNLOAD_DELAY = 1.0
MEDIAMON_ARCHIVE_CONCURRENCY = 1
# After SIGTERM, seconds the spiders get to close (requests in flight) before the crawl ends without them.
MEDIAMON_STOP_WAIT = 10.0
# The clock of the revisit schedule (ISO time; unset: the real time). Tests and replays move it to test
# +1h / +6h revisits without waiting for them.
MEDIAMON_REVISIT_NOW = None
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
MEDIAMON_RETRY_BACKOFF = 2.0
MEDIAMON_RETRY_MAX_WAIT = 60.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_MAX_DELAY = 60.0
COOKIES_ENABLED = True
REDIRECT_MAX_TIMES = 5
MEDIAMON_BATCH_SIZE = 500
# An article callback yields one item: Scrapy's default of 100 output workers per callback is pure overhead.
CONCURRENT_ITEMS = 4
LOG_LEVEL = "WARNING"
TELNETCONSOLE_ENABLED = False
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "ru,en;q=0.8,be;q=0.6",
}
# Sends every request (robots.txt included) through MEDIAMON_URL_REWRITE and the per-host politeness waits.
MEDIAMON_URL_REWRITE = _env.url_rewrite
DOWNLOAD_HANDLERS = {"http": "crawlers.politeness.PoliteDownloadHandler",
                     "https": "crawlers.politeness.PoliteDownloadHandler"}
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    f"{_MW}.domains.AllowedDomainsMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    f"{_MW}.retry.BackoffRetryMiddleware": 550,
    f"{_MW}.challenge.ChallengeMiddleware": 640,
    f"{_MW}.encoding.EncodingMiddleware": 650,
    f"{_MW}.guard.SSRFGuardMiddleware": 960,
}
ITEM_PIPELINES = {"crawlers.pipelines.ArchivePipeline": 300}
# Rendering (sources with ``render:`` or ``screenshot:``; crawlers/rendering.py): scrapy-playwright drives the
# system Chromium (Playwright's own browser download is not used). Rendered pages go one at a time per host,
# within the same per-host delay; each host's browser context is replaced every MEDIAMON_RENDER_CONTEXT_PAGES
# pages (its cookies, e.g. a passed challenge, last that long) so a long crawl's memory stays flat.
MEDIAMON_BROWSER_PATH = str(_env.browser_path)
MEDIAMON_RENDER = "plain"  # the source's ``render:`` (crawlers.run.source_settings sets it per source)
MEDIAMON_RENDER_CONCURRENCY = 1
MEDIAMON_RENDER_CONTEXT_PAGES = 50
MEDIAMON_RENDER_SETTLE_S = 15.0  # how long a challenge page gets to pass (set its cookie, reload) in the browser
# Challenges of one host the browser fails in a row before the crawl stops trying it there (middlewares/challenge.py)
MEDIAMON_RENDER_GIVE_UP_AFTER = 3
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 1
RENDER_DOWNLOAD_HANDLERS = {"http": "crawlers.rendering.RenderingDownloadHandler",
                            "https": "crawlers.rendering.RenderingDownloadHandler"}
