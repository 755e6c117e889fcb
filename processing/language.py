"""Language: langdetect (fixed seed, probabilities) combined with the page's declared language.

Why the extra rules: langdetect has no Belarusian profile and calls Belarusian
text Russian or Ukrainian. Belarusian orthography is distinctive and cheap to
test: it writes ``ў`` (no other Cyrillic language we see does) and ``і`` but
never ``и``, ``щ`` or ``ъ``; Ukrainian writes ``ї``, ``є``, ``ґ`` and ``и``.
Short texts are ``und`` unless the page itself says what it is.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import islice

from langdetect import DetectorFactory, detect_langs
from langdetect.detector_factory import init_factory
from langdetect.lang_detect_exception import LangDetectException

DetectorFactory.seed = 0  # langdetect is randomised; a fixed seed makes documents reproducible

MIN_LETTERS = 20  # below this, statistics say nothing
CONFIDENT = 0.90
LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)
CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
# langdetect answers we fold into the languages we track (it confuses these on short Slavic text)
FOLD = {"mk": "ru", "bg": "ru", "sr": "ru"}
ENGLISH_FUNCTION_WORDS = frozenset({"the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "with", "as",
                                    "by", "was", "said", "it", "from", "at"})
NON_ENGLISH_LATIN_RE = re.compile("[ąćęłńśźżäöüßàâçéèêëîïôùûœñ]", re.IGNORECASE)
WORDS_RE = re.compile(r"[^\W\d_]+")


def warm_up() -> None:
    """Load langdetect's 55 language profiles now (~0.6 s), not inside the first document that needs them."""
    init_factory()


def _has_letters(text: str, n: int) -> bool:
    """At least ``n`` letters, without listing every letter of a long text."""
    return next(islice(LETTER_RE.finditer(text), n - 1, None), None) is not None


@dataclass(frozen=True)
class LanguageGuess:
    lang: str
    confidence: float | None
    method: str  # "detector", "declared", "orthography", "too_short"


def cyrillic_orthography(text: str) -> tuple[str, float] | None:
    """Decide be/uk/ru from orthography alone when the letters leave no doubt.

    Also a speed matter: langdetect costs ~25 ms per document, more than the
    rest of the language stage by far, and most documents are plain Russian,
    which its letters alone identify (ы/э with none of і/ў/ї/є/ґ).
    """
    # count every character in C, then keep the few distinct Cyrillic ones
    chars = Counter(text.lower())
    letters = Counter({ch: n for ch, n in chars.items() if CYRILLIC_RE.match(ch)})
    cyr = sum(letters.values())
    if cyr < MIN_LETTERS:
        return None
    be_only = letters["ў"]
    uk_only = letters["ї"] + letters["є"] + letters["ґ"]
    i_dotted = letters["і"]
    if be_only and not uk_only and letters["и"] + letters["щ"] + letters["ъ"] <= max(1, cyr // 200):
        return "be", min(1.0, 0.9 + be_only / cyr * 10)
    if uk_only and not be_only and letters["ы"] + letters["э"] + letters["ъ"] <= max(1, cyr // 200):
        return "uk", min(1.0, 0.9 + uk_only / cyr * 10)
    if i_dotted > cyr // 100 and letters["и"] + letters["щ"] + letters["ъ"] == 0 and letters["ы"]:
        return "be", 0.85  # і and ы together, no и: Belarusian without a ў in this stretch
    letters_total = sum(n for ch, n in chars.items() if LETTER_RE.match(ch))
    russian_marks = letters["ы"] + letters["э"]
    if not be_only + uk_only + i_dotted and russian_marks >= max(3, cyr // 100) and cyr >= 0.9 * letters_total:
        return "ru", 0.99
    return None


def english_by_function_words(text: str) -> tuple[str, float] | None:
    """Plain English text, told by its function words; the common case spared langdetect's cost.

    Polish, German, French... carry diacritics and none of these words at this rate.
    """
    head = text[:3000]
    words = WORDS_RE.findall(head.lower())
    if len(words) < 40 or CYRILLIC_RE.search(head) or NON_ENGLISH_LATIN_RE.search(head):
        return None
    share = sum(w in ENGLISH_FUNCTION_WORDS for w in words) / len(words)
    return ("en", 0.99) if share >= 0.15 else None


def detect_language(text: str, declared: str | None = None, allowed: list[str] | None = None) -> LanguageGuess:
    """The document language with a confidence and the method that decided it.

    ``declared`` is the page's own claim (html lang); ``allowed`` the languages the
    source publishes in. A confident detector wins; an unsure one defers to the
    declared language when that is among its candidates.
    """
    declared = declared if declared and (not allowed or declared in allowed) else (
        allowed[0] if allowed and len(allowed) == 1 else None)
    if not _has_letters(text, MIN_LETTERS):
        return LanguageGuess(declared or "und", None, "declared" if declared else "too_short")
    ortho = cyrillic_orthography(text) or english_by_function_words(text)
    if ortho:
        return LanguageGuess(ortho[0], round(ortho[1], 3), "orthography")
    try:
        candidates = detect_langs(text[:600])  # enough for a clear answer; the cost grows with length
    except LangDetectException:
        return LanguageGuess(declared or "und", None, "declared" if declared else "too_short")
    probs: dict[str, float] = {}
    for cand in candidates:
        code = FOLD.get(cand.lang, cand.lang)
        probs[code] = probs.get(code, 0.0) + cand.prob
    best, prob = max(probs.items(), key=lambda kv: kv[1])
    if best == "uk" and CYRILLIC_RE.search(text) and not ortho:
        # no ї/є/ґ in a long text: langdetect's "uk" is Russian or Belarusian noise
        best, prob = ("be", prob) if "ў" in text.lower() else ("ru", probs.get("ru", prob))
    if prob >= CONFIDENT or not declared:
        return LanguageGuess(best, round(prob, 3), "detector")
    if declared in probs:
        return LanguageGuess(declared, round(probs[declared], 3), "declared")
    return LanguageGuess(best, round(prob, 3), "detector")
