"""Every DAG run end to end with ``dag.test()``: real Scrapy against the local mirror, real Elasticsearch.

Each pipeline gets its own index prefix and data dir through the same
MEDIAMON_* variables production uses, and a copy of the sources file with
politeness delays zeroed (the mirror is local; politeness is for real sites).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch

from mediamon.core.archive import iter_batches, read_manifest
from mediamon.core.settings import Settings
from mediamon.devtools.mirror.corpus import CORPUS_DIR
from mediamon.devtools.mirror.server import MirrorServer
from processing.quarantine import iter_quarantined
from processing.reports.health import HealthGap, check_freshness
from processing.store.indexsetup import setup
from tests.support.crawl import fast_sources
from tests.support.es import drop_prefix
from tests.support.paths import REPO
from tests.support.recording_server import Hanging, Recorder

SOURCES = ["tass-en", "belta-be"]


@dataclass
class Pipeline:
    settings: Settings
    mirror: MirrorServer
    es: Elasticsearch


@contextmanager
def pipeline(base: Settings, es: Elasticsearch, workdir: Path, corpus_dir: Path | None = None,
             rewrite: str | None = None) -> Iterator[Pipeline]:
    """A fresh prefix + data dir + mirror, exported as MEDIAMON_* for the tasks (and their subprocesses)."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    settings = base.model_copy(update={"index_prefix": prefix, "data_dir": workdir / "data"})
    settings.data_dir.mkdir(parents=True)
    setup(es, settings, with_roles=False)
    with pytest.MonkeyPatch.context() as mp, MirrorServer(corpus_dir=corpus_dir, faults=False) as mirror:
        mp.setenv("MEDIAMON_INDEX_PREFIX", prefix)
        mp.setenv("MEDIAMON_DATA_DIR", str(settings.data_dir))
        mp.setenv("MEDIAMON_LOCAL_ES_DIR", str(base.local_es_dir))
        mp.setenv("MEDIAMON_SOURCES_FILE", str(fast_sources(workdir)))
        mp.setenv("MEDIAMON_URL_REWRITE", rewrite or mirror.url_rewrite())
        # Scrapy's own retries kept short: the test is about Airflow's retries around the crawl.
        mp.setenv("MEDIAMON_CRAWL_SETTINGS", '{"RETRY_TIMES": 1, "MEDIAMON_RETRY_BACKOFF": 0.1}')
        try:
            yield Pipeline(settings, mirror, es)
        finally:
            drop_prefix(es, prefix)


@pytest.fixture(scope="module")
def dags(airflow_db) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags


def run(dags: dict, dag_id: str, **conf):
    """One ``dag.test()`` run; returns the DagRun and its task instances by task id (mapped ones in a list)."""
    dag_run = dags[dag_id].test(run_conf=conf or None)
    instances: dict[str, list] = {}
    for ti in dag_run.get_task_instances():
        instances.setdefault(ti.task_id, []).append(ti)
    return dag_run, instances


def docs_by_source(p: Pipeline) -> dict[str, set[str]]:
    p.es.indices.refresh(index=p.settings.docs_alias)
    hits = p.es.search(index=p.settings.docs_alias, size=1000, source=["url", "source"]).body["hits"]["hits"]
    out: dict[str, set[str]] = {}
    for hit in hits:
        out.setdefault(hit["_source"]["source"], set()).add(hit["_source"]["url"])
    return out


def seq_nos(p: Pipeline) -> dict[str, tuple[int, int]]:
    p.es.indices.refresh(index=p.settings.docs_alias)
    hits = p.es.search(index=p.settings.docs_alias, size=1000, seq_no_primary_term=True).body["hits"]["hits"]
    return {hit["_id"]: (hit["_seq_no"], hit["_primary_term"]) for hit in hits}


