"""How strongly two reports tell the same statement or event, and why (the reasons an analyst reads).

Evidence adds up: a shared quotation is nearly decisive within a language; a
shared speaker, lexicon concepts, names and numbers carry across languages;
shared content terms weigh in when both are in one language. A link needs the
lexicon's ``link_threshold`` and the two reports within its window of each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from processing.stories.features import StoryFeatures

WEIGHTS = {"speaker": 2.0, "person": 1.0, "concept": 1.0, "name": 1.0, "number": 1.5, "date": 0.5}
QUOTE_WEIGHT = 4.0
# Across languages only the keys can speak (no shared terms or quotations): they count for more
CROSS_LANGUAGE_FACTOR = 1.3
TERMS_WEIGHT = 20.0  # x Jaccard of content terms: a re-telling in other words measures 0.15-0.3
MAX_DATES = 1  # every report of a day names the day


@dataclass
class Link:
    score: float
    reasons: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"score": round(self.score, 2), "reasons": self.reasons}


def link(a: StoryFeatures, b: StoryFeatures, window_hours: float) -> Link:
    """Evidence that ``a`` and ``b`` report the same statement or event; it fades with the time between them
    (to half at the window's edge): re-tellings follow within hours, a commentary days later re-uses the words."""
    if a.dup_group and a.dup_group == b.dup_group:
        return Link(100.0, {"near_duplicate": True})
    if a.translation_group and a.translation_group == b.translation_group:
        return Link(100.0, {"translation": True})
    hours = abs((a.published_at - b.published_at).total_seconds()) / 3600
    if hours > window_hours:  # first: a big story's early members are mostly out of a late report's window
        return Link(0.0, {"outside_window_hours": round(hours, 1)})
    reasons: dict[str, Any] = {}
    score = 0.0
    shared = sorted(a.keys & b.keys)
    speakers = sorted(set(a.speakers) & set(b.speakers))
    if speakers:
        reasons["speakers"] = speakers
        score += WEIGHTS["speaker"] * len(speakers)
    by_kind: dict[str, list[str]] = {}
    for key in shared:
        kind, _, value = key.partition(":")
        if kind == "person" and value in speakers:
            continue
        by_kind.setdefault(kind, []).append(value)
    for kind, values in by_kind.items():
        counted = values[:MAX_DATES] if kind == "date" else values
        reasons[{"person": "people", "concept": "concepts", "name": "names", "number": "numbers",
                 "date": "dates"}[kind]] = values
        score += WEIGHTS[kind] * len(counted)
    if a.lang != b.lang:
        score *= CROSS_LANGUAGE_FACTOR
        if a.cognates and b.cognates:  # Russian and Belarusian
            jaccard = len(a.cognates & b.cognates) / len(a.cognates | b.cognates)
            reasons["cognate_terms"] = round(jaccard, 3)
            score += TERMS_WEIGHT * jaccard
    else:
        if quotes := sorted(a.quote_grams & b.quote_grams):
            reasons["shared_quote"] = quotes[0]
            score += QUOTE_WEIGHT
        if a.terms and b.terms:
            jaccard = len(a.terms & b.terms) / len(a.terms | b.terms)
            reasons["terms"] = round(jaccard, 3)
            score += TERMS_WEIGHT * jaccard
    return Link(score * (1 - 0.5 * hours / window_hours), reasons)
