"""Alert evaluation: 20 rules (four of each type) over 100k indexed documents, and its growth
with the number of new documents per run.

Every figure is a ratio against a same-run baseline: one bare ``count`` query per
rule over the same new-document window (the least any evaluation must do).
Each measurement starts from fresh alert state and a first run that sets the
checkpoints, so the measured run sees exactly N new documents, as in steady operation.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from elasticsearch import helpers

from mediamon.core.esclient import make_client
from mediamon.core.settings import load_settings
from processing.alerts.engine import run_alerts
from processing.alerts.rules import AlertsConfig
from processing.store.indexsetup import setup
from tests.support.documents import make_document
from tests.support.es import drop_prefix

N_DOCS = 100_000
NEW_PER_RUN = (100, 1_000, 10_000)
END = datetime(2021, 11, 20, tzinfo=UTC)
SOURCES = ["tass-ru", "tass-en", "ria-ru", "rt-en", "rt-ru", "belta-ru", "belta-be", "mid-ru", "kremlin-ru"]
NARRATIVES = ["west_caused_migration", "poland_inhumane", "belarus_lawful", "eu_must_pay", "iraq_whataboutism",
              "afghan_channel", "nuclear_belarus", "russia_not_involved", "nato_provocation", "migrant_spillover"]
SPEAKERS = ["Sergei Lavrov", "Dmitry Peskov", "Maria Zakharova", "Vladimir Putin", "Alexander Lukashenko"]


def _sources(n_docs: int):
    """Documents published over 30 days; indexed one a second, the newest at END."""
    rng = random.Random(7)
    for i in range(n_docs):
        indexed = END - timedelta(seconds=n_docs - i)
        doc = make_document(i, source=rng.choice(SOURCES), lang="ru", paragraphs=1, lemmas="",
                            published=indexed - timedelta(minutes=rng.randint(1, 600)),
                            narratives=rng.sample(NARRATIVES, rng.randint(0, 2)),
                            speakers=rng.sample(SPEAKERS, rng.randint(0, 1)),
                            alarmism=round(rng.random(), 2), dup_group=f"g{i // 4}" if i % 3 == 0 else None,
                            indexed_at=indexed)
        yield doc.to_source()


def _rules() -> AlertsConfig:
    rules = []
    for i, narrative in enumerate(NARRATIVES[:4]):
        rules += [
            {"id": f"match-{i}", "type": "match", "query": f"narratives:{narrative} AND alarmism:>=0.97"},
            {"id": f"threshold-{i}", "type": "threshold", "query": f"narratives:{narrative}", "group_by": "source",
             "window": "1h", "above": 40},
            {"id": f"spike-{i}", "type": "spike", "query": f"narratives:{narrative}", "group_by": "source",
             "window": "6h", "baseline": "7d", "factor": 3, "min_current": 5},
            {"id": f"flatline-{i}", "type": "flatline", "query": f"narratives:{narrative}", "history": "14d"},
        ]
    rules += [{"id": f"new-{field}", "type": "new_term", "field": field, "group_by": "source", "history": "30d"}
              for field in ("narratives", "speakers", "domain", "lang")]
    return AlertsConfig.model_validate({"channels": {"file": {"type": "file", "path": "bench-alerts.jsonl"}},
                                        "rules": rules})


def _count_queries(es, alias: str, window: dict, n: int) -> float:
    """Seconds for n bare count queries (best of several: the first run warms caches)."""
    started = time.perf_counter()
    for _ in range(n):
        es.count(index=alias, query=window)
    return time.perf_counter() - started


def run(report: dict, n_docs: int = N_DOCS, new_per_run: tuple[int, ...] = NEW_PER_RUN) -> None:
    base = load_settings()
    es = make_client(base, timeout=300)
    settings = base.model_copy(update={"index_prefix": f"bench{uuid.uuid4().hex[:8]}"})
    setup(es, settings, with_roles=False)
    try:
        started = time.perf_counter()
        helpers.bulk(es, ({"_index": settings.docs_alias, "_id": str(i), "_source": s}
                          for i, s in enumerate(_sources(n_docs))), chunk_size=1000)
        es.indices.refresh(index=settings.docs_alias)
        index_seconds = time.perf_counter() - started
        rules = _rules()
        runs = []
        for new in new_per_run:
            if es.indices.exists(index=settings.alerts_index):
                es.indices.delete(index=settings.alerts_index)
            # steady state: a first run at END - new sets every checkpoint (new_term rules learn their
            # terms), then the measured run at END sees exactly `new` new documents (lag 0)
            config = rules.model_copy(update={"defaults": rules.defaults.model_copy(
                update={"initial_lookback": timedelta(seconds=1), "lag": timedelta(0)})})
            run_alerts(settings, es=es, now=END - timedelta(seconds=new), config=config)
            window = {"range": {"indexed_at": {"gt": (END - timedelta(seconds=new)).isoformat(),
                                               "lte": END.isoformat()}}}
            baseline = min(_count_queries(es, settings.docs_alias, window, len(config.rules)) for _ in range(3))
            started = time.perf_counter()
            result = run_alerts(settings, es=es, now=END, config=config)
            seconds = time.perf_counter() - started
            assert not result.errors and result.adds_up(), result
            runs.append({"new_docs": new, "seconds": round(seconds, 2), "fired": result.fired,
                         "baseline_count_queries_s": round(baseline, 3),
                         "ratio_vs_baseline": round(seconds / baseline, 1)})
    finally:
        drop_prefix(es, settings.index_prefix)
    report["alerts"] = {
        "what": f"{len(rules.rules)} rules (4 per type) over {n_docs} documents, N new documents per run; "
                "baseline = one bare count query per rule over the same new-document window",
        "index_seconds": round(index_seconds, 1),
        "runs": runs,
        "growth_seconds_largest_vs_smallest": round(runs[-1]["seconds"] / runs[0]["seconds"], 2),
        "growth_new_docs": round(new_per_run[-1] / new_per_run[0], 1),
    }


if __name__ == "__main__":
    import json

    out: dict = {}
    run(out, n_docs=20_000, new_per_run=(100, 1_000))
    print(json.dumps(out, indent=2))