@pytest.fixture(scope="module")
def crawled(dags, es_base_settings, es_admin, tmp_path_factory) -> Iterator[Pipeline]:
    """Two sources crawled by their DAGs, then the processing DAG: the state the other tests inspect."""
    with pipeline(es_base_settings, es_admin, tmp_path_factory.mktemp("pipeline")) as p:
        for source in SOURCES:
            dag_run, _ = run(dags, f"mediamon_crawl_{source}")
            assert dag_run.state == "success", source
        dag_run, _ = run(dags, "mediamon_process")
        assert dag_run.state == "success"
        yield p


def test_crawl_dags_archive_and_announce_one_asset_event_per_batch(crawled: Pipeline) -> None:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    batches = list(iter_batches(crawled.settings.data_dir / "archive"))
    assert {read_manifest(b)[0].source for b in batches} == set(SOURCES)
    with create_session() as session:
        events = (session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                  .filter(AssetModel.uri.in_([f"mediamon://archive/{s}" for s in SOURCES])).all())
        announced = {event.extra["batch"] for event in events}
    assert {str(b) for b in batches} <= announced


def test_processing_dag_indexes_every_archived_article(crawled: Pipeline) -> None:
    quarantined = {entry["url"] for entry in iter_quarantined(crawled.settings.data_dir)}
    indexed = docs_by_source(crawled)
    for source in SOURCES:
        expected = {a.url for a in crawled.mirror.expected if a.source == source and a.outcome == "archived"}
        assert expected, source
        assert indexed.get(source, set()) | (quarantined & expected) == expected, source
        assert indexed[source], source


def test_processing_dag_twice_leaves_the_index_unchanged(dags, crawled: Pipeline) -> None:
    before = seq_nos(crawled)
    dag_run, tis = run(dags, "mediamon_process")  # nothing pending: no batch task at all
    assert dag_run.state == "success"
    assert all(ti.state == "skipped" for ti in tis.get("process_batch", []))
    batches = [str(b) for b in iter_batches(crawled.settings.data_dir / "archive")]
    dag_run, tis = run(dags, "mediamon_process", batches=batches, force=True)  # really redo every batch
    assert dag_run.state == "success"
    assert len(tis["process_batch"]) == len(batches) and all(ti.state == "success" for ti in tis["process_batch"])
    assert seq_nos(crawled) == before


def test_alerts_dag_runs_the_rules(dags, crawled: Pipeline) -> None:
    dag_run, tis = run(dags, "mediamon_alerts")
    assert dag_run.state == "success"
    assert crawled.es.indices.exists(index=crawled.settings.alerts_index)
    assert tis["run_alerts"][0].xcom_pull(task_ids="run_alerts")["rules"] > 0


def test_reprocess_dag_rebuilds_one_source_in_place(dags, crawled: Pipeline) -> None:
    before = docs_by_source(crawled)
    dag_run, tis = run(dags, "mediamon_reprocess", sources=["belta-be"], since="")
    assert dag_run.state == "success"
    counts = tis["reprocess"][0].xcom_pull(task_ids="reprocess")
    assert counts["records_in"] == sum(len(read_manifest(b)) for b in iter_batches(
        crawled.settings.data_dir / "archive") if read_manifest(b)[0].source == "belta-be")
    assert counts["created"] == 0 and counts["adds_up"]
    assert docs_by_source(crawled) == before


def test_health_dag_passes_when_every_source_publishes(dags, crawled: Pipeline) -> None:
    dag_run, tis = run(dags, "mediamon_health", sources=SOURCES, grace_minutes=0)
    assert dag_run.state == "success"
    rows = tis["archive_vs_index"][0].xcom_pull(task_ids="archive_vs_index")
    assert {row["source"] for row in rows} == set(SOURCES) and all(row["missing"] == 0 for row in rows)


def test_a_crawl_against_a_failing_site_retries_then_fails(dags, es_base_settings, es_admin, tmp_path) -> None:
    with socket.socket() as sock:  # a port nobody listens on: every request is refused
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pipeline(es_base_settings, es_admin, tmp_path, rewrite=f"https://tass.com={dead}/tass.com"):
        dag_run, tis = run(dags, "mediamon_crawl_tass-en")
    assert dag_run.state == "failed"
    crawl = tis["crawl"][0]
    assert crawl.state == "failed" and crawl.try_number == 2  # MEDIAMON_CRAWL_RETRIES=1 in conftest
    assert tis["announce_batch"][0].state == "upstream_failed"


