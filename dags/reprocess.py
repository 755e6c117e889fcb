"""Rebuild documents from the raw archive (after a fix to extraction or enrichment).

Manual only. Params: ``since`` (ISO date or an age such as 7d; empty = the whole
archive) and ``sources`` (source ids; empty = all). Documents are overwritten
in place by id, so a rebuild never duplicates anything.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task

from mediamon.ops import scheduling


@dag(
    dag_id="mediamon_reprocess",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=scheduling.stage_task_args(),
    params={
        "since": Param("", type="string", description="ISO date or age (7d, 12h); empty: whole archive"),
        "sources": Param([], type="array", items={"type": "string"}, description="source ids; empty: all"),
    },
    tags=["mediamon", "processing", "backfill"],
)
def mediamon_reprocess():
    @task
    def reprocess(params=None) -> dict:
        from mediamon.ops.process import reprocess_archive  # lazy: keeps DAG parsing cheap

        return reprocess_archive(scheduling.task_settings(), since=params["since"] or None,
                                 sources=list(params["sources"]) or None)

    reprocess()


mediamon_reprocess()
