"""`mediamon crawl` and `python -m crawlers` end to end (subprocesses: one reactor per process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from mediamon.devtools.mirror.server import MirrorServer
from tests.support.crawl import crawl_env, fast_sources, run_crawl
from tests.support.paths import REPO

MEDIAMON = Path(sys.executable).parent / "mediamon"


def test_mediamon_crawl_prints_a_table_per_source(mirror: MirrorServer, tmp_path: Path) -> None:
    sources = fast_sources(tmp_path, {"rt-ru", "telegram-mfarussia"})
    proc = subprocess.run([str(MEDIAMON), "crawl", "--sources", str(sources)], cwd=REPO,
                          env=crawl_env(mirror, tmp_path / "data", COLUMNS="200"), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    expected = sum(1 for a in mirror.expected if a.source in {"rt-ru", "telegram-mfarussia"})
    assert f"crawl: {expected} new items archived" in proc.stdout
    assert "rt-ru" in proc.stdout and "telegram-mfarussia" in proc.stdout
    assert "Spider closed" not in proc.stderr  # Scrapy's chatter stays below the CLI's log level

    again = subprocess.run([str(MEDIAMON), "crawl", "--sources", str(sources), "--source", "rt-ru", "--json"],
                           cwd=REPO, env=crawl_env(mirror, tmp_path / "data"), capture_output=True, text=True,
                           timeout=120)
    report = json.loads(again.stdout)
    assert again.returncode == 0 and report["archived"] == 0 and list(report["sources"]) == ["rt-ru"]
    assert report["sources"]["rt-ru"]["pages_not_modified"] == 1


def test_unknown_source_id_is_a_config_error(mirror: MirrorServer, tmp_path: Path) -> None:
    rc, report, stderr = run_crawl(mirror, tmp_path, "--source", "no-such-source")
    assert rc == 2 and report == {} and "unknown source id(s) no-such-source" in stderr


def test_malformed_url_rewrite_is_a_config_error(mirror: MirrorServer, tmp_path: Path) -> None:
    rc, _, stderr = run_crawl(mirror, tmp_path, "--source", "rt-ru", MEDIAMON_URL_REWRITE="tass.ru")
    assert rc == 2 and "PREFIX=REPLACEMENT" in stderr


def test_private_addresses_are_refused_unless_rewritten_or_allowed(mirror: MirrorServer, tmp_path: Path) -> None:
    """A source whose feed sits on 127.0.0.1 itself (no rewrite rule) is an SSRF risk and is not fetched."""
    entry = {"id": "internal", "name": "internal feed", "owner": "test", "kind": "state_media", "languages": ["ru"],
             "domains": ["127.0.0.1"], "schedule": "1h", "article_url_patterns": ["/russian.rt.com/"],
             "discovery": {"feeds": [{"url": f"{mirror.base_url}/russian.rt.com/rss"}]},
             "politeness": {"download_delay": 0}}
    path = tmp_path / "internal.yaml"
    path.write_text(yaml.safe_dump({"sources": [entry]}), encoding="utf-8")
    start = len(mirror.requests)
    rc, report, _ = run_crawl(mirror, tmp_path / "a", "--sources", str(path), MEDIAMON_URL_REWRITE="")
    assert rc == 1 and report["sources"]["internal"]["page_errors"] == {"ssrf_blocked": 1}
    assert len(mirror.requests) == start  # refused before connecting

    entry["politeness"]["allow_private_addresses"] = True
    path.write_text(yaml.safe_dump({"sources": [entry]}), encoding="utf-8")
    rc, report, _ = run_crawl(mirror, tmp_path / "b", "--sources", str(path), MEDIAMON_URL_REWRITE="")
    assert rc == 0 and report["sources"]["internal"]["pages_fetched"] == 1
