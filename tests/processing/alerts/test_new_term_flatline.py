"""`new_term` and `flatline` rules on constructed timelines."""

from __future__ import annotations

from datetime import timedelta

from tests.support.alerting import T0, config, doc, fired, index

NEW_NARRATIVE = {"id": "new-narrative", "type": "new_term", "field": "narratives", "group_by": "source",
                 "history": "30d"}


def test_new_term_fires_for_values_unseen_in_the_history(run, es_settings, es_admin):
    index(es_admin, es_settings, [
        doc("old-tass", source="tass-ru", narratives=["belarus_lawful"], published=T0 - timedelta(days=10)),
        doc("ancient-ria", source="ria-ru", narratives=["iraq_whataboutism"], published=T0 - timedelta(days=40)),
    ])
    assert run(config(NEW_NARRATIVE), T0).learnt_terms == 1  # first run learns; the 40-day-old one is out
    index(es_admin, es_settings, [
        doc("tass-again", source="tass-ru", narratives=["belarus_lawful"]),                 # seen: quiet
        doc("tass-new", source="tass-ru", narratives=["afghan_channel"]),                   # new for tass
        doc("ria-new", source="ria-ru", narratives=["belarus_lawful", "iraq_whataboutism"]),  # both new for ria
    ])
    report = run(config(NEW_NARRATIVE), T0 + timedelta(minutes=10))
    assert report.fired == 3
    got = sorted((a["reason"]["group"], a["reason"]["term"]) for a in fired(es_admin, es_settings))
    assert got == [("ria-ru", "belarus_lawful"), ("ria-ru", "iraq_whataboutism"), ("tass-ru", "afghan_channel")]
    # the same term again later is no longer new
    index(es_admin, es_settings, [doc("tass-new-2", source="tass-ru", narratives=["afghan_channel"],
                                      published=T0 + timedelta(minutes=20))])
    later = run(config(NEW_NARRATIVE), T0 + timedelta(minutes=30))
    assert later.fired == 0


def test_new_term_without_group(run, es_settings, es_admin):
    rule = {"id": "new-speaker", "type": "new_term", "field": "speakers", "history": "30d"}
    index(es_admin, es_settings, [doc("old", speakers=["Sergei Lavrov"], published=T0 - timedelta(days=3))])
    run(config(rule), T0 - timedelta(days=1))
    index(es_admin, es_settings, [doc("new", speakers=["Sergei Lavrov", "Sergei Shoigu"])])
    run(config(rule), T0 + timedelta(minutes=10))
    assert [a["key"] for a in fired(es_admin, es_settings)] == ["Sergei Shoigu"]


def test_new_term_first_run_learns_instead_of_alerting(run, es_settings, es_admin):
    """Deploying the rule (or backfilling) must not report every existing value as new."""
    pairs = [("tass-ru", "eu_must_pay"), ("ria-ru", "nato_provocation")]
    index(es_admin, es_settings, [doc(f"d{i}", source=s, narratives=[n], indexed=T0 - timedelta(minutes=2))
                                  for i, (s, n) in enumerate(pairs)])
    first = run(config(NEW_NARRATIVE), T0)
    assert (first.fired, first.learnt_terms) == (0, 2)
    # the same documents re-read inside the lag margin are known, not new
    second = run(config(NEW_NARRATIVE), T0 + timedelta(minutes=1))
    assert (second.fired, second.duplicates) == (0, 2)


def test_flatline_flags_sources_silent_longer_than_their_usual_gap(run, es_settings, es_admin):
    rule = {"id": "silent", "type": "flatline", "sources": ["tass-ru", "ria-ru", "rt-ru", "belta-ru"],
            "history": "14d", "factor": 3, "min_silence": "1h"}
    docs = [doc(f"tass-{i}", source="tass-ru", published=T0 - timedelta(minutes=30 * (i + 1))) for i in range(20)]
    docs += [doc(f"ria-{i}", source="ria-ru", published=T0 - timedelta(hours=5, minutes=30 * i)) for i in range(20)]
    docs += [doc(f"rt-{i}", source="rt-ru", published=T0 - timedelta(hours=5, days=i)) for i in range(5)]
    index(es_admin, es_settings, docs)
    report = run(config(rule), T0)
    # tass: 30 min since its last, normal; rt: 5 h, but it publishes daily; ria: 5 h against a 30-min rhythm
    assert sorted(a["key"] for a in fired(es_admin, es_settings)) == ["belta-ru", "ria-ru"]
    assert report.fired == 2
    again = run(config(rule), T0 + timedelta(minutes=20))  # the same silences: not repeated
    assert (again.fired, again.duplicates) == (0, 2)


def test_flatline_watches_the_sources_of_sources_yaml_by_default(run, es_settings, es_admin):
    from mediamon.core.sources import load_sources

    configured = {s.id for s in load_sources(es_settings.sources_path)}
    rule = {"id": "silent", "type": "flatline", "history": "14d", "min_silence": "1h"}
    index(es_admin, es_settings, [doc(f"t{i}", source="tass-ru", published=T0 - timedelta(minutes=20 * i))
                                  for i in range(5)])
    run(config(rule), T0)
    assert {a["key"] for a in fired(es_admin, es_settings)} == configured - {"tass-ru"}
