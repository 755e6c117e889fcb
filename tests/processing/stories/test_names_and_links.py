"""Names that open a Russian headline, and link scores computed with and without their reasons (no Elasticsearch)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from mediamon.core.document import Document
from mediamon.devtools.mirror.corpus import load_corpus
from processing.enrich import LemmaIndex, positions
from processing.lemmas import dictionary_name, lemma_text
from processing.stories import names
from processing.stories.features import story_features
from processing.stories.lexicon import load_lexicon
from processing.stories.linking import link
from tests.support.paths import CONFIG
from tests.support.realpages import REAL_PAGES, process


@pytest.mark.parametrize(("word", "verdict"), [
    ("Лукашенко", True), ("Песков", True),  # a surname, also "sands" in the genitive plural
    ("Польша", True), ("МИД", True), ("Мигранты", False), ("Граница", False), ("Моравецкий", None)])
def test_the_dictionary_tells_names_from_first_words(word, verdict):
    assert dictionary_name(word) is verdict


def test_a_headline_opened_by_a_known_name_needs_no_tagger():
    before = names._natasha.cache_info().misses + names._natasha.cache_info().hits
    assert names.opening_names("Лукашенко обвинил Польшу. Мигранты остаются у границы") == ["Лукашенко"]
    assert names._natasha.cache_info().misses + names._natasha.cache_info().hits == before


def test_an_opening_word_the_dictionary_lacks_goes_to_the_tagger():
    # Тихановская is not in pymorphy3's dictionary; Natasha's news NER reads it as a person
    assert names.opening_names("Тихановская призвала ЕС ввести новые санкции") == ["Тихановская"]
    assert names.opening_names("Брузги: беженцы провели ночь в логистическом центре") == ["Брузги"]


def test_a_link_scores_the_same_with_and_without_its_reasons():
    lexicon = load_lexicon(CONFIG)
    start = datetime(2021, 11, 8, tzinfo=UTC)
    features = []
    for n, item in enumerate(item for items in load_corpus().values() for item in items):
        text = "\n".join(item.body)
        url = f"https://{item.source}.example/{item.article_id}"
        doc = Document(url=url, canonical_url=url, domain=f"{item.source}.example", source=item.source,
                       title=item.title, lead=item.lead, text=text, lang=item.lang,
                       lemmas=lemma_text(f"{item.title} {item.lead} {text}"))
        features.append(story_features(doc, lexicon, start + timedelta(minutes=37 * n)))
    compared = 0
    for a, b in itertools.combinations(features, 2):
        explained = link(a, b, lexicon.window_hours)
        assert link(a, b, lexicon.window_hours, explain=False).score == explained.score
        compared += explained.score >= lexicon.link_threshold
    assert compared > 20  # the corpus holds real links, not only zeros


def every_pattern(lexicon, index: LemmaIndex) -> set[str]:
    """The definition the lexicon's shortcut must keep: each concept's every pattern matched by position."""
    return {key for key, patterns in lexicon.concepts if any(positions(index, p) for p in patterns)}


def test_the_lexicons_one_lemma_shortcut_finds_exactly_what_matching_every_pattern_finds():
    lexicon = load_lexicon(CONFIG)
    assert lexicon.by_lemma and lexicon.phrases  # both paths are exercised
    found_any = 0
    for item in (i for items in load_corpus().values() for i in items):
        index = LemmaIndex(lemma_text("\n".join([item.title, *item.body])).split())
        expected = every_pattern(lexicon, index)
        assert lexicon.concepts_in(index) == expected, item.id
        found_any += bool(expected)
    assert found_any > 50


@pytest.mark.parametrize("page", REAL_PAGES, ids=lambda p: p.source)
def test_the_lexicons_shortcut_on_real_pages(real_fixtures, sources, rules, page):
    doc = process(page, real_fixtures, sources, rules).document
    assert doc is not None, page.url
    index = LemmaIndex((doc.lemmas or "").split())
    assert load_lexicon(CONFIG).concepts_in(index) == every_pattern(load_lexicon(CONFIG), index)
