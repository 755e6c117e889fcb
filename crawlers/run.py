"""One crawl: every selected source, each discovery method a Scrapy crawler, all in one CrawlerProcess.

The Twisted reactor starts once per process and cannot restart, so ``crawl``
is called once per process; Airflow and tests run ``python -m crawlers`` in a
subprocess.

SIGTERM or SIGINT (a time limit, Airflow stopping the task, Ctrl-C) stops the
crawl gracefully: every open batch is committed at once, then the spiders close
(committing what arrives meanwhile) for at most ``MEDIAMON_STOP_WAIT`` seconds,
and the report is printed. A repeated signal within a moment of the first is the
same stop delivered twice (to the process group and forwarded by the parent); a
later one ends the process at once, the committed batches safe.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings as ScrapySettings
from scrapy.utils.ossignal import install_shutdown_handlers, signal_names
from scrapy.utils.reactor import install_reactor, is_asyncio_reactor_installed, is_reactor_installed
from twisted.internet import task

from crawlers import settings as project_settings
from crawlers.crawl_state import SourceRun
from crawlers.rendering import browser_missing
from crawlers.revisit import now_setting
from crawlers.rewrite import parse_rules
from crawlers.spiders import FeedSpider, ListingSpider, SitemapSpider, TelegramSpider
from crawlers.spiders.base import SourceSpider
from crawlers.spiders.revisit import RevisitSpider
from crawlers.stats import CrawlReport
from mediamon.core.settings import Settings
from mediamon.core.sources import Source, load_sources, select

log = logging.getLogger(__name__)
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REPEAT_WINDOW_S = 2.0  # a second signal this soon after the first is the same stop, delivered twice


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
    if source.revisits.enabled:
        chosen.append(RevisitSpider)  # last: it waits for the others (new articles first)
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
        "MEDIAMON_RENDER": source.render,
    })
    if source.needs_browser:  # only then: a plain source never loads the browser's download handler
        scrapy_settings.update({
            "DOWNLOAD_HANDLERS": project_settings.RENDER_DOWNLOAD_HANDLERS,
            "MEDIAMON_BROWSER_PATH": str(settings.browser_path),
            "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": str(settings.browser_path), "headless": True},
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
    process, overrides = open_process(settings, overrides)
    report = CrawlReport()
    runs: list[SourceRun] = []
    stop_wait = 0.0
    for source in sources:
        scrapy_settings = source_settings(source, settings, overrides)
        stop_wait = float(scrapy_settings["MEDIAMON_STOP_WAIT"])  # not a politeness setting: the same for all
        run = SourceRun(source, state_root, archive_dir, int(scrapy_settings["MEDIAMON_BATCH_SIZE"]),
                        page_budget=int(scrapy_settings["MEDIAMON_MAX_DISCOVERY_PAGES"]),
                        clock=now_setting(scrapy_settings.get("MEDIAMON_REVISIT_NOW")))
        report.sources[source.id] = run.stats
        if not run.open():
            log.error("%s: %s", source.id, run.stats.fatal)
            continue
        if not browser_ready(source, settings, scrapy_settings, run):
            continue
        if not source.politeness.obey_robots:
            log.warning("%s: robots.txt NOT obeyed: %s", source.id, source.politeness.robots_override_reason)
        runs.append(run)
        run.spider_count = len(spiders_for(source))
        for spider_cls in spiders_for(source):
            process.crawl(Crawler(spider_cls, ScrapySettings(scrapy_settings)), source=source, run=run)
    if runs:
        GracefulStop(process, runs, report, stop_wait).install()
        if progress:
            start_with_progress(process, runs)
        else:
            process.start(install_signal_handlers=False)
    for run in runs:
        run.finish()  # a no-op unless the reactor stopped before every spider closed
        report.new_batches.extend(run.new_batches)
    return report


def open_process(settings: Settings, overrides: dict[str, Any] | None) -> tuple[CrawlerProcess, dict[str, Any]]:
    """The process's one CrawlerProcess (its reactor installed), and ``overrides`` with the reactor setting."""
    overrides = overrides or {}
    # The process settings are merged into every crawler's: only process-wide ones belong here. When the
    # caller (the mediamon CLI, Airflow) already configured logging, Scrapy must not add a second root handler.
    if not is_reactor_installed():  # once per process; each source's crawlers then share it
        install_reactor(ASYNCIO_REACTOR)
    # A host that imported another reactor first keeps it: the middlewares only await Deferreds.
    overrides = {"TWISTED_REACTOR": ASYNCIO_REACTOR if is_asyncio_reactor_installed() else None, **overrides}
    own_logging = not logging.root.handlers
    log_level = {"LOG_LEVEL": project_settings.LOG_LEVEL, **settings.crawl_settings, **overrides}["LOG_LEVEL"]
    process = CrawlerProcess(ScrapySettings({"TELNETCONSOLE_ENABLED": False, "LOG_INSTALL_ROOT_HANDLER": own_logging,
                                             **overrides, "LOG_LEVEL": log_level}))
    if not own_logging:  # Scrapy set its loggers to DEBUG; follow the caller's level instead
        logging.getLogger("scrapy").setLevel(logging.root.level)
    OneLinePerFailure.install(verbose=logging.getLevelName(log_level) in (logging.DEBUG, "DEBUG"))
    return process, overrides


