"""A story in memory: its members (each with the link that brought it in) and the choice of story for a report.

Pure functions over features, so the same choice is made by the indexer, the
tests and the benchmark; ``storyindex`` stores what is decided here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from processing.stories.features import StoryFeatures
from processing.stories.lexicon import Lexicon
from processing.stories.linking import Link, link


@dataclass
class Member:
    features: StoryFeatures
    linked_to: str | None  # the member whose evidence brought this one in (None: the story's founder)
    link: Link | None

    def to_json(self, represented: bool = False) -> dict[str, Any]:
        """``represented``: a copy whose original is in the story. It is never a link target (``matches``)
        and members never leave a story, so the features only linking reads (content terms, cognates) are
        not stored for it: syndicated copies are most of a big story, and rewriting their terms with every
        report the story gained was most of the bytes a batch wrote to the stories index."""
        data = {**self.features.to_json(), "linked_to": self.linked_to,
                "link": self.link.to_json() if self.link else None}
        return {**data, "terms": [], "cognates": []} if represented else data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Member:
        raw = data.get("link")
        return cls(StoryFeatures.from_json(data), data.get("linked_to"),
                   Link(raw["score"], raw["reasons"]) if raw else None)


@dataclass
class Story:
    story_id: str
    members: list[Member] = field(default_factory=list)

    @property
    def first_at(self) -> datetime:
        return min(m.features.published_at for m in self.members)

    @property
    def last_at(self) -> datetime:
        return max(m.features.published_at for m in self.members)

    def member(self, doc_id: str) -> Member | None:
        return next((m for m in self.members if m.features.doc_id == doc_id), None)

    def add(self, member: Member) -> None:
        self.members.append(member)
        self.members.sort(key=chronological)


def chronological(member: Member) -> tuple[datetime, bool, str]:
    """Order of publication; at one time an original before its copies (as dedup roots a group), then id.

    Without the middle term a syndicated copy stamped with its original's minute, but of a smaller id, named
    the story when it arrived: the story was renamed and every indexed report of it re-labelled, once per
    such copy (the processing benchmark's copies re-labelled two thirds as many reports as it indexed).
    """
    return (member.features.published_at, copied_from(member.features) is not None, member.features.doc_id)


def copies_represented(story: Story) -> set[str]:
    """Ids of the copies whose original is in the story: the original stands for them (no link target)."""
    ids = {m.features.doc_id for m in story.members}
    return {m.features.doc_id for m in story.members if copied_from(m.features) in ids}


def story_id_of(story: Story) -> str:
    """Named after its earliest report, so the same documents make the same story in any processing order."""
    first = min(story.members, key=chronological).features
    return "st-" + hashlib.sha256(first.doc_id.encode("utf-8")).hexdigest()[:16]


def copied_from(features: StoryFeatures) -> str | None:
    """The original a near-duplicate was grouped with (None for an original)."""
    group = features.dup_group
    return group if group and group != features.doc_id else None


@dataclass(frozen=True)
class Match:
    story: Story
    linked_to: str
    link: Link


def matches(features: StoryFeatures, candidates: list[Story], lexicon: Lexicon) -> list[Match]:
    """Per candidate story, its member with the strongest evidence of the same statement, if above the threshold.

    More than one story matching means the report bridges them: they tell one statement and are merged,
    so a story is the connected set of reports linked above the threshold, whatever order they arrive in.
    """
    found: list[Match] = []
    for story in sorted(candidates, key=lambda s: s.story_id):
        best: Member | None = None
        best_score = lexicon.link_threshold
        # copies make no links of their own, whichever order they arrive in (``assign`` joins a copy to its
        # original's story directly)
        skip = copies_represented(story) | {features.doc_id}
        for member in story.members:
            if member.features.doc_id in skip:
                continue
            score = link(features, member.features, lexicon.window_hours, explain=False).score
            if score > best_score or (best is None and score == best_score):
                best, best_score = member, score
        if best is not None:
            found.append(Match(story, best.features.doc_id, link(features, best.features, lexicon.window_hours)))
    return sorted(found, key=lambda m: (-m.link.score, m.story.story_id))
