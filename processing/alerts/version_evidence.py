"""What the ``edited`` and ``deleted`` rule types share: new versions of articles as alert candidates.

Both read the versions index (``processing.changes.versions``) instead of the
documents: a version is recorded when processing finds the change, and stamped
``indexed_at`` then, so the rule's window works as for documents. One version is
one candidate whose id is the version's, so a re-run, a restart or the lag
margin never alert twice; the key is the article, so ``realert`` holds back a
second edit of one article within the interval (counted as suppressed).
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch, helpers

from processing.alerts.evidence import Candidate, Window, alert_id, lucene_term, rule_query
from processing.changes.versions import versions_index_of

SHOWN = ["doc_id", "url", "source", "lang", "title", "published_at", "fetched_at", "version", "changed_from",
         "change_classes", "change_score", "diff", "deletion", "last_good_version", "narratives", "speakers"]


def new_versions(es: Elasticsearch, docs_alias: str, rule: Any, window: Window,
                 filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Versions recorded in the window matching the rule's query, filters and source/narrative/speaker lists."""
    index = versions_index_of(docs_alias)
    if not es.indices.exists(index=index):
        return []
    for name, values in (("source", rule.sources), ("narratives", rule.narratives), ("speakers", rule.speakers)):
        if values:
            filters = [*filters, {"terms": {name: values}}]
    query = {"bool": {"must": [rule_query(rule)], "filter": [window.new_docs(), *filters]}}
    hits = helpers.scan(es, index=index, query={"query": query, "_source": SHOWN}, size=500, preserve_order=False)
    return sorted(({**hit["_source"], "_id": hit["_id"]} for hit in hits), key=lambda v: v.get("fetched_at") or "")


def version_candidate(rule: Any, version: dict[str, Any], summary: str, reason: dict[str, Any]) -> Candidate:
    title = version.get("title") or version.get("url")
    document = {"id": version["doc_id"], "title": title, "source": version.get("source"), "url": version.get("url"),
                "lang": version.get("lang"), "published_at": version.get("published_at"),
                "narratives": version.get("narratives", []), "speakers": version.get("speakers", []),
                "diff": version.get("diff", [])}
    return Candidate(alert_id=alert_id(rule.id, version["_id"]), key=version["doc_id"],
                     summary=f"{version.get('source', '?')}: {title!r} {summary}", reason=reason,
                     documents=[document], discover_query=lucene_term("_id", version["doc_id"]))
