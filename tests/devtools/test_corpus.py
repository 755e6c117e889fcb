"""Sanity of the sample corpus that the mirror serves and end-to-end tests grade against.

The `expect` blocks are ground truth for processing tests, so a wrong label here
silently turns a correct pipeline red (or a broken one green). These checks pin
the schema of `mediamon/mirror/corpus/*.yaml` and the honesty of its labels:
references resolve, duplicates really are near-copies and the rest are not,
translations pair up, speakers are named in the text, Belarusian is Belarusian.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tests.support.paths import REPO

CORPUS_DIR = REPO / "mediamon" / "devtools" / "mirror" / "corpus"

SourceId = Literal[
    "mid-ru",
    "mid-en",
    "kremlin-ru",
    "kremlin-en",
    "tass-ru",
    "tass-en",
    "ria-ru",
    "rt-en",
    "rt-ru",
    "sputnik-en",
    "belta-ru",
    "belta-en",
    "belta-be",
    "telegram-mfarussia",
]
NarrativeId = Literal[
    "west_caused_migration",
    "poland_inhumane",
    "belarus_lawful",
    "eu_must_pay",
    "iraq_whataboutism",
    "afghan_channel",
    "nuclear_belarus",
    "russia_not_involved",
    "nato_provocation",
    "migrant_spillover",
]
Speaker = Literal[
    "Sergei Lavrov",
    "Dmitry Peskov",
    "Maria Zakharova",
    "Vladimir Putin",
    "Alexander Lukashenko",
    "Sergei Shoigu",
    "Mateusz Morawiecki",
    "Andrzej Duda",
    "Joe Biden",
    "Ursula von der Leyen",
]
# How each actor is written in en / ru / be text (word starts; Russian inflects).
SPEAKER_FORMS: dict[str, str] = {
    "Sergei Lavrov": r"\b(Lavrov|Лавров|Лаўроў)",
    "Dmitry Peskov": r"\b(Peskov|Песков|Пяскоў)",
    "Maria Zakharova": r"(\b|#)(Zakharova|Захаров|Захарав)",
    "Vladimir Putin": r"\b(Putin|Путин|Пуцін)",
    "Alexander Lukashenko": r"\b(Lukashenk|Лукашенк|Лукашэнк)",
    "Sergei Shoigu": r"\b(Shoigu|Шойгу|Шайгу)",
    "Mateusz Morawiecki": r"\b(Morawiecki|Моравецк|Маравецк)",
    "Andrzej Duda": r"\b(Duda|Дуда|Дуды|Дуде|Дудой)\b",
    "Joe Biden": r"\b(Biden|Байден)",
    "Ursula von der Leyen": r"\b(Leyen|Ляйен|Ляен)",
}
TRANSLATION_SOURCES = {"kremlin-en": "kremlin-ru", "mid-en": "mid-ru"}
# Upper-case wire markers only: "breaking no rules" is sober English.
URGENCY_MARKERS = re.compile(r"МОЛНИЯ|BREAKING|\b[Сс]рочно")
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    narratives: list[NarrativeId]
    speakers: list[Speaker]
    alarmist: bool
    near_duplicate_of: str | None
    translation_of: str | None
    story: str | None = Field(pattern=SLUG)  # items reporting the same statement or event; None: a story of its own


class PostShape(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reply_to: int | None = None
    reply_quote: str = ""
    forwarded_from: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{5,32}$")
    photo: bool = False
    quote: bool = False
    views: str | None = Field(default=None, pattern=r"^\d+(\.\d)?[KM]?$")


class CorpusItem(BaseModel):
    """One sample article or post, exactly as the mirror and tests read it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    source: SourceId
    lang: Literal["ru", "en", "be"]
    article_id: int = Field(gt=0)
    section: str = Field(pattern=r"^[A-Za-z_-]+$")
    slug: str = Field(pattern=SLUG)
    published: str
    title: str
    lead: str
    body: list[str] = Field(min_length=1, max_length=10)
    authors: list[str]
    tags: list[str]
    telegram: PostShape | None = None
    expect: Expect

    @field_validator("published")
    @classmethod
    def explicit_offset(cls, value: str) -> str:
        """A naive timestamp would be read as UTC by some stages and local by others."""
        if datetime.fromisoformat(value).utcoffset() is None:
            raise ValueError(f"published {value!r} has no UTC offset")
        return value

    @field_validator("body")
    @classmethod
    def paragraphs_not_blank(cls, value: list[str]) -> list[str]:
        if any(not p.strip() for p in value):
            raise ValueError("blank paragraph in body")
        return value

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.published)

    @property
    def text(self) -> str:
        return "\n".join([self.title, self.lead, *self.body])


