"""One crawl DAG per source of config/sources.yaml, on that source's own schedule.

Scrapy runs in a subprocess (`python -m crawlers --source ID --json`): a Twisted
reactor cannot be restarted inside a long-lived worker. Each new raw batch the
crawl commits becomes one event of the source's asset (batch path in the
event's extra), which is what triggers the processing DAG. A crawl stopped
early (its time limit, a signal) still announces what it committed; the run
then fails in `crawl_complete` with the reason.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Asset, dag, task

from mediamon.ops import scheduling


def crawl_dag(source: scheduling.CrawlSchedule):
    raw_batches = Asset(uri=source.asset_uri, name=f"mediamon_raw_{source.source_id}")

    @dag(
        dag_id=f"mediamon_crawl_{source.source_id}",
        schedule=source.schedule,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args=scheduling.crawl_task_args(),
        tags=["mediamon", "crawl"],
        doc_md=f"Crawl `{source.source_id}` into the raw archive; one `{source.asset_uri}` event per new batch.",
    )
    def crawl_source():
        @task
        def crawl(*, ti=None) -> list[str]:
            from mediamon.ops.crawl import crawl_committed  # lazy: keeps DAG parsing cheap

            batches, interrupted = crawl_committed(scheduling.task_settings(), [source.source_id])
            ti.xcom_push(key="interrupted", value=interrupted)
            return batches

        @task(outlets=[raw_batches], retries=0)
        def announce_batch(batch: str, *, outlet_events=None) -> str:
            outlet_events[raw_batches].extra = {"batch": batch, "source": source.source_id}
            return batch

        @task(retries=0)
        def crawl_complete(*, ti=None) -> None:
            from mediamon.ops.crawl import raise_if_interrupted  # lazy: keeps DAG parsing cheap

            raise_if_interrupted(ti.xcom_pull(task_ids="crawl", key="interrupted"))

        batches = crawl()
        announce_batch.expand(batch=batches)
        batches >> crawl_complete()

    return crawl_source()


for _source in scheduling.crawl_schedules():
    globals()[f"crawl_{_source.source_id.replace('-', '_')}"] = crawl_dag(_source)
