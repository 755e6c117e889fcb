"""What two reports of one statement share whatever their language and wording: a document's story features.

Language-neutral keys (``kind:value``): the people the gazetteer names
(``person:``), concepts of the bilingual lexicon (``concept:``), names as
transliterated skeletons (``name:``), numbers (``number:``) and calendar dates
(``date:``). Same-language evidence: the document's content terms (lemmas) and
the word 4-grams of its quotations. Features are computed once, when the
document arrives, and kept with its story, so a candidate is never re-analysed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mediamon.core.document import Document
from processing.enrich import LemmaIndex
from processing.lemmas import lemmatize
from processing.stories.lexicon import Lexicon
from processing.stories.names import name_keys, skeleton

MAX_TERMS = 80  # the most frequent content lemmas: enough to compare two news items, bounded for long transcripts
MIN_TERM_CHARS = 4
QUOTE_GRAM = 4
MAX_QUOTE_GRAMS = 60
NAME_SCAN_CHARS = 3000  # names of the headline, lead and first paragraphs: where a report says whose statement it is
COGNATE_LANGUAGES = frozenset({"ru", "be"})
COGNATE_CHARS = 5
COGNATE_FOLD = str.maketrans({"і": "и", "ў": "в", "э": "е", "ё": "е", "'": "ъ"})
QUOTE_RE = re.compile(r"[«“„\"]([^«»“”„\"]{20,600})[»”“\"]")
MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7, "август": 8, "сентябр": 9,
    "октябр": 10, "ноябр": 11, "декабр": 12, "студзен": 1, "лют": 2, "сакавік": 3, "красавік": 4, "травен": 5,
    "чэрвен": 6, "ліпен": 7, "жнів": 8, "верас": 9, "кастрычнік": 10, "лістапад": 11, "снеж": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}
# A day next to a word; ``_month`` then tells whether the word is a month. (An alternation of the month
# stems tried at every position of the text cost a millisecond a document.)
DAY_MONTH_RE = re.compile(r"\b(\d{1,2})\s+([^\W\d_]{3,})")
MONTH_DAY_RE = re.compile(r"\b([^\W\d_]{3,})\s+(\d{1,2})\b")
NUMBER_RE = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ \u00a0,]\d{3})+|\d+(?:[.,]\d+)?)"
                       r"(?:\s*(тыс|тысяч|thousand|млн|million|мільён|млрд|billion|мільярд))?", re.IGNORECASE)
SCALE = {"тыс": 1_000, "тысяч": 1_000, "thousand": 1_000, "млн": 1_000_000, "million": 1_000_000,
         "мільён": 1_000_000, "млрд": 1_000_000_000, "billion": 1_000_000_000, "мільярд": 1_000_000_000}


@dataclass(frozen=True)
class StoryFeatures:
    doc_id: str
    source: str
    owner: str | None
    kind: str | None
    lang: str
    published_at: datetime
    title: str
    url: str
    keys: frozenset[str]
    terms: frozenset[str]
    quote_grams: frozenset[str]
    cognates: frozenset[str]  # Russian and Belarusian: word beginnings, spelled alike (мигрант / мігрант)
    speakers: tuple[str, ...]
    narratives: tuple[str, ...]
    dup_group: str | None
    translation_group: str | None

    def to_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "source": self.source, "owner": self.owner, "kind": self.kind,
                "lang": self.lang, "published_at": self.published_at.isoformat(), "title": self.title,
                "url": self.url, "keys": sorted(self.keys), "terms": sorted(self.terms),
                "quote_grams": sorted(self.quote_grams), "cognates": sorted(self.cognates),
                "speakers": list(self.speakers),
                "narratives": list(self.narratives), "dup_group": self.dup_group,
                "translation_group": self.translation_group}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoryFeatures:
        return cls(doc_id=data["doc_id"], source=data["source"], owner=data.get("owner"), kind=data.get("kind"),
                   lang=data["lang"], published_at=datetime.fromisoformat(data["published_at"]),
                   title=data.get("title") or "", url=data.get("url") or "", keys=frozenset(data["keys"]),
                   terms=frozenset(data["terms"]), quote_grams=frozenset(data["quote_grams"]),
                   cognates=frozenset(data.get("cognates", [])),
                   speakers=tuple(data["speakers"]), narratives=tuple(data["narratives"]),
                   dup_group=data.get("dup_group"), translation_group=data.get("translation_group"))


def _number(digits: str, scale: str | None) -> int | None:
    try:
        value = float(re.sub(r"[ \u00a0,]", "", digits) if re.search(r"\d[ \u00a0,]\d{3}\b", digits)
                      else digits.replace(",", "."))
    except ValueError:
        return None
    return int(value * SCALE.get((scale or "").lower(), 1))


_MONTH_STEMS = sorted(MONTHS.items(), key=lambda kv: -len(kv[0]))  # longest first: "мая" before "май"


def _month(word: str) -> int | None:
    word = word.lower()
    return next((n for stem, n in _MONTH_STEMS if word.startswith(stem)), None)


def dates_and_numbers(text: str, published: datetime) -> tuple[set[str], set[str]]:
    """``date:MM-DD`` of the days the text names, ``number:N`` of its other numbers (day numbers and the
    publication year are no evidence: every report of the day carries them)."""
    dates: set[str] = set()
    taken: set[int] = set()
    for m in DAY_MONTH_RE.finditer(text):
        if (month := _month(m.group(2))) and 1 <= int(m.group(1)) <= 31:
            dates.add(f"date:{month:02d}-{int(m.group(1)):02d}")
            taken.add(m.start(1))
    for m in MONTH_DAY_RE.finditer(text):
        if (month := _month(m.group(1))) and 1 <= int(m.group(2)) <= 31:
            dates.add(f"date:{month:02d}-{int(m.group(2)):02d}")
            taken.add(m.start(2))
    numbers: set[str] = set()
    for m in NUMBER_RE.finditer(text):
        value = _number(m.group(1), m.group(2))
        if m.start(1) in taken or value is None or value < 10 or value == published.year:
            continue
        numbers.add(f"number:{value}")
    return dates, numbers


def quote_grams(text: str) -> set[str]:
    grams: set[str] = set()
    for quote in QUOTE_RE.findall(text):
        words = lemmatize(quote)
        grams.update(" ".join(words[i:i + QUOTE_GRAM]) for i in range(len(words) - QUOTE_GRAM + 1))
    return set(sorted(grams)[:MAX_QUOTE_GRAMS])


def cognates(text: str) -> set[str]:
    """Beginnings of the longer words, Belarusian letters folded to Russian: the two languages share most roots."""
    folded = text.lower().translate(COGNATE_FOLD)
    return {w[:COGNATE_CHARS] for w in re.findall(rf"[а-я]{{{COGNATE_CHARS + 1},}}", folded)}


def content_terms(lemmas: list[str]) -> set[str]:
    counts = Counter(w for w in lemmas if len(w) >= MIN_TERM_CHARS)
    return {w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TERMS]}


def story_features(doc: Document, lexicon: Lexicon, when: datetime, index: LemmaIndex | None = None) -> StoryFeatures:
    """Features of ``doc`` published (or, lacking a date, fetched) at ``when``. ``index``: the index of
    ``doc.lemmas`` that building the document made for its rules (its prefix lookups are shared)."""
    text = "\n".join(filter(None, [doc.title, doc.lead, doc.text]))
    lemmas = (doc.lemmas or "").split()
    dates, numbers = dates_and_numbers(text, when)
    head = doc.title or ""  # Natasha on the headline: the names that open it; the lead would double its cost
    people = {s for person in doc.mentions for word in person.split() if (s := skeleton(word))}  # counted as person:
    concepts = lexicon.concepts_in(index or LemmaIndex(lemmas))
    keys = ({f"person:{p}" for p in doc.mentions} | {f"concept:{c}" for c in concepts}
            | {f"name:{n}" for n in name_keys(text[:NAME_SCAN_CHARS], doc.lang, lexicon.ubiquitous | people,
                                             head)}
            | dates | numbers)
    return StoryFeatures(
        doc_id=doc.id, source=doc.source, owner=doc.source_owner, kind=doc.source_kind, lang=doc.lang,
        published_at=when, title=doc.title or "", url=doc.url, keys=frozenset(keys),
        terms=frozenset(content_terms(lemmas)), quote_grams=frozenset(quote_grams(text)),
        cognates=frozenset(cognates(text[:NAME_SCAN_CHARS]) if doc.lang in COGNATE_LANGUAGES else ()),
        speakers=tuple(doc.speakers), narratives=tuple(doc.narratives), dup_group=doc.dup_group,
        translation_group=doc.translation_group)
