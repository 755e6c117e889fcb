"""Backfill a date range on demand: trigger `mediamon_backfill` with sources, since, until (and paths).

Manual only (no schedule). The backfill runs in a subprocess (`python -m
crawlers.backfill`), resumes where a failed or stopped run left off, and each
batch it commits is processed by a mapped task, as the processing DAG does.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task

from mediamon.ops import scheduling


@dag(
    dag_id="mediamon_backfill",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=scheduling.crawl_task_args(),
    params={
        "sources": Param([], type="array", items={"type": "string"}, description="source ids (empty: all)"),
        "since": Param("2021-11-01", type="string", format="date", description="first day, YYYY-MM-DD"),
        "until": Param("2021-11-30", type="string", format="date", description="last day, YYYY-MM-DD (included)"),
        "paths": Param([], type="array", description="discovery paths (empty: all)",
                       items={"type": "string", "enum": ["sitemap", "list", "wayback", "commoncrawl"]}),
    },
    tags=["mediamon", "crawl", "backfill"],
    doc_md=__doc__,
)
def mediamon_backfill():
    @task
    def backfill(params=None) -> list[str]:
        from datetime import date  # lazy: keeps DAG parsing cheap

        from mediamon.ops.backfill import backfill_in_subprocess  # lazy: as above

        outcome = backfill_in_subprocess(scheduling.task_settings(), list(params["sources"]) or None,
                                         date.fromisoformat(params["since"]), date.fromisoformat(params["until"]),
                                         list(params["paths"]) or None)
        return [str(p) for p in outcome.new_batches]

    @task(max_active_tis_per_dag=2, default_args=scheduling.stage_task_args())
    def process_batch(batch: str) -> dict:
        from mediamon.ops.process import process_one_batch  # lazy: keeps DAG parsing cheap

        return process_one_batch(scheduling.task_settings(), batch)

    process_batch.expand(batch=backfill())


mediamon_backfill()
