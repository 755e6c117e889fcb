"""Enrich: speakers, narratives and an explainable alarmism score, all from config/ files.

Everything matches on lemmas (processing.lemmas: pymorphy3 for Cyrillic, Snowball
for English), the same normal forms the ``lemmas`` search field holds, so
"Лаврова", "Лавровым" and "Lavrov's" all hit the gazetteer entry written once.
Config terms are written as ordinary words and lemmatised at load time; a
trailing ``*`` makes a term a lemma prefix (``миграц*``).

- speakers.yaml: canonical name -> surface forms (any language).
- narratives.yaml: a narrative fires when, for one of its rules, every group of
  alternatives occurs within ``window`` words of each other.
- alarmism.yaml: per-language weighted terms; score = raw / (raw + saturation),
  where raw sums the weights of the terms that fired (title hits count double).
  The fired terms are stored, so an analyst sees why a story scored high.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from processing.lemmas import lemmatize

ALARMIST_THRESHOLD = 0.5  # a story at or above this score is "alarmist" (alerts, tests, docs)
Pattern = tuple[str, ...]  # a lemma sequence; an element ending in "*" is a prefix


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Speaker(_Strict):
    name: str
    forms: list[str] = Field(min_length=1)


class SpeakersFile(_Strict):
    speakers: list[Speaker]


class NarrativeRule(_Strict):
    lang: str = Field(description="the language the rule is written in (documentation; rules apply to any text)")
    all: list[list[str]] = Field(min_length=1, description="groups of alternatives; each group must occur")
    window: int | None = Field(default=None, ge=2)


class Narrative(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    window: int = Field(default=40, ge=2)
    rules: list[NarrativeRule] = Field(min_length=1)


class NarrativesFile(_Strict):
    narratives: list[Narrative]

    @field_validator("narratives")
    @classmethod
    def _unique(cls, value: list[Narrative]) -> list[Narrative]:
        ids = [n.id for n in value]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"duplicate narrative ids: {', '.join(dupes)}")
        return value


class AlarmismFile(_Strict):
    saturation: float = Field(default=4.0, gt=0)
    title_factor: float = Field(default=2.0, ge=1)
    max_count: int = Field(default=3, ge=1, description="repetitions of one term counted at most this often")
    exclamation_weight: float = Field(default=0.5, ge=0, description="per '!' in title or lead, once")
    markers: dict[str, float] = Field(default_factory=dict, description=(
        "case-sensitive regex -> weight, on the headline: typographic urgency (BREAKING, МОЛНИЯ) that lemmas lose"))
    languages: dict[str, dict[str, float]] = Field(description="lang -> {term: weight}")


def compile_pattern(text: str) -> Pattern:
    """A config phrase as a lemma sequence (prefix terms keep their star, lowercased)."""
    parts: list[str] = []
    for word in text.split():
        if word.endswith("*"):
            parts.append(word.lower().replace("ё", "е"))
        else:
            parts.extend(lemmatize(word))
    return tuple(parts)


def _token_matches(token: str, part: str) -> bool:
    return token.startswith(part[:-1]) if part.endswith("*") else token == part


class LemmaIndex:
    """A document's lemmas with their positions, built once so that each of the
    hundreds of patterns costs a dictionary lookup, not a scan of the text."""

    def __init__(self, lemmas: list[str]) -> None:
        self.lemmas = lemmas
        self.at: dict[str, list[int]] = defaultdict(list)
        self._prefixed: dict[str, list[int]] = {}
        self._vocabulary: list[str] | None = None
        for i, lemma in enumerate(lemmas):
            self.at[lemma].append(i)

    def starts(self, part: str) -> list[int]:
        if not part.endswith("*"):
            return self.at.get(part, [])
        if part not in self._prefixed:  # rules share prefixes (Беларус*, мігрант*): look each up once
            if self._vocabulary is None:
                self._vocabulary = sorted(self.at)
            prefix, vocabulary = part[:-1], self._vocabulary
            found: list[int] = []
            # the lemmas starting with the prefix are one contiguous run of the sorted vocabulary
            for j in range(bisect_left(vocabulary, prefix), len(vocabulary)):
                if not vocabulary[j].startswith(prefix):
                    break
                found.extend(self.at[vocabulary[j]])
            self._prefixed[part] = sorted(found)
        return self._prefixed[part]


def as_index(lemmas: list[str] | LemmaIndex) -> LemmaIndex:
    return lemmas if isinstance(lemmas, LemmaIndex) else LemmaIndex(lemmas)


def positions(index: LemmaIndex, pattern: Pattern) -> list[int]:
    """Start positions of ``pattern`` in the document's lemma sequence."""
    if not pattern:
        return []
    lemmas, n = index.lemmas, len(pattern)
    return [i for i in index.starts(pattern[0]) if i + n <= len(lemmas)
            and all(_token_matches(lemmas[i + k], pattern[k]) for k in range(1, n))]