def browser_ready(source: Source, settings: Settings, scrapy_settings: dict[str, Any], run: SourceRun) -> bool:
    """False (the source failed, saying how to install Chromium) when a source that always renders has no browser.

    A ``render: on_challenge`` source still crawls without one: its challenge pages are counted blocked.
    """
    missing = browser_missing(settings.browser_path) if source.needs_browser else None
    if missing is None:
        return True
    if not source.always_renders:
        log.error("%s: %s; its JavaScript challenges are counted blocked", source.id, missing)
        scrapy_settings["MEDIAMON_RENDER"] = "plain"
        return True
    run.stats.fatal = missing
    log.error("%s: %s", source.id, missing)
    run.finish()
    return False


class OneLinePerFailure(logging.Filter):
    """A failed download is one log line (our errback's, with its reason); Scrapy's traceback only at DEBUG.

    A site that does not resolve would otherwise print, per request, Scrapy's
    "Gave up retrying" and, for robots.txt, a 30-line traceback of the DNS error.
    """

    LOGGERS = ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == self.LOGGERS[0]:
            return False  # the request's errback logs it, with its reason, and counts it
        record.exc_info, record.exc_text = None, None  # the message already names the error
        return True

    @classmethod
    def install(cls, verbose: bool) -> None:
        for name in cls.LOGGERS:
            logger = logging.getLogger(name)
            for existing in [f for f in logger.filters if isinstance(f, cls)]:
                logger.removeFilter(existing)
            if not verbose:
                logger.addFilter(cls())


class GracefulStop:
    """The crawl's SIGTERM/SIGINT handler, in place of Scrapy's.

    Scrapy's graceful stop commits nothing until the requests in flight are
    answered or time out, and whoever sent the signal may kill us first: the
    open batches are committed the moment the reactor sees the signal.
    """

    def __init__(self, process: CrawlerProcess, runs: list[SourceRun], report: CrawlReport, wait: float) -> None:
        self.process, self.runs, self.report, self.wait = process, runs, report, wait
        self.first_at: float | None = None

    def install(self) -> None:
        install_shutdown_handlers(self._signalled)

    def _signalled(self, signum: int, _frame: FrameType | None) -> None:
        from twisted.internet import reactor  # lazy: crawl() installed the reactor before this can run

        if self.first_at is None:
            self.first_at = time.monotonic()
            reactor.callFromThread(self._stop, signum)
        elif time.monotonic() - self.first_at > REPEAT_WINDOW_S:
            install_shutdown_handlers(signal.SIG_DFL)
            signal.raise_signal(signum)

    def _stop(self, signum: int) -> None:
        from twisted.internet import reactor  # lazy: crawl() installed the reactor before this can run

        self.report.interrupted = signal_names[signum]
        log.warning("%s received: committing the open batches, then closing the spiders", self.report.interrupted)
        for run in self.runs:
            run.interrupt()
        self.process.stop()
        # Closing waits for the requests in flight (a hanging site: DOWNLOAD_TIMEOUT). Past the wait the
        # reactor stops without them; crawl() then commits and counts them ``interrupted``.
        reactor.callLater(self.wait, self._stop_reactor)

    @staticmethod
    def _stop_reactor() -> None:
        from twisted.internet import reactor  # lazy: crawl() installed the reactor before this can run

        with contextlib.suppress(RuntimeError):  # already stopping: the spiders closed in time
            reactor.stop()


def _crawl_line(run: SourceRun) -> str:
    s = run.stats
    return (f"{run.source.id:20} pages {s.pages_fetched + s.pages_not_modified:3}  new {s.archived:4}  "
            f"seen {s.already_seen:4}  blocked {sum(s.blocked.values()):3}  errors {sum(s.errors.values()):3}")


def start_with_progress(process: CrawlerProcess, runs: list[Any], describe: Callable[[Any], str] = _crawl_line,
                        stop_after_crawl: bool = True) -> None:
    """Run the process with one live status line per source (``describe(run)``) on stderr."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks = {run.source.id: bar.add_task(run.source.id) for run in runs}

        def refresh() -> None:
            for run in runs:
                bar.update(tasks[run.source.id], description=describe(run))

        loop = task.LoopingCall(refresh)
        loop.start(0.5)
        try:
            process.start(stop_after_crawl=stop_after_crawl, install_signal_handlers=False)
        finally:
            if loop.running:
                loop.stop()
            refresh()
