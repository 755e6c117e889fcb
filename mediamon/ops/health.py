"""The health DAG's checks, with the parameters an operator types in the Airflow UI (hours, minutes).

Each check logs one line with its counts (a gap fails the task with the
message naming every source); the clients' request lines stay out of the log.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import Any

from mediamon.core.settings import Settings
from mediamon.ops.logs import counts_line, quiet_request_loggers
from processing.reports.health import check_archive_vs_index, check_freshness

log = logging.getLogger(__name__)


def source_freshness(settings: Settings, source_ids: list[str], stale_factor: float,
                     min_silence_hours: float) -> list[dict[str, Any]]:
    """Freshness rows per source; raises naming every source silent for too long."""
    quiet_request_loggers()
    rows = check_freshness(settings, source_ids, stale_factor=stale_factor,
                           min_silence=timedelta(hours=min_silence_hours))
    judged = [r for r in rows if not r["reason"].startswith("not judged")]
    log.info("%s", counts_line("freshness", {"sources": len(rows), "fresh": len(judged),
                                             "not judged (outside the replayed data)": len(rows) - len(judged)}))
    return rows


def archive_vs_index(settings: Settings, sources: list[str] | None, grace_minutes: float) -> list[dict[str, Any]]:
    """Accounting rows per source; raises when archived records are neither indexed nor quarantined."""
    quiet_request_loggers()
    rows = check_archive_vs_index(settings, only=sources, grace=timedelta(minutes=grace_minutes))
    totals = Counter({"sources": len(rows)})
    for row in rows:
        totals.update({k: row[k] for k in ("archived", "indexed", "quarantined")})
    log.info("%s", counts_line("archive vs index", dict(totals)))
    return rows
