"""The production topology (`mediamon stack`): latency through the real scheduler, throughput, memory.

Starts its own stack (3-node TLS cluster, PostgreSQL, Redis, Airflow on Celery)
in a throw-away directory with three sources crawled every 2 minutes, then:

- latency: the first scheduled crawl run's start → the alert delivered to the
  file channel (crawl, asset-triggered processing, asset-triggered alerts, each
  a Celery task), against the schedule's polling interval;
- processing throughput with 1 vs 2 Celery workers of one task slot each (a
  worker host with one core, the crawl DAGs paused): the same number of fresh
  batches processed by one `mediamon_process` run, the 1-worker time as baseline;
- the same batches processed in this process against the 3-node cluster vs the
  single local node (TLS, replication), the local node as baseline;
- the resident memory of every process of the stack, by component.

On a two-core machine shared with other work, two workers cannot double
anything: the ratios show the contention as much as the design. Not a test.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime
from pathlib import Path

import psutil

from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings, load_settings
from mediamon.devtools import localnode
from mediamon.devtools.stack import airflow_services, control, procs
from mediamon.devtools.stack.layout import StackLayout
from mediamon.ops.process import process_one_batch
from mediamon.ops.setup import setup_cluster
from processing.store.indexsetup import setup
from tests.support.es import drop_prefix
from tests.support.invariant import story_batches
from tests.support.stack import STACK_SCHEDULE, STACK_SOURCES, AirflowAPI, stack_config, wait_for

BATCHES, PER_BATCH = 6, 25
TIMEOUT_S = 900


def _setup(settings: Settings) -> None:
    setup_cluster(make_client(settings), settings)


def _memory_mb(layout: StackLayout) -> dict[str, float]:
    """Resident memory per component: the group leader and every descendant (Postgres backends included)."""
    out: dict[str, float] = {}
    for name in control.components():
        pid = procs.running(layout.run_dir, name)
        if pid is None:
            continue
        leader = psutil.Process(pid)
        family = [leader, *leader.children(recursive=True)]
        out[name] = round(sum(p.memory_info().rss for p in family if p.is_running()) / 2**20)
    return out


def _latency(client: Settings, airflow: AirflowAPI) -> float:
    alerts = client.data_dir / "alerts" / "alerts.jsonl"
    sent = wait_for("an alert delivered", lambda: alerts.is_file() and alerts.read_text().splitlines(),
                    timeout=TIMEOUT_S, every=2)
    crawls = [run for s in STACK_SOURCES for run in airflow.runs(f"mediamon_crawl_{s}") if run["start_date"]]
    first = min(datetime.fromisoformat(run["start_date"]) for run in crawls)
    return (datetime.fromisoformat(json.loads(sent[0])["sent_at"]) - first).total_seconds()


def _pause_crawls(airflow: AirflowAPI) -> None:
    for source in STACK_SOURCES:
        airflow.client.patch(f"/dags/mediamon_crawl_{source}", json={"is_paused": True}).raise_for_status()
    wait_for("no crawl or processing run active", lambda: not any(
        run["state"] in ("queued", "running") for dag in [*(f"mediamon_crawl_{s}" for s in STACK_SOURCES),
                                                          "mediamon_process", "mediamon_alerts"]
        for run in airflow.runs(dag)), timeout=TIMEOUT_S, every=3)


def _timed_process_run(airflow: AirflowAPI, client: Settings, first: int) -> float:
    batches = story_batches(client, BATCHES, PER_BATCH, seed=first, first=first)
    started = time.perf_counter()
    run_id = airflow.trigger("mediamon_process", {"batches": [str(b) for b in batches]})
    run = airflow.finished_run("mediamon_process", run_id, timeout=TIMEOUT_S)
    assert run["state"] == "success", run
    return time.perf_counter() - started


def _workers(layout: StackLayout, env: dict[str, str], count: int) -> None:
    """Exactly ``count`` workers running, each with one task slot."""
    procs.stop_all(layout.run_dir, [f"airflow-{w}" for w in ("worker-1", "worker-2")], timeout=30)
    for worker in ("worker-1", "worker-2")[:count]:
        airflow_services.start_component(layout, worker, env, layout.ports(), concurrency=1)
    time.sleep(15)  # the workers connect to the broker


def _in_process(settings: Settings, first: int) -> float:
    es = make_client(settings)
    setup(es, settings, with_roles=False)
    batches = story_batches(settings, BATCHES, PER_BATCH, seed=first, first=first)
    started = time.perf_counter()
    for batch in batches:
        process_one_batch(settings, batch, es=es)
    elapsed = time.perf_counter() - started
    drop_prefix(es, settings.index_prefix)
    return elapsed


def run(report: dict) -> None:
    root = Path(f"/var/tmp/mediamon-bench-stack-{os.getpid()}")
    root.mkdir(mode=0o755, parents=True)
    settings = Settings(stack_dir=root, config_dir=stack_config(root / "config"))
    try:
        control.start(settings, _setup)
        layout = StackLayout.of(settings)
        client = control.client_settings(settings)
        airflow = AirflowAPI(settings)
        latency = _latency(client, airflow)
        memory = _memory_mb(layout)
        _pause_crawls(airflow)
        env = control.airflow_environment(settings)
        _workers(layout, env, 1)
        one = _timed_process_run(airflow, client, 700000)
        _workers(layout, env, 2)
        two = _timed_process_run(airflow, client, 710000)
        records = BATCHES * PER_BATCH
        local = load_settings()
        if not local.es_url or not localnode.is_local(local):
            localnode.start(local)
            local = load_settings()
        single = _in_process(local.model_copy(update={"index_prefix": "benchsingle", "data_dir": root / "single"}),
                             720000)
        cluster = _in_process(client.model_copy(update={"index_prefix": "benchcluster",
                                                        "data_dir": root / "cluster"}), 730000)
    finally:
        control.stop(settings)
    report["stack (production topology)"] = {
        "feed_to_delivered_alert_s": round(latency),
        "polling_interval_s": 120, "schedule": STACK_SCHEDULE,
        "process_run_1_worker_s": round(one, 1), "process_run_2_workers_s": round(two, 1),
        "speedup_2_workers_vs_1": round(one / two, 2),
        "records_per_run": records,
        "records_per_s_1_worker": round(records / one, 2), "records_per_s_2_workers": round(records / two, 2),
        "in_process_single_node_s": round(single, 1), "in_process_3_node_cluster_s": round(cluster, 1),
        "cluster_time_vs_single_node": round(cluster / single, 2),
        "memory_mb_by_component": memory, "memory_mb_total": sum(memory.values()),
        "caveat": "2 cores shared with other work: two workers compete for the same cores",
    }
    shutil.rmtree(root, ignore_errors=True)
