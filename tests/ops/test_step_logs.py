"""A step's log in a task process: one line with its counts, none of the Elasticsearch client's request lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from mediamon.ops.health import archive_vs_index, source_freshness
from mediamon.ops.logs import REQUEST_LOGGERS, counts_line
from mediamon.ops.process import run_alert_rules
from tests.support.alerting import doc, index


@pytest.fixture
def loud_clients() -> Iterator[None]:
    """The clients' loggers as a fresh task process has them (the CLI, or an earlier test, may have quieted them)."""
    before = {name: logging.getLogger(name).level for name in REQUEST_LOGGERS}
    for name in REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def test_the_alerts_step_logs_one_summary_line_and_no_request_lines(
        es_settings: Settings, loud_clients: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # Airflow's task log level
    counts = run_alert_rules(es_settings)
    assert counts["rules"] > 0
    assert [r.name for r in caplog.records if r.name.startswith(REQUEST_LOGGERS)] == []
    assert [r.getMessage() for r in caplog.records] == [counts_line("alerts", counts)]
    assert caplog.records[0].getMessage().startswith(f"alerts: rules {counts['rules']}, ")


def test_a_counts_line_names_reasons_and_failures() -> None:
    counts = {"records_in": 3, "created": 2, "updated": 0, "quarantined": {"not_article": 1}, "adds_up": True}
    assert counts_line("process b1", counts) == "process b1: records_in 3, created 2, quarantined 1 (not_article 1)"
    assert counts_line("alerts", {"rules": 2, "errors": {"r1": "boom"}, "fired_ids": [], "adds_up": False}) == (
        "alerts: rules 2, errors 1 (r1), COUNTS DO NOT ADD UP")
    assert counts_line("alerts", {"rules": 0}) == "alerts: nothing to do"


def test_the_health_steps_log_one_counts_line_each_and_no_request_lines(
        es_settings: Settings, es_admin: Elasticsearch, loud_clients: None, caplog: pytest.LogCaptureFixture) -> None:
    now = datetime.now(UTC)
    index(es_admin, es_settings, [doc(f"t{i}", published=now - timedelta(hours=i), fetched_at=now - timedelta(hours=i))
                                  for i in range(3)])
    es_admin.indices.refresh(index=es_settings.docs_alias)
    caplog.set_level(logging.INFO)
    caplog.clear()  # the set-up's own indexing requests are not the health steps' log
    assert source_freshness(es_settings, ["tass-ru"], stale_factor=3.0, min_silence_hours=6.0)[0]["stale"] is False
    assert archive_vs_index(es_settings, None, grace_minutes=0) == []
    assert [r.getMessage() for r in caplog.records] == ["freshness: sources 1, fresh 1",
                                                       "archive vs index: nothing to do"]
