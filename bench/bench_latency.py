"""End-to-end latency: an article appears in a mirror feed → searchable → its alert delivered.

Driven by the run loop (`mediamon.ops.run.run_once`: crawl in a subprocess →
process → alerts, the same calls the DAG tasks make), polling one source the
way its schedule would. The sample sites serve the bundled corpus with the
source's real politeness; after a first full pass, one new article is
published into the running mirror's feed (t0) and the loop keeps polling until
the document is searchable and the alert is in the file channel.

Figures: seconds to searchable and to delivered, the polling interval used,
and the same-run baseline — the duration of one idle cycle (nothing new) —
with latency as a ratio of it. The issue's goal: under 2 minutes plus the
source's polling interval. Run by bench/run.py; not part of the tests.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import yaml

from tests.support.paths import REPO

SOURCE = "tass-en"
POLL_INTERVAL_S = 15.0
TIMEOUT_S = 600.0
MARKER = "zeptolatency"  # a word no other document contains: what the search and the rule look for
RULE_ID = "bench-latency"


def _config_dir(directory: Path) -> Path:
    """config/ with one alert rule matching the marker, delivered to the file channel."""
    config = directory / "config"
    shutil.copytree(REPO / "config", config)
    rules = {
        "defaults": {"channels": ["file"], "realert": "1h", "lag": "5m", "initial_lookback": "24h"},
        "channels": {"file": {"type": "file", "path": "alerts/alerts.jsonl"}},
        "rules": [{"id": RULE_ID, "type": "match", "description": "the benchmark's new article",
                   "query": f"title:{MARKER} OR text:{MARKER}"}],
    }
    (config / "alerts.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    return config


def _new_article(corpus: Path) -> None:
    """Publish one new article at the top of the source's feed (the mirror reloads its catalogue)."""
    path = corpus / f"{SOURCE}.yaml"
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    template = items[0]
    now = datetime.now(timezone(timedelta(hours=3)))
    article_id = max(i["article_id"] for i in items) + 1
    items.insert(0, {**template, "id": f"{SOURCE}-bench-{article_id}", "article_id": article_id,
                     "slug": f"bench-latency-{article_id}", "published": now.isoformat(timespec="seconds"),
                     "title": f"Border situation update {MARKER} {article_id}",
                     "body": [f"MOSCOW. /TASS/. A {MARKER} statement on the border situation.", *template["body"][1:]],
                     "expect": {**template.get("expect", {}), "near_duplicate_of": None, "translation_of": None}})
    path.write_text(yaml.safe_dump(items, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _searchable(es, settings) -> bool:
    es.indices.refresh(index=settings.docs_alias)
    return es.count(index=settings.docs_alias, query={"match": {"title": MARKER}})["count"] > 0


def _delivered(settings) -> bool:
    path = settings.data_dir / "alerts" / "alerts.jsonl"
    if not path.is_file():
        return False
    return any(json.loads(line).get("rule") == RULE_ID for line in path.read_text().splitlines() if line.strip())


def run(report: dict) -> None:
    from mediamon.core.esclient import make_client
    from mediamon.core.settings import load_settings
    from mediamon.devtools.mirror import catalog as catalog_mod
    from mediamon.devtools.mirror.corpus import CORPUS_DIR, load_corpus
    from mediamon.devtools.mirror.server import MirrorServer
    from mediamon.ops.run import run_once
    from processing.store.indexsetup import setup
    from tests.support.es import drop_prefix

    base = load_settings()
    work = Path(tempfile.mkdtemp(prefix="mediamon-bench-latency-"))
    corpus = work / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    settings = base.model_copy(update={"index_prefix": prefix, "data_dir": work / "data",
                                       "config_dir": _config_dir(work)})
    es = make_client(base)
    try:
        setup(es, settings, with_roles=False)
        with MirrorServer(corpus_dir=corpus, faults=False) as mirror:
            settings = settings.model_copy(update={"url_rewrite": mirror.url_rewrite()})
            run_once(settings, source_ids=[SOURCE], es=es, progress=False)  # the source's backlog
            started = time.perf_counter()
            run_once(settings, source_ids=[SOURCE], es=es, progress=False)  # baseline: an idle cycle
            idle_cycle = time.perf_counter() - started

            _new_article(corpus)
            mirror.catalog = catalog_mod.build(load_corpus(corpus), faults=False)
            t0 = time.perf_counter()
            searchable = delivered = None
            cycles = 0
            while (searchable is None or delivered is None) and time.perf_counter() - t0 < TIMEOUT_S:
                cycle_started = time.perf_counter()
                run_once(settings, source_ids=[SOURCE], es=es, progress=False)
                cycles += 1
                if searchable is None and _searchable(es, settings):
                    searchable = time.perf_counter() - t0
                if delivered is None and _delivered(settings):
                    delivered = time.perf_counter() - t0
                if searchable is None or delivered is None:
                    time.sleep(max(0.0, POLL_INTERVAL_S - (time.perf_counter() - cycle_started)))
        report["latency (run loop)"] = {
            "source": SOURCE,
            "poll_interval_s": POLL_INTERVAL_S,
            "feed_to_searchable_s": round(searchable, 1) if searchable is not None else "not within timeout",
            "feed_to_alert_delivered_s": round(delivered, 1) if delivered is not None else "not within timeout",
            "cycles_needed": cycles,
            "baseline_idle_cycle_s": round(idle_cycle, 1),
            "searchable_vs_idle_cycle": round(searchable / idle_cycle, 2) if searchable else None,
            "goal": "feed → searchable/alert under 120 s + the polling interval",
            "goal_met": bool(searchable and delivered and delivered < 120 + POLL_INTERVAL_S),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        drop_prefix(es, prefix)
        shutil.rmtree(work, ignore_errors=True)
