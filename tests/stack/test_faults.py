"""Faults survived, nothing lost: after each, every archived record is a document or quarantined, exactly.

The invariant is tests/support/invariant.py's, checked over the whole archive the
faulted component worked on; the faults are the real thing (SIGKILL of a node's or
a worker's process group, a restart of the scheduler and of Redis).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from mediamon.devtools.stack import airflow_services, broker, control, escluster, procs
from mediamon.devtools.stack.layout import StackLayout
from mediamon.ops.process import process_one_batch
from processing.store.indexsetup import setup
from tests.support.invariant import check_invariant, story_batches
from tests.support.stack import AirflowAPI, wait_for

RUN_TIMEOUT_S = 420


def _kill(layout: StackLayout, name: str) -> None:
    pgid = procs.read_pid(layout.run_dir, name)
    assert pgid is not None and procs.group_members(pgid), f"{name} is not running"
    procs.kill_group(pgid, signal.SIGKILL)


def test_a_data_node_killed_during_bulk_indexing(stack: Settings, client: Settings, cluster: Elasticsearch,
                                                 tmp_path: Path) -> None:
    settings = client.model_copy(update={"index_prefix": "nodefault", "data_dir": tmp_path / "data"})
    settings.data_dir.mkdir()
    setup(cluster, settings, with_roles=False)
    # both copies of the index on node-2 and node-3: node-3's death must cost a copy (the victim holds one),
    # and the lost copy cannot move to node-1, so the cluster stays yellow until node-3 is back
    cluster.indices.put_settings(index=f"{settings.docs_alias}-*",
                                 settings={"index.routing.allocation.include._name": "node-2,node-3"})
    cluster.cluster.health(index=f"{settings.docs_alias}-*", wait_for_status="green",
                           wait_for_no_relocating_shards=True, timeout="120s")
    batches = story_batches(settings, n_batches=6, per_batch=30, seed=3)
    layout = StackLayout.of(stack)
    ports, secrets = layout.ports(), layout.secrets()
    reports: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def index_all() -> None:
        try:
            reports.extend(process_one_batch(settings, batch) for batch in batches)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    indexer = threading.Thread(target=index_all)
    indexer.start()
    wait_for("the first batch indexed", lambda: reports or errors, timeout=300, every=0.2)
    _kill(layout, "es-node-3")
    degraded = wait_for("the cluster to lose node-3", lambda: (h := escluster.health(
        stack, layout, ports, secrets))["number_of_nodes"] == 2 and h, timeout=120, every=0.5)
    assert degraded["status"] == "yellow"  # every primary still somewhere (promoted if need be), a copy missing
    indexer.join(timeout=RUN_TIMEOUT_S)
    assert not errors and len(reports) == len(batches), errors

    escluster.restart_node(stack, layout, "node-3", stack.stack_es_heap)
    escluster.wait_health(stack, layout, ports, secrets, status="green", nodes=3)
    counts = check_invariant(cluster, settings)
    assert counts.documents + counts.quarantined == counts.records == 180


def _running_batch_task(airflow: AirflowAPI, run_id: str) -> dict[str, Any] | None:
    return next((ti for ti in airflow.task_instances("mediamon_process", run_id)
                 if ti["task_id"] == "process_batch" and ti["state"] == "running" and ti["hostname"]), None)


def _process(airflow: AirflowAPI, batches: list[Path]) -> str:
    return airflow.trigger("mediamon_process", {"batches": [str(b) for b in batches]})


def test_a_celery_worker_killed_during_a_processing_task(stack: Settings, client: Settings,
                                                         cluster: Elasticsearch, airflow: AirflowAPI) -> None:
    layout = StackLayout.of(stack)
    run_id = _process(airflow, story_batches(client, n_batches=3, per_batch=30, seed=5, first=910000))
    victim = wait_for("a processing task running on a worker", lambda: _running_batch_task(airflow, run_id),
                      timeout=RUN_TIMEOUT_S, every=0.5)
    worker = victim["hostname"].split("@")[0]
    _kill(layout, f"airflow-{worker}")
    run = airflow.finished_run("mediamon_process", run_id, timeout=RUN_TIMEOUT_S)
    airflow_services.start_component(layout, worker, control.airflow_environment(stack), layout.ports())
    assert run["state"] == "success"
    tries = sorted(airflow.tries("mediamon_process", run_id, "process_batch", victim["map_index"]),
                   key=lambda t: t["try_number"])
    assert len(tries) >= 2 and tries[-1]["state"] == "success"
    assert tries[-1]["hostname"].split("@")[0] != worker  # retried on the worker that was still alive
    check_invariant(cluster, client)


def test_the_scheduler_restarted_mid_run(stack: Settings, client: Settings, cluster: Elasticsearch,
                                         airflow: AirflowAPI) -> None:
    layout = StackLayout.of(stack)
    run_id = _process(airflow, story_batches(client, n_batches=3, per_batch=30, seed=9, first=920000))
    wait_for("a processing task running", lambda: _running_batch_task(airflow, run_id), timeout=RUN_TIMEOUT_S,
             every=0.5)
    _kill(layout, "airflow-scheduler")
    airflow_services.start_component(layout, "scheduler", control.airflow_environment(stack), layout.ports())
    assert airflow.finished_run("mediamon_process", run_id, timeout=RUN_TIMEOUT_S)["state"] == "success"
    check_invariant(cluster, client)


def test_redis_restarted_with_tasks_in_flight(stack: Settings, client: Settings, cluster: Elasticsearch,
                                              airflow: AirflowAPI) -> None:
    layout = StackLayout.of(stack)
    ports, secrets = layout.ports(), layout.secrets()
    run_id = _process(airflow, story_batches(client, n_batches=4, per_batch=30, seed=13, first=930000))
    wait_for("a processing task running", lambda: _running_batch_task(airflow, run_id), timeout=RUN_TIMEOUT_S,
             every=0.5)
    broker.stop(layout)
    broker.start(layout, ports["redis"], secrets["REDIS_PASSWORD"])
    assert airflow.finished_run("mediamon_process", run_id, timeout=RUN_TIMEOUT_S)["state"] == "success"
    check_invariant(cluster, client)
