"""Process new raw batches into Elasticsearch, triggered by the crawl DAGs' assets.

Each batch is one mapped task instance, so one bad batch fails alone and is
retried alone. Processing is idempotent (a batch already marked done is a
no-op), so a run triggered twice, or by hand, changes nothing the second time.
A manual run processes every pending batch, or (params) the listed batches,
even done ones with ``force`` — their unchanged documents are not rewritten.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Asset, AssetAny, Param, dag, task

from mediamon.ops import scheduling

raw_batches = [Asset(uri=s.asset_uri, name=f"mediamon_raw_{s.source_id}") for s in scheduling.crawl_schedules()]
indexed_docs = Asset(uri=scheduling.DOCS_ASSET_URI, name="mediamon_docs")


@dag(
    dag_id="mediamon_process",
    schedule=AssetAny(*raw_batches),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=scheduling.stage_task_args(),
    params={
        "batches": Param([], type="array", items={"type": "string"}, description="batch dirs to process"),
        "force": Param(False, type="boolean", description="process the listed batches even when done"),
    },
    tags=["mediamon", "processing"],
)
def mediamon_process():
    @task
    def batches_to_process(triggering_asset_events=None, params=None) -> list[str]:
        from mediamon.ops.process import batches_to_process  # lazy: keeps DAG parsing cheap

        announced = [event.extra.get("batch") for events in (triggering_asset_events or {}).values()
                     for event in events] + list(params["batches"])
        return [str(p) for p in batches_to_process(scheduling.task_settings(), [b for b in announced if b],
                                                   force=bool(params["force"]))]

    @task(max_active_tis_per_dag=2)
    def process_batch(batch: str, params=None) -> dict:
        from mediamon.ops.process import process_one_batch  # lazy: keeps DAG parsing cheap

        return process_one_batch(scheduling.task_settings(), batch, force=bool(params["force"]))

    @task(outlets=[indexed_docs])
    def indexed(reports: list[dict], *, outlet_events=None) -> dict:
        from mediamon.ops.process import merge_counts  # lazy: keeps DAG parsing cheap

        total = merge_counts(reports)
        outlet_events[indexed_docs].extra = {"batches": len(reports), **total}
        return total

    indexed(process_batch.expand(batch=batches_to_process()))


mediamon_process()
