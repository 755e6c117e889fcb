"""A real crawl of a hostile site: zip bombs as sitemaps and articles are refused and counted, memory stays flat.

A local server (reached through MEDIAMON_URL_REWRITE, as the mirror is) serves
a gzip sitemap that inflates to 1 GiB, the same bomb as a ``Content-Encoding:
gzip`` sitemap and article, a 100k-deep page and an ordinary article. The
crawl (``python -m crawlers``, real Scrapy) must finish, archive the two
readable articles, count each bomb under its reason, and keep its peak memory
far below what inflating one bomb would take.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from typing import Any

import pytest
import yaml

from tests.support.paths import REPO
from tests.support.recording_server import Recorder, article, rss

SITE = "news.example.org"
BOMB = gzip.compress(bytes(2**20)) * 1024  # 1 GiB of zeros from ~1 MB: under DOWNLOAD_MAXSIZE on the wire
NESTED = b"<html><body>" + b"<div>" * 100_000 + b"<p>deep</p>" + b"</div>" * 100_000 + b"</body></html>"
# Run the crawler module and report the child's own peak RSS (VmHWM, KiB) on stderr's last line. Not ru_maxrss:
# that survives exec, so it would report the forking pytest process's size (550 MB late in a full run).
MEASURED = ("import re, runpy, sys\nsys.argv = ['crawlers', *sys.argv[1:]]\ntry:\n"
            "    runpy.run_module('crawlers', run_name='__main__')\nexcept SystemExit as exit:\n    code = exit.code\n"
            "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
            "print('peak_kib', hwm, file=sys.stderr)\nsys.exit(code)\n")


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    gz = {"Content-Type": "application/xml", "Content-Encoding": "gzip"}
    site = Recorder({
        f"/{SITE}/feed.xml": rss([f"https://{SITE}/a/ok", f"https://{SITE}/a/nested", f"https://{SITE}/a/bomb"]),
        f"/{SITE}/sitemap.xml.gz": (200, {"Content-Type": "application/x-gzip"}, BOMB),
        f"/{SITE}/sitemap-encoded.xml": (200, gz, BOMB),
        f"/{SITE}/a/ok": article("An ordinary article about the border. " * 10),
        f"/{SITE}/a/nested": (200, {"Content-Type": "text/html"}, NESTED),
        f"/{SITE}/a/bomb": (200, {**gz, "Content-Type": "text/html"}, BOMB),
    })
    source = {"id": "hostile", "name": "hostile", "owner": "test", "kind": "state_media", "languages": ["en"],
              "domains": [SITE], "schedule": "1h",
              "discovery": {"feeds": [{"url": f"https://{SITE}/feed.xml"}],
                            "sitemaps": [f"https://{SITE}/sitemap.xml.gz", f"https://{SITE}/sitemap-encoded.xml"]},
              "politeness": {"download_delay": 0, "obey_robots": False, "robots_override_reason": "test server"}}
    root = tmp_path_factory.mktemp("hostile-crawl")
    (root / "sources.yaml").write_text(yaml.safe_dump({"sources": [source]}))
    env = {**os.environ, "MEDIAMON_DATA_DIR": str(root / "data"), "PYTHONPATH": str(REPO),
           "MEDIAMON_URL_REWRITE": f"https://{SITE}=http://127.0.0.1:{site.port}/{SITE}"}
    command = [sys.executable, "-c", MEASURED, "--json", "--sources", str(root / "sources.yaml"),
               "--set", "AUTOTHROTTLE_ENABLED=false", "--set", "RETRY_TIMES=0", "--set", "LOG_LEVEL=ERROR"]
    try:
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=150)
    finally:
        site.close()
    assert done.stdout.strip(), done.stderr[-3000:]
    peak = int(done.stderr.strip().splitlines()[-1].split()[-1])
    return {"rc": done.returncode, "stats": json.loads(done.stdout)["sources"]["hostile"], "peak_mb": peak / 1024}


@pytest.mark.timeout(200)
def test_bomb_sitemaps_are_counted_under_their_reason(crawl: dict[str, Any]) -> None:
    assert crawl["stats"]["page_errors"] == {"sitemap_oversize": 1, "oversize": 1}


def test_bomb_article_is_counted_and_the_readable_ones_archived(crawl: dict[str, Any]) -> None:
    stats = crawl["stats"]
    assert crawl["rc"] == 0
    assert stats["archived"] == 2 and stats["errors"] == {"oversize": 1} and stats["adds_up"]


def test_the_crawler_never_inflates_a_bomb(crawl: dict[str, Any]) -> None:
    # a Scrapy process takes ~100-200 MB; one inflated bomb alone would be 1024 MB
    assert crawl["peak_mb"] < 500, crawl["peak_mb"]
