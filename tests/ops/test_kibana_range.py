"""The Kibana dashboard opens where the documents are on sample data, on its own now-7d live.

Imported into a recording Kibana (the saved objects API answers like Kibana's);
the documents are the demo's kind: published in 2021, indexed now.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from mediamon.core.settings import Settings
from mediamon.ops.setup import import_kibana_objects
from tests.support.alerting import T0, doc, index
from tests.support.paths import REPO
from tests.support.recording_server import Recorder

IMPORT = "/api/saved_objects/_import?overwrite=true"


@pytest.fixture
def kibana() -> Iterator[Recorder]:
    site = Recorder({IMPORT: (200, {"Content-Type": "application/json"}, b'{"success": true, "successCount": 1}')})
    yield site
    site.close()


def dashboards(kibana: Recorder) -> list[dict]:
    """The dashboard objects Kibana received (the NDJSON lines inside the multipart bodies)."""
    return [obj for request in kibana.requests for line in request.body.decode().splitlines()
            if line.startswith("{") and (obj := json.loads(line))["type"] == "dashboard"]


def settings_for(es_settings: Settings, kibana: Recorder, as_of: str) -> Settings:
    return es_settings.model_copy(update={"kibana_url": f"http://127.0.0.1:{kibana.port}", "as_of": as_of,
                                          "config_dir": REPO / "config"})


def test_on_sample_data_the_dashboard_opens_on_the_days_the_documents_were_published(es_settings, es_admin,
                                                                                     kibana) -> None:
    index(es_admin, es_settings, [doc("first", published=T0 - timedelta(days=10), indexed=datetime.now(UTC)),
                                  doc("last", published=T0 + timedelta(hours=3), indexed=datetime.now(UTC))])
    es_admin.indices.refresh(index=es_settings.docs_alias)
    report, span = import_kibana_objects(es_admin, settings_for(es_settings, kibana, "newest-document"))
    assert report.objects > 0 and span == (T0 - timedelta(days=10), T0 + timedelta(hours=3))
    [dashboard] = dashboards(kibana)
    attributes = dashboard["attributes"]
    assert attributes["timeRestore"] is True
    assert (attributes["timeFrom"], attributes["timeTo"]) == ("2021-10-29T00:00:00+00:00", "2021-11-09T00:00:00+00:00")


def test_live_the_dashboard_keeps_its_sensible_default(es_settings, es_admin, kibana) -> None:
    index(es_admin, es_settings, [doc("old", published=T0, indexed=datetime.now(UTC))])
    es_admin.indices.refresh(index=es_settings.docs_alias)
    _report, span = import_kibana_objects(es_admin, settings_for(es_settings, kibana, "now"))
    assert span is None
    [dashboard] = dashboards(kibana)
    assert (dashboard["attributes"]["timeFrom"], dashboard["attributes"]["timeTo"]) == ("now-7d", "now")
