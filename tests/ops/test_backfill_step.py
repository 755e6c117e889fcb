"""The backfill as DAGs and scripts call it (a subprocess), and as people type it (`mediamon backfill`)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from crawlers.backfill.window import BackfillRangeError
from mediamon.cli.main import main
from mediamon.core.archive import iter_batches
from mediamon.core.settings import Settings
from mediamon.devtools.mirror.server import MirrorServer
from mediamon.ops.backfill import backfill_in_subprocess
from processing.runner import process_pending
from tests.support.crawl import FAST, crawl_env, fast_sources
from tests.support.paths import REPO

NOVEMBER = (date(2021, 11, 1), date(2021, 11, 30))
ARCHIVES_FAST = {**FAST, "MEDIAMON_ARCHIVE_DOWNLOAD_DELAY": 0}


def test_the_ops_step_backfills_and_logs_one_line_per_source(mirror: MirrorServer, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path / "data", config_dir=REPO / "config", url_rewrite=mirror.url_rewrite(),
                        sources_file=fast_sources(tmp_path, {"rt-ru"}))
    with caplog.at_level(logging.INFO, logger="mediamon.ops.crawl"):
        outcome = backfill_in_subprocess(settings, ["rt-ru"], *NOVEMBER, scrapy_settings=ARCHIVES_FAST)
    report = outcome.report["sources"]["rt-ru"]
    assert report["adds_up"] and set(report["paths"]) == {"wayback", "commoncrawl"}  # rt-ru has feeds only
    assert report["archived"] == len(mirror.archives.expected_backfill(["rt-ru"], *NOVEMBER)) > 0
    assert sorted(outcome.new_batches) == sorted(iter_batches(tmp_path / "data" / "archive"))
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["backfill rt-ru"]


def test_a_range_that_ends_before_it_starts_is_refused_before_anything_runs(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", config_dir=REPO / "config")
    with pytest.raises(BackfillRangeError, match="after --until"):
        backfill_in_subprocess(settings, None, date(2021, 11, 30), date(2021, 11, 1))
    result = CliRunner().invoke(main, ["backfill", "--since", "2021-11-30", "--until", "2021-11-01"])
    assert result.exit_code == 2 and "2021-11-30 is after --until 2021-11-01" in result.output
    result = CliRunner().invoke(main, ["backfill", "--since", "1.11.2021", "--until", "2021-11-30"])
    assert result.exit_code == 2 and "not a day as YYYY-MM-DD" in result.output


def test_mediamon_backfill_prints_a_row_per_source_and_path(mirror: MirrorServer, tmp_path: Path) -> None:
    sources = fast_sources(tmp_path, {"tass-en"})
    command = [sys.executable, "-m", "mediamon", "backfill", "--sources", str(sources), "--since", "2021-11-01",
               "--until", "2021-11-30"]
    env = {**crawl_env(mirror, tmp_path / "data"), "MEDIAMON_CRAWL_SETTINGS": json.dumps(ARCHIVES_FAST),
           "COLUMNS": "200"}
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    expected = len(mirror.archives.expected_backfill(["tass-en"], *NOVEMBER))
    assert f"backfill 2021-11-01 .. 2021-11-30: {expected} articles archived" in proc.stdout
    rows = [line for line in proc.stdout.splitlines() if any(p in line for p in ("sitemap", "wayback", "commoncra"))]
    assert len(rows) == 3 and "tass-en" in rows[0]


def test_backfilled_articles_become_one_searchable_document_each_with_their_provenance(
        es_settings: Settings, es_admin: Elasticsearch, mirror: MirrorServer, tmp_path: Path) -> None:
    """mid-ru: live list pages, a page the live site hides behind a challenge (only the Wayback Machine has it),
    and captures of what the live site also serves."""
    settings = es_settings.model_copy(update={"sources_file": fast_sources(tmp_path, {"mid-ru"}),
                                              "url_rewrite": mirror.url_rewrite()})
    backfill_in_subprocess(settings, ["mid-ru"], *NOVEMBER, scrapy_settings=ARCHIVES_FAST)
    process_pending(settings, es=es_admin, progress=False)
    es_admin.indices.refresh(index=settings.docs_alias)
    hits = es_admin.search(index=settings.docs_alias, size=100, query={"term": {"source": "mid-ru"}},
                           source_includes=["url", "provenance"])["hits"]["hits"]
    expected = mirror.archives.expected_backfill(["mid-ru"], *NOVEMBER)
    assert sorted(h["_source"]["url"] for h in hits) == sorted(expected)  # one document per article
    challenged = {a.url for a in mirror.expected if a.source == "mid-ru" and a.outcome == "blocked:js_challenge"}
    assert {h["_source"]["url"]: h["_source"]["provenance"] for h in hits if h["_source"]["url"] in challenged} == {
        url: ["wayback"] for url in challenged}
    assert all(h["_source"]["provenance"] == ["live"] for h in hits if h["_source"]["url"] not in challenged)
