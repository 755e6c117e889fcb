"""``new_term`` rules: a value of a field never seen over the history window.

The documents already indexed are the memory of seen terms: the values of the
new documents are looked up in the history (documents indexed before this
run's window), so no separate term list can drift from the index. A term
fires once (its alert id is the rule, key and term).

A rule's first run only learns: every term present then is recorded as seen
(``seen_ids``, stored by the engine under the alert ids), as ElastAlert's
new_term does at start-up — otherwise deploying the rule, or backfilling the
archive, would report every existing value as new.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from processing.alerts.evidence import (
    Candidate,
    Window,
    alert_id,
    and_query,
    fetch_documents,
    fmt_duration,
    lucene_term,
    rule_query,
    time_range,
)
from processing.alerts.rules import NewTermRule
from processing.alerts.threshold import ALL, MAX_KEYS


def evaluate(es: Elasticsearch, alias: str, rule: NewTermRule, window: Window) -> list[Candidate]:
    fresh = _pairs(es, alias, rule, [window.new_docs()], terms=None)
    if not fresh:
        return []
    end = window.at(rule.time_field)
    history = [time_range(rule.time_field, end - rule.history, end),
               {"range": {"indexed_at": {"lte": window.start.isoformat()}}}]
    seen = _pairs(es, alias, rule, history, terms=sorted({term for _key, term in fresh}))
    return [_candidate(es, alias, rule, key, term, window) for key, term in sorted(fresh - seen)]


def seen_ids(es: Elasticsearch, alias: str, rule: NewTermRule, window: Window) -> list[str]:
    """Alert ids of every (key, term) present in the history or the first window: known, not new."""
    end = window.at(rule.time_field)
    present = {"bool": {"should": [time_range(rule.time_field, end - rule.history, end),
                                   window.new_docs()], "minimum_should_match": 1}}
    return [alert_id(rule.id, key, term) for key, term in sorted(_pairs(es, alias, rule, [present], terms=None))]


def _pairs(es: Elasticsearch, alias: str, rule: NewTermRule, filters: list[dict[str, Any]],
           terms: list[str] | None) -> set[tuple[str, str]]:
    """(key, term) pairs present in the documents selected by ``filters``."""
    if terms is not None:
        filters = [*filters, {"terms": {rule.field: terms}}]
    term_agg: dict[str, Any] = {"terms": {"field": rule.field, "size": MAX_KEYS}}
    if terms is not None:
        term_agg["terms"]["include"] = terms
    aggs = ({"keys": {"terms": {"field": rule.group_by, "size": MAX_KEYS}, "aggs": {"terms": term_agg}}}
            if rule.group_by else {"terms": term_agg})
    resp = es.search(index=alias, size=0, aggs=aggs,
                     query={"bool": {"must": [rule_query(rule)], "filter": filters}})
    aggs_out = resp["aggregations"]
    if rule.group_by:
        return {(str(k["key"]), str(t["key"])) for k in aggs_out["keys"]["buckets"] for t in k["terms"]["buckets"]}
    return {(ALL, str(t["key"])) for t in aggs_out["terms"]["buckets"]}


def _candidate(es: Elasticsearch, alias: str, rule: NewTermRule, key: str, term: str, window: Window) -> Candidate:
    filters = [window.new_docs(), {"term": {rule.field: term}}]
    if key != ALL:
        filters.append({"term": {rule.group_by: key}})
    docs = fetch_documents(es, alias, rule, {"bool": {"must": [rule_query(rule)], "filter": filters}},
                           rule.max_documents, sort=[{"published_at": {"order": "asc", "missing": "_last"}}])
    scope = f" from {rule.group_by}={key}" if key != ALL else ""
    clauses = [lucene_term(rule.field, term)] + ([lucene_term(rule.group_by, key)] if key != ALL else [])
    return Candidate(
        alert_id=alert_id(rule.id, key, term), key=f"{key}/{term}" if key != ALL else term,
        summary=f"new {rule.field} {term!r}{scope} (not seen in {fmt_duration(rule.history)})",
        reason={"field": rule.field, "term": term, "group": key if key != ALL else None,
                "history": fmt_duration(rule.history), "documents": len(docs)},
        documents=docs, discover_query=and_query(rule, *clauses),
    )
