"""Translations: the Russian and English versions of one official item share ``translation_group``.

kremlin.ru / en.kremlin.ru and mid.ru/ru / mid.ru/en publish the same item under
the same numeric id in both languages, so the URL alone links them (no text
comparison across languages is needed). The patterns are a table, one row per
site family; a URL that matches none has no translation group.
"""

from __future__ import annotations

import re

TRANSLATION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kremlin", re.compile(r"^https?://(?:en\.)?kremlin\.ru/events/president/(?:news|transcripts)/(\d+)")),
    ("mid", re.compile(r"^https?://(?:www\.)?mid\.ru/(?:ru|en)/foreign_policy/news/(\d+)")),
)


def translation_group(canonical_url: str) -> str | None:
    """``"kremlin:67123"`` for both language versions of kremlin.ru item 67123; None otherwise."""
    for family, pattern in TRANSLATION_PATTERNS:
        if match := pattern.match(canonical_url):
            return f"{family}:{match.group(1)}"
    return None
