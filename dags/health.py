"""Hourly health: is every source still publishing, and is everything archived also indexed?

Both checks fail the task (loudly, no retries) when they find a gap; the logic
and thresholds live in processing.health.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task

from mediamon import dagsupport


@dag(
    dag_id="mediamon_health",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0},
    params={
        "sources": Param([], type="array", items={"type": "string"}, description="source ids; empty: all"),
        "stale_factor": Param(3.0, type="number", description="silent for more than this many usual gaps = stale"),
    },
    tags=["mediamon", "health"],
)
def mediamon_health():
    @task
    def source_freshness(params=None) -> list[dict]:
        from processing.health import check_freshness

        return check_freshness(dagsupport.task_settings(), sources_file=dagsupport.sources_file(),
                               only=list(params["sources"]) or None, stale_factor=float(params["stale_factor"]))

    @task
    def archive_vs_index(params=None) -> list[dict]:
        from processing.health import check_archive_vs_index

        return check_archive_vs_index(dagsupport.task_settings(), only=list(params["sources"]) or None)

    source_freshness()
    archive_vs_index()


mediamon_health()
