"""What changed between two versions of an article, at title, lead, paragraph and sentence level.

Paragraphs are aligned with difflib as they are (each paragraph one token: a
1 MB transcript is a few thousand of them); only the stretches that differ are
then reduced to what a reader would call their content — the cosmetic rules of
config/changes.yaml (stamps, counters, ad slots, tracking parameters) removed,
typography folded (quotes, dashes, spaces, ё) — and compared again, paragraph by
paragraph and then sentence by sentence. A re-typeset page is no change at all,
and the cost follows the size of the edit, not of the page (the cosmetic
patterns are the expensive part: Python's regex engine scans case-insensitive
alternations slowly). Each difference is
classified — headline, lead, number, quote removed, attribution, paragraph
added/removed, wording — and the classes' weights (independent evidence, so
``1 - prod(1 - w)``) make the score, raised by how much of the text changed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from processing.changes.config import ChangeRules

TYPOGRAPHY = {"«": '"', "»": '"', "„": '"', "“": '"', "”": '"', "‟": '"', "‘": "'", "’": "'", "–": "-", "—": "-",
              "‑": "-", "−": "-", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "ё": "е", "Ё": "Е", "…": "..."}
TYPOGRAPHIC = re.compile("[" + "".join(TYPOGRAPHY) + "]")  # a C scan; str.translate with a dict is per-char Python
SPACES = re.compile(r"\s+")
SPACE_BEFORE_PUNCT = re.compile(r" (?=[,.;:!?])")
SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[\"'«„“(\[]?[A-ZА-ЯЁ0-9])")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
QUOTED = re.compile(r'"([^"]{12,})"')
ATTRIBUTION = re.compile(r"\b(заявил\w*|сообщил\w*|сказал\w*|отметил\w*|подчеркнул\w*|по словам|по данным|"
                         r"said|says|stated|told|according to|claimed)\b", re.IGNORECASE)
NAME = re.compile(r"\b[A-ZА-Я][a-zа-я]+(?:[- ][A-ZА-Я][a-zа-я]+)*")


@dataclass(frozen=True)
class VersionText:
    title: str | None
    lead: str | None
    text: str


@dataclass
class Change:
    """The difference between two versions: classes, a score in [0, 1], and readable diff lines."""

    classes: list[str] = field(default_factory=list)
    score: float = 0.0
    lines: list[str] = field(default_factory=list)  # "- removed" / "+ added", title first
    changed_fraction: float = 0.0

    @property
    def substantive(self) -> bool:
        return bool(self.classes)


def normalise(text: str | None, rules: ChangeRules) -> str:
    """``text`` as compared: cosmetic parts removed, typography folded, spaces collapsed."""
    if not text:
        return ""
    if rules.file.cosmetic.typography:
        text = TYPOGRAPHIC.sub(lambda m: TYPOGRAPHY[m.group()], text)
    if rules.tracking is not None:
        text = rules.tracking.sub("", text)
    for pattern in rules.cosmetic:
        text = pattern.sub(" ", text)
    return SPACE_BEFORE_PUNCT.sub("", SPACES.sub(" ", text)).strip()


def raw_paragraphs(text: str) -> list[str]:
    return [p for p in (line.strip() for line in text.split("\n")) if p]


def paragraphs(raw: list[str], rules: ChangeRules) -> list[str]:
    return [p for p in (normalise(line, rules) for line in raw) if p]


def sentences(paragraph_list: list[str]) -> list[str]:
    return [s for p in paragraph_list for s in SENTENCE.split(p) if s]


def diff_versions(old: VersionText, new: VersionText, rules: ChangeRules) -> Change:
    change = Change()
    classes: set[str] = set()
    removed: list[str] = []
    added: list[str] = []
    for name, cls in (("title", "headline_changed"), ("lead", "lead_changed")):
        before, after = normalise(getattr(old, name), rules), normalise(getattr(new, name), rules)
        if before != after:
            classes.add(cls)
            change.lines += [f"- {name}: {before}", f"+ {name}: {after}"]
            removed.append(before)
            added.append(after)
    old_raw, new_raw = raw_paragraphs(old.text), raw_paragraphs(new.text)
    changed_chars = 0
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old_raw, new_raw, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        old_paras, new_paras = paragraphs(old_raw[i1:i2], rules), paragraphs(new_raw[j1:j2], rules)
        for op2, k1, k2, m1, m2 in SequenceMatcher(None, old_paras, new_paras, autojunk=False).get_opcodes():
            if op2 == "equal":
                continue  # only cosmetic differences in this stretch
            gone, came = old_paras[k1:k2], new_paras[m1:m2]
            changed_chars += sum(map(len, gone)) + sum(map(len, came))
            if op2 == "delete":
                classes.add("paragraph_removed")
            elif op2 == "insert":
                classes.add("paragraph_added")
            gone_s, came_s = _sentence_diff(sentences(gone), sentences(came))
            if op2 == "replace" and (gone_s or came_s):
                classes.add("wording_changed")
            removed += gone_s
            added += came_s
            change.lines += [f"- {s}" for s in gone_s] + [f"+ {s}" for s in came_s]
    classes |= _kinds(removed, added)
    if "number_changed" in classes or "attribution_changed" in classes:
        classes.discard("wording_changed")  # the specific class says it
    weights = rules.weights
    total = max(1, sum(map(len, old_raw)) + sum(map(len, new_raw)))
    change.changed_fraction = min(1.0, changed_chars / total)
    evidence = 1.0
    for cls in classes:
        evidence *= 1 - weights.get(cls, 0.0)
    change.classes = sorted(classes)
    change.score = round(1 - evidence * (1 - 0.5 * change.changed_fraction), 4) if classes else 0.0
    return change


def _sentence_diff(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    """The sentences only one side has (a paragraph that gained a clause shows that sentence, not all)."""
    gone: list[str] = []
    came: list[str] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op != "equal":
            gone += old[i1:i2]
            came += new[j1:j2]
    return gone, came


def _kinds(removed: list[str], added: list[str]) -> set[str]:
    """Classes read from the removed and added text: numbers, quotations, who said it."""
    kinds: set[str] = set()
    before, after = " ".join(removed), " ".join(added)
    if removed and added and Counter(NUMBER.findall(before)) != Counter(NUMBER.findall(after)) \
            and NUMBER.search(before) and NUMBER.search(after):
        kinds.add("number_changed")
    if any(q not in after for q in QUOTED.findall(before)):
        kinds.add("quote_removed")
    if ATTRIBUTION.search(before) and ATTRIBUTION.search(after) and \
            set(NAME.findall(_attributed(before))) != set(NAME.findall(_attributed(after))):
        kinds.add("attribution_changed")
    return kinds


def _attributed(text: str) -> str:
    """The words around attribution verbs: where the speaker is named."""
    return " ".join(text[max(0, m.start() - 80): m.end() + 80] for m in ATTRIBUTION.finditer(text))
