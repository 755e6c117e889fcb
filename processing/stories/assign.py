"""Incremental story assignment: each arriving document joins the story it re-tells, or begins one.

Runs in the batch runner under the grouping lock, after near-duplicate grouping
and before indexing, so every document is indexed with its ``story_id``. A
story is the connected set of reports linked above the threshold
(``processing.stories.linking``): a report that links to two stories bridges
them and they merge; a story is named after its earliest report. Both make the
outcome independent of the order in which batches arrive (a crawl writes one
batch per source), so reprocessing, or processing the same archive into a fresh
index, gives the same stories with the same ids. When a merge or an earlier
report renames a story, the already indexed documents of the old name are
updated (``renamed``), as dedup re-roots its groups.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.document import Document
from mediamon.core.settings import Settings
from processing.stories import storyindex
from processing.stories.features import StoryFeatures, story_features
from processing.stories.lexicon import Lexicon
from processing.stories.linking import Link
from processing.stories.story import Match, Member, Story, copied_from, matches, story_id_of


@dataclass
class StoriesReport:
    """documents_in = kept + joined + founded + undated, always."""

    documents_in: int = 0
    kept: int = 0  # already in a story (reprocessing)
    joined: int = 0  # linked into an existing story
    founded: int = 0  # began a story of their own
    undated: int = 0  # neither published nor fetched time: no window to place them in
    merged: int = 0  # stories merged into another because a report bridged them
    renamed: dict[str, str] = field(default_factory=dict)  # old story id -> new, for already indexed documents

    def adds_up(self) -> bool:
        return self.documents_in == self.kept + self.joined + self.founded + self.undated

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def assign_stories(es: Elasticsearch, settings: Settings, docs: list[Document], lexicon: Lexicon,
                   computed: dict[tuple[str | None, ...], StoryFeatures] | None = None) -> StoriesReport:
    """Set ``story_id`` on each of ``docs``, write the stories they touched and rename what merged.

    ``computed``: features the runner's workers already computed, by ``features_key`` (the duplicate
    group is only known now, so it is filled in here).
    """
    report = StoriesReport(documents_in=len(docs))
    dated = [(d.published_at or d.fetched_at, d) for d in docs]
    report.undated = sum(1 for when, _ in dated if when is None)
    # in ``chronological`` order: an original is placed before its copies stamped with its time
    ordered = sorted(((when, d) for when, d in dated if when is not None),
                     key=lambda p: (p[0], p[1].is_duplicate, p[1].id))
    # one lookup for the batch's own reports and the originals its copies were grouped with
    originals = {d.dup_group for _, d in ordered if d.dup_group and d.dup_group != d.id}
    known = storyindex.stories_of(es, settings, sorted({d.id for _, d in ordered} | originals))
    existing = {d.id: known[d.id] for _, d in ordered if d.id in known}
    live: dict[str, Story] = {}  # by the id each story had when loaded (or got when founded)
    absorbed: dict[str, str] = {}  # loaded id -> the loaded id of the story it merged into
    placed: dict[str, str] = {}  # this batch's report -> the live key of the story it went to
    arriving = [_features(doc, lexicon, when, (computed or {}).get(features_key(doc)))
                for when, doc in ordered if doc.id not in existing]
    report.kept = len(ordered) - len(arriving)
    # Looked up before any is assigned: what this batch changes is in ``live``, which overrides the index.
    # A copy of an indexed original needs no lookup: it joins the original's story (see ``_original_story``).
    looked_up = [copied_from(f) not in known for f in arriving]
    searched = [f for f, look in zip(arriving, looked_up, strict=True) if look]
    indexed = iter(storyindex.candidates(es, settings, searched, lexicon.window_hours))
    for features, look in zip(arriving, looked_up, strict=True):
        found_in_index = next(indexed) if look else []
        if original := _original_story(features, known, live, absorbed, placed):
            story = original
            story.add(Member(features, copied_from(features), Link(100.0, {"near_duplicate": True})))
            report.joined += 1
        elif not (found := _matches(features, found_in_index, live, absorbed, lexicon)):
            story = Story("", [Member(features, None, None)])
            story.story_id = story_id_of(story)
            report.founded += 1
        else:
            story = found[0].story
            story.add(Member(features, found[0].linked_to, found[0].link))
            for other in found[1:]:  # the report bridges these stories: one statement, one story
                for member in other.story.members:
                    if member.link is None:  # the merged story's founder: linked through the bridging report
                        member.linked_to = features.doc_id
                        member.link = Link(other.link.score, {"bridged_by": features.doc_id, **other.link.reasons})
                    story.add(member)
                absorbed[other.story.story_id] = story.story_id
                live.pop(other.story.story_id, None)
                report.merged += 1
            report.joined += 1
        live[story.story_id] = story
        placed[features.doc_id] = story.story_id
    final = {loaded: story_id_of(story) for loaded, story in live.items()}
    for loaded, into in absorbed.items():
        while into in absorbed:
            into = absorbed[into]
        final[loaded] = final[into]
    report.renamed = {old: new for old, new in final.items() if old != new}
    for story in live.values():
        story.story_id = final[story.story_id]
    members = {m.features.doc_id: s.story_id for s in live.values() for m in s.members}
    for _, doc in ordered:
        doc.story_id = members.get(doc.id) or existing[doc.id].story_id
    # the batch's own documents are indexed next with their story: no re-labelling of their indexed copies
    storyindex.save(es, settings, list(live.values()), report.renamed, skip={doc.id for doc in docs})
    return report


def features_key(doc: Document) -> tuple[str | None, ...]:
    """What a document's story features are computed from, so two records of one article in a batch (a page
    and its new version) never share features computed for the other."""
    return doc.id, doc.content_hash, doc.title, doc.lead


def _features(doc: Document, lexicon: Lexicon, when: datetime, computed: StoryFeatures | None) -> StoryFeatures:
    if computed is None or computed.published_at != when:
        return story_features(doc, lexicon, when)
    return replace(computed, dup_group=doc.dup_group, translation_group=doc.translation_group)


def _matches(features: StoryFeatures, found_in_index: list[Story], live: dict[str, Story],
             absorbed: dict[str, str], lexicon: Lexicon) -> list[Match]:
    candidates = {s.story_id: s for s in found_in_index if s.story_id not in absorbed}
    candidates.update(live)  # this batch's changes are newer than what the index holds
    return matches(features, [s for s in candidates.values() if _near(s, features, lexicon)], lexicon)


def _original_story(features: StoryFeatures, known: dict[str, Story], live: dict[str, Story],
                    absorbed: dict[str, str], placed: dict[str, str]) -> Story | None:
    """The story of the original a near-duplicate copies, wherever it is now: a copy tells what its original
    tells, a decisive link (``linking.link`` gives it 100), so it joins that story without a lookup.

    The original either came earlier in this batch (``placed``) or is indexed in a story (``known``); that
    story may since have merged into another (``absorbed``). None: the original is in no story (undated).
    """
    original = copied_from(features)
    if original is None:
        return None
    key = placed.get(original) or (known[original].story_id if original in known else None)
    if key is None:
        return None
    while key in absorbed:
        key = absorbed[key]
    return live.get(key) or known.get(original)


def _near(story: Story, features: StoryFeatures, lexicon: Lexicon) -> bool:
    """A story with a member within the window (the candidate query bounds only its first report)."""
    hours = lexicon.window_hours * 3600
    return any(abs((m.features.published_at - features.published_at).total_seconds()) <= hours
               for m in story.members)
