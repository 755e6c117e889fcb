"""``deleted`` rules: a published article is gone — 404/410, redirected to a section or home page, soft-404.

``how`` narrows the kinds; the message carries the evidence (status, redirect
target) and the last good version's title.
"""

from __future__ import annotations

from elasticsearch import Elasticsearch

from processing.alerts.evidence import Candidate, Window
from processing.alerts.rules import DeletedRule
from processing.alerts.version_evidence import new_versions, version_candidate


def evaluate(es: Elasticsearch, alias: str, rule: DeletedRule, window: Window) -> list[Candidate]:
    filters = [{"term": {"deleted": True}}]
    if rule.how:
        filters.append({"terms": {"deletion.how": rule.how}})
    candidates = []
    for version in new_versions(es, alias, rule, window, filters):
        deletion = version.get("deletion", {})
        summary = f"deleted: {deletion.get('how', '?').replace('_', ' ')}"
        candidates.append(version_candidate(rule, version, summary, {
            "how": deletion.get("how"), "status": deletion.get("status"), "location": deletion.get("location"),
            "last_good_version": version.get("last_good_version"), "fetched_at": version.get("fetched_at")}))
    return candidates
