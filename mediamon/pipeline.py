"""The stages composed: what `mediamon run`, `mediamon demo` and the Airflow tasks call.

One function per orchestration step, each a thin call into crawlers/ or
processing/ that returns JSON-ready counts (Airflow passes them as XCom, the
CLI prints them). `run_once` chains crawl → process → alerts the way the DAGs
chain them through assets; the demo adds the local node, the sample sites and
a summary of what ended up in the index. No pipeline rule lives here.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.settings import Settings


class CrawlFailed(RuntimeError):
    """The crawler subprocess failed; the message carries its exit code and the failed sources' errors."""


class CrawlConfigError(ValueError):
    """The crawler refused its configuration (exit code 2); its message is on stderr, above."""


def as_counts(report: Any) -> dict[str, Any]:
    """A stage report (its ``as_dict()``) as a JSON-ready dict: what XCom and ``--json`` carry."""
    return json.loads(json.dumps(report.as_dict(), default=str))


# --- crawl ------------------------------------------------------------------------


@dataclass
class CrawlOutcome:
    report: dict[str, Any]
    new_batches: list[Path]
    failed_sources: list[str]


def crawl_in_subprocess(source_ids: list[str] | None = None, sources_file: Path | None = None,
                        timeout: float | None = None, progress: bool = False, check: bool = True,
                        log_file: Path | None = None, scrapy_settings: dict[str, Any] | None = None) -> CrawlOutcome:
    """A crawl in a fresh Python: a Twisted reactor cannot restart, so one process per crawl.

    This is how the crawl DAGs and `run_once` crawl (several runs in one process,
    e.g. a polling loop, need it too). The crawler's log and progress go straight
    to our stderr (the task log) or to ``log_file``; its JSON report comes back on stdout. A failed
    source raises with the report's errors when ``check``, else it is returned in
    ``failed_sources`` so the other sources' batches still get processed.
    """
    command = [sys.executable, "-m", "crawlers", "--json"]
    for source_id in source_ids or []:
        command += ["--source", source_id]
    if sources_file is not None:
        command += ["--sources", str(sources_file)]
    for key, value in (scrapy_settings or {}).items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    if progress:
        command.append("--progress")
    with contextlib.ExitStack() as stack:
        stderr = None
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            stderr = stack.enter_context(open(log_file, "a", encoding="utf-8"))
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=timeout,
                              env=os.environ.copy())
    report = _last_json_object(proc.stdout)
    where = f" (log: {log_file})" if log_file else ""
    if proc.returncode == 2:
        raise CrawlConfigError(f"the crawler rejected its configuration (sources file or MEDIAMON_URL_REWRITE){where}")
    if report is None or (check and proc.returncode != 0):
        what = ", ".join(source_ids or ["all sources"])
        raise CrawlFailed(f"crawl of {what} failed (exit {proc.returncode}){where}: "
                          f"{json.dumps(_failure_detail(report), ensure_ascii=False)}")
    return CrawlOutcome(report, [Path(p) for p in report.get("new_batches", [])],
                        list(report.get("failed_sources", [])))


def _last_json_object(stdout: str) -> dict[str, Any] | None:
    """The report: the whole of stdout when it is one JSON document, else its last JSON line."""
    text = stdout.strip()
    candidates = [text, *reversed(text.splitlines())]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _failure_detail(report: dict[str, Any] | None) -> Any:
    """What went wrong per failed source: its fatal error and error/blocked counts by reason."""
    if report is None:
        return "no report (see the log above)"
    sources = report.get("sources") or {}
    return {sid: {k: sources.get(sid, {}).get(k) for k in ("fatal", "page_errors", "errors", "blocked")}
            for sid in report.get("failed_sources", [])}


# --- process, alerts, reprocess ------------------------------------------------------


def batches_to_process(settings: Settings, announced: Iterable[str] = (), force: bool = False,
                       es: Elasticsearch | None = None) -> list[Path]:
    """Announced batches plus every other pending one, oldest first: a lost asset event never loses a batch.

    With ``force`` only the announced batches, done or not (re-running them by hand).
    Batches outside this deployment's archive (an event of another data dir) are ignored.
    """
    from crawlers.archive import iter_batches

    archive = (settings.data_dir / "archive").resolve()
    announced_dirs = {Path(p) for p in announced if Path(p).resolve().is_relative_to(archive)}
    if force:
        return sorted(announced_dirs, key=lambda p: p.name)
    found = {*iter_batches(archive), *(p for p in announced_dirs if p.is_dir())}
    done = _done_batches(settings, [p.name for p in found], es)
    return sorted((p for p in found if p.name not in done), key=lambda p: p.name)


def _done_batches(settings: Settings, batch_ids: list[str], es: Elasticsearch | None) -> set[str]:
    from mediamon.esclient import make_client
    from processing import batches

    es = es or make_client(settings)
    batches.ensure_index(es, settings)
    return batches.done_batches(es, settings, batch_ids)


def process_one_batch(settings: Settings, batch: str | Path, force: bool = False,
                      es: Elasticsearch | None = None) -> dict[str, Any]:
    """Process one batch and return its counts; a batch already done is skipped unless ``force``."""
    from processing.runner import process_batch

    batch_dir = Path(batch)
    if not batch_dir.is_dir():
        raise FileNotFoundError(f"batch {batch_dir} is not in the archive (wrong MEDIAMON_DATA_DIR?)")
    if not force and _done_batches(settings, [batch_dir.name], es):
        return {"batches_skipped": 1}
    return as_counts(process_batch(settings, batch_dir, es=es))


