"""Names across scripts: Лавров, Lavrov and Лаўроў, Кузница and Kuznica, Моравецкий and Morawiecki are one key.

A name is transliterated (Russian and Belarusian Cyrillic to Latin), spelling
variants of the transliteration schemes are folded (w/v, kh/h, ck/k, Belarusian
soft ці/ць), and the word is reduced to its first consonants: inflection and
vowel spelling change the ending and the vowels, rarely the consonant frame.
Russian headlines also go through Natasha's news NER (its model ships
inside its wheels), which finds the names that open a sentence, where
capitalisation alone cannot tell a name from the first word.
"""

from __future__ import annotations

import re
from functools import lru_cache

_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуўфхцчшщъыьэюяі",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "v",
     "f", "h", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya", "i"], strict=True))
_FOLD = [("ці", "ти"), ("ць", "ть"), ("дзе", "де"), ("дзі", "ди")]  # Belarusian soft т/д, before transliteration
# Polish c is ц (Kuźnica, Morawiecki); ch, cz and sz are digraphs
_LATIN_FOLD = [("kh", "h"), ("w", "v"), ("x", "ks"), ("cz", "ч"), ("sz", "ш"), ("ch", "ч"), ("c", "ts"), ("ч", "ch"),
               ("ш", "sh"), ("ł", "l"), ("ń", "n"), ("ź", "z"), ("ż", "zh")]
_VOWELS = re.compile(r"[aeiouyj'’]")
SKELETON_CONSONANTS = 4
MIN_CONSONANTS = 3
NAME_RE = re.compile(r"(?<![\w.])([A-ZА-ЯЁІЎ][a-zа-яёіўąćęłńóśźż'’-]{2,})")
SENTENCE_START_RE = re.compile(r"(?:^|[.!?:;«»\"“„()\n—–-]\s*)$")


@lru_cache(maxsize=65536)  # the same names recur in every report of a story: ~30 words a document
def skeleton(word: str) -> str | None:
    """The consonant frame of a name in Latin letters, or None when too short to tell names apart."""
    text = word.lower()
    for a, b in _FOLD:
        text = text.replace(a, b)
    text = "".join(_CYRILLIC.get(ch, ch) for ch in text)
    for a, b in _LATIN_FOLD:
        text = text.replace(a, b)
    frame = re.sub(r"(.)\1+", r"\1", _VOWELS.sub("", re.sub(r"[^a-z'’]", "", text)))
    return frame[:SKELETON_CONSONANTS] if len(frame) >= MIN_CONSONANTS else None


def capitalised_names(text: str) -> list[str]:
    """Capitalised words that do not open a sentence (there capitalisation says nothing)."""
    return [m.group(1) for m in NAME_RE.finditer(text)
            if not SENTENCE_START_RE.search(text[max(0, m.start() - 3):m.start()])]


@lru_cache(maxsize=1)
def _natasha():
    """Natasha's segmenter and NER tagger, loaded once, with numpy's BLAS held to one thread.

    A headline's matrices are tiny: a multi-threaded BLAS spends more time
    waking and spinning its threads than multiplying (14.7 ms a headline on two
    idle cores, 2.1 ms on one thread; ~60 ms when the cores are busy with the
    worker pool). The limit is process-wide on purpose: processing parallelises
    with processes, never inside one.
    """
    # lazy: loading the embeddings and the NER model takes seconds; only Russian text needs them
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter
    from threadpoolctl import threadpool_limits  # lazy: with natasha (it imports numpy, whose BLAS it limits)

    threadpool_limits(limits=1, user_api="blas")
    return Segmenter(), NewsNERTagger(NewsEmbedding())


def russian_entities(text: str) -> list[str]:
    """Words of the person, place and organisation names Natasha's news NER finds."""
    from natasha import Doc  # lazy: see _natasha

    segmenter, tagger = _natasha()
    doc = Doc(text)
    doc.segment(segmenter)
    doc.tag_ner(tagger)
    return [word for span in doc.spans for word in span.text.split()]


def name_keys(text: str, lang: str, ubiquitous: frozenset[str], ner_text: str = "") -> set[str]:
    """Skeletons of the names in ``text`` (plus Natasha's on ``ner_text`` for Russian), minus the ubiquitous."""
    words = capitalised_names(text)
    if lang == "ru" and ner_text:
        words += russian_entities(ner_text)
    return {s for w in words if (s := skeleton(w)) and s not in ubiquitous}
