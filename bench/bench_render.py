"""Rendered crawling: pages per second and peak browser memory (PSS) over 500 rendered pages (issue 15).

A generated 500-article RIA mirror (bench_crawl's corpus) is crawled twice by
``python -m crawlers`` with the same politeness (one request at a time to the
host, no delay): plain (the baseline), then with ``render: browser`` (every
article loaded in the system Chromium through scrapy-playwright, HTML and a
full-page screenshot archived). While the rendered crawl runs, the resident
memory of every browser process under the crawler is summed every 0.2 s.

Figures: rendered and plain pages/s and their ratio; the browser's peak RSS;
its peak over the first fifth of the pages against the whole run (flat memory:
close to 1 — each page is closed when read, each context replaced every
``MEDIAMON_RENDER_CONTEXT_PAGES`` pages).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

from bench.bench_crawl import write_corpus
from tests.support.paths import REPO

N_PAGES = 500
SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
            "LOG_LEVEL": "ERROR", "MEDIAMON_BATCH_SIZE": 500}


def _sources(directory: Path, render: str) -> Path:
    entries = yaml.safe_load((REPO / "config" / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    ria = next(e for e in entries if e["id"] == "ria-ru")
    ria = dict(ria, render=render, politeness={**ria.get("politeness", {}), "download_delay": 0, "concurrency": 1})
    path = directory / f"sources-{render}.yaml"
    path.write_text(yaml.safe_dump({"sources": [ria]}, allow_unicode=True), encoding="utf-8")
    return path


def _browser_rss(crawler: psutil.Process) -> int:
    total = 0
    for child in crawler.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "chrom" in child.name().lower() or "headless" in child.name().lower():
                total += child.memory_full_info().pss  # shared pages counted once across the processes
    return total


def _crawl(mirror, sources: Path, data_dir: Path, n: int) -> dict:
    command = [sys.executable, "-m", "crawlers", "--json", "--sources", str(sources)]
    for key, value in SETTINGS.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    env = {**os.environ, "MEDIAMON_URL_REWRITE": mirror.url_rewrite(), "MEDIAMON_DATA_DIR": str(data_dir),
           "MEDIAMON_CONFIG_DIR": str(REPO / "config")}
    served_before = len(mirror.requests)
    samples: list[tuple[int, int]] = []  # (article pages served so far, browser RSS)
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.DEVNULL, text=True)
        crawler = psutil.Process(proc.pid)
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                served = sum(1 for r in mirror.requests[served_before:] if "granitsa-migranty" in r.path)
                samples.append((served, _browser_rss(crawler)))
            time.sleep(0.2)
        wall = time.perf_counter() - started
        out.seek(0)
        report = json.loads(out.read())
    archived = report["sources"]["ria-ru"]["archived"]
    if archived != n:
        raise RuntimeError(f"incomplete crawl: {archived} of {n} archived ({report['sources']['ria-ru']})")
    first_fifth = [rss for served, rss in samples if served <= n // 5]
    return {"pages_per_s": n / wall, "peak_rss": max((rss for _, rss in samples), default=0),
            "peak_rss_first_fifth": max(first_fifth, default=0)}


def run(report: dict, n_pages: int = N_PAGES) -> None:
    from mediamon.devtools.mirror.server import MirrorServer  # lazy: as bench_crawl

    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        work = Path(tmp)
        write_corpus(work / "corpus", n_pages)
        with MirrorServer(corpus_dir=work / "corpus", faults=False) as mirror:
            plain = _crawl(mirror, _sources(work, "plain"), work / "plain", n_pages)
            rendered = _crawl(mirror, _sources(work, "browser"), work / "rendered", n_pages)
    report["render"] = {
        "pages": n_pages,
        "rendered_pages_per_s": round(rendered["pages_per_s"], 2),
        "plain_pages_per_s": round(plain["pages_per_s"], 2),
        "rendered_vs_plain_throughput_ratio": round(rendered["pages_per_s"] / plain["pages_per_s"], 3),
        "browser_peak_rss_mb": round(rendered["peak_rss"] / 2**20),
        f"browser_peak_rss_mb_first_{n_pages // 5}_pages": round(rendered["peak_rss_first_fifth"] / 2**20),
        "browser_memory_growth_ratio": round(rendered["peak_rss"] / max(rendered["peak_rss_first_fifth"], 1), 2),
        "memory_goal": "flat (growth ratio close to 1)",
    }


if __name__ == "__main__":
    results: dict = {}
    run(results, int(sys.argv[1]) if len(sys.argv) > 1 else N_PAGES)
    print(json.dumps(results, indent=2))
