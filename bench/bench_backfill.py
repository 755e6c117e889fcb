"""Backfill throughput: the same articles archived by a live crawl, by a backfill's live paths, and from the archives.

A generated RIA mirror of N articles, all published in November 2021 (sitemap
index -> daily sitemaps; every article also captured by the mirror's Wayback
Machine or Common Crawl, some by both), is archived three times in the same run,
each into a fresh data directory:

1. baseline: ``python -m crawlers --source ria-ru`` (the live crawl);
2. ``python -m crawlers.backfill`` over November, every path: the sitemap path
   fetches the articles, then the archive paths query their indexes and find
   everything already held (the cost of asking the archives);
3. the same backfill with the archive paths only: every article comes from a
   Wayback ``id_`` capture or a Common Crawl WARC byte range.

Reported as articles per second (wall and CPU) and ratios against the live
crawl. Politeness is off for all three (the mirror is local); run by bench/run.py.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from bench.bench_crawl import FAST, _measure, write_corpus
from tests.support.paths import REPO

N_ARTICLES = 2000
NOVEMBER = ["--since", "2021-11-01", "--until", "2021-11-30"]


def _archive(mirror, data_dir: Path, module: str, args: list[str]) -> tuple[float, float, dict]:
    command = [sys.executable, "-m", module, "--json", "--source", "ria-ru", *args]
    for key, value in {**FAST, "MEDIAMON_ARCHIVE_DOWNLOAD_DELAY": 0,
                       "MEDIAMON_ARCHIVE_CONCURRENCY": FAST["CONCURRENT_REQUESTS_PER_DOMAIN"]}.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    env = {**os.environ, "MEDIAMON_URL_REWRITE": mirror.url_rewrite(), "MEDIAMON_DATA_DIR": str(data_dir),
           "MEDIAMON_CONFIG_DIR": str(REPO / "config")}
    wall, cpu, _, out = _measure(command, env)
    return wall, cpu, json.loads(out)


def run(report: dict, n_articles: int = N_ARTICLES) -> None:
    from mediamon.devtools.mirror.server import MirrorServer

    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        work = Path(tmp)
        write_corpus(work / "corpus", n_articles)
        with MirrorServer(corpus_dir=work / "corpus", faults=False) as mirror:
            mirror.archives.cc_page_size = 5000  # Common Crawl's index pages hold thousands of lines
            live = _archive(mirror, work / "live", "crawlers", [])
            backfill_all = _archive(mirror, work / "all", "crawlers.backfill", NOVEMBER)
            archives_only = _archive(mirror, work / "archives", "crawlers.backfill",
                                     [*NOVEMBER, "--path", "wayback", "--path", "commoncrawl"])
            in_range = len(mirror.archives.expected_backfill(["ria-ru"], date(2021, 11, 1), date(2021, 11, 30)))
    # the backfills also find the few articles the mirror's archives alone still hold
    archived = (live[2]["sources"]["ria-ru"]["archived"], backfill_all[2]["archived"], archives_only[2]["archived"])
    if archived != (n_articles, in_range, in_range) or not (backfill_all[2]["adds_up"] and archives_only[2]["adds_up"]):
        raise RuntimeError(f"incomplete: live, backfill, archives-only archived {archived}; "
                           f"expected {n_articles}, {in_range}, {in_range}")
    paths = archives_only[2]["sources"]["ria-ru"]["paths"]

    def rates(run_: tuple[float, float, dict]) -> tuple[float, float]:
        count = run_[2]["archived"] if "since" in run_[2] else n_articles
        return count / run_[0], count / run_[1]

    (live_s, live_cpu), (all_s, all_cpu), (arch_s, arch_cpu) = rates(live), rates(backfill_all), rates(archives_only)
    report["backfill"] = {
        "articles": n_articles,
        "live_crawl_articles_per_s": round(live_s, 1),
        "backfill_all_paths_articles_per_s": round(all_s, 1),
        "backfill_archives_only_articles_per_s": round(arch_s, 1),
        "ratio_backfill_all_paths_vs_live": round(all_s / live_s, 2),
        "ratio_backfill_archives_only_vs_live": round(arch_s / live_s, 2),
        # wall time on a shared machine is noisy; CPU time of each crawler process is not
        "cpu_ratio_backfill_all_paths_vs_live": round(all_cpu / live_cpu, 2),
        "cpu_ratio_backfill_archives_only_vs_live": round(arch_cpu / live_cpu, 2),
        "archives_only_fetched_by_path": {p: c["fetched"] for p, c in paths.items()},
        "goal": "backfill of the same pages >= 0.8 of the live crawl's throughput",
    }


if __name__ == "__main__":
    results: dict = {}
    run(results, int(sys.argv[1]) if len(sys.argv) > 1 else N_ARTICLES)
    print(json.dumps(results, indent=2))