@dataclass(frozen=True)
class CompiledRule:
    groups: tuple[tuple[Pattern, ...], ...]
    window: int


def within_window(index: LemmaIndex, rule: CompiledRule) -> bool:
    """Whether every group occurs inside some span of ``rule.window`` words (minimum covering window)."""
    found = []
    for group in rule.groups:  # most rules fail on one missing group: stop there
        group_positions = [pos for pat in group for pos in positions(index, pat)]
        if not group_positions:
            return False
        found.append(group_positions)
    events = sorted((pos, g) for g, group_positions in enumerate(found) for pos in group_positions)
    need = len(rule.groups)
    counts: dict[int, int] = defaultdict(int)
    covered = left = 0
    for pos, group in events:
        counts[group] += 1
        covered += counts[group] == 1
        while covered == need:
            if pos - events[left][0] < rule.window:
                return True
            left_group = events[left][1]
            counts[left_group] -= 1
            covered -= counts[left_group] == 0
            left += 1
    return False


@dataclass(frozen=True)
class EnrichRules:
    speakers: tuple[tuple[str, tuple[Pattern, ...]], ...]
    narratives: tuple[tuple[str, tuple[CompiledRule, ...]], ...]
    alarm: AlarmismFile
    alarm_terms: dict[str, tuple[tuple[str, Pattern, float], ...]]  # lang -> (term, pattern, weight)
    alarm_markers: tuple[tuple[str, re.Pattern[str], float], ...]


def compile_rules(speakers: SpeakersFile, narratives: NarrativesFile, alarm: AlarmismFile) -> EnrichRules:
    return EnrichRules(
        speakers=tuple((s.name, tuple(compile_pattern(f) for f in s.forms)) for s in speakers.speakers),
        narratives=tuple((n.id, tuple(CompiledRule(tuple(tuple(compile_pattern(a) for a in group) for group in r.all),
                                                   r.window or n.window) for r in n.rules))
                         for n in narratives.narratives),
        alarm=alarm,
        alarm_terms={lang: tuple((term, compile_pattern(term), w) for term, w in terms.items())
                     for lang, terms in alarm.languages.items()},
        alarm_markers=tuple((m, re.compile(m), w) for m, w in alarm.markers.items()),
    )


def find_speakers(lemmas: list[str] | LemmaIndex, rules: EnrichRules) -> list[str]:
    index = as_index(lemmas)
    return [name for name, forms in rules.speakers if any(positions(index, f) for f in forms)]


def find_narratives(lemmas: list[str] | LemmaIndex, rules: EnrichRules) -> list[str]:
    index = as_index(lemmas)
    return [nid for nid, compiled in rules.narratives if any(within_window(index, r) for r in compiled)]


def alarmism(title_lemmas: list[str] | LemmaIndex, body_lemmas: list[str] | LemmaIndex, headline: str, lang: str,
             rules: EnrichRules) -> tuple[float, list[str]]:
    """Score in [0, 1) and the terms that fired, from the lexicon of ``lang`` (all lexicons when unknown)."""
    cfg = rules.alarm
    lexicons = [rules.alarm_terms[lang]] if lang in rules.alarm_terms else list(rules.alarm_terms.values())
    title_index, body_index = as_index(title_lemmas), as_index(body_lemmas)
    raw = 0.0
    fired: list[str] = []
    for lexicon in lexicons:
        for term, pattern, weight in lexicon:
            in_title = len(positions(title_index, pattern))
            in_body = len(positions(body_index, pattern))
            if not in_title and not in_body:
                continue
            fired.append(term)
            raw += weight * (min(in_body, cfg.max_count) + cfg.title_factor * min(in_title, 1))
    for _marker, regex, weight in rules.alarm_markers:
        if found := regex.search(headline):
            fired.append(found.group(0))  # the words the analyst sees in the headline, not the regex
            raw += weight
    if "!" in headline:
        fired.append("!")
        raw += cfg.exclamation_weight
    score = raw / (raw + cfg.saturation) if raw else 0.0
    return round(math.floor(score * 1000) / 1000, 3), sorted(set(fired))