def test_health_dag_fails_when_a_source_stops_publishing(dags, es_base_settings, es_admin, tmp_path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    (corpus / "belta-be.yaml").unlink()  # the site is up, its feed lists nothing new
    with pipeline(es_base_settings, es_admin, tmp_path, corpus_dir=corpus) as p:
        assert run(dags, "mediamon_crawl_belta-be")[0].state == "success"
        assert run(dags, "mediamon_process")[0].state == "success"
        dag_run, tis = run(dags, "mediamon_health", sources=["belta-be"], grace_minutes=0)
        assert dag_run.state == "failed"
        assert tis["source_freshness"][0].state == "failed"
        assert tis["archive_vs_index"][0].state == "success"
        with pytest.raises(HealthGap, match=r"belta-be: no new document in the last 14.0d"):
            check_freshness(p.settings, ["belta-be"])


def test_backfill_dag_archives_a_range_and_processes_its_batches(dags, es_base_settings, es_admin, tmp_path) -> None:
    with pipeline(es_base_settings, es_admin, tmp_path) as p, pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDIAMON_CRAWL_SETTINGS", '{"RETRY_TIMES": 1, "MEDIAMON_ARCHIVE_DOWNLOAD_DELAY": 0}')
        dag_run, tis = run(dags, "mediamon_backfill", sources=["rt-ru"], since="2021-11-01", until="2021-11-30",
                           paths=[])
        assert dag_run.state == "success"
        batches = tis["backfill"][0].xcom_pull(task_ids="backfill")
        assert batches and len(tis["process_batch"]) == len(batches)
        assert all(ti.state == "success" for ti in tis["process_batch"])
        november = (date(2021, 11, 1), date(2021, 11, 30))
        assert docs_by_source(p) == {"rt-ru": p.mirror.archives.expected_backfill(["rt-ru"], *november)}


def test_a_crawl_stopped_by_its_time_limit_announces_what_it_committed_then_fails(
        dags, es_base_settings, es_admin, tmp_path) -> None:
    """tass-en pointed at a site whose feed answers and whose sitemap never does: the crawl runs until its limit."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    from tests.reliability.test_crawl_loops_and_stops import FAST, HANG, committed_urls, feed_site, source

    release = threading.Event()
    site = Recorder(Hanging(feed_site(HANG), "/sitemap.xml", release, wait_s=120))
    sources_path = tmp_path / "hanging-sources.yaml"
    sources_path.write_text(yaml.safe_dump({"sources": [{**source(HANG, ["/sitemap.xml"]), "id": "tass-en"}]}))
    try:
        with pipeline(es_base_settings, es_admin, tmp_path, rewrite=f"https://{HANG}=http://127.0.0.1:{site.port}/{HANG}"
                      ) as p, pytest.MonkeyPatch.context() as mp:
            mp.setenv("MEDIAMON_SOURCES_FILE", str(sources_path))
            mp.setenv("MEDIAMON_CRAWL_TIMEOUT_S", "60")  # the crawl stops itself after half of it (30 s)
            mp.setenv("MEDIAMON_CRAWL_SETTINGS", json.dumps(FAST))
            dag_run, tis = run(dags, "mediamon_crawl_tass-en")
            batches = list(iter_batches(p.settings.data_dir / "archive"))
    finally:
        release.set()
        site.close()
    assert committed_urls(batches) == [f"https://{HANG}/a/{i}" for i in range(3)]
    assert tis["crawl"][0].state == "success"
    assert [ti.state for ti in tis["announce_batch"]] == ["success"] * len(batches)
    with create_session() as session:
        events = (session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                  .filter(AssetModel.uri == "mediamon://archive/tass-en").all())
        assert {str(b) for b in batches} <= {event.extra["batch"] for event in events}
    assert tis["crawl_complete"][0].state == "failed" and dag_run.state == "failed"
