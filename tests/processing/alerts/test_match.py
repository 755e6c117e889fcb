"""`match` rules: new matching documents fire once, near-duplicates join their group's alert."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.support.alerting import T0, config, doc, fired, index

ALARMIST_POLAND = {"id": "alarmist-poland", "type": "match",
                   "query": "narratives:poland_inhumane AND alarmism:>=0.6"}


def test_fires_for_a_matching_document_and_not_for_others(run, es_settings, es_admin):
    index(es_admin, es_settings, [
        doc("pushbacks", narratives=["poland_inhumane"], alarmism=0.8, alarmism_terms=["катастрофа"]),
        doc("calm", narratives=["poland_inhumane"], alarmism=0.2),
        doc("other", narratives=["eu_must_pay"], alarmism=0.9),
    ])
    report = run(config(ALARMIST_POLAND), T0 + timedelta(minutes=10))
    assert (report.fired, report.candidates, report.delivered) == (1, 1, 1)
    [alert] = fired(es_admin, es_settings)
    assert [d["title"] for d in alert["documents"]] == ["Pushbacks"]
    assert alert["reason"]["alarmism_terms"] == ["катастрофа"]
    line = json.loads((es_settings.data_dir / "alerts.jsonl").read_text().splitlines()[0])
    assert "Pushbacks" in line["text"] and "https://tass-ru.example/pushbacks" in line["text"]


def test_highlights_the_matched_words(run, es_settings, es_admin):
    index(es_admin, es_settings, [doc("lavrov", text="Лавров заявил, что ЕС должен заплатить Белоруссии.")])
    run(config({"id": "pay", "type": "match", "query": "text:заплатить"}), T0 + timedelta(minutes=10))
    [alert] = fired(es_admin, es_settings)
    assert any("*заплатить*" in span for span in alert["documents"][0]["highlights"])


def test_quiet_when_nothing_new_matches(run, es_settings, es_admin):
    index(es_admin, es_settings, [doc("calm", narratives=["poland_inhumane"], alarmism=0.1)])
    report = run(config(ALARMIST_POLAND), T0 + timedelta(minutes=10))
    assert report.candidates == 0 and fired(es_admin, es_settings) == []


def test_near_duplicates_alert_once_per_group_with_outlets_counted(run, es_settings, es_admin):
    story = {"narratives": ["poland_inhumane"], "alarmism": 0.9, "dup_group": "g-pushbacks"}
    index(es_admin, es_settings, [doc("a", source="tass-ru", **story),
                                  doc("b", source="ria-ru", is_duplicate=True, **story)])
    first = run(config(ALARMIST_POLAND), T0 + timedelta(minutes=10))
    assert first.fired == 1 and first.delivered == 1
    # two more outlets repeat it, later: joined to the alert, one update message after the realert interval
    index(es_admin, es_settings, [
        doc("c", source="rt-ru", is_duplicate=True, indexed=T0 + timedelta(minutes=20), **story),
        doc("d", source="belta-ru", is_duplicate=True, indexed=T0 + timedelta(minutes=80), **story)])
    second = run(config(ALARMIST_POLAND), T0 + timedelta(minutes=30))
    assert (second.fired, second.updated, second.delivered) == (0, 1, 0)  # within realert: recorded, not sent
    third = run(config(ALARMIST_POLAND), T0 + timedelta(minutes=90))
    assert (third.fired, third.updated, third.delivered) == (0, 1, 1)
    [alert] = fired(es_admin, es_settings)
    assert alert["outlets"] == ["belta-ru", "ria-ru", "rt-ru", "tass-ru"]
    messages = [json.loads(x) for x in (es_settings.data_dir / "alerts.jsonl").read_text().splitlines()]
    assert len(messages) == 2
    assert "now in 4 outlets" in messages[1]["text"]


def test_restart_repeats_nothing_and_misses_nothing(run, es_settings, es_admin):
    cfg = config(ALARMIST_POLAND)
    index(es_admin, es_settings, [doc("a", narratives=["poland_inhumane"], alarmism=0.9,
                                      indexed=T0 + timedelta(minutes=7))])
    assert run(cfg, T0 + timedelta(minutes=10)).fired == 1
    # B was stamped before the checkpoint but only became visible afterwards (refresh lag, slow bulk)
    index(es_admin, es_settings, [doc("b", narratives=["poland_inhumane"], alarmism=0.9,
                                      indexed=T0 + timedelta(minutes=8))])
    # a new engine: state only from Elasticsearch; A is re-read inside the lag margin and not repeated
    again = run(cfg, T0 + timedelta(minutes=12))
    assert again.fired == 1 and again.duplicates == 1
    assert run(cfg, T0 + timedelta(minutes=13)).fired == 0
    alerts = fired(es_admin, es_settings)
    assert sorted(a["documents"][0]["title"] for a in alerts) == ["A", "B"]
    assert len((es_settings.data_dir / "alerts.jsonl").read_text().splitlines()) == 2


def test_documents_beyond_the_shown_few_are_not_taken_for_updates(run, es_settings, es_admin):
    rule = {**ALARMIST_POLAND, "max_documents": 2}
    story = {"narratives": ["poland_inhumane"], "alarmism": 0.9, "dup_group": "g", "indexed": T0 + timedelta(minutes=8)}
    index(es_admin, es_settings, [doc(s, source=s, **story) for s in ("tass-ru", "ria-ru", "rt-ru")])
    assert run(config(rule), T0 + timedelta(minutes=10)).fired == 1
    again = run(config(rule), T0 + timedelta(minutes=11))  # all three re-read inside the lag margin
    assert (again.updated, again.duplicates) == (0, 1)
    [alert] = fired(es_admin, es_settings)
    assert len(alert["documents"]) == 2 and len(alert["doc_ids"]) == 3 and len(alert["outlets"]) == 3


def test_a_lemma_query_matches_every_inflected_form(run, es_settings, es_admin):
    from processing.lemmas import lemma_text

    text = "Тысячи мигрантов замерзают в лесу у польской границы."
    index(es_admin, es_settings, [doc("forest", text=text, lemmas=lemma_text(text))])
    run(config({"id": "migrants", "type": "match", "query": "lemmas:мигрант"}), T0 + timedelta(minutes=10))
    [alert] = fired(es_admin, es_settings)
    assert alert["documents"][0]["title"] == "Forest"


def test_a_speaker_rule_ignores_mere_mentions_a_mentions_rule_takes_both(run, es_settings, es_admin):
    index(es_admin, es_settings, [
        doc("statement", speakers=["Sergei Lavrov"], mentions=["Sergei Lavrov"]),
        doc("report", speakers=[], mentions=["Sergei Lavrov", "Alexander Lukashenko"]),
    ])
    run(config({"id": "said", "type": "match", "query": 'speakers:"Sergei Lavrov"'},
               {"id": "named", "type": "match", "query": 'mentions:"Sergei Lavrov"'}), T0 + timedelta(minutes=10))
    assert [d["title"] for a in fired(es_admin, es_settings, "said") for d in a["documents"]] == ["Statement"]
    assert sorted(d["title"] for a in fired(es_admin, es_settings, "named") for d in a["documents"]) == [
        "Report", "Statement"]
    assert fired(es_admin, es_settings, "named")[0]["documents"][0]["mentions"]
