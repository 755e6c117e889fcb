"""MEDIAMON_AS_OF=newest-document: rules judge replayed 2021 documents as of their own newest publication.

The documents are published around T0 (2021) and indexed years later, as the
demo's are. On the wall clock every source is silent for years and every recent
window is empty; on the data's clock only a real silence (or burst) in the data
fires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mediamon.core.document import Document
from processing.alerts.engine import run_alerts
from tests.support.alerting import T0, config, doc, fired, index

WALL = T0 + timedelta(days=5 * 365)  # when the replayed documents are indexed and the rules run


def replayed(slug: str, source: str, published: datetime) -> Document:
    return doc(slug, source=source, published=published, indexed=WALL - timedelta(minutes=1))


def test_flatline_on_the_data_clock_fires_only_for_a_silence_within_the_data(es_settings, es_admin):
    docs = [replayed(f"tass-{i}", "tass-ru", T0 - timedelta(minutes=30 * i)) for i in range(20)]
    docs += [replayed(f"ria-{i}", "ria-ru", T0 - timedelta(hours=5, minutes=30 * i)) for i in range(20)]
    # a site whose sample articles are years older (the demo's 2021 sites beside two 2025 pages): outside the replay
    docs += [replayed(f"rt-{i}", "rt-ru", T0 - timedelta(days=700 + i)) for i in range(5)]
    index(es_admin, es_settings, docs)
    rule = {"type": "flatline", "sources": ["tass-ru", "ria-ru", "rt-ru"], "history": "14d", "min_silence": "1h"}

    data_clock = es_settings.model_copy(update={"as_of": "newest-document"})
    report = run_alerts(data_clock, es=es_admin, now=WALL, config=config({"id": "data", **rule}))
    assert report.as_of == T0.isoformat()
    # tass published up to the newest document; ria stopped 5 h before it, against a 30-minute rhythm
    assert [a["key"] for a in fired(es_admin, es_settings, rule="data")] == ["ria-ru"]
    assert "silent for 5h" in fired(es_admin, es_settings, rule="data")[0]["summary"]

    # the wall clock (production's default): every source silent for years, every one fires
    report = run_alerts(es_settings, es=es_admin, now=WALL, config=config({"id": "wall", **rule}))
    assert report.as_of is None
    assert sorted(a["key"] for a in fired(es_admin, es_settings, rule="wall")) == ["ria-ru", "rt-ru", "tass-ru"]


def test_threshold_and_spike_windows_end_at_the_newest_document_on_the_data_clock(es_settings, es_admin):
    burst = [replayed(f"burst-{i}", "tass-ru", T0 - timedelta(minutes=5 * i)) for i in range(6)]
    calm = [replayed(f"calm-{i}", "tass-ru", T0 - timedelta(days=1 + i)) for i in range(6)]
    index(es_admin, es_settings, burst + calm)
    rules = [{"id": "burst", "type": "threshold", "window": "1h", "above": 5},
             {"id": "spike", "type": "spike", "window": "1h", "baseline": "7d", "factor": 3, "min_current": 5}]

    on_wall = run_alerts(es_settings, es=es_admin, now=WALL, config=config(*rules))
    assert on_wall.fired == 0  # nothing was published in the hour before the wall clock

    data_clock = es_settings.model_copy(update={"as_of": "newest-document"})
    on_data = run_alerts(data_clock, es=es_admin, now=WALL + timedelta(minutes=1), config=config(*rules))
    assert sorted(a["rule"] for a in fired(es_admin, es_settings)) == ["burst", "spike"]
    assert on_data.fired == 2
    alert = fired(es_admin, es_settings, rule="burst")[0]
    assert alert["reason"]["count"] == 6 and alert["fired_at"] == (WALL + timedelta(minutes=1)).isoformat()


def test_a_future_dated_document_does_not_move_the_data_clock(es_settings, es_admin):
    index(es_admin, es_settings, [replayed("past", "tass-ru", T0),
                                  replayed("future", "tass-ru", WALL + timedelta(days=30))])
    data_clock = es_settings.model_copy(update={"as_of": "newest-document"})
    assert run_alerts(data_clock, es=es_admin, now=WALL, config=config()).as_of is None  # no rule: no lookup
    rule = {"id": "silent", "type": "flatline", "sources": ["tass-ru"], "min_silence": "1h"}
    assert run_alerts(data_clock, es=es_admin, now=WALL, config=config(rule)).as_of == T0.isoformat()
