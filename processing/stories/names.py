"""Names across scripts: Лавров, Lavrov and Лаўроў, Кузница and Kuznica, Моравецкий and Morawiecki are one key.

A name is transliterated (Russian and Belarusian Cyrillic to Latin), spelling
variants of the transliteration schemes are folded (w/v, kh/h, ck/k, Belarusian
soft ці/ць), and the word is reduced to its first consonants: inflection and
vowel spelling change the ending and the vowels, rarely the consonant frame.
A capitalised word that opens a sentence may be a name or just the first
word. In a Russian headline, pymorphy3's dictionary decides first (Лукашенко
is a surname, Мигранты is not); only when it does not know an opening word
(Моравецкий, Тихановская, Брузги) does Natasha's news NER read the headline
(its model ships inside its wheels). The dictionary answers most headlines for
free; the NER tagger costs milliseconds a headline and, if loaded in every
worker, more than a second per worker and run (``warm_up`` loads it before the
pool forks).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from processing.lemmas import dictionary_name

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


def _capitalised(text: str) -> Iterator[tuple[str, bool]]:
    """Capitalised words, each with whether it opens a sentence (there capitalisation says nothing)."""
    for m in NAME_RE.finditer(text):
        yield m.group(1), bool(SENTENCE_START_RE.search(text[max(0, m.start() - 3):m.start()]))


def capitalised_names(text: str) -> list[str]:
    """Capitalised words that do not open a sentence."""
    return [word for word, opens in _capitalised(text) if not opens]


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


def warm_up() -> None:
    """Load the NER model now: a process pool forked afterwards shares it instead of loading it per worker."""
    _natasha()


def opening_names(headline: str) -> list[str]:
    """The words opening a Russian headline's sentences that are names: the dictionary's, else Natasha's."""
    openers = [word for word, opens in _capitalised(headline) if opens]
    verdicts = [dictionary_name(word) for word in openers]
    names = [word for word, verdict in zip(openers, verdicts, strict=True) if verdict]
    if None in verdicts:  # a word the dictionary does not know: a name it lacks, or a rare word
        unknown = {word for word, verdict in zip(openers, verdicts, strict=True) if verdict is None}
        names += [word for word in russian_entities(headline) if word in unknown]
    return names


def name_keys(text: str, lang: str, ubiquitous: frozenset[str], ner_text: str = "") -> set[str]:
    """Skeletons of the names in ``text`` (plus the names opening ``ner_text``, a Russian headline), minus the
    ubiquitous."""
    words = capitalised_names(text)
    if lang == "ru" and ner_text:
        words += opening_names(ner_text)
    return {s for w in words if (s := skeleton(w)) and s not in ubiquitous}
