"""The coordinated-push rule on the processed sample corpus: fires on the 9 November push, not on ordinary days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mediamon.core.document import Document
from tests.processing.test_end_to_end import all_documents
from tests.support.alerting import config, fired, index

pytestmark = pytest.mark.slow  # shares the package's mirror crawl and processing run

PUSH = {"id": "push", "type": "coordinated_push", "window": "6h", "min_outlets": 5, "min_owners": 3,
        "baseline": "7d", "factor": 2}
LAVROV_EU_PAY = "tass-ru-2021-11-09-lavrov-es-dolzhen-platit"


@pytest.fixture
def replayed(processed, es_settings, es_admin):
    """The processed corpus in this test's prefix, each document indexed a minute after publication."""
    docs = []
    for source in all_documents(es_admin, processed.settings):
        fields = {k: v for k, v in source.items() if k in Document.model_fields}
        published = datetime.fromisoformat(fields["published_at"].replace("Z", "+00:00"))
        docs.append(Document(**{**fields, "indexed_at": published + timedelta(minutes=1)}))
    index(es_admin, es_settings, docs)
    return es_settings


def test_push_fires_on_the_scripted_push_with_its_chain_and_once(run, replayed, processed, es_admin):
    now = datetime(2021, 11, 9, 16, 0, tzinfo=UTC)
    report = run(config(PUSH), now)
    alerts = fired(es_admin, replayed, "push")
    story = processed.docs[LAVROV_EU_PAY]["story_id"]
    assert report.fired == len(alerts) == 1 and alerts[0]["key"] == story, [a["summary"] for a in alerts]
    reason = alerts[0]["reason"]
    assert reason["outlets"] >= 5 and reason["owners"] >= 3
    assert all(reason["outlets"] >= 2 * usual for usual in reason["usual_outlets"].values())
    chain = reason["chain"]
    origin = datetime.fromisoformat(chain[0]["published_at"].replace("Z", "+00:00"))
    for step in chain[1:]:
        lag = datetime.fromisoformat(step["published_at"].replace("Z", "+00:00")) - origin
        assert step["lag_minutes"] == round(lag / timedelta(minutes=1)), step
    assert [s["lag_minutes"] for s in chain[1:]] == sorted(s["lag_minutes"] for s in chain[1:])
    assert "(origin)" in alerts[0]["summary"] and chain[1]["source"] in alerts[0]["summary"]
    # a new engine, the same evidence a little later: the push is not announced again
    assert run(config(PUSH), now + timedelta(minutes=10)).fired == 0


@pytest.mark.parametrize("day", [datetime(2021, 11, 5, 16, 0, tzinfo=UTC), datetime(2021, 11, 12, 16, 0, tzinfo=UTC)])
def test_push_stays_quiet_on_a_day_of_ordinary_coverage(run, replayed, es_admin, day):
    assert run(config(PUSH), day).fired == 0
    assert fired(es_admin, replayed, "push") == []


def test_a_narrative_carried_this_widely_every_day_is_no_push(run, replayed, es_admin):
    """Against the narrative's own baseline: the same reach is ordinary for a narrative that always has it."""
    usual = {**PUSH, "factor": 40}  # as if the narrative's usual reach were 40 times what it is
    assert run(config(usual), datetime(2021, 11, 9, 16, 0, tzinfo=UTC)).fired == 0
