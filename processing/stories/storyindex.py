"""``<prefix>-stories``: one Elasticsearch document per story, its members and why each was linked.

Why a separate index and not only ``story_id`` on the documents: assignment must
find, for an arriving report, the stories of its time window that share its keys
(a ``terms`` query on the stories' key union, bounded by the window, so its cost
follows the window's news flow, not the size of the index), and the features of
their members without re-analysing them. The members' features live in the
story document (not indexed); the story's keys, outlets, owners, languages and
times are indexed for that lookup, for ``mediamon stories`` and for Kibana.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, helpers

from mediamon.core.document import fingerprint
from mediamon.core.errors import OperationFailed
from mediamon.core.esclient import REPLICATION
from mediamon.core.settings import Settings
from processing.stories.amplification import origin_of
from processing.stories.features import StoryFeatures
from processing.stories.story import Member, Story, copies_represented

KEYWORD = {"type": "keyword"}
DATE = {"type": "date"}
MAPPING: dict[str, Any] = {"dynamic": False, "properties": {
    "story_id": KEYWORD, "first_at": DATE, "last_at": DATE, "updated_at": DATE, "size": {"type": "integer"},
    "keys": KEYWORD, "member_ids": KEYWORD, "translation_groups": KEYWORD, "sources": KEYWORD, "owners": KEYWORD,
    "languages": KEYWORD, "narratives": KEYWORD, "speakers": KEYWORD, "title": {"type": "text"},
    "origin_id": KEYWORD, "origin_source": KEYWORD, "origin_at": DATE,
    "members": {"type": "object", "enabled": False}}}
MAX_CANDIDATES = 10  # the best-scored stories of the window: linking reads each one's members (was 20: at 100k
# stories, where a batch's reports share no candidates, reading them was most of the cost that grows)
DECISIVE = 1000.0  # a shared duplicate group or translation outranks any number of shared keys


def stories_index(settings: Settings) -> str:
    return f"{settings.index_prefix}-stories"


def ensure_index(es: Elasticsearch, settings: Settings) -> None:
    name = stories_index(settings)
    if not es.indices.exists(index=name):
        es.options(ignore_status=400).indices.create(
            index=name, mappings=MAPPING, settings={"number_of_shards": 1, **REPLICATION})


def from_source(source: dict[str, Any]) -> Story:
    return Story(source["story_id"], [Member.from_json(m) for m in source.get("members", [])])


def to_source(story: Story) -> dict[str, Any]:
    members = [m.features for m in story.members]
    represented = copies_represented(story)
    origin = origin_of(story)
    return {
        "story_id": story.story_id, "first_at": story.first_at.isoformat(), "last_at": story.last_at.isoformat(),
        "updated_at": datetime.now(UTC).isoformat(), "size": len(members),
        "keys": sorted({k for f in members for k in f.keys}), "member_ids": [f.doc_id for f in members],
        "translation_groups": sorted({f.translation_group for f in members if f.translation_group}),
        "sources": sorted({f.source for f in members}), "owners": sorted({f.owner for f in members if f.owner}),
        "languages": sorted({f.lang for f in members}),
        "narratives": sorted({n for f in members for n in f.narratives}),
        "speakers": sorted({s for f in members for s in f.speakers}), "title": origin.features.title,
        "origin_id": origin.features.doc_id, "origin_source": origin.features.source,
        "origin_at": origin.features.published_at.isoformat(),
        "members": [m.to_json(represented=m.features.doc_id in represented) for m in story.members]}


def stories_of(es: Elasticsearch, settings: Settings, doc_ids: list[str]) -> dict[str, Story]:
    """doc id -> the story it already belongs to (reprocessing keeps a report in its story)."""
    if not doc_ids:
        return {}
    resp = es.search(index=stories_index(settings), size=len(doc_ids),
                     query={"terms": {"member_ids": doc_ids}})
    wanted = set(doc_ids)
    found: dict[str, Story] = {}
    for hit in resp["hits"]["hits"]:
        story = from_source(hit["_source"])
        for member in story.members:
            if member.features.doc_id in wanted:
                found[member.features.doc_id] = story
    return found


def candidates(es: Elasticsearch, settings: Settings, batch: list[StoryFeatures],
               window_hours: float) -> list[list[Story]]:
    """For each of ``batch``, the stories overlapping its window that share a key, a duplicate group or a
    translation.

    One ``msearch`` for the whole batch asks for ids only, then one ``mget`` reads each story found once:
    the reports of a batch mostly find the same few stories, and a story's source (its members'
    features) is its bulk — fetched and parsed per report, it cost the runner a third of its time.
    """
    window = timedelta(hours=window_hours)
    searches: list[dict[str, Any]] = []
    asked: list[int] = []  # positions in ``batch`` of the features with something to look for
    for position, features in enumerate(batch):
        # one scored ``term`` per key (a ``terms`` set scores every match alike): the stories sharing the most,
        # and the rarest, keys come first; the story holding the report's original or translation always does
        should: list[dict[str, Any]] = [{"term": {"keys": key}} for key in sorted(features.keys)]
        if features.dup_group:
            should.append({"term": {"member_ids": {"value": features.dup_group, "boost": DECISIVE}}})
        if features.translation_group:
            should.append({"term": {"translation_groups": {"value": features.translation_group, "boost": DECISIVE}}})
        if not should:
            continue
        asked.append(position)
        searches += [{"index": stories_index(settings)}, {"size": MAX_CANDIDATES, "_source": False, "query": {"bool": {
            "filter": [{"range": {"first_at": {"lte": (features.published_at + window).isoformat()}}},
                       {"range": {"last_at": {"gte": (features.published_at - window).isoformat()}}}],
            "should": should, "minimum_should_match": 1}}}]
    if not searches:
        return [[] for _ in batch]
    ids: list[list[str]] = [[] for _ in batch]
    for position, answer in zip(asked, es.msearch(searches=searches)["responses"], strict=True):
        if "error" in answer:  # msearch answers each search on its own: a failed one must not pass as "none"
            raise OperationFailed(f"story candidate lookup failed: {answer['error']}")
        ids[position] = [hit["_id"] for hit in answer["hits"]["hits"]]
    wanted = sorted({story_id for found in ids for story_id in found})
    stories = {doc["_id"]: from_source(doc["_source"])
               for doc in (es.mget(index=stories_index(settings), ids=wanted)["docs"] if wanted else [])
               if doc.get("found")}  # merged away since the search: not a candidate any more
    return [[stories[story_id] for story_id in found if story_id in stories] for found in ids]


def save(es: Elasticsearch, settings: Settings, stories: list[Story], renamed: dict[str, str],
         skip: set[str]) -> int:
    """Write the stories, drop those renamed or merged away and re-label the indexed reports that carry an old
    id, in one bulk request, then refresh, so the next batch's lookup sees them; an error is not swallowed.
    ``skip``: reports about to be indexed anew with their new story id (the batch's own): not re-labelled.

    Re-labelled reports are found by their old story id and updated in their own backing index (the node may
    lack the reindex module). Each gets the fingerprint of what it now says: left at the one of its old label,
    the next reprocessing would find it changed and rewrite it. A report without a fingerprint (marked
    deleted, so that its restored page is indexed again) stays without one.
    """
    index = stories_index(settings)
    actions: list[dict[str, Any]] = [{"_index": index, "_id": s.story_id, "_source": to_source(s)} for s in stories]
    if renamed:
        kept = {s.story_id for s in stories}
        actions += [{"_op_type": "delete", "_index": index, "_id": old} for old in sorted(set(renamed) - kept)]
        carrying = {"query": {"bool": {"filter": {"terms": {"story_id": sorted(renamed)}},
                                       "must_not": {"ids": {"values": sorted(skip)}}}}}
        for hit in helpers.scan(es, index=settings.docs_alias, query=carrying):
            source = {**hit["_source"], "story_id": renamed[hit["_source"]["story_id"]]}
            actions.append({"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": {
                "story_id": source["story_id"],
                "fingerprint": fingerprint(source) if source.get("fingerprint") else None}})
    if not actions:
        return 0
    ok, errors = helpers.bulk(es, actions, raise_on_error=False, stats_only=False)
    # 404: a story or a report deleted since it was read; what was meant to go is gone
    failed = [e for e in errors if next(iter(e.values())).get("status") != 404]
    if failed:
        raise OperationFailed(f"{len(failed)} story writes to {index} failed: {failed[0]}")
    es.indices.refresh(index=index)  # the runner refreshes the documents after indexing
    return ok


def get_story(es: Elasticsearch, settings: Settings, story_id: str) -> Story | None:
    resp = es.options(ignore_status=404).get(index=stories_index(settings), id=story_id)
    return from_source(resp["_source"]) if resp.get("found") else None
