"""config/stories.yaml: the bilingual domain lexicon and the linking thresholds, validated and compiled once.

Why a lexicon and not a translation model: no model may be downloaded at run
time, and the crisis's vocabulary is small and stable; an analyst can read and
extend it like the narrative rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mediamon.core.configfile import load_config
from processing.enrich import LemmaIndex, Pattern, compile_pattern, positions
from processing.lemmas import tokens
from processing.stories.names import skeleton


class StoriesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_hours: float = Field(default=36, gt=0, description="a re-telling follows its statement within this")
    link_threshold: float = Field(default=4.0, gt=0, description="evidence score that links two reports")
    concepts: dict[str, list[str]] = Field(description="concept key -> its words in ru / en / be")
    ubiquitous: list[str] = Field(default_factory=list, description="names every report of the crisis carries")


@dataclass(frozen=True)
class Lexicon:
    window_hours: float
    link_threshold: float
    concepts: tuple[tuple[str, tuple[Pattern, ...]], ...]
    ubiquitous: frozenset[str]  # name skeletons that link nothing as names (the setting, the calendar, concepts)
    # one-lemma words (most of the lexicon) -> their concepts, found by one set intersection per document;
    # the phrases and prefixes of each concept are matched by position
    by_lemma: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, hash=False)
    phrases: tuple[tuple[str, tuple[Pattern, ...]], ...] = field(default=(), compare=False)

    def concepts_in(self, index: LemmaIndex) -> set[str]:
        found = {key for lemma in index.at.keys() & self.by_lemma.keys() for key in self.by_lemma[lemma]}
        return found | {key for key, patterns in self.phrases
                        if key not in found and any(positions(index, p) for p in patterns)}


def compile_lexicon(spec: StoriesFile) -> Lexicon:
    concepts = tuple((key, tuple(compile_pattern(w) for w in words)) for key, words in spec.concepts.items())
    by_lemma: dict[str, set[str]] = {}
    phrases = []
    for key, patterns in concepts:
        one_lemma = [p for p in patterns if len(p) == 1 and not p[0].endswith("*")]
        for pattern in one_lemma:
            by_lemma.setdefault(pattern[0], set()).add(key)
        if rest := tuple(p for p in patterns if p not in one_lemma):
            phrases.append((key, rest))
    return Lexicon(
        window_hours=spec.window_hours, link_threshold=spec.link_threshold, concepts=concepts,
        ubiquitous=frozenset(s for entry in [*spec.ubiquitous, *concept_names(spec)] for word in tokens(entry)
                             if (s := skeleton(word))),
        by_lemma={lemma: frozenset(keys) for lemma, keys in by_lemma.items()}, phrases=tuple(phrases))


def concept_names(spec: StoriesFile) -> list[str]:
    """The capitalised words of the concepts (Турция, Ankara): found as concepts, they are not names again."""
    return [word.rstrip("*") for words in spec.concepts.values() for word in words if word[:1].isupper()]


def load_lexicon(config_dir: Path) -> Lexicon:
    return compile_lexicon(load_config(config_dir / "stories.yaml", StoriesFile))
