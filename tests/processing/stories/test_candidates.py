"""Which stories a report is compared with, and the copies that need no comparison (the real node)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import helpers

from mediamon.core.document import Document
from processing.lemmas import lemma_text
from processing.stories import storyindex
from processing.stories.assign import assign_stories
from processing.stories.features import StoryFeatures
from processing.stories.lexicon import load_lexicon
from processing.stories.story import Member, Story, story_id_of
from tests.support.paths import CONFIG

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


def report(name: str, title: str, at: datetime, copied_from: str | None = None) -> Document:
    url = f"https://tass.example/{name}"
    doc = Document(url=url, canonical_url=url, domain="tass.example", source="tass-ru", title=title, text=title,
                   lang="ru", lemmas=lemma_text(title), published_at=at)
    doc.dup_group = copied_from or doc.id
    return doc


def test_a_copy_joins_its_originals_story_wherever_that_story_went(es_settings, es_admin):
    lexicon = load_lexicon(CONFIG)
    storyindex.ensure_index(es_admin, es_settings)  # as the runner does
    original = report("original", "Лукашенко заявил о двух тысячах мигрантов у границы в Брузгах", AT)
    assign_stories(es_admin, es_settings, [original], lexicon)
    # a copy sharing no word with its original (the grouping said copy; that is decisive) and one whose
    # original comes earlier in the same batch
    copy = report("copy", "Погода в Минске: снег", AT + timedelta(hours=2), copied_from=original.id)
    second = report("second", "Ураган в Гомеле", AT + timedelta(hours=3))
    copy_of_second = report("copy-of-second", "Курс рубля", AT + timedelta(hours=4), copied_from=second.id)
    result = assign_stories(es_admin, es_settings, [copy_of_second, copy, second], lexicon)
    assert (result.joined, result.founded) == (2, 1)
    assert copy.story_id == original.story_id and copy_of_second.story_id == second.story_id != copy.story_id
    story = storyindex.get_story(es_admin, es_settings, copy.story_id)
    member = story.member(copy.id)
    assert (member.linked_to, member.link.reasons) == (original.id, {"near_duplicate": True})


def test_copies_stamped_with_their_originals_minute_rename_nothing_and_are_stored_without_their_terms(
        es_settings, es_admin):
    """Syndicated copies often carry the original's publication minute; a copy's id sorting before the
    original's must not make it the story's namesake (a rename re-labels every indexed report of the story)."""
    lexicon = load_lexicon(CONFIG)
    storyindex.ensure_index(es_admin, es_settings)
    title = "Лукашенко заявил о двух тысячах мигрантов у границы в Брузгах"
    original = report("original", title, AT)
    assign_stories(es_admin, es_settings, [original], lexicon)
    copies = [report(f"copy-{n}", f"{title}. Перепечатка {n}", AT, copied_from=original.id) for n in range(8)]
    assert any(c.id < original.id for c in copies)  # ids are hashes: some sort before the original's
    result = assign_stories(es_admin, es_settings, copies, lexicon)
    assert result.renamed == {} and {c.story_id for c in copies} == {original.story_id}
    stored = {m.features.doc_id: m for m in storyindex.get_story(es_admin, es_settings, original.story_id).members}
    assert stored[original.id].features.terms  # the link target keeps what linking compares
    for copy in copies:  # never a link target: what only linking reads is not stored
        assert not stored[copy.id].features.terms and stored[copy.id].features.keys, copy.url
