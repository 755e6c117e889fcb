"""Clean: normalise extracted text and drop site furniture, without losing article text.

NFC, soft hyphens and zero-width characters, whitespace, boilerplate lines whose
patterns are data in config/extraction.yaml, and bounds that keep every field
inside Lucene limits (a keyword term may not exceed 32766 bytes; text is capped
at a paragraph boundary). Only whole lines are ever removed and the decision is
reported (``CleanReport``), so a test can prove the article text survived.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
# C0/C1 controls other than tab and line breaks: pages carry them ("<br>\x08", a title with "\x1b"); no reader sees
# them, and in a title or keyword they break display and exact matching
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
LUCENE_TERM_BYTES = 32766
MAX_AUTHORS = 20
MAX_AUTHOR_CHARS = 200


@dataclass
class CleanReport:
    """Which lines were removed and why; cut characters when text hit the size bound."""

    removed: Counter[str] = field(default_factory=Counter)
    truncated_chars: int = 0


def normalise(value: str) -> str:
    """NFC, invisible and control characters out, runs of spaces collapsed, blank lines dropped."""
    value = INVISIBLE_RE.sub("", unicodedata.normalize("NFC", CONTROL_RE.sub(" ", value)))
    lines = (SPACES_RE.sub(" ", line).strip() for line in value.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def normalise_inline(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = " ".join(normalise(value).split())
    return bound(value, limit) or None


def bound(value: str, limit: int) -> str:
    """Cut to ``limit`` characters at a word boundary."""
    if len(value) <= limit:
        return value
    cut = value[:limit]
    return cut.rsplit(" ", 1)[0] if " " in cut[limit // 2:] else cut


def compile_boilerplate(patterns: list[str]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def clean_text(text: str, boilerplate: list[re.Pattern[str]], title: str | None, max_chars: int
               ) -> tuple[str, CleanReport]:
    """Normalise the body and remove furniture lines; the heading repeated as a first line goes too."""
    report = CleanReport()
    kept: list[str] = []
    for line in normalise(text).split("\n"):
        if not kept and title and line.casefold() == " ".join(title.split()).casefold():
            report.removed["title_repeated"] += 1
            continue
        rule = next((p.pattern for p in boilerplate if p.fullmatch(line)), None)
        if rule:
            report.removed[rule] += 1
            continue
        kept.append(line)
    body = "\n".join(kept)
    if len(body) > max_chars:
        cut = body[:max_chars]
        cut = cut.rsplit("\n", 1)[0] if "\n" in cut else bound(cut, max_chars)
        report.truncated_chars = len(body) - len(cut)
        body = cut
    return body, report


def clean_authors(authors: list[str]) -> list[str]:
    """Distinct, bounded author names (keywords must stay far below the Lucene term limit)."""
    seen: dict[str, None] = {}
    for author in authors:
        name = normalise_inline(author, MAX_AUTHOR_CHARS)
        if name and name.casefold() not in {s.casefold() for s in seen}:
            seen[name] = None
    return list(seen)[:MAX_AUTHORS]


def fits_keyword(value: str) -> bool:
    return len(value.encode("utf-8")) <= LUCENE_TERM_BYTES
