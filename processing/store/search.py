"""`mediamon search`: one query over titles, text and lemmas, with the analysts' filters.

The query is Lucene syntax, as analysts type it in Kibana and in alert rules
(``title:Лукашенко AND alarmism:>=0.5``, ``"EU must pay" -Belarus``), run as
Elasticsearch's ``query_string`` with AND between bare terms. It is parsed here
first (luqum) so that a syntax error is a clear message, and so that every
free-text word or phrase also matches its lemmas: ``мигранты`` becomes
``(мигранты OR lemmas:"мигрант")`` and finds "мигрантов" on every cluster, with
or without language analyzers. Field-qualified terms, ranges, wildcards, fuzzy
and proximity terms are searched as typed.

A query is capped (``MAX_QUERY_CHARS``, ``MAX_QUERY_TERMS``) before it reaches the
cluster: one 20,000-word query expands to hundreds of thousands of clauses and
ties up every search thread. A search runs once with a server-side timeout: a
client timeout is never retried, as the node would run the same search again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch
from luqum.exceptions import ParseError
from luqum.parser import parser as lucene
from luqum.tree import Group, Item, OrOperation, Phrase, SearchField, Word
from luqum.visitor import TreeTransformer

from mediamon.core.errors import ConfigError
from mediamon.core.esclient import SEARCH_TIMEOUT, for_search
from processing.lemmas import lemma_text
from processing.store.query_syntax import SYNTAX_HELP

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 1_000
MAX_QUERY_TERMS = 50  # words and operators; each is searched in up to nine fields
TEXT_FIELDS = ["title^3", "lead^2", "text"]
LANGUAGE_FIELDS = ["title.ru^2", "title.en^2", "lead.ru", "lead.en", "text.ru", "text.en"]
SORT_FIELDS = ("relevance", "published_at", "indexed_at", "alarmism")


class QueryTooLarge(ConfigError):
    """The query is over the caps: bad input, refused like bad config (exit 2) before it reaches the cluster."""


class QuerySyntaxError(ConfigError):
    """The query is not Lucene syntax (or the cluster cannot run it): bad input, exit 2 with the reason."""


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
        must = {"query_string": {"query": with_lemmas(text), "fields": fields, "default_operator": "AND"}}
    return {"bool": {"must": [must], "filter": filter_clauses}}


def with_lemmas(text: str) -> str:
    """``text`` (Lucene syntax) with each free-text word or phrase also matched against ``lemmas``."""
    try:
        tree = lucene.parse(text)
    except ParseError as exc:
        raise QuerySyntaxError(f"query syntax error: {exc} ({SYNTAX_HELP})") from exc
    return str(_LemmaExpander().visit(tree))


class _LemmaExpander(TreeTransformer):
    """Rewrites bare words and phrases as ``(as typed OR lemmas:"their lemmas")``; leaves the rest alone."""

    def _as_typed(self, node: Item, context: dict[str, Any]) -> Iterator[Item]:
        yield node

    # Field-qualified, fuzzy, proximity and range terms are exact requests: searched as typed.
    visit_search_field = visit_fuzzy = visit_proximity = visit_range = visit_from = visit_to = _as_typed

    def visit_word(self, node: Word, context: dict[str, Any]) -> Iterator[Item]:
        wildcard = any(c in node.value for c in "*?") or node.value in ("AND", "OR", "NOT")
        yield from self._expanded(node, "" if wildcard else lemma_text(node.value))

    def visit_phrase(self, node: Phrase, context: dict[str, Any]) -> Iterator[Item]:
        yield from self._expanded(node, lemma_text(node.value.strip('"')))

    @staticmethod
    def _expanded(node: Word | Phrase, lemmas: str) -> Iterator[Item]:
        if not lemmas:
            yield node
            return
        either = Group(OrOperation(node.clone_item(head="", tail=" "),
                                   SearchField("lemmas", Phrase(f'"{lemmas}"'), head=" ")),
                       head=node.head, tail=node.tail)
        yield either


def search(es: Elasticsearch, alias: str, text: str, filters: SearchFilters, limit: int = 20,
           sort: str = "relevance") -> tuple[int, list[dict[str, Any]]]:
    """Total hits and the first ``limit`` documents (``_source`` plus ``_id`` and ``_score``)."""
    check_query(text)  # before anything is asked of the cluster
    es = for_search(es)
    query = build_query(text, filters, _has_language_fields(es, alias))
    with _refused_query():
        resp = es.search(index=alias, query=query, size=limit, sort=_sort(sort), track_total_hits=True,
                         timeout=SEARCH_TIMEOUT, source_excludes=["lemmas", "minhash_bands", "fingerprint"])
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
            with _refused_query():
                resp = es.search(pit={"id": pit, "keep_alive": "2m"}, query=query, size=page_size,
                                 sort=[{"published_at": {"order": "desc", "missing": "_last"}},
                                       {"_shard_doc": "asc"}],
                                 search_after=search_after,
                                 source_excludes=["lemmas", "minhash_bands", "fingerprint"], timeout=SEARCH_TIMEOUT)
            _warn_if_partial(resp)
            hits = resp["hits"]["hits"]
            if not hits:
                return
            yield from (_hit(h) for h in hits)
            search_after = hits[-1]["sort"]
            pit = resp.get("pit_id", pit)
    finally:
        es.close_point_in_time(id=pit)


@contextmanager
def _refused_query() -> Iterator[None]:
    """A query the cluster cannot run (``alarmism:high``, a bad regex) is bad input: its reason, exit 2."""
    try:
        yield
    except BadRequestError as exc:
        causes = exc.body.get("error", {}).get("root_cause", []) if isinstance(exc.body, dict) else []
        reason = "; ".join(str(c.get("reason", "")) for c in causes) or str(exc.message)
        raise QuerySyntaxError(f"Elasticsearch cannot run this query: {reason} ({SYNTAX_HELP})") from exc


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
