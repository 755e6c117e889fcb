"""`mediamon run --sources FILE`: the crawl and the processing read the same sources file.

The bug this pins: the crawl used FILE while processing re-read config/sources.yaml,
so extraction selectors and source metadata could silently come from another file.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from mediamon.devtools.mirror.server import MirrorServer
from mediamon.ops.run import run_once
from tests.support.crawl import FAST, fast_sources

OWNER = "Owner named only in the --sources file"


def test_run_processes_with_the_sources_file_it_crawled(es_settings: Settings, es_admin: Elasticsearch,
                                                         mirror: MirrorServer, tmp_path: Path) -> None:
    sources = fast_sources(tmp_path, {"tass-en"})
    data = yaml.safe_load(sources.read_text(encoding="utf-8"))
    data["sources"][0]["owner"] = OWNER
    sources.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = es_settings.model_copy(update={"sources_file": sources, "url_rewrite": mirror.url_rewrite()})

    report = run_once(settings, es=es_admin, progress=False, scrapy_settings=FAST)

    assert report.process["created"] > 0, report
    es_admin.indices.refresh(index=settings.docs_alias)
    owners = es_admin.search(index=settings.docs_alias, size=0,
                             aggs={"owners": {"terms": {"field": "source_owner"}}})["aggregations"]["owners"]
    assert {bucket["key"] for bucket in owners["buckets"]} == {OWNER}