def merge_counts(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Sum the numeric counts of several batch reports (nested dicts of counts are summed key by key)."""
    total: dict[str, Any] = {}
    for report in reports:
        _add_into(total, report)
    return total


def _add_into(total: dict[str, Any], report: dict[str, Any]) -> None:
    for key, value in report.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            total[key] = total.get(key, 0) + value
        elif isinstance(value, dict):
            _add_into(total.setdefault(key, {}), value)


def run_alert_rules(settings: Settings, es: Elasticsearch | None = None) -> dict[str, Any]:
    from processing.alerts.engine import run_alerts

    return as_counts(run_alerts(settings, es=es))


def reprocess_archive(settings: Settings, since: str | None = None,
                      sources: list[str] | None = None) -> dict[str, Any]:
    """Rebuild documents from the archive; ``since`` is an ISO date or an age such as 7d."""
    from processing.runner import reprocess
    from processing.search import parse_when

    return as_counts(reprocess(settings, since=parse_when(since) if since else None, sources=sources))


# --- run once ----------------------------------------------------------------------


@dataclass
class RunReport:
    crawl: dict[str, Any] = field(default_factory=dict)
    process: dict[str, Any] = field(default_factory=dict)
    alerts: dict[str, Any] = field(default_factory=dict)
    failed_sources: list[str] = field(default_factory=list)


def run_once(settings: Settings, sources_file: Path | None = None, source_ids: list[str] | None = None,
             es: Elasticsearch | None = None, progress: bool = True, crawl_log: Path | None = None,
             scrapy_settings: dict[str, Any] | None = None) -> RunReport:
    """Crawl → process → alerts, once (the DAGs run the same steps as separate tasks).

    A failed source does not stop the others' batches from being processed and
    alerted on; the caller decides what a failed source means (exit code 1).
    """
    from processing.alerts.engine import run_alerts
    from processing.runner import process_pending

    crawled = crawl_in_subprocess(source_ids, sources_file, progress=progress and crawl_log is None, check=False,
                                  log_file=crawl_log, scrapy_settings=scrapy_settings)
    process_report = process_pending(settings, es=es, progress=progress)
    alerts_report = run_alerts(settings, es=es)
    return RunReport(crawled.report, as_counts(process_report), as_counts(alerts_report), crawled.failed_sources)


# --- demo --------------------------------------------------------------------------


# The sample sites are ours, on 127.0.0.1: politeness delays protect real sites and would only make the demo wait.
SAMPLE_SITES_SCRAPY = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}


@contextlib.contextmanager
def sample_sites(corpus_dir: Path | None = None) -> Iterator[str]:
    """The bundled sample sites on 127.0.0.1 with the crawler pointed at them; yields the mirror URL."""
    from mediamon.mirror.server import MirrorServer

    previous = os.environ.get("MEDIAMON_URL_REWRITE")
    with MirrorServer(corpus_dir=corpus_dir, faults=False) as mirror:
        os.environ["MEDIAMON_URL_REWRITE"] = mirror.url_rewrite()
        try:
            yield mirror.base_url
        finally:
            if previous is None:
                os.environ.pop("MEDIAMON_URL_REWRITE", None)
            else:
                os.environ["MEDIAMON_URL_REWRITE"] = previous


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


def demo_crawl_log(settings: Settings) -> Path:
    """Where the demo keeps the crawler's own log, so the terminal shows only progress and the summary."""
    return settings.data_dir / "logs" / f"demo-crawl-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"


def run_demo(settings: Settings, progress: bool = True, crawl_log: Path | None = None,
             corpus_dir: Path | None = None) -> DemoSummary:
    """The whole pipeline offline: local node, setup, sample sites, crawl → process → alerts, summary.

    Everything lives under ``settings.data_dir``; crawl state and batch markers
    persist, so a second demo only does what is new (nothing, on the same sample).
    """
    from mediamon import eslocal
    from mediamon.esclient import make_client
    from mediamon.settings import load_settings
    from processing.indexsetup import setup

    if not settings.es_url or not eslocal.is_local(settings):
        eslocal.start(settings)
        settings = load_settings(data_dir=settings.data_dir, config_dir=settings.config_dir,
                                 index_prefix=settings.index_prefix)
    es = make_client(settings)
    setup(es, settings, with_roles=False)  # roles and users are for a shared cluster, not the demo's own node
    with sample_sites(corpus_dir) as mirror_url:
        report = run_once(settings, es=es, progress=progress, crawl_log=crawl_log or demo_crawl_log(settings),
                          scrapy_settings=SAMPLE_SITES_SCRAPY)
    es.indices.refresh(index=settings.docs_alias)
    return summarize(es, settings, report, mirror_url)


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
    )


def _search_examples(narrative_buckets: list[dict[str, Any]]) -> list[str]:
    examples = ["mediamon search 'мигранты граница' --lang ru",
                "mediamon search 'migrants border' --lang en --no-duplicates",
                "mediamon search '*' --sort alarmism --limit 10"]
    if narrative_buckets:
        examples.append(f"mediamon search '*' --narrative {narrative_buckets[0]['key']} --since 2021-11-01")
    examples.append("mediamon search 'Лукашенко' --source belta-ru --json")
    return examples
