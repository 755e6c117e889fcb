"""`mediamon demo`: the whole pipeline offline on sample sites, then a summary; a second run is incremental.

Run through the real CLI on a trimmed corpus (three sources, ru/en/be; the
other sites are up but publish little or nothing) so it stays quick;
`make demo` runs the full bundled corpus the same way.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from mediamon.cli.main import main
from mediamon.core.settings import Settings
from mediamon.devtools.mirror.corpus import CORPUS_DIR
from mediamon.devtools.mirror.server import MirrorServer
from processing.alerts.alert_state import StateStore

KEPT = ("tass-ru", "rt-en", "belta-be")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    directory = tmp_path / "corpus"
    directory.mkdir()
    for source in KEPT:
        shutil.copy(CORPUS_DIR / f"{source}.yaml", directory)
    return directory


def demo(settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for key, value in {"MEDIAMON_DATA_DIR": settings.data_dir, "MEDIAMON_INDEX_PREFIX": settings.index_prefix,
                       "MEDIAMON_LOCAL_ES_DIR": settings.local_es_dir}.items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.delenv("MEDIAMON_URL_REWRITE", raising=False)
    result = CliRunner().invoke(main, ["demo", "--corpus", str(corpus)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def expected_urls(corpus: Path) -> dict[str, set[str]]:
    """What the sample sites publish, from the mirror's own catalogue."""
    out: dict[str, set[str]] = {}
    with MirrorServer(corpus_dir=corpus, faults=False) as mirror:
        for article in mirror.expected:
            if article.outcome == "archived":
                out.setdefault(article.source, set()).add(article.url)
    return out


def indexed_urls(es: Elasticsearch, settings: Settings) -> dict[str, set[str]]:
    es.indices.refresh(index=settings.docs_alias)
    out: dict[str, set[str]] = {}
    for hit in es.search(index=settings.docs_alias, size=1000, source=["url", "source"])["hits"]["hits"]:
        out.setdefault(hit["_source"]["source"], set()).add(hit["_source"]["url"])
    return out


def seq_nos(es: Elasticsearch, settings: Settings) -> dict[str, int]:
    es.indices.refresh(index=settings.docs_alias)
    hits = es.search(index=settings.docs_alias, size=1000, seq_no_primary_term=True)["hits"]["hits"]
    return {hit["_id"]: hit["_seq_no"] for hit in hits}


def test_demo_indexes_the_sample_sites_summarizes_and_reruns_incrementally(
        es_settings: Settings, es_admin: Elasticsearch, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = demo(es_settings, corpus, monkeypatch)
    expected = expected_urls(corpus)
    assert set(KEPT) <= set(expected)
    assert indexed_urls(es_admin, es_settings) == expected  # every published article is a document, nothing else
    total = sum(len(urls) for urls in expected.values())
    assert f"{total} documents in the index" in output
    for heading in ("narratives", "most alarmist", "duplicate groups", "alerts fired this run", "mediamon search"):
        assert heading in output
    for source in expected:
        assert source in output
    assert " be " in output and " en " in output and " ru " in output  # the per-language columns

    # It ends with the report over the sample documents (2021: not the empty last seven days) and says what runs.
    report = es_settings.data_dir / "report" / "report.html"
    assert f"report: {report}" in output
    html = report.read_text()
    assert re.search(rf'id="total">{total}<', html) and 'id="empty-period"' not in html
    assert "Elasticsearch is still running" in output and "es stop`, or `make clean`" in output
    # Alerts are judged as of the newest sample document, not the wall clock, on which every sample site is
    # "silent for years": no source-silent alert (a site with nothing near that time is outside the sample).
    newest = es_admin.search(index=es_settings.docs_alias, size=0, aggs={"newest": {"max": {"field": "published_at"}}})
    assert re.search(rf"alerts judged as of\s+{newest['aggregations']['newest']['value_as_string'][:10]} ", output)
    assert StateStore(es_admin, es_settings.alerts_index).alerts(rule="source-silent") == []
    for step in ("sample sites served at", "crawling every source (crawler log:", "processing them",
                 "evaluating the alert rules"):  # long steps say what they are doing
        assert step in output, step
    # The suggested commands work exactly as printed, from the user's shell (mediamon need not be on PATH).
    suggested = re.findall(r"^  (\S*mediamon search .*)$", output, re.M)
    assert len(suggested) >= 4
    for command in suggested:
        run = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, (command, run.stderr[-1000:])

    # The second run belongs to this test: each run crawls every sample site, and the suite shares two cores.
    before = seq_nos(es_admin, es_settings)
    output = demo(es_settings, corpus, monkeypatch)
    assert "archived 0" in output and "batches_done 0" in output and "created 0" in output
    assert f"{total} documents in the index" in output
    assert seq_nos(es_admin, es_settings) == before
