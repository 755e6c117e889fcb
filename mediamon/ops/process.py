"""Processing and alert steps as the DAGs and the CLI call them, returning JSON-ready counts."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.archive import iter_batches
from mediamon.core.durations import parse_when
from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings
from mediamon.ops.logs import counts_line, quiet_request_loggers
from processing.alerts.engine import run_alerts
from processing.runner import process_batch, reprocess
from processing.store import ledger

log = logging.getLogger(__name__)


def as_counts(report: Any) -> dict[str, Any]:
    """A stage report (its ``as_dict()``) as a JSON-ready dict: what XCom and ``--json`` carry."""
    return json.loads(json.dumps(report.as_dict(), default=str))


def batches_to_process(settings: Settings, announced: Iterable[str] = (), force: bool = False,
                       es: Elasticsearch | None = None) -> list[Path]:
    """Announced batches plus every other pending one, oldest first: a lost asset event never loses a batch.

    With ``force`` only the announced batches, done or not (re-running them by hand).
    Batches outside this deployment's archive (an event of another data dir) are ignored.
    """
    quiet_request_loggers()
    archive = (settings.data_dir / "archive").resolve()
    announced_dirs = {Path(p) for p in announced if Path(p).resolve().is_relative_to(archive)}
    if force:
        return sorted(announced_dirs, key=lambda p: p.name)
    found = {*iter_batches(archive), *(p for p in announced_dirs if p.is_dir())}
    done = _done_batches(settings, [p.name for p in found], es)
    pending = sorted((p for p in found if p.name not in done), key=lambda p: p.name)
    log.info("process: %d batch(es) pending of %d in the archive", len(pending), len(found))
    return pending


def _done_batches(settings: Settings, batch_ids: list[str], es: Elasticsearch | None) -> set[str]:
    es = es or make_client(settings)
    ledger.ensure_index(es, settings)
    return ledger.done_batches(es, settings, batch_ids)


def process_one_batch(settings: Settings, batch: str | Path, force: bool = False,
                      es: Elasticsearch | None = None) -> dict[str, Any]:
    """Process one batch and return its counts; a batch already done is skipped unless ``force``."""
    batch_dir = Path(batch)
    if not batch_dir.is_dir():
        raise FileNotFoundError(f"batch {batch_dir} is not in the archive (wrong MEDIAMON_DATA_DIR?)")
    quiet_request_loggers()
    if not force and _done_batches(settings, [batch_dir.name], es):
        log.info("process %s: already done, skipped", batch_dir.name)
        return {"batches_skipped": 1}
    return _logged(f"process {batch_dir.name}", as_counts(process_batch(settings, batch_dir, es=es)))


def merge_counts(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Sum the numeric counts of several batch reports (nested dicts of counts are summed key by key)."""
    total: dict[str, Any] = {}
    for report in reports:
        _add_into(total, report)
    return total


def _add_into(total: dict[str, Any], report: dict[str, Any]) -> None:
    for key, value in report.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            total[key] = total.get(key, 0) + value
        elif isinstance(value, dict):
            _add_into(total.setdefault(key, {}), value)


def _logged(step: str, counts: dict[str, Any]) -> dict[str, Any]:
    log.info("%s", counts_line(step, counts))
    return counts


def run_alert_rules(settings: Settings, es: Elasticsearch | None = None) -> dict[str, Any]:
    quiet_request_loggers()
    return _logged("alerts", as_counts(run_alerts(settings, es=es)))


def reprocess_archive(settings: Settings, since: str | None = None,
                      sources: list[str] | None = None) -> dict[str, Any]:
    """Rebuild documents from the archive; ``since`` is an ISO date or an age such as 7d."""
    quiet_request_loggers()
    return _logged("reprocess", as_counts(reprocess(settings, since=parse_when(since) if since else None,
                                                   sources=sources)))
