"""A backfill of a date range in a fresh Python process (as a crawl: one reactor per process), for DAGs and scripts.

``python -m crawlers.backfill`` runs it and prints its report as JSON; stopping,
time limits and failures behave exactly as for ``crawl_in_subprocess``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from crawlers.backfill.progress import PATHS
from crawlers.backfill.window import check_request
from mediamon.core.settings import Settings
from mediamon.ops.crawl import CrawlOutcome, crawl_in_subprocess


def backfill_in_subprocess(settings: Settings, source_ids: list[str] | None, since: date, until: date,
                           paths: list[str] | None = None, timeout: float | None = None, check: bool = True,
                           log_file: Path | None = None, scrapy_settings: dict[str, Any] | None = None
                           ) -> CrawlOutcome:
    """Backfill ``since``..``until`` (days included) for the sources (all when None) by ``paths`` (all when None).

    The outcome's report holds, per source, the counts per discovery path (found,
    out of range, already held, claimed by another path, fetched, failed by reason);
    its ``new_batches`` are processed like a crawl's.
    """
    check_request(since, until, paths, PATHS)  # a clear error here rather than a child's exit code 2
    arguments = ["--since", since.isoformat(), "--until", until.isoformat()]
    for path in paths or []:
        arguments += ["--path", path]
    return crawl_in_subprocess(settings, source_ids, timeout=timeout, check=check, log_file=log_file,
                               scrapy_settings=scrapy_settings, module="crawlers.backfill", arguments=arguments)
