"""`mediamon run`: crawl → process → alerts once, the way the DAGs chain them through assets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from mediamon.ops.crawl import crawl_in_subprocess
from mediamon.ops.process import as_counts
from processing.alerts.engine import run_alerts
from processing.runner import process_pending


def quiet(_line: str) -> None:
    """The default ``on_step``: no status lines (the DAGs and --json runs log their counts instead)."""


@dataclass
class RunReport:
    crawl: dict[str, Any] = field(default_factory=dict)
    process: dict[str, Any] = field(default_factory=dict)
    alerts: dict[str, Any] = field(default_factory=dict)
    failed_sources: list[str] = field(default_factory=list)


def run_once(settings: Settings, source_ids: list[str] | None = None, es: Elasticsearch | None = None,
             progress: bool = True, crawl_log: Path | None = None,
             scrapy_settings: dict[str, Any] | None = None, on_step: Callable[[str], None] = quiet) -> RunReport:
    """Crawl → process → alerts, once, all three with the same ``settings`` (sources file included).

    A failed source does not stop the others' batches from being processed and
    alerted on; the caller decides what a failed source means (exit code 1).
    """
    on_step(f"crawling {', '.join(source_ids) if source_ids else 'every source'}"
            + (f" (crawler log: {crawl_log})" if crawl_log else ""))
    crawled = crawl_in_subprocess(settings, source_ids, progress=progress and crawl_log is None, check=False,
                                  log_file=crawl_log, scrapy_settings=scrapy_settings)
    on_step(f"crawled: {len(crawled.new_batches)} new batch(es); processing them")
    process_report = process_pending(settings, es=es, progress=progress)
    on_step("evaluating the alert rules")
    alerts_report = run_alerts(settings, es=es)
    return RunReport(crawled.report, as_counts(process_report), as_counts(alerts_report), crawled.failed_sources)