def load_corpus(corpus_dir: Path) -> list[CorpusItem]:
    """Validate every file; an error names the file and the item."""
    items: list[CorpusItem] = []
    for path in sorted(corpus_dir.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(raw, list), f"{path.name}: top level must be a list of items"
        for n, entry in enumerate(raw):
            item = CorpusItem.model_validate(entry)
            assert item.source == path.stem, f"{path.name} item {n} ({item.id}): source {item.source}"
            items.append(item)
    return items


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: CorpusItem, b: CorpusItem) -> float:
    sa, sb = shingles(" ".join(a.body)), shingles(" ".join(b.body))
    return len(sa & sb) / len(sa | sb)


@pytest.fixture(scope="module")
def corpus() -> list[CorpusItem]:
    return load_corpus(CORPUS_DIR)


@pytest.fixture(scope="module")
def by_id(corpus: list[CorpusItem]) -> dict[str, CorpusItem]:
    return {item.id: item for item in corpus}


def test_every_source_has_a_file_and_the_corpus_is_sized_for_the_demo(corpus):
    counts = Counter(item.source for item in corpus)
    assert set(counts) == set(SourceId.__args__)
    assert 70 <= len(corpus) <= 100


def test_bad_item_is_rejected_with_the_field_named(tmp_path):
    good = yaml.safe_load((CORPUS_DIR / "tass-ru.yaml").read_text(encoding="utf-8"))[0]
    bad = dict(good, published="2021-11-08T12:00:00", lang="uk")
    (tmp_path / "tass-ru.yaml").write_text(yaml.safe_dump([bad], allow_unicode=True))
    with pytest.raises(ValueError) as err:
        load_corpus(tmp_path)
    assert "published" in str(err.value) and "lang" in str(err.value)


def test_ids_are_unique_and_article_ids_unique_per_source(corpus):
    ids = Counter(item.id for item in corpus)
    assert [i for i, n in ids.items() if n > 1] == []
    keys = Counter((item.source, item.article_id) for item in corpus)
    assert [k for k, n in keys.items() if n > 1] == []


def test_source_language_matches_its_site(corpus):
    for item in corpus:
        assert item.source.rsplit("-", 1)[-1] == item.lang or item.source == "telegram-mfarussia", item.id
        if item.source == "telegram-mfarussia":
            assert item.lang == "ru"


def test_dates_cover_the_crisis_window(corpus):
    start, end = (
        datetime.fromisoformat("2021-10-20T00:00:00+03:00"),
        datetime.fromisoformat("2021-11-13T00:00:00+03:00"),
    )
    assert all(start <= item.when < end for item in corpus)
    november = [i for i in corpus if i.when >= datetime.fromisoformat("2021-11-01T00:00:00+03:00")]
    assert len(november) >= 0.9 * len(corpus)


def test_articles_have_realistic_length_and_posts_are_short(corpus):
    for item in corpus:
        if item.source == "telegram-mfarussia":
            assert 1 <= len(item.body) <= 3, item.id
        else:
            assert item.title and item.lead, item.id
            assert 4 <= len(item.body) <= 10, item.id


def test_belarusian_items_are_written_in_belarusian(corpus):
    be = [item for item in corpus if item.lang == "be"]
    assert len(be) >= 6
    for item in be:
        body = " ".join(item.body)
        assert "ў" in body and "і" in body, item.id
    for item in corpus:
        if item.lang == "ru":
            assert "ў" not in item.text and "і" not in item.text, item.id


def test_english_and_russian_items_are_in_their_script(corpus):
    for item in corpus:
        letters = re.findall(r"[^\W\d_]", item.text)
        latin = sum(ch.isascii() for ch in letters) / len(letters)
        assert latin > 0.9 if item.lang == "en" else latin < 0.1, item.id


def test_every_narrative_is_covered_in_russian_and_english(corpus):
    for narrative in NarrativeId.__args__:
        carriers = [item for item in corpus if narrative in item.expect.narratives]
        assert len(carriers) >= 3, narrative
        assert {"ru", "en"} <= {item.lang for item in carriers}, narrative


def test_every_actor_appears_and_listed_speakers_are_named_in_the_text(corpus):
    listed = {s for item in corpus for s in item.expect.speakers}
    assert listed == set(Speaker.__args__)
    for item in corpus:
        named = {s for s, form in SPEAKER_FORMS.items() if re.search(form, item.text)}
        # a speaker is quoted or speaking, so named; a person merely named is no speaker ("pressure on Lukashenko")
        assert set(item.expect.speakers) <= named, item.id


def test_alarmist_labels_are_balanced_and_urgency_markers_only_in_alarmist_items(corpus):
    alarmist = [item for item in corpus if item.expect.alarmist]
    assert 10 <= len(alarmist) <= 20
    assert {"ru", "en", "be"} <= {item.lang for item in alarmist}
    for item in corpus:
        if not item.expect.alarmist:
            assert not URGENCY_MARKERS.search(item.text), item.id


