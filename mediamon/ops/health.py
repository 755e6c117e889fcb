"""The health DAG's checks, with the parameters an operator types in the Airflow UI (hours, minutes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mediamon.core.settings import Settings
from processing.reports.health import check_archive_vs_index, check_freshness


def source_freshness(settings: Settings, source_ids: list[str], stale_factor: float,
                     min_silence_hours: float) -> list[dict[str, Any]]:
    """Freshness rows per source; raises naming every source silent for too long."""
    return check_freshness(settings, source_ids, stale_factor=stale_factor,
                           min_silence=timedelta(hours=min_silence_hours))


def archive_vs_index(settings: Settings, sources: list[str] | None, grace_minutes: float) -> list[dict[str, Any]]:
    """Accounting rows per source; raises when archived records are neither indexed nor quarantined."""
    return check_archive_vs_index(settings, only=sources, grace=timedelta(minutes=grace_minutes))
