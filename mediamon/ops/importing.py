"""`mediamon import`: foreign WARC/WACZ files into the raw archive, then processed like crawled batches.

The new batches are ordinary committed batches of their sources, so processing
finds them exactly as it finds a crawl's (the ledger decides what is pending);
the seen-store makes a second import of the same file, or a later crawl of the
same articles, add nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from crawlers import settings as crawler_settings
from crawlers.rewrite import parse_rules
from crawlers.warc_import import Importer
from mediamon.core.settings import Settings
from mediamon.core.sources import load_sources
from mediamon.ops.process import as_counts
from processing.runner import process_pending


def import_archives(settings: Settings, files: list[Path], process: bool = True, es: Elasticsearch | None = None,
                    progress: bool = False) -> dict[str, Any]:
    """Import ``files`` and (with ``process``) process every pending batch; the counts of both steps."""
    sources = load_sources(settings.sources_path)
    batch_size = int(settings.crawl_settings.get("MEDIAMON_BATCH_SIZE", crawler_settings.MEDIAMON_BATCH_SIZE))
    importer = Importer(sources, parse_rules(settings.url_rewrite), settings.data_dir / "crawl-state",
                        settings.data_dir / "archive", batch_size)
    try:
        for path in files:
            importer.import_file(path)
    finally:  # what was read before a failure is committed and recorded as seen
        report = importer.finish()
    result: dict[str, Any] = {"import": report.as_dict()}
    if process:
        result["process"] = as_counts(process_pending(settings, es=es, progress=progress))
    return result
