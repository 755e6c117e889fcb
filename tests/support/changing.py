"""The changing pages of the mirror (``mirror.changing``) as a test crawls them: its source file and clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from mediamon.devtools.mirror import changing
from mediamon.devtools.mirror.server import MirrorServer
from tests.support.crawl import run_crawl
from tests.support.paths import REPO

FIRST_CRAWL = changing.PUBLISHED + timedelta(minutes=10)
FIRST_REVISIT = FIRST_CRAWL + timedelta(hours=1, minutes=5)  # +1h step due; every change made
SECOND_REVISIT = FIRST_CRAWL + timedelta(hours=6, minutes=5)  # +6h step due; nothing new
THIRD_REVISIT = FIRST_CRAWL + timedelta(hours=24, minutes=5)  # +24h step due; the deleted page is back


def changing_sources(directory: Path) -> Path:
    """The real tass-ru entry, discovering only the changing pages' feed, sitemap and list, with no politeness
    delay."""
    entries = yaml.safe_load((REPO / "config" / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    tass = next(e for e in entries if e["id"] == "tass-ru")
    lenta = {"url": changing.LIST_URL, "item_selector": "div.hentry", "link_selector": "h3.hentry__title a::attr(href)",
             "title_selector": "h3.hentry__title a::text", "date_selector": "time::attr(datetime)", "max_pages": 1}
    tass = {**tass, "discovery": {"feeds": [{"url": changing.FEED_URL}], "sitemaps": [changing.SITEMAP_URL],
                                  "lists": [lenta]},
            "politeness": {**tass.get("politeness", {}), "download_delay": 0}}
    path = directory / "changing-sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [tass]}, allow_unicode=True), encoding="utf-8")
    return path


def crawl_at(mirror: MirrorServer, data_dir: Path, sources: Path, at: datetime,
             **settings: Any) -> tuple[int, dict[str, Any], str]:
    """One crawl of tass-ru with the mirror and the revisit schedule both at ``at``."""
    mirror.set_clock(at)
    return run_crawl(mirror, data_dir, "--source", "tass-ru", settings={"MEDIAMON_REVISIT_NOW": at.isoformat(),
                                                                        **settings},
                     MEDIAMON_SOURCES_FILE=str(sources))