def test_near_duplicates_point_to_an_earlier_original_in_the_same_language(corpus, by_id):
    copies = [item for item in corpus if item.expect.near_duplicate_of]
    assert len(copies) >= 10
    for copy in copies:
        original = by_id[copy.expect.near_duplicate_of]
        assert original.expect.near_duplicate_of is None, copy.id
        assert original.when < copy.when, copy.id
        assert original.lang == copy.lang, copy.id
        assert original.expect.narratives == copy.expect.narratives, copy.id


def test_near_duplicates_are_textually_close_and_other_same_language_pairs_are_not(corpus):
    def group(item: CorpusItem) -> str:
        return item.expect.near_duplicate_of or item.id

    for a, b in itertools.combinations(corpus, 2):
        if a.lang != b.lang:
            continue
        similarity = jaccard(a, b)
        if group(a) == group(b):
            assert similarity >= 0.5, (a.id, b.id, similarity)
        else:
            assert similarity < 0.35, (a.id, b.id, similarity)


def test_one_exact_duplicate_is_republished_under_a_second_url_on_the_same_site(corpus, by_id):
    exact = [
        item
        for item in corpus
        if item.expect.near_duplicate_of
        and by_id[item.expect.near_duplicate_of].body == item.body
        and by_id[item.expect.near_duplicate_of].source == item.source
    ]
    assert len(exact) == 1
    assert exact[0].article_id != by_id[exact[0].expect.near_duplicate_of].article_id


def test_translations_pair_english_to_russian_under_the_same_article_id(corpus, by_id):
    pairs = [item for item in corpus if item.expect.translation_of]
    for en in pairs:
        ru = by_id[en.expect.translation_of]
        assert en.lang == "en" and ru.lang == "ru", en.id
        assert TRANSLATION_SOURCES[en.source] == ru.source, en.id
        assert en.article_id == ru.article_id, en.id
        assert len(en.body) == len(ru.body), en.id
        assert en.expect.narratives == ru.expect.narratives, en.id
        assert en.expect.speakers == ru.expect.speakers, en.id
    per_site = Counter(en.source for en in pairs)
    assert per_site["kremlin-en"] >= 4 and per_site["mid-en"] >= 3


def test_telegram_shapes_are_honest(corpus):
    """A reply quotes the start of the earlier post it answers; every shape of the real page is present."""
    posts = {item.article_id: item for item in corpus if item.source == "telegram-mfarussia"}
    shapes = [item.telegram for item in posts.values() if item.telegram]
    assert any(s.reply_to for s in shapes) and any(s.forwarded_from for s in shapes)
    assert any(s.photo for s in shapes) and any(s.quote for s in shapes)
    assert any(len(item.body) == 1 and len(item.body[0]) < 100 for item in posts.values())  # a one-line post
    for item in posts.values():
        if item.telegram and item.telegram.reply_to:
            replied = posts[item.telegram.reply_to]
            assert replied.article_id < item.article_id, item.id
            assert " ".join(replied.body).startswith(item.telegram.reply_quote), item.id
    assert all(item.telegram is None for item in corpus if item.source != "telegram-mfarussia")


STORY_WINDOW_HOURS = 36  # a re-telling follows its statement within a news day and a half


def stories(corpus: list[CorpusItem]) -> dict[str, list[CorpusItem]]:
    members: dict[str, list[CorpusItem]] = {}
    for item in corpus:
        if item.expect.story:
            members.setdefault(item.expect.story, []).append(item)
    return members


def test_labelled_stories_are_retold_across_outlets_and_languages_within_their_window(corpus):
    labelled = stories(corpus)
    assert all(len(items) >= 2 for items in labelled.values()), [k for k, v in labelled.items() if len(v) < 2]
    for key, items in labelled.items():
        times = sorted(item.when for item in items)
        assert (times[-1] - times[0]).total_seconds() <= STORY_WINDOW_HOURS * 3600, key
    trilingual = [k for k, items in labelled.items() if {item.lang for item in items} == {"ru", "en", "be"}]
    assert len(trilingual) >= 3, trilingual
    wide = [k for k, items in labelled.items() if len({item.source for item in items}) >= 6]
    assert len(wide) >= 2, wide  # the pushes the coordinated-push alert must see


def test_copies_and_translations_nest_inside_their_originals_story(corpus, by_id):
    for item in corpus:
        for original in (item.expect.near_duplicate_of, item.expect.translation_of):
            if original:
                assert by_id[original].expect.story == item.expect.story, item.id


def test_hard_negatives_share_day_and_narrative_with_a_story_they_do_not_belong_to(corpus):
    """Re-tellings are already no near-copies (the same-language pair test above); the negatives must be hard."""
    hard = [(a.id, b.id) for a, b in itertools.combinations(corpus, 2)
            if (a.expect.story or a.id) != (b.expect.story or b.id) and a.when.date() == b.when.date()
            and set(a.expect.narratives) & set(b.expect.narratives)]
    assert len(hard) >= 20, hard
