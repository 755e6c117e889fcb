"""Who said it first and who carried it: a story's origin and its amplifiers, and the daily reach of narratives.

The origin is the earliest report, except that a government source (the Kremlin,
the MFA) published within ``GOVERNMENT_PREFERENCE`` of the earliest is the
origin: an agency flash a few minutes ahead of the ministry's own text is the
ministry's statement travelling, not a statement of its own. Every other member
is an amplifier, with its lag behind the origin, its language and owner, and
whether it quotes the origin (a quotation shared word for word in one language;
across languages, a quotation of the origin's speaker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from processing.stories.story import Member, Story, chronological

GOVERNMENT_PREFERENCE = timedelta(minutes=15)
GOVERNMENT_KINDS = frozenset({"government"})


@dataclass(frozen=True)
class Amplifier:
    member: Member
    lag: timedelta
    quotes_origin: bool

    def to_json(self) -> dict[str, Any]:
        f = self.member.features
        return {"doc_id": f.doc_id, "source": f.source, "owner": f.owner, "lang": f.lang,
                "published_at": f.published_at.isoformat(), "lag_minutes": round(self.lag.total_seconds() / 60),
                "quotes_origin": self.quotes_origin, "title": f.title, "url": f.url,
                "linked_to": self.member.linked_to, "link": self.member.link.to_json() if self.member.link else None}


def origin_of(story: Story) -> Member:
    earliest = min(story.members, key=chronological)
    within = [m for m in story.members if m.features.kind in GOVERNMENT_KINDS
              and m.features.published_at - earliest.features.published_at <= GOVERNMENT_PREFERENCE]
    return min(within, key=chronological) if within else earliest


def quotes(member: Member, origin: Member) -> bool:
    a, b = member.features, origin.features
    if a.lang == b.lang:
        return bool(a.quote_grams & b.quote_grams)
    return bool(a.quote_grams) and bool(set(a.speakers) & set(b.speakers))


def chain(story: Story) -> tuple[Member, list[Amplifier]]:
    """The origin and every other report in order of publication, with its lag behind the origin."""
    origin = origin_of(story)
    others = sorted((m for m in story.members if m is not origin),
                    key=chronological)
    return origin, [Amplifier(m, m.features.published_at - origin.features.published_at, quotes(m, origin))
                    for m in others]
