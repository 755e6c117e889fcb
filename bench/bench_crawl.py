"""Crawl throughput and memory: mediamon's spiders + archive vs a bare Scrapy spider, same mirror, same run.

A generated 5,000-article RIA mirror (sitemap index -> daily sitemaps) is
crawled by ``python -m crawlers`` (robots.txt, canonical URLs, seen-store,
middlewares, WARC archive) and by a bare Scrapy spider fetching the same
article URLs into memory with the same concurrency. Goal (issue 3):
articles/s ratio >= 0.8, and peak RSS flat in the number of articles (peak at
N vs N/5 articles about the same). Run by bench/run.py; not part of the tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import yaml

from tests.support.paths import REPO

N_ARTICLES = 5000
CONCURRENCY = 8
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
        "CONCURRENT_REQUESTS": CONCURRENCY, "LOG_LEVEL": "ERROR", "MEDIAMON_BATCH_SIZE": 500}
PARAGRAPH = ("Официальный представитель МИД России заявила, что ситуация на белорусско-польской границе "
             "является следствием политики западных стран на Ближнем Востоке, "
             "и призвала Евросоюз к диалогу с Минском. ")


def write_corpus(directory: Path, n: int) -> None:
    start = datetime(2021, 11, 1, 9, 0, tzinfo=UTC)
    items = [{"id": f"bench-{i}", "source": "ria-ru", "lang": "ru", "article_id": 1_750_000 + i,
              "section": "politika", "slug": f"granitsa-migranty-{i}",
              "published": (start + timedelta(minutes=20 * i)).isoformat(),
              "title": f"Захарова прокомментировала ситуацию на границе ({i})", "lead": PARAGRAPH,
              "body": [PARAGRAPH * 3] * 6, "authors": [], "tags": ["Белоруссия"], "expect": {}} for i in range(n)]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ria-ru.yaml").write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")


def _measure(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (kernel accounting, wait4) and peak RSS in MB (sampled) of a subprocess."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.DEVNULL, text=True)
        watched, peak = psutil.Process(proc.pid), 0
        while True:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    return wall, usage.ru_utime + usage.ru_stime, peak / 2**20, text


def _mediamon(mirror, data_dir: Path) -> tuple[float, float, float, dict]:
    command = [sys.executable, "-m", "crawlers", "--json", "--source", "ria-ru"]
    for key, value in FAST.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    env = {**os.environ, "MEDIAMON_URL_REWRITE": mirror.url_rewrite(), "MEDIAMON_DATA_DIR": str(data_dir),
           "MEDIAMON_CONFIG_DIR": str(REPO / "config")}
    wall, cpu, rss, out = _measure(command, env)
    return wall, cpu, rss, json.loads(out)


def _bare(urls_file: Path) -> tuple[float, float, float, int]:
    wall, cpu, rss, out = _measure([sys.executable, __file__, "--bare", str(urls_file)], dict(os.environ))
    return wall, cpu, rss, int(out.strip() or 0)


def bare_crawl(urls_file: Path) -> int:
    """The baseline: a plain Scrapy spider keeping every body in memory; prints how many it fetched."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = urls_file.read_text().split()
    bodies: list[bytes] = []

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, dont_filter=True)

        def parse(self, response):
            bodies.append(response.body)

    process = CrawlerProcess({**FAST, "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False})
    process.crawl(Bare)
    process.start()
    print(len(bodies))
    return len(bodies)


def _crawl_pair(n: int, work: Path) -> dict[str, float]:
    from crawlers.rewrite import parse_rules, rewrite
    from mediamon.devtools.mirror.server import MirrorServer

    corpus = work / f"corpus-{n}"
    write_corpus(corpus, n)
    with MirrorServer(corpus_dir=corpus, faults=False) as mirror:
        rules = parse_rules(mirror.url_rewrite())
        urls = [rewrite(a.url, rules) for a in mirror.expected if a.source == "ria-ru"]
        urls_file = work / f"urls-{n}.txt"
        urls_file.write_text("\n".join(u for u in urls if u))
        ours_wall, ours_cpu, ours_rss, report = _mediamon(mirror, work / f"data-{n}")
        bare_wall, bare_cpu, bare_rss, bare_n = _bare(urls_file)
    archived = report["sources"]["ria-ru"]["archived"]
    if archived != n or bare_n != n:
        raise RuntimeError(f"incomplete crawl: mediamon archived {archived}, bare fetched {bare_n}, expected {n}")
    return {"ours_per_s": n / ours_wall, "bare_per_s": n / bare_wall, "ours_per_cpu_s": n / ours_cpu,
            "bare_per_cpu_s": n / bare_cpu, "ours_rss": ours_rss, "bare_rss": bare_rss}


def run(report: dict, n_articles: int = N_ARTICLES) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        work = Path(tmp)
        small = _crawl_pair(n_articles // 5, work)
        full = _crawl_pair(n_articles, work)
    report["crawl"] = {
        "articles": n_articles,
        "mediamon_articles_per_s": round(full["ours_per_s"], 1),
        "bare_scrapy_articles_per_s": round(full["bare_per_s"], 1),
        "throughput_ratio": round(full["ours_per_s"] / full["bare_per_s"], 2),
        # wall time on a shared machine is noisy; CPU time of each crawler process is not
        "cpu_throughput_ratio": round(full["ours_per_cpu_s"] / full["bare_per_cpu_s"], 2),
        "throughput_goal": ">= 0.8",
        "peak_rss_mb": {"mediamon": round(full["ours_rss"]), "bare_scrapy": round(full["bare_rss"])},
        f"peak_rss_mb_at_{n_articles // 5}_articles": round(small["ours_rss"]),
        "memory_growth_ratio_5x_articles": round(full["ours_rss"] / small["ours_rss"], 2),
        "memory_goal": "flat (growth ratio close to 1)",
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bare":
        bare_crawl(Path(sys.argv[2]))
    else:
        results: dict = {}
        run(results, int(sys.argv[1]) if len(sys.argv) > 1 else N_ARTICLES)
        print(json.dumps(results, indent=2))
