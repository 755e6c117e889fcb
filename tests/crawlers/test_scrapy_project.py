"""The repository is a Scrapy project: `scrapy fetch` / `scrapy shell` use mediamon's settings.

What an operator writing selectors for sources.yaml needs: the project's user
agent, middlewares and MEDIAMON_URL_REWRITE rules, so a real site's URL is
fetched from the mirror exactly as a crawl would fetch it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mediamon.devtools.mirror.server import MirrorServer
from tests.support.paths import REPO


def test_scrapy_fetch_uses_the_project_settings_and_rewrite_rules(mirror: MirrorServer) -> None:
    article = next(a for a in mirror.expected if a.source == "tass-en" and a.outcome == "archived")
    title = next(item.title for item in mirror.corpus["tass-en"] if str(item.article_id) in article.url)
    scrapy = Path(sys.executable).with_name("scrapy")
    done = subprocess.run([str(scrapy), "fetch", "--nolog", article.url], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "MEDIAMON_URL_REWRITE": mirror.url_rewrite()}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert title in done.stdout
    fetched = [r for r in mirror.requests if article.url.endswith(r.path)]
    assert fetched, "the rewrite rules did not send the request to the mirror"
    assert "mediamon/" in fetched[-1].user_agent


def test_scrapy_settings_name_the_project_modules() -> None:
    done = subprocess.run([str(Path(sys.executable).with_name("scrapy")), "settings", "--get", "BOT_NAME"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "mediamon", done.stderr[-2000:]
