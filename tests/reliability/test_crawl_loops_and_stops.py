"""Discovery loops end by themselves, and a crawl stopped early commits what it fetched.

A hostile local site (reached through MEDIAMON_URL_REWRITE) serves a sitemap
index listing itself, a chain of indexes ten deep and an index of 150 sitemaps:
the crawl reads each page once, follows indexes three deep, stops at its page
budget, counts each refusal, and ends on its own. A second site never answers
its sitemap, so the crawl runs until it is stopped: by our own timeout, by
Airflow's execution_timeout (real Airflow timeout, SIGALRM in this process) and
by a SIGTERM sent to the parent process alone. Each time the feed articles
fetched before the stop are in a committed batch, and the caller learns which.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from airflow.sdk.exceptions import AirflowTaskTimeout
from airflow.sdk.execution_time.timeout import timeout as airflow_timeout

from mediamon.core.archive import INCOMING, iter_batches, read_manifest
from mediamon.core.settings import Settings
from mediamon.ops.crawl import CrawlInterrupted, crawl_in_subprocess
from tests.support.paths import REPO
from tests.support.recording_server import Hanging, Recorder, Route, article, rss

LOOP, WIDE, HANG = "loop.example.org", "wide.example.org", "hang.example.org"
XML = {"Content-Type": "application/xml"}
FAST = {"AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 0, "LOG_LEVEL": "WARNING", "MEDIAMON_STOP_WAIT": 1.0}


def index(*locs: str) -> Route:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return 200, XML, f"<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{entries}</sitemapindex>".encode()


def feed_site(site: str) -> dict[str, Route]:
    """A feed of three articles on ``site``."""
    return {f"/{site}/feed.xml": rss([f"https://{site}/a/{i}" for i in range(3)]),
            **{f"/{site}/a/{i}": article(f"Article {i} about the border. " * 10) for i in range(3)}}


def source(site: str, sitemaps: list[str], feed: bool = True) -> dict[str, Any]:
    discovery: dict[str, Any] = {"sitemaps": [f"https://{site}{path}" for path in sitemaps]}
    if feed:
        discovery["feeds"] = [{"url": f"https://{site}/feed.xml"}]
    return {"id": site.split(".")[0], "name": site, "owner": "test", "kind": "state_media", "languages": ["en"],
            "domains": [site], "schedule": "1h", "discovery": discovery,
            "politeness": {"download_delay": 0, "obey_robots": False, "robots_override_reason": "test server"}}


def sources_file(directory: Path, *entries: dict[str, Any]) -> Path:
    path = directory / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": list(entries)}), encoding="utf-8")
    return path


def committed_urls(batches: list[Path]) -> list[str]:
    return sorted(entry.url for batch in batches for entry in read_manifest(batch))


# --- discovery loops -----------------------------------------------------------------


def test_discovery_loops_end_within_their_budget_and_are_counted(tmp_path: Path) -> None:
    chain = {f"/{LOOP}/s{n}.xml": index(f"https://{LOOP}/s{n + 1}.xml") for n in range(10)}
    wide = {f"/{WIDE}/part{n}.xml": (200, XML, b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'/>")
            for n in range(150)}
    site = Recorder({**feed_site(LOOP), **chain, **wide,
                     f"/{LOOP}/sitemap.xml": index(f"https://{LOOP}/sitemap.xml"),  # lists itself
                     f"/{WIDE}/sitemap.xml": index(*(f"https://{WIDE}/part{n}.xml" for n in range(150)))})
    path = sources_file(tmp_path, source(LOOP, ["/sitemap.xml", "/s0.xml"]), source(WIDE, ["/sitemap.xml"], False))
    rewrite = " ".join(f"https://{s}=http://127.0.0.1:{site.port}/{s}" for s in (LOOP, WIDE))
    env = {**os.environ, "MEDIAMON_DATA_DIR": str(tmp_path / "data"), "MEDIAMON_URL_REWRITE": rewrite,
           "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "crawlers", "--json", "--sources", str(path)]
    for key, value in {**FAST, "MEDIAMON_MAX_DISCOVERY_PAGES": 20}.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    try:  # before the fix this crawl never ended: the self-listing index was fetched ~15 times a second
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=90)
    finally:
        site.close()
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    loop, wide_stats = report["sources"]["loop"], report["sources"]["wide"]
    assert site.paths.count(f"/{LOOP}/sitemap.xml") == 1
    assert loop["page_warnings"] == {"discovery_repeat": 1}
    # s0 -> s1 -> s2 -> s3 are followed (three indexes below the configured one); s3's own index is refused
    assert sorted(p for p in site.paths if p.startswith(f"/{LOOP}/s") and p != f"/{LOOP}/sitemap.xml") == [
        f"/{LOOP}/s{n}.xml" for n in range(4)]
    assert loop["page_errors"] == {"sitemap_too_deep": 1}
    assert loop["archived"] == 3 and loop["adds_up"]
    # the wide index and 19 of its sitemaps fill the budget of 20; the other 131 are counted, never fetched
    assert wide_stats["pages_fetched"] == 20 and wide_stats["page_errors"] == {"discovery_budget": 131}
    assert sum(p.startswith(f"/{WIDE}/part") for p in site.paths) == 19


# --- stopping a crawl ------------------------------------------------------------------


@pytest.fixture(scope="module")
def hanging_site() -> Iterator[Recorder]:
    """Three feed articles that answer, and a sitemap that never does (until the module ends)."""
    release = threading.Event()
    site = Recorder(Hanging(feed_site(HANG), "/sitemap.xml", release))
    yield site
    release.set()
    site.close()


@pytest.fixture
def hanging_settings(hanging_site: Recorder, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", sources_file=sources_file(tmp_path, source(HANG, ["/sitemap.xml"])),
                    url_rewrite=f"https://{HANG}=http://127.0.0.1:{hanging_site.port}/{HANG}")


def assert_feed_articles_committed(batches: list[Path], settings: Settings) -> None:
    assert committed_urls(batches) == [f"https://{HANG}/a/{i}" for i in range(3)]
    assert sorted(batches) == sorted(iter_batches(settings.data_dir / "archive"))
    assert not any((settings.data_dir / "archive" / INCOMING).iterdir())


def test_a_crawl_stopped_by_its_timeout_commits_its_feed_articles(hanging_settings: Settings) -> None:
    started = time.monotonic()
    with pytest.raises(CrawlInterrupted, match="timed out after 8 s; 1 batch") as stopped:
        crawl_in_subprocess(hanging_settings, timeout=8, grace=20, scrapy_settings=FAST)
    assert time.monotonic() - started < 8 + 10  # SIGTERM, then at most MEDIAMON_STOP_WAIT (1 s) and the exit
    outcome = stopped.value.outcome
    assert outcome is not None and outcome.report["interrupted"] == "SIGTERM"
    assert_feed_articles_committed(outcome.new_batches, hanging_settings)


def test_a_crawler_killed_before_its_spiders_close_has_committed_already(hanging_settings: Settings) -> None:
    """The spiders would wait 60 s for the hanging sitemap; the parent kills after 2: the commit came first."""
    with pytest.raises(CrawlInterrupted, match="no report") as stopped:
        crawl_in_subprocess(hanging_settings, timeout=8, grace=2, scrapy_settings={**FAST, "MEDIAMON_STOP_WAIT": 60})
    assert stopped.value.outcome is None
    assert_feed_articles_committed(list(iter_batches(hanging_settings.data_dir / "archive")), hanging_settings)


@pytest.mark.timeout(120, method="thread")  # Airflow's timeout takes SIGALRM, pytest-timeout's default
def test_airflow_execution_timeout_stops_the_child_gracefully(hanging_settings: Settings) -> None:
    with pytest.raises(AirflowTaskTimeout) as stopped, airflow_timeout(8):
        crawl_in_subprocess(hanging_settings, grace=20, scrapy_settings=FAST)
    note = "\n".join(getattr(stopped.value, "__notes__", []))
    batches = list(iter_batches(hanging_settings.data_dir / "archive"))
    assert "1 batch(es) committed" in note and str(batches[0]) in note
    assert_feed_articles_committed(batches, hanging_settings)


PARENT = """
import json, sys
from mediamon.core.settings import Settings
from mediamon.ops.crawl import CrawlInterrupted, crawl_in_subprocess
try:
    crawl_in_subprocess(Settings.model_validate_json(sys.argv[1]), grace=20, scrapy_settings=json.loads(sys.argv[2]))
except CrawlInterrupted as exc:
    print(json.dumps([str(p) for p in exc.outcome.new_batches]))
"""


def test_sigterm_to_the_parent_alone_reaches_the_crawler(hanging_settings: Settings,
                                                          hanging_site: Recorder) -> None:
    """``kill PID`` of the task process: the crawler child must hear it, or it runs on and dies uncommitted."""
    served = len(hanging_site.paths)
    parent = subprocess.Popen([sys.executable, "-c", PARENT, hanging_settings.model_dump_json(), json.dumps(FAST)],
                              cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                              text=True)
    try:
        deadline = time.monotonic() + 60
        while sum(p.startswith(f"/{HANG}/a/") for p in hanging_site.paths[served:]) < 3:
            assert parent.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1)  # the answers reach the pipeline
        parent.send_signal(signal.SIGTERM)
        stdout, _ = parent.communicate(timeout=30)
    finally:
        if parent.poll() is None:
            parent.kill()
    assert parent.returncode == 0, stdout
    assert_feed_articles_committed([Path(p) for p in json.loads(stdout)], hanging_settings)
