"""Enrich: speakers, narratives and an explainable alarmism score, all from config/ files.

Everything matches on lemmas (processing.lemmas: pymorphy3 for Cyrillic, Snowball
for English), the same normal forms the ``lemmas`` search field holds, so
"Лаврова", "Лавровым" and "Lavrov's" all hit the gazetteer entry written once.
Config terms are written as ordinary words and lemmatised at load time; a
trailing ``*`` makes a term a lemma prefix (``миграц*``).

- speakers.yaml: canonical name -> surface forms (any language). Every name found
  is a *mention*; it is a *speaker* only where the text gives it the floor: an
  attribution cue next to it ("said Lavrov", "по словам Лаврова") or a heading
  clause "Лавров:" — a report that merely names Lavrov is not a Lavrov statement.
- narratives.yaml: a narrative fires when, for one of its rules, every group of
  alternatives occurs within ``window`` words and ``sentences`` consecutive
  sentences of each other (real transcripts put unrelated words a few lines apart).
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

from processing.lemmas import WORD_RE, lemmatize

ALARMIST_THRESHOLD = 0.5  # a story at or above this score is "alarmist" (alerts, tests, docs)
Pattern = tuple[str, ...]  # a lemma sequence; an element ending in "*" is a prefix
# What ends a sentence, or a heading clause ("Лавров: ..."), when a space, a quote or the end
# follows and it does not follow a one-letter word (initials, "U.S.").
_BREAK_RE = re.compile(r"([.!?…;]+|:|\n)")
_AFTER_STOP = frozenset(" \t\r\n\"'»“”)]") | {""}
_ONE_LETTER_END_RE = re.compile(r"(?:^|[^\w])[^\W\d_]\Z")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Speaker(_Strict):
    name: str
    forms: list[str] = Field(min_length=1)


class SpeakersFile(_Strict):
    speakers: list[Speaker]
    cues: list[str] = Field(default_factory=list, description="attribution words: said, заявить, по словам")
    cue_blockers: list[str] = Field(default_factory=list, description=(
        "words that end a name's claim on a cue: 'said that the pressure on Lukashenko' is not Lukashenko speaking"))
    conjunctions: list[str] = Field(default_factory=list, description="'Lukashenko and Putin discussed': both speak")
    cue_distance: int = Field(default=6, ge=1, description="words (names not counted) between a name and its cue")
    heading_words: int = Field(default=6, ge=1, description="a clause ending in ':' gives the floor to a name "
                                                          "among its first this many words")


class NarrativeRule(_Strict):
    lang: str = Field(description="the language the rule is written in (documentation; rules apply to any text)")
    all: list[list[str]] = Field(min_length=1, description="groups of alternatives; each group must occur")
    window: int | None = Field(default=None, ge=2)
    sentences: int | None = Field(default=None, ge=1)


class Narrative(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    window: int = Field(default=30, ge=2, le=60, description="words: a sentence or two, no more")
    sentences: int = Field(default=2, ge=1, le=3, description="consecutive sentences the groups must fit in")
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


@dataclass(frozen=True)
class Sentences:
    """Sentence number of every word, and the clauses that end with a colon (headings)."""

    of: list[int]
    colon_ended: frozenset[int]


def sentence_map(*parts: str) -> Sentences:
    """Sentences of ``parts`` (each starts a new one), aligned word for word with their lemmas.

    Words are counted between the stops with processing.lemmas' own word pattern (a stop is
    never inside a word), so the numbering lines up with ``lemmatize`` of the same part.
    """
    of: list[int] = []
    colon_ended: set[int] = set()
    current = 0
    for part in parts:
        pieces = _BREAK_RE.split(part)  # text, stop, text, stop, ..., text
        words = 0
        for i in range(0, len(pieces), 2):
            words += len(WORD_RE.findall(pieces[i]))
            stop, after = (pieces[i + 1], pieces[i + 2][:1]) if i + 1 < len(pieces) else ("\n", "")
            if stop != "\n" and (after not in _AFTER_STOP or _ONE_LETTER_END_RE.search(pieces[i][-2:])):
                continue  # "В.Путин", "3.5", "U.S.", "S. Lavrov": the sentence goes on
            if words:
                of.extend([current] * words)
                colon_ended.update([current] if stop == ":" else [])
                current, words = current + 1, 0
    return Sentences(of, frozenset(colon_ended))


class LemmaIndex:
    """A document's lemmas with their positions, built once so that each of the
    hundreds of patterns costs a dictionary lookup, not a scan of the text.

    Without ``sentences`` (lemmas alone) the whole text counts as one sentence.
    """

    def __init__(self, lemmas: list[str], sentences: Sentences | None = None) -> None:
        if sentences is not None and len(sentences.of) != len(lemmas):
            raise ValueError(f"{len(sentences.of)} sentence numbers for {len(lemmas)} lemmas")
        self.lemmas = lemmas
        self.sentence = sentences.of if sentences else [0] * len(lemmas)
        self.colon_ended = sentences.colon_ended if sentences else frozenset()
        self._starts: dict[int, int] | None = None
        self.at: dict[str, list[int]] = defaultdict(list)
        self._prefixed: dict[str, list[int]] = {}
        self._vocabulary: list[str] | None = None
        for i, lemma in enumerate(lemmas):
            self.at[lemma].append(i)

    def sentence_start(self, sentence: int) -> int:
        """Position of the first word of ``sentence``."""
        if self._starts is None:
            self._starts = {}
            for i, number in enumerate(self.sentence):
                self._starts.setdefault(number, i)
        return self._starts[sentence]

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


def index_text(*parts: str) -> LemmaIndex:
    """Lemmas and sentences of ``parts`` (title, body, ...), for callers that hold only text."""
    return LemmaIndex([lemma for part in parts for lemma in lemmatize(part)], sentence_map(*parts))


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
    sentences: int


def within_window(index: LemmaIndex, rule: CompiledRule) -> bool:
    """Whether every group occurs inside some span of ``rule.window`` words that also fits in
    ``rule.sentences`` consecutive sentences (minimum covering window: both spans shrink with it)."""
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
            start = events[left][0]
            if pos - start < rule.window and index.sentence[pos] - index.sentence[start] < rule.sentences:
                return True
            left_group = events[left][1]
            counts[left_group] -= 1
            covered -= counts[left_group] == 0
            left += 1
    return False


@dataclass(frozen=True)
class EnrichRules:
    speakers: tuple[tuple[str, tuple[Pattern, ...]], ...]
    cues: tuple[Pattern, ...]
    cue_blockers: frozenset[str]
    conjunctions: frozenset[str]
    cue_distance: int
    heading_words: int
    narratives: tuple[tuple[str, tuple[CompiledRule, ...]], ...]
    alarm: AlarmismFile
    alarm_terms: dict[str, tuple[tuple[str, Pattern, float], ...]]  # lang -> (term, pattern, weight)
    alarm_markers: tuple[tuple[str, re.Pattern[str], float], ...]


def compile_rules(speakers: SpeakersFile, narratives: NarrativesFile, alarm: AlarmismFile) -> EnrichRules:
    return EnrichRules(
        speakers=tuple((s.name, tuple(compile_pattern(f) for f in s.forms)) for s in speakers.speakers),
        cues=tuple(compile_pattern(c) for c in speakers.cues),
        cue_blockers=frozenset(w for b in speakers.cue_blockers for w in compile_pattern(b)),
        conjunctions=frozenset(w for c in speakers.conjunctions for w in compile_pattern(c)),
        cue_distance=speakers.cue_distance,
        heading_words=speakers.heading_words,
        narratives=tuple((n.id, tuple(CompiledRule(tuple(tuple(compile_pattern(a) for a in group) for group in r.all),
                                                   r.window or n.window, r.sentences or n.sentences)
                                      for r in n.rules))
                         for n in narratives.narratives),
        alarm=alarm,
        alarm_terms={lang: tuple((term, compile_pattern(term), w) for term, w in terms.items())
                     for lang, terms in alarm.languages.items()},
        alarm_markers=tuple((m, re.compile(m), w) for m, w in alarm.markers.items()),
    )


@dataclass(frozen=True)
class _People:
    """Where the names and the attribution cues of one document are."""

    index: LemmaIndex
    rules: EnrichRules
    name_at: frozenset[int]  # every position covered by some gazetteer name
    cues: list[tuple[int, int]]  # (start, end) of every cue

    def linked(self, gap: range) -> bool:
        """Whether a name and a cue ``gap`` apart belong together: near, no "that"/"on" between, and any
        other name between only joined by "and" ("Lukashenko and Putin discussed")."""
        words = [self.index.lemmas[i] for i in gap if i not in self.name_at]
        if len(words) > self.rules.cue_distance or any(w in self.rules.cue_blockers for w in words):
            return False
        return all(i not in self.name_at for i in gap) or all(w in self.rules.conjunctions for w in words)

    def has_the_floor(self, start: int, end: int) -> bool:
        """A cue next to the name in its sentence, or a heading clause that starts with it ("Лавров о ...:")."""
        index, sentence = self.index, self.index.sentence[start]
        if sentence in index.colon_ended and start - index.sentence_start(sentence) < self.rules.heading_words:
            return True
        return any(index.sentence[cue_start] == sentence
                   and ((cue_end <= start and self.linked(range(cue_end, start)))
                        or (end <= cue_start and self.linked(range(end, cue_start))))
                   for cue_start, cue_end in self.cues)


def find_people(lemmas: list[str] | LemmaIndex, rules: EnrichRules) -> tuple[list[str], list[str]]:
    """(speakers, mentions): who is quoted or speaking, and every gazetteer person named at all."""
    index = as_index(lemmas)
    found = {name: [(pos, pos + len(form)) for form in forms for pos in positions(index, form)]
             for name, forms in rules.speakers}
    people = _People(index, rules, frozenset(i for spans in found.values() for a, b in spans for i in range(a, b)),
                     [(pos, pos + len(cue)) for cue in rules.cues for pos in positions(index, cue)])
    mentions = [name for name, spans in found.items() if spans]
    speakers = [name for name in mentions if any(people.has_the_floor(a, b) for a, b in found[name])]
    return speakers, mentions


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
