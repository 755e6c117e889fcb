"""Browser rendering: mid.ru and rt.com behind a JavaScript challenge (a script sets a cookie and reloads).

mid.ru's challenge is DDoS-Guard-like (status 200), rt.com's Cloudflare-like (status 403, cf-mitigated).

Plain Scrapy gets the challenge and counts it blocked; ``render: on_challenge``
retries each challenged article once in the system Chromium, which passes the
challenge, and the real article is archived (rendered, with its screenshot),
processed and searchable. The crawls are real (``python -m crawlers``) against
the real mirror; the browser is Debian's Chromium through scrapy-playwright.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
import yaml

from crawlers.middlewares.challenge import is_challenge
from mediamon.core.archive import iter_batches, iter_records, read_screenshot
from mediamon.devtools.mirror import render
from mediamon.devtools.mirror.server import MirrorServer
from processing.runner import process_pending
from processing.store.search import SearchFilters, search
from tests.support.crawl import FAST, archived_entries, crawl_command, run_crawl
from tests.support.paths import REPO
from tests.support.recording_server import Recorder, rss
from tests.support.rendering import (
    CHALLENGED_SOURCES,
    challenged_articles,
    challenged_sources,
    crawl_challenged,
    needs_chromium,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def challenged_mirror():
    with MirrorServer(challenges=True) as mirror:
        yield mirror


def test_plain_crawl_counts_the_challenge_blocked_and_starts_no_browser(challenged_mirror, tmp_path):
    code, report, stderr = crawl_challenged(challenged_mirror, tmp_path / "data", "plain")
    assert code == 0, stderr[-2000:]
    expected = Counter(e.source for e in challenged_mirror.expected if e.url in challenged_articles(challenged_mirror))
    for source in CHALLENGED_SOURCES:
        stats = report["sources"][source]
        assert stats["blocked"] == {"js_challenge": expected[source]} and stats["archived"] == 0
        assert stats["adds_up"]
    assert archived_entries(tmp_path / "data") == []
    assert "playwright" not in stderr.lower()


def test_a_source_that_must_render_without_chromium_says_how_to_install_it(challenged_mirror, tmp_path):
    code, report, stderr = crawl_challenged(challenged_mirror, tmp_path / "data", "browser",
                                            MEDIAMON_BROWSER_PATH=str(tmp_path / "no-chromium"))
    assert code == 1
    for source in CHALLENGED_SOURCES:
        assert "apt-get install chromium" in report["sources"][source]["fatal"]
    assert "apt-get install chromium" in stderr and "Traceback" not in stderr


def test_on_challenge_without_chromium_counts_the_challenge_blocked(challenged_mirror, tmp_path):
    code, report, stderr = crawl_challenged(challenged_mirror, tmp_path / "data", "on_challenge",
                                            MEDIAMON_BROWSER_PATH=str(tmp_path / "no-chromium"))
    assert code == 0
    expected = Counter(e.source for e in challenged_mirror.expected if e.url in challenged_articles(challenged_mirror))
    for source in CHALLENGED_SOURCES:
        assert report["sources"][source]["blocked"] == {"js_challenge": expected[source]}
    assert "apt-get install chromium" in stderr and "Traceback" not in stderr


@needs_chromium
def test_a_challenge_the_browser_cannot_pass_is_counted_blocked_once_after_the_settle_time(tmp_path):
    """The fault mirror's challenge has no script that passes it: the shipped ``on_challenge`` tries it once in the
    browser, waits ``MEDIAMON_RENDER_SETTLE_S`` and counts it blocked — never a retry loop, never an endless wait."""
    settle = FAST["MEDIAMON_RENDER_SETTLE_S"]
    with MirrorServer(faults=True) as mirror:
        sources = challenged_sources(tmp_path, "on_challenge")
        code, report, stderr = run_crawl(mirror, tmp_path / "data", "--sources", str(sources))
        ended = time.monotonic()
    assert code == 0, stderr[-2000:]
    never_passes = {e.url for e in mirror.expected
                    if e.source in CHALLENGED_SOURCES and e.outcome == "blocked:js_challenge"}
    assert len(never_passes) == len(CHALLENGED_SOURCES)
    for source in CHALLENGED_SOURCES:
        stats = report["sources"][source]
        assert stats["blocked"] == {"js_challenge": 1} and not stats["errors"] and stats["adds_up"], stats
        assert stats["archived"] > 0
    for url in never_passes:
        asked = [r for r in mirror.requests if (r.host, r.path) == (urlsplit(url).hostname, urlsplit(url).path)]
        assert len(asked) == 2, url  # the plain request, then the browser once
        assert settle <= ended - asked[1].at < settle + 30, url


@needs_chromium
def test_a_host_whose_challenges_the_browser_keeps_failing_gets_no_more_browser_tries(tmp_path):
    """After MEDIAMON_RENDER_GIVE_UP_AFTER failed challenges in a row, the host's next ones are blocked at once."""
    site, pages = "news.example.org", [f"/news/{n}" for n in range(1, 6)]
    never_passes = (200, {"Content-Type": "text/html; charset=utf-8"}, render.js_challenge().encode())
    server = Recorder({f"/{site}/feed.xml": rss([f"https://{site}{p}" for p in pages]),
                       **{f"/{site}{p}": never_passes for p in pages}})
    source = {"id": "challenged", "name": "challenged", "owner": "test", "kind": "state_media", "languages": ["en"],
              "domains": [site], "schedule": "1h", "render": "on_challenge",
              "discovery": {"feeds": [{"url": f"https://{site}/feed.xml"}]},
              "politeness": {"download_delay": 0, "concurrency": 1, "obey_robots": False,
                             "robots_override_reason": "test server"}}
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
    env = {**os.environ, "MEDIAMON_DATA_DIR": str(tmp_path / "data"),
           "MEDIAMON_URL_REWRITE": f"https://{site}=http://127.0.0.1:{server.port}/{site}"}
    try:
        done = subprocess.run(crawl_command(tmp_path / "data", "--sources", str(sources),
                                            settings={"MEDIAMON_RENDER_GIVE_UP_AFTER": 2}),
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    finally:
        server.close()
    stats = json.loads(done.stdout)["sources"]["challenged"]
    assert stats["blocked"] == {"js_challenge": len(pages)} and stats["adds_up"], done.stderr[-2000:]
    asked = Counter(path.removeprefix(f"/{site}") for path in server.paths)
    # every page was asked plainly; only the first two went to the browser as well
    assert sorted(asked[p] for p in pages) == [1, 1, 1, 2, 2], asked


@pytest.mark.slow
@needs_chromium
def test_rendering_passes_the_challenge_and_the_article_is_archived_processed_and_searchable(
        challenged_mirror, es_settings, es_admin):
    settings = es_settings
    before = len(challenged_mirror.requests)
    code, report, stderr = crawl_challenged(challenged_mirror, settings.data_dir, "on_challenge")
    assert code == 0, stderr[-2000:]
    wanted = challenged_articles(challenged_mirror)
    assert sum(report["sources"][s]["archived"] for s in CHALLENGED_SOURCES) == len(wanted)
    assert all(report["sources"][s]["adds_up"] and not report["sources"][s]["blocked"] for s in CHALLENGED_SOURCES)

    # Each article: the plain request met the challenge, then the browser asked once more; the first page of a
    # host met the challenge in the browser too (script, cookie, reload), later ones kept the context's cookie.
    served = Counter((r.host, r.path) for r in challenged_mirror.requests[before:])
    asked = {url: served[urlsplit(url).hostname, urlsplit(url).path] for url in wanted}
    assert all(n in (2, 3) for n in asked.values()), asked
    assert {url.split("/")[2] for url, n in asked.items() if n == 3} == {"mid.ru", "www.rt.com"}, asked

    batches = list(iter_batches(settings.data_dir / "archive"))
    records = [r for b in batches for r in iter_records(b)]
    assert {r.manifest.url for r in records} == wanted
    for record in records:
        assert record.manifest.rendered and record.manifest.kind == "article" and record.manifest.status == 200
        assert not is_challenge(record.body) and b"<h1" in record.body
        assert dict(record.http_headers).get("Content-Type", "").startswith("text/html")
        png = read_screenshot(record.batch_dir, record.manifest)
        assert png.startswith(PNG_MAGIC) and len(png) > 5000

    processed = process_pending(settings, es_admin, workers=1, progress=False)
    assert processed.adds_up() and processed.created == len(wanted) and not processed.quarantined
    total, hits = search(es_admin, settings.docs_alias, "Захарова", SearchFilters(sources=["mid-ru"]))
    assert total >= 1 and all(h["url"] in wanted for h in hits)
    total, hits = search(es_admin, settings.docs_alias, "Belarus", SearchFilters(sources=["rt-en"]))
    assert total >= 1 and all(h["url"] in wanted for h in hits)

