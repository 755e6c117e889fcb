"""``match`` rules: every new document matching the query, one alert per near-duplicate group.

Documents of one ``dup_group`` (the same story from several outlets) make one
candidate keyed by the group; the state merges later members into the fired
alert instead of firing again.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from elasticsearch import Elasticsearch, helpers

from processing.alerts.evidence import (
    SUMMARY_FIELDS,
    Candidate,
    Window,
    alert_id,
    highlight_spec,
    lucene_term,
    rule_query,
    summarize,
)
from processing.alerts.rules import MatchRule


def evaluate(es: Elasticsearch, alias: str, rule: MatchRule, window: Window) -> list[Candidate]:
    query = {"bool": {"must": [rule_query(rule)], "filter": [window.new_docs()]}}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    hits = helpers.scan(es, index=alias, query={"query": query, "highlight": highlight_spec(rule),
                                               "_source": SUMMARY_FIELDS}, size=500, preserve_order=False)
    for hit in hits:
        doc = summarize(hit)
        groups[doc.get("dup_group") or doc["id"]].append(doc)
    return [_candidate(rule, key, docs) for key, docs in groups.items()]


def _candidate(rule: MatchRule, key: str, docs: list[dict[str, Any]]) -> Candidate:
    docs.sort(key=lambda d: d.get("published_at") or "")
    outlets = sorted({d.get("source", "?") for d in docs})
    terms = sorted({t for d in docs for t in d.get("alarmism_terms", [])})
    first = docs[0]
    title = first.get("title") or first.get("url") or key
    summary = f"{title!r} ({first.get('source', '?')})"
    if len(outlets) > 1:
        summary += f", in {len(outlets)} outlets"
    grouped = bool(first.get("dup_group"))
    return Candidate(
        alert_id=alert_id(rule.id, key), key=key, summary=summary, mergeable=True,
        reason={"matched_documents": len(docs), "outlets": outlets, "alarmism_terms": terms,
                "max_alarmism": max((d.get("alarmism", 0.0) for d in docs), default=0.0)},
        documents=docs[: rule.max_documents], doc_ids=[d["id"] for d in docs], outlets=outlets,
        discover_query=lucene_term("dup_group", key) if grouped else lucene_term("_id", key),
    )
