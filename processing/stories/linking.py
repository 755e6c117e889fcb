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
REASON_OF_KIND = {"person": "people", "concept": "concepts", "name": "names", "number": "numbers", "date": "dates"}


@dataclass
class Link:
    score: float
    reasons: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"score": round(self.score, 2), "reasons": self.reasons}


def link(a: StoryFeatures, b: StoryFeatures, window_hours: float, explain: bool = True) -> Link:
    """Evidence that ``a`` and ``b`` report the same statement or event; it fades with the time between them
    (to half at the window's edge): re-tellings follow within hours, a commentary days later re-uses the words.

    ``explain=False`` gives the score alone: choosing a story's best member compares every member, and only
    the chosen link's reasons are stored (writing them out for each was a third of the comparison's cost)."""
    if a.dup_group and a.dup_group == b.dup_group:
        return Link(100.0, {"near_duplicate": True})
    if a.translation_group and a.translation_group == b.translation_group:
        return Link(100.0, {"translation": True})
    hours = abs((a.published_at - b.published_at).total_seconds()) / 3600
    if hours > window_hours:  # first: a big story's early members are mostly out of a late report's window
        return Link(0.0, {"outside_window_hours": round(hours, 1)} if explain else {})
    reasons: dict[str, Any] = {}
    score = 0.0
    speakers = set(a.speakers).intersection(b.speakers) if a.speakers and b.speakers else set()
    if speakers:
        score += WEIGHTS["speaker"] * len(speakers)
    by_kind: dict[str, list[str]] = {}
    for key in a.keys & b.keys:
        kind, _, value = key.partition(":")
        if kind == "person" and value in speakers:
            continue
        by_kind.setdefault(kind, []).append(value)
    for kind, values in by_kind.items():
        score += WEIGHTS[kind] * (min(len(values), MAX_DATES) if kind == "date" else len(values))
    if explain:
        if speakers:
            reasons["speakers"] = sorted(speakers)
        for kind, values in sorted(by_kind.items()):
            reasons[REASON_OF_KIND[kind]] = sorted(values)
    if a.lang != b.lang:
        score *= CROSS_LANGUAGE_FACTOR
        if a.cognates and b.cognates:  # Russian and Belarusian
            jaccard = _jaccard(a.cognates, b.cognates)
            score += TERMS_WEIGHT * jaccard
            if explain:
                reasons["cognate_terms"] = round(jaccard, 3)
    else:
        if not a.quote_grams.isdisjoint(b.quote_grams):
            score += QUOTE_WEIGHT
            if explain:
                reasons["shared_quote"] = min(a.quote_grams & b.quote_grams)
        if a.terms and b.terms:
            jaccard = _jaccard(a.terms, b.terms)
            score += TERMS_WEIGHT * jaccard
            if explain:
                reasons["terms"] = round(jaccard, 3)
    return Link(score * (1 - 0.5 * hours / window_hours), reasons)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)
