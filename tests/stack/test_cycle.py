"""A scheduled cycle through the real scheduler and Celery workers: the mirror's feed → a delivered alert."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from mediamon.devtools.mirror import catalog
from mediamon.devtools.mirror.corpus import load_corpus
from tests.support.invariant import check_invariant
from tests.support.stack import STACK_SOURCES, AirflowAPI, wait_for

CYCLE_TIMEOUT_S = 480


def _delivered(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def test_a_scheduled_cycle_takes_a_feed_article_to_a_delivered_alert(client: Settings, cluster: Elasticsearch,
                                                                     airflow: AirflowAPI) -> None:
    sent = wait_for("an alert delivered to the file channel", lambda: _delivered(
        client.data_dir / "alerts" / "alerts.jsonl"), timeout=CYCLE_TIMEOUT_S, every=5)[0]
    doc_ids = [i for alert in sent["alerts"] for i in alert["doc_ids"]]
    docs = cluster.mget(index=client.docs_alias, ids=doc_ids).body["docs"]
    assert docs and all(d["found"] for d in docs)
    mirrored = {a.url for a in catalog.build(load_corpus(), faults=False).expected if a.outcome == "archived"}
    assert {d["_source"]["url"] for d in docs} <= mirrored  # articles of the mirror's sites, nothing else

    crawls = [run for s in STACK_SOURCES for run in airflow.runs(f"mediamon_crawl_{s}")]
    assert crawls and all(run["run_type"] == "scheduled" for run in crawls)
    processing = airflow.runs("mediamon_process")
    assert processing and all(run["run_type"] == "asset_triggered" for run in processing)
    # the task writes the alert before its run is marked done: wait for the run, do not race it
    alerting = wait_for("an alerts run to succeed", lambda: [
        run for run in airflow.runs("mediamon_alerts") if run["state"] == "success"], timeout=120, every=2)
    assert alerting[-1]["run_type"] == "asset_triggered"
    workers = {ti["hostname"].split("@")[0] for run in processing
               for ti in airflow.task_instances("mediamon_process", run["dag_run_id"])
               if ti["task_id"] == "process_batch" and ti["state"] == "success"}
    assert workers <= {"worker-1", "worker-2"} and workers, workers

    first_crawl = min(datetime.fromisoformat(run["start_date"]) for run in crawls if run["start_date"])
    latency = datetime.fromisoformat(sent["sent_at"]) - first_crawl
    print(f"feed -> searchable -> alert through the scheduler: {latency.total_seconds():.0f} s")
    wait_for("every process run to finish", lambda: all(
        r["state"] in ("success", "failed") for r in airflow.runs("mediamon_process")), timeout=300, every=5)
    assert all(r["state"] == "success" for r in airflow.runs("mediamon_process"))
    check_invariant(cluster, client)
