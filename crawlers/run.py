"""One crawl: every selected source, each discovery method a Scrapy crawler, all in one CrawlerProcess.

The Twisted reactor starts once per process and cannot restart, so ``crawl``
is called once per process; Airflow and tests run ``python -m crawlers`` in a
subprocess.
"""

from __future__ import annotations

import logging
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings as ScrapySettings
from scrapy.utils.reactor import install_reactor, is_asyncio_reactor_installed, is_reactor_installed
from twisted.internet import task

from crawlers import settings as project_settings
from crawlers.crawl_state import SourceRun
from crawlers.rewrite import parse_rules
from crawlers.spiders import FeedSpider, ListingSpider, SitemapSpider, TelegramSpider
from crawlers.spiders.base import SourceSpider
from crawlers.stats import CrawlReport
from mediamon.core.settings import Settings
from mediamon.core.sources import Source, load_sources, select

log = logging.getLogger(__name__)
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def spiders_for(source: Source) -> list[type[SourceSpider]]:
    discovery = source.discovery
    chosen: list[type[SourceSpider]] = []
    if discovery.feeds:
        chosen.append(FeedSpider)
    if discovery.sitemaps:
        chosen.append(SitemapSpider)
    if discovery.lists:
        chosen.append(ListingSpider)
    if discovery.telegram:
        chosen.append(TelegramSpider)
    return chosen


def source_settings(source: Source, settings: Settings, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """One source's crawler settings: the project's < the source's politeness < environment < ``overrides``."""
    scrapy_settings = {name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()}
    polite = source.politeness
    scrapy_settings.update({
        "DOWNLOAD_DELAY": polite.download_delay,
        "AUTOTHROTTLE_START_DELAY": max(polite.download_delay, 0.1),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(polite.concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": polite.concurrency,
        "ROBOTSTXT_OBEY": polite.obey_robots,
        "MEDIAMON_URL_REWRITE": settings.url_rewrite,
    })
    if settings.user_agent:
        scrapy_settings["USER_AGENT"] = settings.user_agent
    return {**scrapy_settings, **settings.crawl_settings, **(overrides or {})}


def crawl(settings: Settings, source_ids: list[str] | None = None, progress: bool = True,
          overrides: dict[str, Any] | None = None) -> CrawlReport:
    """Crawl the selected sources of ``settings.sources_path`` once; raises ConfigError subclasses on bad config."""
    path = settings.sources_path
    sources = select(load_sources(path), source_ids, path)
    parse_rules(settings.url_rewrite)  # fail before starting anything
    archive_dir, state_root = settings.data_dir / "archive", settings.data_dir / "crawl-state"
    overrides = overrides or {}
    # The process settings are merged into every crawler's: only process-wide ones belong here. When the
    # caller (the mediamon CLI, Airflow) already configured logging, Scrapy must not add a second root handler.
    if not is_reactor_installed():  # once per process; each source's crawlers then share it
        install_reactor(ASYNCIO_REACTOR)
    # A host that imported another reactor first keeps it: the middlewares only await Deferreds.
    overrides = {"TWISTED_REACTOR": ASYNCIO_REACTOR if is_asyncio_reactor_installed() else None, **overrides}
    own_logging = not logging.root.handlers
    process = CrawlerProcess(ScrapySettings({"LOG_LEVEL": project_settings.LOG_LEVEL, "TELNETCONSOLE_ENABLED": False,
                                             "LOG_INSTALL_ROOT_HANDLER": own_logging, **overrides}))
    if not own_logging:  # Scrapy set its loggers to DEBUG; follow the caller's level instead
        logging.getLogger("scrapy").setLevel(logging.root.level)
    report = CrawlReport()
    runs: list[SourceRun] = []
    for source in sources:
        scrapy_settings = source_settings(source, settings, overrides)
        run = SourceRun(source, state_root, archive_dir, int(scrapy_settings["MEDIAMON_BATCH_SIZE"]))
        report.sources[source.id] = run.stats
        if not run.open():
            log.error("%s: %s", source.id, run.stats.fatal)
            continue
        if not source.politeness.obey_robots:
            log.warning("%s: robots.txt NOT obeyed: %s", source.id, source.politeness.robots_override_reason)
        runs.append(run)
        for spider_cls in spiders_for(source):
            process.crawl(Crawler(spider_cls, ScrapySettings(scrapy_settings)), source=source, run=run)
    if runs:
        if progress:
            _start_with_progress(process, runs)
        else:
            process.start()
    for run in runs:
        report.new_batches.extend(run.new_batches)
    return report


def _start_with_progress(process: CrawlerProcess, runs: list[SourceRun]) -> None:
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks = {run.source.id: bar.add_task(run.source.id) for run in runs}

        def refresh() -> None:
            for run in runs:
                s = run.stats
                bar.update(tasks[run.source.id], description=(
                    f"{run.source.id:20} pages {s.pages_fetched + s.pages_not_modified:3}  new {s.archived:4}  "
                    f"seen {s.already_seen:4}  blocked {sum(s.blocked.values()):3}  errors {sum(s.errors.values()):3}"))

        loop = task.LoopingCall(refresh)
        loop.start(0.5)
        try:
            process.start()
        finally:
            if loop.running:
                loop.stop()
            refresh()
