"""Hourly health: is every source still publishing, and is everything archived also indexed?

Both checks fail the task (loudly, no retries) when they find a gap; the logic
and thresholds live in processing.reports.health.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task

from mediamon.ops import scheduling


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
        "min_silence_hours": Param(6.0, type="number", description="never stale before this long (crawl schedule)"),
        "grace_minutes": Param(60.0, type="number", description="batches younger than this may still be processing"),
    },
    tags=["mediamon", "health"],
)
def mediamon_health():
    @task
    def source_freshness(params=None) -> list[dict]:
        from mediamon.ops.health import source_freshness  # lazy: keeps DAG parsing cheap

        wanted = set(params["sources"])
        sources = [s.source_id for s in scheduling.crawl_schedules() if not wanted or s.source_id in wanted]
        return source_freshness(scheduling.task_settings(), sources, float(params["stale_factor"]),
                                float(params["min_silence_hours"]))

    @task
    def archive_vs_index(params=None) -> list[dict]:
        from mediamon.ops.health import archive_vs_index  # lazy: keeps DAG parsing cheap

        return archive_vs_index(scheduling.task_settings(), list(params["sources"]) or None,
                                float(params["grace_minutes"]))

    source_freshness()
    archive_vs_index()


mediamon_health()
