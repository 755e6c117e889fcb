"""What `python -m crawlers` writes on stderr at its default level: one line per failed request, no chatter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.crawl import UNRESOLVABLE, fast_sources
from tests.support.paths import REPO


def crawl_unresolvable(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A real crawl of kremlin-ru, every URL of it rewritten to a DNS name that cannot resolve."""
    env = {**os.environ, "MEDIAMON_DATA_DIR": str(tmp_path / "data"), "MEDIAMON_CONFIG_DIR": str(REPO / "config"),
           "MEDIAMON_URL_REWRITE": UNRESOLVABLE}
    env.pop("MEDIAMON_CRAWL_SETTINGS", None)
    command = [sys.executable, "-m", "crawlers", "--json", "--sources", str(fast_sources(tmp_path, {"kremlin-ru"})),
               "--set", "RETRY_TIMES=0", "--set", "AUTOTHROTTLE_ENABLED=false", *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_a_host_that_does_not_resolve_is_one_line_per_failed_request(tmp_path: Path) -> None:
    proc = crawl_unresolvable(tmp_path)
    assert proc.returncode == 1  # the source failed entirely, and the report says why
    assert '"page_errors": {"dns": 2}' in proc.stdout
    lines = proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr and "Gave up retrying" not in proc.stderr
    # two robots.txt requests and two discovery pages failed: one line each, nothing else
    assert len(lines) == 4, proc.stderr
    assert sum("failed: dns" in line for line in lines) == 2
    assert "Scrapy 2." not in proc.stderr and "DEBUG" not in proc.stderr  # no version banner, no debug chatter


def test_verbose_shows_scrapys_details(tmp_path: Path) -> None:
    proc = crawl_unresolvable(tmp_path, "-vv")
    assert "Scrapy 2." in proc.stderr and "Traceback" in proc.stderr and "DEBUG" in proc.stderr
