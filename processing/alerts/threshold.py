"""``threshold`` rules: how many documents in the last window, above or below a count, per key.

``above`` is only evaluated for keys that received new documents, so a count
that stays high does not re-fire on every run; the alert id carries the newest
``indexed_at`` of the key, so the same evidence always gives the same alert.
``below`` is a silence-style condition and is checked on every run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from processing.alerts.evidence import (
    Candidate,
    Window,
    alert_id,
    and_query,
    counted,
    fetch_documents,
    fmt_duration,
    lucene_term,
    time_range,
)
from processing.alerts.rules import ThresholdRule

ALL = "*"  # the key when a rule has no group_by
MAX_KEYS = 10_000


def evaluate(es: Elasticsearch, alias: str, rule: ThresholdRule, window: Window) -> list[Candidate]:
    since = window.at(rule.time_field) - rule.window
    counts = window_counts(es, alias, rule, rule.group_by, since, window)
    if rule.above is not None:
        firing = {k: c for k, c in counts.items() if c["count"] > rule.above and c["new"] > 0}
    else:
        keys = (rule.keys or _history_keys(es, alias, rule, window.at(rule.time_field))) if rule.group_by else [ALL]
        firing = {k: counts.get(k, {"count": 0, "new": 0, "newest": None}) for k in keys}
        firing = {k: c for k, c in firing.items() if c["count"] < rule.below}
    return [_candidate(es, alias, rule, key, c, since, window) for key, c in firing.items()]


def window_counts(es: Elasticsearch, alias: str, rule: Any, group_by: str | None, since: datetime,
                  window: Window) -> dict[str, dict[str, Any]]:
    """key -> {count in [since, now], new (documents new in this run's window), newest of ``window.new_by``}."""
    per_key = {"new": {"filter": window.new_docs()}, "newest": {"max": {"field": window.new_by}}}
    if group_by:
        aggs = {"keys": {"terms": {"field": group_by, "size": MAX_KEYS}, "aggs": per_key}}
    else:
        aggs = {"keys": {"filter": {"match_all": {}}, "aggs": per_key}}
    resp = es.search(index=alias, size=0, aggs=aggs,
                     query=counted(rule, [time_range(rule.time_field, since, window.at(rule.time_field))]))
    agg = resp["aggregations"]["keys"]
    buckets = agg["buckets"] if group_by else [{**agg, "key": ALL}]
    return {str(b["key"]): {"count": b["doc_count"], "new": b["new"]["doc_count"],
                            "newest": b["newest"].get("value_as_string")} for b in buckets if b["doc_count"]}


def _history_keys(es: Elasticsearch, alias: str, rule: ThresholdRule, now: datetime) -> list[str]:
    resp = es.search(index=alias, size=0, query=counted(rule, [time_range(rule.time_field, now - rule.history, now)]),
                     aggs={"keys": {"terms": {"field": rule.group_by, "size": MAX_KEYS}}})
    return [str(b["key"]) for b in resp["aggregations"]["keys"]["buckets"]]


def key_filters(rule: Any, key: str) -> list[dict[str, Any]]:
    return [{"term": {rule.group_by: key}}] if rule.group_by and key != ALL else []


def key_clause(rule: Any, key: str) -> list[str]:
    return [lucene_term(rule.group_by, key)] if rule.group_by and key != ALL else []


def _candidate(es: Elasticsearch, alias: str, rule: ThresholdRule, key: str, c: dict[str, Any], since: datetime,
               window: Window) -> Candidate:
    span = fmt_duration(rule.window)
    if rule.above is not None:
        summary = f"{c['count']} documents in {span} (more than {rule.above})"
    else:
        summary = f"only {c['count']} documents in {span} (fewer than {rule.below})"
    if key != ALL:
        summary = f"{rule.group_by}={key}: {summary}"
    filters = [time_range(rule.time_field, since, window.at(rule.time_field)), *key_filters(rule, key)]
    docs = fetch_documents(es, alias, rule, counted(rule, filters), rule.max_documents) if c["count"] else []
    return Candidate(
        alert_id=alert_id(rule.id, key, "above" if rule.above is not None else "below", c["newest"] or "none"),
        key=key, summary=summary, documents=docs,
        reason={"count": c["count"], "new_documents": c["new"], "window": span,
                "above": rule.above, "below": rule.below, "time_field": rule.time_field},
        discover_query=and_query(rule, *key_clause(rule, key)),
    )
