"""`mediamon search`: one query over titles, text and lemmas, with the analysts' filters.

The query string is matched twice: as typed (``simple_query_string``, so quotes,
``-`` and ``|`` work) against the text fields, and lemmatised against the
``lemmas`` field, so "мигранты" finds "мигрантов" on every cluster, with or
without language analyzers.

A query is capped (``MAX_QUERY_CHARS``, ``MAX_QUERY_TERMS``) before it reaches the
cluster: one 20,000-word query expands to hundreds of thousands of clauses and
ties up every search thread. A search runs once with a server-side timeout: a
client timeout is never retried, as the node would run the same search again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.errors import ConfigError
from mediamon.core.esclient import SEARCH_TIMEOUT, for_search
from processing.lemmas import lemma_text

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 1_000
MAX_QUERY_TERMS = 50  # words and operators; each is searched in up to nine fields
TEXT_FIELDS = ["title^3", "lead^2", "text"]
LANGUAGE_FIELDS = ["title.ru^2", "title.en^2", "lead.ru", "lead.en", "text.ru", "text.en"]
SORT_FIELDS = ("relevance", "published_at", "indexed_at", "alarmism")


class QueryTooLarge(ConfigError):
    """The query is over the caps: bad input, refused like bad config (exit 2) before it reaches the cluster."""


@dataclass
class SearchFilters:
    sources: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    narratives: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    include_duplicates: bool = True


def check_query(text: str) -> None:
    """Refuse a query over ``MAX_QUERY_CHARS`` characters or ``MAX_QUERY_TERMS`` terms."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryTooLarge(f"query too long: {len(text):,} characters (at most {MAX_QUERY_CHARS:,}); shorten it")
    terms = len(text.split())
    if terms > MAX_QUERY_TERMS:
        raise QueryTooLarge(f"query too long: {terms:,} terms (at most {MAX_QUERY_TERMS}); shorten it")


def build_query(text: str, filters: SearchFilters, language_fields: bool = False) -> dict[str, Any]:
    filter_clauses: list[dict[str, Any]] = []
    if filters.sources:
        filter_clauses.append({"terms": {"source": filters.sources}})
    if filters.langs:
        filter_clauses.append({"terms": {"lang": filters.langs}})
    if filters.narratives:
        filter_clauses.append({"terms": {"narratives": filters.narratives}})
    if filters.since or filters.until:
        bounds = {}
        if filters.since:
            bounds["gte"] = filters.since.isoformat()
        if filters.until:
            bounds["lte"] = filters.until.isoformat()
        filter_clauses.append({"range": {"published_at": bounds}})
    if not filters.include_duplicates:
        filter_clauses.append({"term": {"is_duplicate": False}})
    text = text.strip()
    if not text or text == "*":
        must: dict[str, Any] = {"match_all": {}}
    else:
        fields = TEXT_FIELDS + (LANGUAGE_FIELDS if language_fields else [])
        should = [{"simple_query_string": {"query": text, "fields": fields, "default_operator": "and"}}]
        lemmas = lemma_text(text)
        if lemmas:
            should.append({"match": {"lemmas": {"query": lemmas, "operator": "and"}}})
        must = {"bool": {"should": should, "minimum_should_match": 1}}
    return {"bool": {"must": [must], "filter": filter_clauses}}


def search(es: Elasticsearch, alias: str, text: str, filters: SearchFilters, limit: int = 20,
           sort: str = "relevance") -> tuple[int, list[dict[str, Any]]]:
    """Total hits and the first ``limit`` documents (``_source`` plus ``_id`` and ``_score``)."""
    check_query(text)  # before anything is asked of the cluster
    es = for_search(es)
    resp = es.search(index=alias, query=build_query(text, filters, _has_language_fields(es, alias)),
                     size=limit, sort=_sort(sort), track_total_hits=True, timeout=SEARCH_TIMEOUT,
                     source_excludes=["lemmas", "minhash_bands", "fingerprint"])
    _warn_if_partial(resp)
    hits = resp["hits"]
    return hits["total"]["value"], [_hit(h) for h in hits["hits"]]


def scan_all(es: Elasticsearch, alias: str, text: str, filters: SearchFilters,
             page_size: int = 500) -> Iterator[dict[str, Any]]:
    """Every matching document, paged with search_after on a point in time."""
    check_query(text)  # before anything is asked of the cluster
    es = for_search(es)
    query = build_query(text, filters, _has_language_fields(es, alias))
    pit = es.open_point_in_time(index=alias, keep_alive="2m")["id"]
    try:
        search_after = None
        while True:
            resp = es.search(pit={"id": pit, "keep_alive": "2m"}, query=query, size=page_size,
                             sort=[{"published_at": {"order": "desc", "missing": "_last"}}, {"_shard_doc": "asc"}],
                             search_after=search_after, source_excludes=["lemmas", "minhash_bands", "fingerprint"],
                             timeout=SEARCH_TIMEOUT)
            _warn_if_partial(resp)
            hits = resp["hits"]["hits"]
            if not hits:
                return
            yield from (_hit(h) for h in hits)
            search_after = hits[-1]["sort"]
            pit = resp.get("pit_id", pit)
    finally:
        es.close_point_in_time(id=pit)


def _warn_if_partial(resp: Any) -> None:
    if resp.get("timed_out"):
        log.warning("the search hit the server-side timeout (%s): the results are partial", SEARCH_TIMEOUT)


def _sort(sort: str) -> list[Any]:
    if sort == "relevance":
        return ["_score", {"published_at": {"order": "desc", "missing": "_last"}}]
    return [{sort: {"order": "desc", "missing": "_last"}}]


def _hit(hit: dict[str, Any]) -> dict[str, Any]:
    return {"_id": hit["_id"], "_score": hit.get("_score"), **hit.get("_source", {})}


def _has_language_fields(es: Elasticsearch, alias: str) -> bool:
    mapping = es.indices.get_mapping(index=alias).body
    for index in mapping.values():
        title = index["mappings"].get("properties", {}).get("title", {})
        if "ru" in title.get("fields", {}):
            return True
    return False
