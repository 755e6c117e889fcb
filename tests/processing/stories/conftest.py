"""The sample corpus crawled from the mirror and processed once for this package, stories on (the real node)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from mediamon.devtools.mirror.corpus import CorpusItem, load_corpus
from mediamon.devtools.mirror.server import MirrorServer
from processing.runner import ProcessReport, process_pending
from processing.store.indexsetup import setup
from tests.processing.test_end_to_end import all_documents, crawl, document_of
from tests.support.es import drop_prefix
from tests.support.paths import CONFIG


@dataclass
class Processed:
    settings: Settings
    report: ProcessReport
    corpus: dict[str, CorpusItem]
    docs: dict[str, dict]  # corpus item id -> its indexed document


@pytest.fixture(scope="package")
def processed(es_base_settings: Settings, es_admin: Elasticsearch,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processed]:
    tmp: Path = tmp_path_factory.mktemp("stories")
    settings = es_base_settings.model_copy(update={
        "index_prefix": f"t{uuid.uuid4().hex[:10]}", "data_dir": tmp / "data", "config_dir": CONFIG})
    settings.data_dir.mkdir()
    setup(es_admin, settings, with_roles=False)
    try:
        with MirrorServer(faults=False) as mirror:
            crawl(mirror, settings, tmp)
        report = process_pending(settings, es_admin, workers=2, progress=False)
        docs = all_documents(es_admin, settings)
        corpus = {i.id: i for items in load_corpus().values() for i in items}
        yield Processed(settings, report, corpus, {key: document_of(item, docs) for key, item in corpus.items()})
    finally:
        drop_prefix(es_admin, settings.index_prefix)
