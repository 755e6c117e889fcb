"""Fixtures for processing tests: the real rules and sources from config/; alert runs on the real node."""

from __future__ import annotations

from datetime import datetime

import pytest
from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from mediamon.core.sources import Source, load_sources, sources_by_id
from processing.alerts.engine import AlertsReport, run_alerts
from processing.alerts.rules import AlertsConfig
from processing.rules import ProcessingRules, load_processing_rules
from tests.support.paths import CONFIG


@pytest.fixture(scope="session")
def rules() -> ProcessingRules:
    return load_processing_rules(CONFIG)


@pytest.fixture(scope="session")
def sources() -> dict[str, Source]:
    return sources_by_id(load_sources(CONFIG / "sources.yaml"))


@pytest.fixture
def run(es_settings: Settings, es_admin: Elasticsearch):
    """run(cfg, now) evaluates with a brand-new engine each call: all state comes from Elasticsearch."""

    def _run(cfg: AlertsConfig, now: datetime) -> AlertsReport:
        report = run_alerts(es_settings, es=es_admin, now=now, config=cfg)
        assert report.adds_up(), report
        assert not report.errors, report.errors
        return report

    return _run
