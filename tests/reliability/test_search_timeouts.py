"""Searches that time out are sent once: alerts, the report and dedup fail fast instead of piling up repeats.

The node behind the proxy is the real one; only its search endpoints stall.
The client allows three retries, as production's does for writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from elastic_transport import ConnectionTimeout
from elasticsearch import Elasticsearch

from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings
from processing.alerts.engine import run_alerts
from processing.dedup import find_candidates, fingerprint_document
from processing.reports.digest import write_report
from tests.support.alerting import config, doc, index
from tests.support.stalling_proxy import StallingProxy


@pytest.fixture
def stalled(es_settings: Settings, es_admin: Elasticsearch) -> Iterator[tuple[StallingProxy, Elasticsearch]]:
    index(es_admin, es_settings, [doc("pay", narratives=["eu_must_pay"], indexed=datetime.now(UTC))])
    es_admin.indices.refresh(index=es_settings.docs_alias)
    proxy = StallingProxy(es_settings.es_url or "")
    client = make_client(es_settings.model_copy(update={"es_url": proxy.url, "es_timeout": 1.0,
                                                        "es_max_retries": 3}))
    yield proxy, client
    proxy.close()


def test_an_alert_rule_search_that_times_out_is_not_sent_again(es_settings, stalled) -> None:
    proxy, client = stalled
    rule = {"id": "pay", "type": "match", "query": "narratives:eu_must_pay"}
    with pytest.raises(ConnectionTimeout):
        run_alerts(es_settings, es=client, config=config(rule))
    assert len(proxy.searches) == 1


def test_a_report_search_that_times_out_is_not_sent_again(es_settings, stalled, tmp_path) -> None:
    proxy, client = stalled
    with pytest.raises(ConnectionTimeout):
        write_report(es_settings, client, datetime.now(UTC) - timedelta(days=7), tmp_path / "report")
    assert len(proxy.searches) == 1


def test_a_duplicate_lookup_that_times_out_is_not_sent_again(es_settings, stalled) -> None:
    proxy, client = stalled
    with pytest.raises(ConnectionTimeout):
        find_candidates(client, es_settings.docs_alias, [fingerprint_document(doc("new", text="Some text " * 40))])
    assert len(proxy.searches) == 1
