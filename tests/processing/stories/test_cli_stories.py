"""`mediamon stories` and `mediamon trace` on the processed sample corpus (table and --json)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mediamon.cli.main import main

pytestmark = pytest.mark.slow  # shares the package's mirror crawl and processing run

LAVROV_EU_PAY = "tass-ru-2021-11-09-lavrov-es-dolzhen-platit"


@pytest.fixture
def cli(processed, monkeypatch):
    monkeypatch.setenv("MEDIAMON_INDEX_PREFIX", processed.settings.index_prefix)
    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(processed.settings.data_dir))
    monkeypatch.setenv("MEDIAMON_LOCAL_ES_DIR", str(processed.settings.local_es_dir))
    return lambda *args: CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_stories_lists_the_multi_outlet_stories_and_filters_by_narrative(cli, processed):
    lines = cli("stories", "--json", "--limit", "500").output.splitlines()
    listed = [json.loads(line) for line in lines]
    story_ids = {d["story_id"] for d in processed.docs.values()}
    sizes = {s: sum(1 for d in processed.docs.values() if d["story_id"] == s) for s in story_ids}
    assert {s["story_id"] for s in listed} == {s for s, n in sizes.items() if n >= 2}
    assert [s["first_at"] for s in listed] == sorted((s["first_at"] for s in listed), reverse=True)
    pay = processed.docs[LAVROV_EU_PAY]["story_id"]
    narrowed = [json.loads(line) for line in cli("stories", "--json", "--narrative", "eu_must_pay",
                                                 "--since", "2021-11-07").output.splitlines()]
    assert pay in {s["story_id"] for s in narrowed}
    assert all("eu_must_pay" in s["narratives"] and s["first_at"] >= "2021-11-07" for s in narrowed)
    table = cli("stories", "--narrative", "eu_must_pay", "--since", "2021-11-07")
    assert table.exit_code == 0 and f"{len(narrowed)} of {len(narrowed)} stories" in table.output


def test_reach_counts_distinct_outlets_and_owners_per_narrative_per_day(cli, processed):
    rows = [json.loads(line) for line in cli("stories", "--reach", "--json", "--narrative", "eu_must_pay")
            .output.splitlines()]
    expected: dict[str, tuple[set, set]] = {}
    for doc in processed.docs.values():
        if "eu_must_pay" in doc.get("narratives", []):
            outlets, owners = expected.setdefault(doc["published_at"][:10], (set(), set()))
            outlets.add(doc["source"])
            owners.add(doc["source_owner"])
    assert {r["day"]: (r["outlets"], r["owners"]) for r in rows} == {
        day: (len(o), len(w)) for day, (o, w) in expected.items()}


def test_trace_shows_the_chain_by_story_or_document(cli, processed):
    doc = processed.docs[LAVROV_EU_PAY]
    by_url = json.loads(cli("trace", doc["url"], "--json").output)
    by_story = json.loads(cli("trace", doc["story_id"], "--json").output)
    assert by_url == by_story and by_story["story_id"] == doc["story_id"]
    lags = [a["lag_minutes"] for a in by_story["amplifiers"]]
    assert lags == sorted(lags) and by_story["size"] == 1 + len(lags)
    assert all(a["link"]["reasons"] for a in by_story["amplifiers"])
    table = cli("trace", doc["story_id"])
    assert table.exit_code == 0 and f"story {doc['story_id']}: {by_story['size']} reports" in table.output
    missing = CliRunner().invoke(main, ["trace", "st-0000000000000000"])
    assert missing.exit_code == 1 and "no story" in missing.output
