"""Lemmas for Russian (pymorphy3) and stems for English (Snowball), the morphology layer.

Why: the integ-test Elasticsearch has no language analyzers, and analysts must
find "мигрантов" with "мигранты". The same function turns documents into the
``lemmas`` field and queries into lemma queries, and drives narrative, speaker
and alarmism matching, so search and tagging agree on what a word is.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

NAME_GRAMMEMES = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"})  # OpenCorpora's proper-name tags
WORD_RE = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
CYRILLIC_RE = re.compile(r"[а-яёіўґєї]", re.IGNORECASE)


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3  # lazy: its dictionaries take a second to load and only Russian text needs them

    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=1)
def _english():
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The normal form of one word: pymorphy3 lemma for Cyrillic, Snowball stem otherwise."""
    word = word.lower().replace("ё", "е")
    if CYRILLIC_RE.search(word):
        return _morph().parse(word)[0].normal_form.replace("ё", "е")
    return _english().stemWord(word)


@lru_cache(maxsize=65536)
def dictionary_name(word: str) -> bool | None:
    """Whether pymorphy3's dictionary reads a Russian ``word`` as a proper name in any of its readings (Песков is
    also a plural of "sand", Макрон also a diacritic); None when the dictionary does not know the word."""
    morph = _morph()
    word = word.lower().replace("ё", "е")
    if not morph.word_is_known(word):
        return None
    return any(NAME_GRAMMEMES & parse.tag.grammemes for parse in morph.parse(word))


def tokens(text: str) -> list[str]:
    return WORD_RE.findall(text)


def lemmatize(text: str) -> list[str]:
    """Lemmas of every word, in order (order matters for phrase patterns)."""
    return [lemma(tok) for tok in tokens(text)]


def lemma_text(text: str) -> str:
    """Whitespace-joined lemmas, the form the ``lemmas`` field and lemma queries use."""
    return " ".join(lemmatize(text))
