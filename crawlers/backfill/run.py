"""A backfill: every selected source, its discovery paths in phases, all in one CrawlerProcess.

Phases, one after the other per source (sources run side by side):

1. the live paths, ``sitemap`` and ``list`` together (they share claims: an article
   both list is fetched once);
2. ``wayback``: Wayback Machine captures of what phase 1 did not archive (never
   fetched live, out of the live site's lists, or refused by it);
3. ``commoncrawl``: Common Crawl records of what is still missing.

Each phase starts once the previous one's batch is committed, so a later
phase sees the earlier one's articles as already held. Live requests keep the
source's politeness; the archive phases keep ``MEDIAMON_ARCHIVE_DOWNLOAD_DELAY`` /
``MEDIAMON_ARCHIVE_CONCURRENCY`` towards the archives' hosts (robots.txt, retries and
AutoThrottle as in every crawl). SIGTERM/SIGINT stop it as they stop a crawl.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings as ScrapySettings
from twisted.internet.defer import DeferredList

from crawlers.backfill.backfill_run import BackfillRun
from crawlers.backfill.progress import PATHS
from crawlers.backfill.spiders import SPIDERS
from crawlers.backfill.window import DateWindow, check_request
from crawlers.rewrite import parse_rules
from crawlers.run import GracefulStop, browser_ready, open_process, source_settings, start_with_progress
from mediamon.core.settings import Settings
from mediamon.core.sources import Source, load_sources, select

log = logging.getLogger(__name__)
PHASES: tuple[tuple[str, ...], ...] = (("sitemap", "list"), ("wayback",), ("commoncrawl",))


@dataclass
class BackfillReport:
    since: date
    until: date
    sources: dict[str, BackfillRun] = field(default_factory=dict)
    new_batches: list[Path] = field(default_factory=list)
    interrupted: str | None = None

    @property
    def failed_sources(self) -> list[str]:
        return [sid for sid, run in self.sources.items() if run.report()["failed"]]

    def adds_up(self) -> bool:
        return all(run.report()["adds_up"] for run in self.sources.values())

    def as_dict(self) -> dict[str, Any]:
        return {"since": f"{self.since}", "until": f"{self.until}",
                "sources": {sid: run.report() for sid, run in self.sources.items()},
                "new_batches": [str(p) for p in self.new_batches], "failed_sources": self.failed_sources,
                "archived": sum(run.report()["archived"] for run in self.sources.values()),
                "adds_up": self.adds_up(), "interrupted": self.interrupted}


def paths_for(source: Source, wanted: list[str]) -> list[str]:
    """The paths a source can be backfilled by: its sitemaps, its lists, and the archives (for every source)."""
    has = {"sitemap": bool(source.discovery.sitemaps), "list": bool(source.discovery.lists),
           "wayback": True, "commoncrawl": True}
    return [p for p in wanted if has[p]]


def archive_politeness(scrapy_settings: dict[str, Any]) -> dict[str, Any]:
    """The politeness owed to the archives' hosts, in place of the source's (robots.txt obeyed there too)."""
    delay = float(scrapy_settings["MEDIAMON_ARCHIVE_DOWNLOAD_DELAY"])
    concurrency = int(scrapy_settings["MEDIAMON_ARCHIVE_CONCURRENCY"])
    return {"DOWNLOAD_DELAY": delay, "AUTOTHROTTLE_START_DELAY": max(delay, 0.1),
            "AUTOTHROTTLE_TARGET_CONCURRENCY": float(concurrency), "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "ROBOTSTXT_OBEY": True, "MEDIAMON_RENDER": "plain"}  # an archive serves the bytes it captured: no browser


def phase_settings(scrapy_settings: dict[str, Any], phase: int) -> ScrapySettings:
    """A phase's crawler settings. The archive phases' politeness is set above the process-wide overrides
    (``--set DOWNLOAD_DELAY=...`` is the live sites'): MEDIAMON_ARCHIVE_* are the archives' knobs."""
    settings = ScrapySettings(scrapy_settings)
    if phase > 0:
        settings.setdict(archive_politeness(scrapy_settings), priority="spider")
    return settings


def backfill(settings: Settings, source_ids: list[str] | None, since: date, until: date,
             paths: list[str] | None = None, overrides: dict[str, Any] | None = None,
             progress: bool = False) -> BackfillReport:
    """Backfill the selected sources for ``since``..``until`` (days included); raises ConfigError on bad input."""
    check_request(since, until, paths, PATHS)
    wanted = list(paths or PATHS)
    sources = select(load_sources(settings.sources_path), source_ids, settings.sources_path)
    parse_rules(settings.url_rewrite)
    archive_dir, state_root = settings.data_dir / "archive", settings.data_dir / "crawl-state"
    process, overrides = open_process(settings, overrides)
    report = BackfillReport(since, until)
    runs: list[BackfillRun] = []
    per_source: dict[str, dict[str, Any]] = {}
    stop_wait = 0.0
    for source in sources:
        scrapy_settings = per_source[source.id] = source_settings(source, settings, overrides)
        stop_wait = float(scrapy_settings["MEDIAMON_STOP_WAIT"])
        window = DateWindow(since, until, ZoneInfo(source.timezone))
        run = BackfillRun(source, state_root, archive_dir, int(scrapy_settings["MEDIAMON_BATCH_SIZE"]), window,
                          paths_for(source, wanted))
        report.sources[source.id] = run
        if not run.open():
            log.error("%s: %s", source.id, run.stats.fatal)
            continue
        if not browser_ready(source, settings, scrapy_settings, run):  # its live pages need the browser
            continue
        runs.append(run)
    if runs:
        GracefulStop(process, runs, report, stop_wait).install()  # type: ignore[arg-type]  # has .interrupted
        pending = set(runs)

        def done(run: BackfillRun) -> None:
            run.finish()
            pending.discard(run)
            if not pending:
                from twisted.internet import reactor  # lazy: installed by open_process

                with contextlib.suppress(RuntimeError):  # already stopping (a signal)
                    reactor.stop()

        for run in runs:
            _phases(process, run, per_source[run.source.id], 0, done)
        if progress:
            start_with_progress(process, runs, _progress_line, stop_after_crawl=False)
        else:
            process.start(stop_after_crawl=False, install_signal_handlers=False)
    for run in runs:
        run.finish()  # a no-op unless the reactor stopped before the phases ended
        report.new_batches.extend(run.new_batches)
    return report


def _progress_line(run: BackfillRun) -> str:
    paths = run.paths.values()
    failed = sum(sum(s.failed.values()) for s in paths)
    return (f"{run.source.id:20} {'+'.join(sorted(run.phase_paths)) or '-':12} "
            f"pages {sum(s.pages_fetched + s.pages_resumed for s in paths):4}  "
            f"fetched {sum(s.fetched for s in paths):5}  held {sum(s.already_held for s in paths):5}  "
            f"out of range {sum(s.out_of_range for s in paths):5}  failed {failed:4}")


def _phases(process: CrawlerProcess, run: BackfillRun, scrapy_settings: dict[str, Any], phase: int,
            done: Any) -> None:
    """Start phase ``phase`` of ``run``'s backfill; when its spiders close, the next; then ``done(run)``."""
    if run.stopped or phase >= len(PHASES):
        done(run)
        return
    run.new_phase()
    names = [p for p in PHASES[phase] if p in run.paths]
    run.phase_paths = set(names)
    started = [process.crawl(Crawler(SPIDERS[name], phase_settings(scrapy_settings, phase)), source=run.source,
                             run=run) for name in names]
    if not started:
        _phases(process, run, scrapy_settings, phase + 1, done)
        return
    DeferredList(started, consumeErrors=True).addBoth(
        lambda _: _phases(process, run, scrapy_settings, phase + 1, done))
