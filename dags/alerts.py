"""Evaluate the alert rules each time processing has indexed new documents.

Scheduled on the asset the processing DAG emits; rules live in
config/alerts.yaml (an empty rule set is a valid no-op), delivery and
de-duplication in processing.alerts.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Asset, dag, task

from mediamon.ops import scheduling


@dag(
    dag_id="mediamon_alerts",
    schedule=[Asset(uri=scheduling.DOCS_ASSET_URI, name="mediamon_docs")],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=scheduling.stage_task_args(),
    tags=["mediamon", "alerts"],
)
def mediamon_alerts():
    @task
    def run_alerts() -> dict:
        from mediamon.ops.process import run_alert_rules  # lazy: keeps DAG parsing cheap

        return run_alert_rules(scheduling.task_settings())

    run_alerts()


mediamon_alerts()
