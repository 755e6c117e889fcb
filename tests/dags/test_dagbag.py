"""The DAG files parse cleanly and declare the expected wiring: tasks, schedules, assets, retries."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest

from mediamon.core.sources import load_sources
from tests.support.paths import REPO

SOURCES = load_sources(REPO / "config" / "sources.yaml")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_every_dag_file_imports_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}


def test_one_crawl_dag_per_source_and_the_pipeline_dags(dagbag) -> None:
    expected = {f"mediamon_crawl_{s.id}" for s in SOURCES} | {
        "mediamon_process", "mediamon_alerts", "mediamon_reprocess", "mediamon_health", "mediamon_backfill"}
    assert set(dagbag.dag_ids) == expected


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.id)
def test_crawl_dag_runs_on_the_source_schedule_and_announces_batches(dagbag, source) -> None:
    from airflow.sdk import Asset

    dag = dagbag.dags[f"mediamon_crawl_{source.id}"]
    assert set(dag.task_ids) == {"crawl", "announce_batch", "crawl_complete"}
    if source.schedule[-1] in "smhd":
        amount, unit = int(source.schedule[:-1]), source.schedule[-1]
        expected = timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
        assert dag.schedule == expected
    else:
        assert dag.schedule == source.schedule
    crawl, announce = dag.get_task("crawl"), dag.get_task("announce_batch")
    # a crawl stopped early announces what it committed; the run then fails in crawl_complete, never retried
    complete = dag.get_task("crawl_complete")
    assert complete.upstream_task_ids == {"crawl"} and complete.retries == 0
    assert crawl.retries == 1 and crawl.retry_exponential_backoff  # MEDIAMON_CRAWL_RETRIES in conftest
    assert crawl.execution_timeout == timedelta(seconds=300)
    assert announce.outlets == [Asset(uri=f"mediamon://archive/{source.id}", name=f"mediamon_raw_{source.id}")]
    assert dag.max_active_runs == 1 and not dag.catchup


def test_processing_is_triggered_by_every_source_asset_and_maps_over_batches(dagbag) -> None:
    dag = dagbag.dags["mediamon_process"]
    triggers = {asset.uri for asset in dag.timetable.asset_condition.objects}
    assert triggers == {f"mediamon://archive/{s.id}" for s in SOURCES}
    assert set(dag.task_ids) == {"batches_to_process", "process_batch", "indexed"}
    assert dag.get_task("process_batch").is_mapped
    assert [a.uri for a in dag.get_task("indexed").outlets] == ["mediamon://index/docs"]
    assert dag.get_task("batches_to_process").downstream_task_ids == {"process_batch"}


def test_alerts_follow_processing(dagbag) -> None:
    dag = dagbag.dags["mediamon_alerts"]
    assert {a.uri for a in dag.timetable.asset_condition.objects} == {"mediamon://index/docs"}
    assert dag.task_ids == ["run_alerts"]


def test_reprocess_is_manual_with_since_and_sources(dagbag) -> None:
    dag = dagbag.dags["mediamon_reprocess"]
    assert dag.schedule is None
    assert set(dag.params) == {"since", "sources"}
    assert dag.params["since"] == "" and dag.params["sources"] == []


def test_backfill_is_manual_with_sources_range_and_paths_and_processes_what_it_archived(dagbag) -> None:
    dag = dagbag.dags["mediamon_backfill"]
    assert dag.schedule is None
    assert set(dag.params) == {"sources", "since", "until", "paths"}
    assert dag.get_task("backfill").downstream_task_ids == {"process_batch"}


def test_health_runs_hourly_without_retries(dagbag) -> None:
    dag = dagbag.dags["mediamon_health"]
    assert dag.schedule == "@hourly"
    assert set(dag.task_ids) == {"source_freshness", "archive_vs_index"}
    assert all(task.retries == 0 for task in dag.tasks)


def test_parsing_imports_nothing_heavy() -> None:
    """The dag-processor parses these files every few seconds: no Scrapy, no ES client, no processing stages.

    Measured against what ``airflow.sdk`` itself loads, so only the DAG files' own imports count.
    """
    probe = (
        "import json, runpy, sys, pathlib\n"
        "import airflow.sdk\n"
        "baseline = set(sys.modules)\n"
        f"for f in sorted(pathlib.Path({str(REPO / 'dags')!r}).glob('*.py')):\n"
        "    runpy.run_path(str(f))\n"
        "heavy = ('scrapy', 'twisted', 'trafilatura', 'pymorphy3', 'elasticsearch', 'processing', 'datasketch')\n"
        "print(json.dumps(sorted(m for m in set(sys.modules) - baseline if m.split('.')[0] in heavy)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
