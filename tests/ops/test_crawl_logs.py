"""The crawl step's log (what an Airflow crawl task shows): one line per source with its counts by reason."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mediamon.core.settings import Settings
from mediamon.devtools.mirror.server import MirrorServer
from mediamon.ops.crawl import crawl_in_subprocess
from tests.support.crawl import FAST, UNRESOLVABLE, fast_sources
from tests.support.paths import REPO


def test_a_crawl_logs_each_sources_counts(mirror: MirrorServer, tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path / "data", config_dir=REPO / "config", url_rewrite=mirror.url_rewrite(),
                        sources_file=fast_sources(tmp_path, {"rt-ru"}))
    with caplog.at_level(logging.INFO, logger="mediamon.ops.crawl"):
        outcome = crawl_in_subprocess(settings, scrapy_settings=FAST)
    stats = outcome.report["sources"]["rt-ru"]
    assert stats["archived"] > 0
    assert [r.getMessage() for r in caplog.records] == [
        f"crawl rt-ru: pages {stats['pages_fetched']} (304: 0, errors 0), found {stats['found']}, "
        f"new {stats['archived']}, seen 0, blocked 0, errors 0"]


def test_a_failed_source_is_a_warning_with_its_reasons(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path / "data", config_dir=REPO / "config", url_rewrite=UNRESOLVABLE,
                        sources_file=fast_sources(tmp_path, {"kremlin-ru"}))
    with caplog.at_level(logging.INFO, logger="mediamon.ops.crawl"):
        outcome = crawl_in_subprocess(settings, check=False, scrapy_settings=FAST)
    assert outcome.failed_sources == ["kremlin-ru"]
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "crawl kremlin-ru: FAILED: pages 0 (304: 0, errors 2 (dns 2)), found 0, new 0, seen 0, "
                          "blocked 0, errors 0")]
