"""`mediamon demo`: the whole pipeline offline on the bundled sample sites, and what ended up in the index.

It ends with the analyst report over every sample document: they were
published in 2021, so `mediamon report`'s default last seven days would be empty.
For the same reason alerts are judged as of the newest sample document
(``MEDIAMON_AS_OF=newest-document``): on the wall clock every sample source
would be "silent" for years and every recent window empty.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings, load_settings
from mediamon.devtools import localnode
from mediamon.devtools.mirror.server import MirrorServer
from mediamon.ops.run import RunReport, quiet, run_once
from mediamon.ops.setup import import_kibana_objects, setup_cluster
from processing.reports.digest import WrittenReport, indexed_range, write_report

# The sample sites are ours, on 127.0.0.1: politeness delays protect real sites and would only make the demo wait.
SAMPLE_SITES_SCRAPY = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}


@contextlib.contextmanager
def sample_sites(corpus_dir: Path | None = None) -> Iterator[MirrorServer]:
    """The bundled sample sites on 127.0.0.1; ``mirror.url_rewrite()`` points a crawler at them."""
    with MirrorServer(corpus_dir=corpus_dir, faults=False) as mirror:
        yield mirror


@dataclass
class DemoSummary:
    run: RunReport
    mirror_url: str
    documents: int
    by_source_lang: dict[str, dict[str, int]]
    duplicate_groups: int
    duplicates: int
    narratives: dict[str, int]
    top_alarmist: list[dict[str, Any]]
    alerts_fired: int
    alerts_by_rule: dict[str, int]
    search_examples: list[str]
    report: WrittenReport | None  # None when nothing was indexed
    report_since: datetime | None  # the first publication time, which the report starts from


def demo_crawl_log(settings: Settings) -> Path:
    """Where the demo keeps the crawler's own log, so the terminal shows only progress and the summary."""
    return settings.data_dir / "logs" / f"demo-crawl-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"


def run_demo(settings: Settings, progress: bool = True, crawl_log: Path | None = None,
             corpus_dir: Path | None = None, on_step: Callable[[str], None] = quiet) -> DemoSummary:
    """The whole pipeline offline: local node, setup, sample sites, crawl → process → alerts, summary.

    Everything lives under ``settings.data_dir``; crawl state and batch markers
    persist, so a second demo only does what is new (nothing, on the same sample).
    """
    if not settings.es_url or not localnode.is_local(settings):
        localnode.start(settings, on_step=on_step)
        settings = load_settings(data_dir=settings.data_dir, config_dir=settings.config_dir,
                                 sources_file=settings.sources_file, index_prefix=settings.index_prefix)
    settings = settings.model_copy(update={"as_of": "newest-document"})  # the sample's own time (module doc)
    es = make_client(settings)
    on_step("index template and write alias")
    setup_cluster(es, settings, with_roles=False)  # roles and users are for a shared cluster, not the demo's node
    with sample_sites(corpus_dir) as mirror:
        mirror_url = mirror.base_url
        on_step(f"sample sites served at {mirror_url}")
        report = run_once(settings.model_copy(update={"url_rewrite": mirror.url_rewrite()}), es=es,
                          progress=progress, crawl_log=crawl_log or demo_crawl_log(settings),
                          scrapy_settings=SAMPLE_SITES_SCRAPY, on_step=on_step)
    es.indices.refresh(index=settings.docs_alias)
    if settings.kibana_url:
        kibana, span = import_kibana_objects(es, settings)
        on_step(f"Kibana: {kibana.objects} saved objects"
                + (f"; the dashboard opens on {span[0]:%Y-%m-%d} – {span[1]:%Y-%m-%d}" if span else ""))
    return summarize(es, settings, report, mirror_url)


def demo_report_dir(settings: Settings) -> Path:
    return settings.data_dir / "report"


def summarize(es: Elasticsearch, settings: Settings, report: RunReport, mirror_url: str) -> DemoSummary:
    """What the index holds after the run, from aggregations on the docs alias and the alerts index."""
    body = es.search(index=settings.docs_alias, size=5, track_total_hits=True,
                     sort=[{"alarmism": "desc"}], source=["title", "source", "lang", "alarmism", "alarmism_terms"],
                     # aggregations over every document; only the listed top hits are filtered
                     post_filter={"bool": {"filter": [{"range": {"alarmism": {"gt": 0}}}],
                                           "must_not": [{"term": {"is_duplicate": True}}]}},
                     aggs={
                         "sources": {"terms": {"field": "source", "size": 100},
                                     "aggs": {"langs": {"terms": {"field": "lang", "size": 20}}}},
                         "dups": {"filter": {"term": {"is_duplicate": True}},
                                  "aggs": {"groups": {"cardinality": {"field": "dup_group"}}}},
                         "narratives": {"terms": {"field": "narratives", "size": 20}},
                     }).body
    total = es.count(index=settings.docs_alias)["count"]
    aggs = body["aggregations"]
    indexed = indexed_range(es, settings.docs_alias)
    since = indexed[0] if indexed else None
    alerts_by_rule = {}
    if es.indices.exists(index=settings.alerts_index):
        alerts = es.search(index=settings.alerts_index, size=0, query={"term": {"kind": "alert"}},
                           aggs={"rules": {"terms": {"field": "rule", "size": 100}}}).body
        alerts_by_rule = {b["key"]: b["doc_count"] for b in alerts["aggregations"]["rules"]["buckets"]}
    return DemoSummary(
        run=report,
        mirror_url=mirror_url,
        documents=total,
        by_source_lang={b["key"]: {lb["key"]: lb["doc_count"] for lb in b["langs"]["buckets"]}
                        for b in aggs["sources"]["buckets"]},
        duplicate_groups=aggs["dups"]["groups"]["value"],
        duplicates=aggs["dups"]["doc_count"],
        narratives={b["key"]: b["doc_count"] for b in aggs["narratives"]["buckets"]},
        top_alarmist=[{**hit["_source"], "_id": hit["_id"]} for hit in body["hits"]["hits"]],
        alerts_fired=int(report.alerts.get("fired", 0)),
        alerts_by_rule=alerts_by_rule,
        search_examples=_search_examples(aggs["narratives"]["buckets"]),
        report=write_report(settings, es, since, demo_report_dir(settings)) if since else None,
        report_since=since,
    )


def cli_name() -> str:
    """How to call the CLI from the user's shell: ``mediamon`` when on PATH, else its path (e.g. .venv/bin/mediamon).

    ``make demo`` runs the venv's script without activating the venv, so a bare
    ``mediamon`` in a suggestion would fail as printed.
    """
    script = Path(sys.executable).with_name("mediamon")
    on_path = shutil.which("mediamon")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "mediamon"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def _search_examples(narrative_buckets: list[dict[str, Any]]) -> list[str]:
    cli = cli_name()
    examples = [f"{cli} search 'мигранты граница' --lang ru",
                f"{cli} search 'migrants border' --lang en --no-duplicates",
                f"{cli} search '*' --sort alarmism --limit 10"]
    if narrative_buckets:
        examples.append(f"{cli} search '*' --narrative {narrative_buckets[0]['key']} --since 2021-11-01")
    examples.append(f"{cli} search 'Лукашенко' --source belta-ru --json")
    return examples
