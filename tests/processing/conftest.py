"""Fixtures for processing tests: the real rules and sources from config/, shingle scoring."""

from __future__ import annotations

import pytest

from mediamon.core.sources import Source, load_sources, sources_by_id
from processing.rules import ProcessingRules, load_processing_rules
from tests.support.paths import CONFIG


@pytest.fixture(scope="session")
def rules() -> ProcessingRules:
    return load_processing_rules(CONFIG)


@pytest.fixture(scope="session")
def sources() -> dict[str, Source]:
    return sources_by_id(load_sources(CONFIG / "sources.yaml"))
