"""Crawls of the mirror's challenged sites (mid.ru, rt.com behind a JavaScript challenge), plain or rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from crawlers import settings as project_settings
from crawlers.rendering import browser_missing
from mediamon.devtools.mirror.server import MirrorServer
from tests.support.crawl import run_crawl
from tests.support.paths import REPO

CHALLENGED_SOURCES = ("mid-ru", "rt-en")
needs_chromium = pytest.mark.skipif(browser_missing("/usr/bin/chromium") is not None,
                                    reason="Debian's chromium is not installed (apt-get install chromium)")


def challenged_sources(directory: Path, render: str, **fields: Any) -> Path:
    """mid-ru and rt-en from the real sources.yaml with ``render``, feeds only (one browser each), no delay."""
    entries = yaml.safe_load((REPO / "config" / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    chosen = [dict(e, render=render, discovery={"feeds": e["discovery"]["feeds"]},
                   politeness={**e.get("politeness", {}), "download_delay": 0}, **fields)
              for e in entries if e["id"] in CHALLENGED_SOURCES]
    path = directory / f"sources-{render}.yaml"
    path.write_text(yaml.safe_dump({"sources": chosen}, allow_unicode=True), encoding="utf-8")
    return path


def crawl_challenged(mirror: MirrorServer, data_dir: Path, render: str, **env: str) -> tuple[int, dict, str]:
    """A crawl of the challenged sources; a challenge that can pass gets the shipped settle time, not FAST's."""
    sources = challenged_sources(data_dir.parent, render)
    return run_crawl(mirror, data_dir, "--sources", str(sources), **env,
                     settings={"MEDIAMON_RENDER_SETTLE_S": project_settings.MEDIAMON_RENDER_SETTLE_S})


def challenged_articles(mirror: MirrorServer) -> set[str]:
    """The article URLs the mirror serves behind its challenge."""
    return {e.url for e in mirror.expected if e.source in CHALLENGED_SOURCES and e.outcome == "archived"}
