"""What `mediamon stories`, `mediamon trace` and the digest read: stories, chains, narratives' daily reach."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from processing.stories import storyindex
from processing.stories.amplification import chain
from processing.stories.linking import link
from processing.stories.story import Story

LIST_FIELDS = ["story_id", "title", "first_at", "last_at", "size", "sources", "owners", "languages", "narratives",
               "origin_source", "origin_at"]


def list_stories(es: Elasticsearch, settings: Settings, since: datetime | None = None, narrative: str | None = None,
                 min_size: int = 1, size: int = 50) -> tuple[int, list[dict[str, Any]]]:
    """(total, newest first): stories begun since ``since``, carrying ``narrative``, of at least ``min_size``."""
    filters: list[dict[str, Any]] = [{"range": {"size": {"gte": min_size}}}]
    if since is not None:
        filters.append({"range": {"first_at": {"gte": since.isoformat()}}})
    if narrative:
        filters.append({"term": {"narratives": narrative}})
    if not es.indices.exists(index=storyindex.stories_index(settings)):
        return 0, []
    resp = es.search(index=storyindex.stories_index(settings), size=size, source_includes=LIST_FIELDS,
                     query={"bool": {"filter": filters}}, sort=[{"first_at": "desc"}, {"story_id": "asc"}],
                     track_total_hits=True)
    return resp["hits"]["total"]["value"], [h["_source"] for h in resp["hits"]["hits"]]


def find_story(es: Elasticsearch, settings: Settings, wanted: str) -> Story | None:
    """A story by its id, or the story of a document (its id or URL)."""
    if wanted.startswith("st-"):
        return storyindex.get_story(es, settings, wanted)
    resp = es.search(index=settings.docs_alias, size=1, source_includes=["story_id"], query={"bool": {"should": [
        {"ids": {"values": [wanted]}}, {"term": {"url": wanted}}, {"term": {"canonical_url": wanted}}]}})
    hits = resp["hits"]["hits"]
    story_id = hits[0]["_source"].get("story_id") if hits else None
    return storyindex.get_story(es, settings, story_id) if story_id else None


def trace(story: Story, window_hours: float) -> dict[str, Any]:
    """The chain as data: the origin, then every amplifier with lag, language, owner, quote and link reasons.

    The story's founder, when it is not the origin (an earlier report arrived later), was linked by nothing:
    its evidence against the origin stands in, so every step says why it belongs."""
    origin, amplifiers = chain(story)
    steps = [a.to_json() for a in amplifiers]
    for step, amplifier in zip(steps, amplifiers, strict=True):
        if step["link"] is None:
            step["linked_to"] = origin.features.doc_id
            step["link"] = link(amplifier.member.features, origin.features, window_hours).to_json()
    f = origin.features
    return {"story_id": story.story_id, "size": len(story.members),
            "origin": {"doc_id": f.doc_id, "source": f.source, "owner": f.owner, "lang": f.lang,
                       "published_at": f.published_at.isoformat(), "title": f.title, "url": f.url},
            "amplifiers": steps}


def narrative_reach(es: Elasticsearch, settings: Settings, since: datetime | None = None,
                    narrative: str | None = None) -> list[dict[str, Any]]:
    """Per narrative per day (UTC): documents, distinct outlets (sources) and distinct owners that carried it."""
    filters: list[dict[str, Any]] = [{"exists": {"field": "narratives"}}]
    if since is not None:
        filters.append({"range": {"published_at": {"gte": since.isoformat()}}})
    if narrative:
        filters.append({"term": {"narratives": narrative}})
    resp = es.search(index=settings.docs_alias, size=0, query={"bool": {"filter": filters}}, aggs={"n": {
        "terms": {"field": "narratives", "size": 100, **({"include": [narrative]} if narrative else {})},
        "aggs": {"day": {"date_histogram": {"field": "published_at", "calendar_interval": "day"},
                         "aggs": {"outlets": {"cardinality": {"field": "source"}},
                                  "owners": {"cardinality": {"field": "source_owner"}}}}}}})
    return [{"narrative": n["key"], "day": d["key_as_string"][:10], "documents": d["doc_count"],
             "outlets": d["outlets"]["value"], "owners": d["owners"]["value"]}
            for n in sorted(resp["aggregations"]["n"]["buckets"], key=lambda b: b["key"])
            for d in n["day"]["buckets"] if d["doc_count"]]
