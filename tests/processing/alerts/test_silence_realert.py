"""Realert interval, silences and digests: what is held back, what is sent, and when."""

from __future__ import annotations

import json
from datetime import timedelta

from processing.alerts.engine import silence
from tests.support.alerting import T0, config, doc, fired, index

ANY_NEW = {"id": "any", "type": "threshold", "group_by": "source", "window": "1h", "above": 0, "realert": "1h"}


def messages(settings):
    path = settings.data_dir / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_realert_holds_a_key_back_for_the_interval(run, es_settings, es_admin):
    cfg = config(ANY_NEW)
    index(es_admin, es_settings, [doc("a", published=T0)])
    assert run(cfg, T0 + timedelta(minutes=5)).fired == 1
    index(es_admin, es_settings, [doc("b", published=T0 + timedelta(minutes=20))])
    assert run(cfg, T0 + timedelta(minutes=25)).suppressed == 1
    index(es_admin, es_settings, [doc("c", published=T0 + timedelta(minutes=70))])
    assert run(cfg, T0 + timedelta(minutes=75)).fired == 1
    assert len(messages(es_settings)) == 2


def test_silence_for_one_key_records_but_does_not_send(run, es_settings, es_admin):
    cfg = config(ANY_NEW)
    silence(es_settings, es_admin, "any", "tass-ru", timedelta(hours=6), now=T0)
    index(es_admin, es_settings, [doc("a", source="tass-ru"), doc("b", source="ria-ru")])
    report = run(cfg, T0 + timedelta(minutes=5))
    assert (report.fired, report.silenced, report.delivered) == (1, 1, 1)
    assert {a["key"]: a["status"] for a in fired(es_admin, es_settings)} == {"ria-ru": "delivered",
                                                                             "tass-ru": "silenced"}
    # after the silence ends the key alerts again on new evidence
    index(es_admin, es_settings, [doc("c", source="tass-ru", published=T0 + timedelta(hours=7))])
    assert run(cfg, T0 + timedelta(hours=7, minutes=5)).fired == 1


def test_silence_without_key_covers_the_whole_rule(run, es_settings, es_admin):
    silence(es_settings, es_admin, "any", None, timedelta(hours=1), now=T0)
    index(es_admin, es_settings, [doc("a", source="tass-ru"), doc("b", source="ria-ru")])
    report = run(config(ANY_NEW), T0 + timedelta(minutes=5))
    assert (report.fired, report.silenced) == (0, 2) and messages(es_settings) == []


def test_digest_sends_one_message_per_period(run, es_settings, es_admin):
    rule = {"id": "m", "type": "match", "query": "narratives:eu_must_pay", "digest": "1h"}
    index(es_admin, es_settings, [doc(f"d{i}", narratives=["eu_must_pay"], published=T0 + timedelta(minutes=i))
                                  for i in range(3)])
    first = run(config(rule), T0 + timedelta(minutes=10))
    assert (first.fired, first.delivered, first.pending) == (3, 0, 3)  # period T0..T0+1h still open
    index(es_admin, es_settings, [doc("late", narratives=["eu_must_pay"], published=T0 + timedelta(minutes=40))])
    assert run(config(rule), T0 + timedelta(minutes=45)).fired == 1
    closing = run(config(rule), T0 + timedelta(minutes=61))
    assert (closing.delivered, closing.pending) == (1, 0)
    [message] = messages(es_settings)
    assert "4 alerts" in message["subject"] and len(message["alerts"]) == 4
