"""Load: 100,000 documents through processing and indexing with flat memory (issue 7, part 4).

The same realistic pages as bench_process (every article page the mirror
renders, plus the real saved pages), each copy made distinct, are written to
the raw archive with ``BatchWriter`` in batches of a crawl's size, then
``process_pending`` runs every stage, near-duplicate grouping against the
whole index, bulk indexing and the batch marks, with 2 workers.

Figures, at 10k and 100k documents in the same run (sizes:
``MEDIAMON_BENCH_LOAD_SIZES``, default ``10000,100000``):
- ``peak_rss_mb_per_worker``: highest resident memory of each pool process;
- ``parent_rss_mb_after``: the runner process once the run is over;
- ``worker_rss_ratio_large_vs_small`` / ``parent_rss_ratio_large_vs_small``:
  flat memory means about 1.0 (goal <= 1.2);
- ``docs_per_s`` and ``throughput_ratio_large_vs_small`` (goal >= 0.8).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid

import psutil

from bench.bench_process import _pages, _WorkerMemory
from mediamon.core.archive import BatchWriter
from mediamon.core.esclient import make_client
from mediamon.core.settings import load_settings
from processing.runner import process_pending
from processing.store.indexsetup import setup
from tests.support.es import drop_prefix
from tests.support.paths import REPO

BATCH = 500


def _sizes() -> list[int]:
    return [int(s) for s in os.environ.get("MEDIAMON_BENCH_LOAD_SIZES", "10000,100000").split(",")]


def _write_archive(settings, pages, count: int) -> None:
    """``count`` distinct records: page n is a copy of a real page opened by its own numbered sentence."""
    for start in range(0, count, BATCH):
        writer = BatchWriter(settings.data_dir / "archive", "bench")
        for n in range(start, min(start + BATCH, count)):
            url, source, body, ctype = pages[n % len(pages)]
            charset = (ctype or "").partition("charset=")[2] or "utf-8"
            marker = f"Сообщение {n}. ".encode(charset, errors="ignore")
            writer.add(url=f"{url.partition('?')[0]}?load={n}", canonical_url=f"{url.partition('?')[0]}?load={n}",
                       fetched_url=url, status=200, http_headers=[("Content-Type", ctype or "text/html")],
                       body=body.replace(b"<p>", b"<p>" + marker, 1),
                       kind="telegram_post" if source.startswith("telegram") else "article", extra={"source": source})
        writer.commit()


def _one_size(base, es, pages, count: int) -> dict:
    settings = base.model_copy(update={"index_prefix": f"load{uuid.uuid4().hex[:8]}",
                                       "data_dir": base.data_dir / f"bench-load-{uuid.uuid4().hex[:8]}"})
    setup(es, settings, with_roles=False)
    try:
        _write_archive(settings, pages, count)
        with _WorkerMemory() as memory:
            started = time.perf_counter()
            report = process_pending(settings, es, workers=2, progress=False)
            elapsed = time.perf_counter() - started
        return {"records": report.records_in, "documents": report.documents, "adds_up": report.adds_up(),
                "quarantined": sum(report.quarantined.values()), "failed": report.failed,
                "docs_per_s": round(report.records_in / elapsed, 1),
                "peak_rss_mb_per_worker": sorted(round(v / 2**20) for v in memory.peak.values()),
                "parent_rss_mb_after": round(psutil.Process().memory_info().rss / 2**20)}
    finally:
        drop_prefix(es, settings.index_prefix)
        shutil.rmtree(settings.data_dir, ignore_errors=True)


def run(report: dict) -> None:
    settings = load_settings().model_copy(update={"config_dir": REPO / "config"})
    es = make_client(settings)
    pages = _pages()
    small, large = (_one_size(settings, es, pages, n) for n in _sizes())
    report["load"] = {
        "sizes": _sizes(), "small": small, "large": large,
        "worker_rss_ratio_large_vs_small": round(max(large["peak_rss_mb_per_worker"])
                                                 / max(small["peak_rss_mb_per_worker"]), 2),
        "parent_rss_ratio_large_vs_small": round(large["parent_rss_mb_after"] / small["parent_rss_mb_after"], 2),
        "throughput_ratio_large_vs_small": round(large["docs_per_s"] / small["docs_per_s"], 2),
        "goal": "memory ratios <= 1.2, throughput ratio >= 0.8",
    }
