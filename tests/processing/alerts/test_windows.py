"""`threshold` and `spike` rules on constructed timelines: fire exactly when the counts say so."""

from __future__ import annotations

from datetime import timedelta

from tests.support.alerting import T0, config, doc, fired, index

BURST = {"id": "burst", "type": "threshold", "group_by": "narratives", "window": "1h", "above": 2}


def test_threshold_fires_per_key_above_the_count(run, es_settings, es_admin):
    index(es_admin, es_settings, [
        *[doc(f"x{i}", narratives=["nato_provocation"], published=T0 - timedelta(minutes=10 * i)) for i in (1, 2, 3)],
        *[doc(f"y{i}", narratives=["eu_must_pay"], published=T0 - timedelta(minutes=10 * i)) for i in (1, 2)],
        doc("old", narratives=["eu_must_pay"], published=T0 - timedelta(hours=3)),  # outside the window
    ])
    report = run(config(BURST), T0)
    assert report.fired == 1
    [alert] = fired(es_admin, es_settings)
    assert (alert["key"], alert["reason"]["count"]) == ("nato_provocation", 3)
    assert run(config(BURST), T0 + timedelta(minutes=2)).fired == 0  # same evidence, nothing new


def test_threshold_duplicates_are_not_counted(run, es_settings, es_admin):
    index(es_admin, es_settings, [
        doc(f"x{i}", narratives=["nato_provocation"], is_duplicate=i > 1, dup_group="g",
            published=T0 - timedelta(minutes=10 * i)) for i in (1, 2, 3)])
    assert run(config(BURST), T0).candidates == 0


def test_threshold_below_flags_keys_with_too_few_documents(run, es_settings, es_admin):
    rule = {"id": "quiet", "type": "threshold", "group_by": "source", "window": "6h", "below": 1,
            "keys": ["tass-ru", "ria-ru"]}
    index(es_admin, es_settings, [doc("t", source="tass-ru", published=T0 - timedelta(hours=1))])
    report = run(config(rule), T0)
    assert report.fired == 1
    assert [a["key"] for a in fired(es_admin, es_settings)] == ["ria-ru"]


def test_spike_needs_both_the_ratio_and_the_minimum_count(run, es_settings, es_admin):
    rule = {"id": "spike", "type": "spike", "group_by": "narratives", "window": "6h", "baseline": "7d",
            "factor": 3, "min_current": 3}
    docs = []
    for day in range(1, 8):  # baseline: one a day for "nuclear_belarus" and "eu_must_pay", eight a day for "afghan"
        when = T0 - timedelta(days=day)
        docs += [doc(f"n-base-{day}", narratives=["nuclear_belarus"], published=when),
                 doc(f"e-base-{day}", narratives=["eu_must_pay"], published=when),
                 *[doc(f"a-base-{day}-{i}", narratives=["afghan_channel"], published=when + timedelta(hours=i))
                   for i in range(8)]]
    now_docs = [*[doc(f"n-now-{i}", narratives=["nuclear_belarus"], published=T0 - timedelta(minutes=20 * i))
                  for i in range(6)],  # 6 in 6h vs 1/day: x24
                doc("e-now", narratives=["eu_must_pay"], published=T0 - timedelta(hours=1)),  # one story: too few
                *[doc(f"a-now-{i}", narratives=["afghan_channel"], published=T0 - timedelta(hours=i))
                  for i in range(3)]]  # 3 in 6h vs 8/day (2 per 6h): x1.5
    index(es_admin, es_settings, docs + now_docs)
    report = run(config(rule), T0)
    assert report.fired == 1
    [alert] = fired(es_admin, es_settings)
    assert alert["key"] == "nuclear_belarus"
    assert (alert["reason"]["current"], alert["reason"]["baseline"]) == (6, 7)
    assert alert["reason"]["ratio"] == 24.0


def test_spike_stays_quiet_on_a_steady_stream(run, es_settings, es_admin):
    rule = {"id": "spike", "type": "spike", "window": "6h", "baseline": "7d", "factor": 3, "min_current": 2}
    index(es_admin, es_settings, [doc(f"s{i}", published=T0 - timedelta(hours=3 * i)) for i in range(60)])
    assert run(config(rule), T0).candidates == 0
