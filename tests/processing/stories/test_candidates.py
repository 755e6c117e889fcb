"""The candidate lookup in a crowded window: which stories a report is compared with (the real node)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import helpers

from processing.stories import storyindex
from processing.stories.features import StoryFeatures
from processing.stories.story import Member, Story, story_id_of

AT = datetime(2021, 11, 9, 12, tzinfo=UTC)
COMMON = ["concept:migrants", "concept:border", "number:2000"]


def features(doc_id: str, keys: list[str], dup_group: str | None = None, at: datetime = AT) -> StoryFeatures:
    return StoryFeatures(doc_id=doc_id, source="tass-ru", owner="tass", kind="state_media", lang="ru",
                         published_at=at, title=doc_id, url=f"https://tass.example/{doc_id}", keys=frozenset(keys),
                         terms=frozenset(), quote_grams=frozenset(), cognates=frozenset(), speakers=(),
                         narratives=(), dup_group=dup_group, translation_group=None)


def write(es, settings, stories: list[Story]) -> None:
    storyindex.ensure_index(es, settings)
    index = storyindex.stories_index(settings)
    helpers.bulk(es, [{"_index": index, "_id": s.story_id, "_source": storyindex.to_source(s)} for s in stories])
    es.indices.refresh(index=index)


def story(doc_id: str, keys: list[str], at: datetime = AT) -> Story:
    made = Story("", [Member(features(doc_id, keys, at=at), None, None)])
    made.story_id = story_id_of(made)
    return made


def test_in_a_crowded_window_the_stories_sharing_most_keys_and_the_original_come_first(es_settings, es_admin):
    crowd = [story(f"crowd-{n}", COMMON) for n in range(3 * storyindex.MAX_CANDIDATES)]
    best = story("best", [*COMMON, "name:lksh", "person:Лукашенко"])
    original = story("original", ["concept:sanctions"])  # shares no key: found through the duplicate group
    late = story("late", [*COMMON, "name:lksh", "person:Лукашенко"], at=AT + timedelta(days=3))  # outside
    write(es_admin, es_settings, [*crowd, best, original, late])
    report = features("copy", [*COMMON, "name:lksh", "person:Лукашенко"], dup_group="original")
    [found] = storyindex.candidates(es_admin, es_settings, [report], window_hours=24)
    ids = [s.story_id for s in found]
    assert len(ids) == storyindex.MAX_CANDIDATES
    assert ids[:2] == [original.story_id, best.story_id]
    assert late.story_id not in ids
